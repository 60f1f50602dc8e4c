"""xnor-mram: binarized neural networks trained with bit errors (XNOR-popcount engine)."""
