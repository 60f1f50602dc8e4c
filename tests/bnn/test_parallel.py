"""The batch thread pool: chunking, order, no nesting, and results that do not depend on the thread count."""
import threading

import numba
import numpy as np
import pytest

from bnn import parallel
from bnn.kernels.im2col import im2col
from bnn.layers.conv import conv2d_backward, conv2d_backward_chunked, conv2d_forward


@pytest.fixture
def two_threads():
    im2col(np.zeros((1, 1, 2, 2), np.float32), 1, 1)   # run one parallel kernel so Numba picks its threading layer
    before = numba.get_num_threads()
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    yield numba.get_num_threads()
    numba.set_num_threads(before)


def test_chunks_cover_the_range_in_order():
    assert parallel.chunks(70, 32) == [slice(0, 32), slice(32, 64), slice(64, 70)]
    assert parallel.chunks(0, 32) == [slice(0, 0)]


def test_parallel_map_keeps_order_and_runs_nested_calls_inline(two_threads):
    def inner(i):
        return i, threading.current_thread().name, parallel.threads_available()

    results = parallel.parallel_map(lambda i: (parallel.parallel_map(inner, [i])[0]), range(6))
    assert [r[0] for r in results] == list(range(6))
    if two_threads > 1 and parallel.threads_available() > 1:
        assert all(name.startswith("bnn-batch") and available == 1 for _, name, available in results)


@pytest.mark.parametrize("k", [3, 1])
def test_convolution_gradients_do_not_depend_on_the_thread_count(two_threads, k):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((70, 3, 9, 9)).astype(np.float32)
    w = rng.standard_normal((4, 3, k, k)).astype(np.float32)
    dout = rng.standard_normal((70, 4, 9, 9)).astype(np.float32)
    results = []
    for threads in (1, two_threads):
        numba.set_num_threads(threads)
        out, cache = conv2d_forward(x, w, None, 1, k // 2)
        results.append((out,) + conv2d_backward(dout, cache) + conv2d_backward_chunked(dout, x, w, 1, k // 2))
    for one, many in zip(*results):
        np.testing.assert_array_equal(one, many)
