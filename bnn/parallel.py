"""Batch-parallel work for the float matrix products: chunks of the batch on a small thread pool.

NumPy's BLAS runs single-threaded here. Multi-threaded OpenBLAS spins its idle threads for a while after each call
and takes the cores from Numba's threads, and its small matrix products (a few images' worth) do not scale anyway.
Instead the batch is cut into chunks that run concurrently on a thread pool: a BLAS call and a Numba kernel both
release the GIL, so T threads keep T cores busy.

The thread count is Numba's (`numba.get_num_threads()` in the calling thread, which `--threads` and the sweep set),
so there is one knob for all parallel work. Inside a pool thread, Numba's parallel kernels run on that one thread
(`set_num_threads(1)` is per thread), and work submitted from a pool thread runs inline: nothing nests or
oversubscribes. Numba kernels may only be entered from several threads at once under a thread-safe threading layer
(OpenMP or TBB; not "workqueue"), so with any other layer everything runs inline on the calling thread.
"""
import threading
from concurrent.futures import ThreadPoolExecutor

import numba

_pools = {}
_pool_lock = threading.Lock()
_local = threading.local()


def _init_pool_thread():
    _local.in_pool = True
    numba.set_num_threads(1)


def _pool(threads):
    with _pool_lock:
        if threads not in _pools:
            _pools[threads] = ThreadPoolExecutor(threads, thread_name_prefix="bnn-batch",
                                                 initializer=_init_pool_thread)
        return _pools[threads]


def _thread_safe_layer():
    try:
        return numba.threading_layer() in ("omp", "tbb")
    except ValueError:   # no parallel kernel has run yet, so the layer is not chosen: be safe this once
        return False


def threads_available():
    """How many threads work may use: Numba's thread count; 1 inside a pool thread (no nesting) or when Numba's
    threading layer is not thread-safe."""
    if getattr(_local, "in_pool", False) or not _thread_safe_layer():
        return 1
    return numba.get_num_threads()


def chunks(n, size):
    """range(n) cut into slices of `size` (the last may be shorter). Work whose partial results are summed uses
    these: the chunks, and so the order of the floating-point sums, do not depend on the thread count."""
    return [slice(start, min(start + size, n)) for start in range(0, n, size)] or [slice(0, 0)]


def parallel_map(fn, items):
    """[fn(item) for item in items], run concurrently on threads_available() threads (in order of items)."""
    items = list(items)
    threads = min(len(items), threads_available())
    if threads <= 1:
        return [fn(item) for item in items]
    return list(_pool(threads).map(fn, items))
