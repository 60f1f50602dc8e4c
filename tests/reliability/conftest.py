"""Shared pieces of the reliability suite: CI vs long mode, a hang guard, and a sandbox that notices stray writes.

Long mode (`pytest --fuzz-long tests/reliability` or XNOR_MRAM_FUZZ_LONG=1) multiplies every fuzz budget and the
number of kill points; XNOR_MRAM_FUZZ_UNIT=N sets the unit budget directly. The hypothesis profile "reliability" carries the unit budget: a test asks for
`settings(FUZZ, max_examples=k * FUZZ.max_examples)` with FUZZ = settings.get_profile("reliability").
"""
import faulthandler
import os
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

CI_UNIT, LONG_UNIT = 6, 1500     # examples per unit of weight; the long unit gives >= 1e5 inputs over the suite


def long_mode(config=None):
    if config is not None and config.getoption("--fuzz-long", default=False):
        return True
    return os.environ.get("XNOR_MRAM_FUZZ_LONG") == "1"


def pytest_configure(config):
    long = long_mode(config)
    if long:
        os.environ["XNOR_MRAM_FUZZ_LONG"] = "1"     # for kill-and-resume tests and subprocesses
    # derandomized in CI (the same inputs every run); fresh random inputs in long campaigns
    unit = int(os.environ.get("XNOR_MRAM_FUZZ_UNIT", LONG_UNIT if long else CI_UNIT))
    settings.register_profile("reliability", max_examples=unit, deadline=None,
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
