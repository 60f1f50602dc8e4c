"""xnor-mram: binarized neural networks trained with bit errors (XNOR-popcount engine)."""
import os

# Numba's parallel loops run on OpenMP threads. By default OpenMP threads spin after each loop, waiting for the
# next; on a machine with any other load those spinning threads take the cores that the working threads need, and a
# LeNet-4 training step at 2 threads went from 55 to 326 ms (2 cores, load 2). Passive threads sleep at once and cost
# a few microseconds to wake. Read when Numba starts its threads (at the first parallel loop); the user's setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
