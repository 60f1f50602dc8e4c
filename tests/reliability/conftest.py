"""Shared pieces of the reliability suite: CI vs long mode, a hang guard, a sandbox that notices stray writes, and
byte-level damage to files.

Long mode (`pytest --fuzz-long tests/reliability` or XNOR_MRAM_FUZZ_LONG=1) gives every property its campaign
budget (scaled by XNOR_MRAM_FUZZ_SCALE) and chains more kill points. The hypothesis profile "reliability" holds the
settings all fuzz tests share: no deadline (CI shares 2 cores), no example database, derandomized in CI (the same
inputs every run) and fresh random inputs in long mode.
"""
import faulthandler
import os
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings


def long_mode(config=None):
    if config is not None and config.getoption("--fuzz-long", default=False):
        return True
    return os.environ.get("XNOR_MRAM_FUZZ_LONG") == "1"


def pytest_configure(config):
    long = long_mode(config)
    if long:
        os.environ["XNOR_MRAM_FUZZ_LONG"] = "1"     # for kill-and-resume tests and subprocesses
    settings.register_profile("reliability", deadline=None,
                              derandomize=not long, database=None, print_blob=True,
                              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                     HealthCheck.filter_too_much])


@pytest.fixture(scope="session")
def long():
    """True in long mode."""
    return long_mode()


class Hang(Exception):
    """Raised inside the guarded code when it runs past its time limit."""


@contextmanager
def time_limit(seconds):
    """Raise Hang in the main thread if the block runs longer than `seconds` of wall time (SIGALRM).

    A loop inside C code (libhdf5 on a corrupt file) never returns to Python to take the signal: after twice the
    limit, faulthandler prints every thread's stack and ends the process, so such a hang fails the run loudly
    instead of stalling CI."""
    def expire(signum, frame):
        raise Hang(f"still running after {seconds} s: a hang")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(2 * seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="session")
def no_hang():
    """no_hang(seconds): a context manager failing the test with Hang if its block takes longer."""
    return time_limit


def _snapshot(folder):
    folder = Path(folder)
    return {str(path.relative_to(folder)): (path.lstat().st_size, path.lstat().st_mtime_ns)
            for path in folder.rglob("*")}


@pytest.fixture(scope="session")
def snapshot():
    """snapshot(folder): {relative path: (size, mtime_ns)} of everything under `folder` (links not followed)."""
    return _snapshot


def _damaged(data, how):
    """`data` (bytes) with the damage `how` applied; positions are fractions of len(data), in [0, 1).

    how: ("truncate", kept fraction), ("flip", [(position, bit 0-7), ...]), ("overwrite", (position, bytes)),
    ("insert", (position, bytes)) or ("zero-block", (position, length)). Fractions rather than offsets, so that one
    hypothesis strategy damages files of any size."""
    kind, arg = how
    data = bytearray(data)
    if kind == "truncate":
        return bytes(data[:int(arg * len(data))])
    if kind == "flip":
        for where, bit in arg:
            data[int(where * len(data))] ^= 1 << bit
        return bytes(data)
    at = int(arg[0] * len(data))
    if kind == "overwrite":
        data[at:at + len(arg[1])] = arg[1]
    elif kind == "insert":
        data[at:at] = arg[1]
    elif kind == "zero-block":
        data[at:at + arg[1]] = bytes(len(data[at:at + arg[1]]))
    else:
        raise ValueError(f"damage kind must be truncate, flip, overwrite, insert or zero-block, got {kind!r}")
    return bytes(data)


@pytest.fixture(scope="session")
def damaged():
    """damaged(data, how): the bytes `data` with the damage `how` applied (see _damaged)."""
    return _damaged


@pytest.fixture(scope="session")
def mnist_subset(tmp_path_factory, mnist_dir):
    """A data root holding the first 320 training and 100 test images of real MNIST as official (uncompressed)
    IDX files: tiny runs (5 batches of 64) that still learn."""
    from datasets.idx import read_idx
    from datasets.synthetic import idx_bytes
    root = tmp_path_factory.mktemp("mnist-subset")
    (root / "mnist").mkdir()
    for prefix, n in (("train", 320), ("t10k", 100)):
        for kind, ndim in (("images-idx3", 3), ("labels-idx1", 1)):
            array, _ = read_idx(mnist_dir / f"{prefix}-{kind}-ubyte.gz", ndim)
            (root / "mnist" / f"{prefix}-{kind}-ubyte").write_bytes(idx_bytes(array[:n]))
    return root
