"""xnor-mram: binarized neural networks trained with bit errors (XNOR-popcount engine)."""
import ctypes
import os
import sys

# Numba's parallel loops run on OpenMP threads. By default OpenMP threads spin after each loop, waiting for the
# next; on a machine with any other load those spinning threads take the cores that the working threads need: a
# LeNet-4 training step at 2 threads took 326 ms instead of 55 (2 cores, load 2; `OMP_WAIT_POLICY=ACTIVE` vs PASSIVE
# in front of `benchmarks/train_lenet.py --threads 2:1`). Passive threads sleep at once and cost tens of
# microseconds to wake. Read when Numba starts its threads (at the first parallel loop); the user's setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# BLAS runs single-threaded: the batch pool (bnn.parallel) makes concurrent BLAS calls on Numba's thread count, and a
# multi-threaded OpenBLAS under it oversubscribes the cores (NiN on 2 cores: no gain from the second thread; its idle
# threads also spin and take the cores from Numba's). Effective only if NumPy is not imported yet, as with
# `python -m bnn`; scripts that import NumPy first should set OPENBLAS_NUM_THREADS=1 themselves.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")


def _keep_freed_memory():
    """Let glibc keep freed memory for reuse instead of returning it to the system.

    Every training step allocates the same large activation arrays again. glibc serves arrays over 32 MB with a
    fresh mmap and unmaps them when freed, so each step faults its pages in anew; on virtual machines that hand freed
    memory back to the host this is slow (per-layer times of `benchmarks/train_nin.py --threads 1` without and with
    this call, on the build VM: a NiN step 2.09 and 1.84 s, the 100 MB BatchNorm bn2 forward 0.069 and 0.042 s). The
    price: the process keeps its peak memory until it exits."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:   # not glibc (e.g. musl): nothing to tune
        return
    m_trim_threshold, m_mmap_threshold = -1, -3   # from glibc's malloc.h
    libc.mallopt(m_mmap_threshold, 1 << 30)
    libc.mallopt(m_trim_threshold, (1 << 31) - 1)


_keep_freed_memory()
