"""The STT-MRAM write-error calculator (pure NumPy)."""
