"""Official dataset formats -> verified HDF5 cache -> arrays and mini-batches."""
