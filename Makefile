# The two quick-start commands. Each creates .venv and installs the project on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

# Real data: ../shared/data when the project sits beside it (CI, the project's machines);
# otherwise the loaders fall back to ~/.cache/xnor-mram and say which files to put there.
XNOR_MRAM_DATA ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
export XNOR_MRAM_DATA

.PHONY: demo test clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m bnn demo

test: $(STAMP)
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
