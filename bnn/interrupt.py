"""Stopping at a safe point when the process gets SIGTERM or SIGINT (a job scheduler, Ctrl-C).

Inside `stop_on_signals()` a signal only raises a flag. Training looks at it after every batch (and every test
batch), a sweep before every run, and they raise `Interrupted` there: a stopped run drops the epoch in progress and
keeps its last checkpoint, from which `--resume` (a sweep: the same command again) continues exactly as after a
kill. Files are written atomically, so nothing is left half-written. A second signal raises Interrupted at once,
wherever the process is (atomic writes still leave every file whole).

A sweep's worker processes share the flag (`shared_flag` in the parent, `adopt` as the pool's initializer): the
parent's stop reaches every worker, also one that starts a run later, and a worker's own signal (Ctrl-C reaches a
terminal's whole process group) stops the sweep. Workers never stop at once; only the parent escalates.
"""
import os
import signal
import threading
from contextlib import contextmanager

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Interrupted(BaseException):
    """Raised at a safe point after SIGTERM or SIGINT; `where` says what stopped and what was kept.

    A BaseException, as KeyboardInterrupt is: the `except Exception` of a sweep's per-run error handling must not
    count a stop as a failed run."""

    def __init__(self, signum, where):
        super().__init__(signum, where)
        self.signum, self.where = signum, where

    @property
    def signal_name(self):
        return signal.Signals(self.signum).name

    @property
    def exit_status(self):
        """128 + the signal number, the shells' convention: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + self.signum

    def __str__(self):
        return f"stopped by {self.signal_name} {self.where}"


class _Flag:
    """The flag of a process without workers: `value` is the number of the signal that asked to stop, 0 for none
    (the interface of a multiprocessing Value)."""
    value = 0


_flag = _Flag()


def requested():
    """The number of the signal that asked this process (or the sweep it works for) to stop, or None."""
    return _flag.value or None


def check(where):
    """Raise Interrupted(signal, where) if a stop was asked for; a no-op otherwise (one attribute read)."""
    signum = _flag.value
    if signum:
        raise Interrupted(signum, where)


@contextmanager
def stop_on_signals():
    """Within the block, the first SIGTERM or SIGINT asks the work to stop at its next `check`, and says so on
    stderr; a second one raises Interrupted at once. The previous handlers come back afterwards, and the flag is
    lowered. Signals reach only the main thread: in another thread the block changes nothing."""
    global _flag
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _flag = _Flag()
    received = []

    def handle(signum, frame):
        received.append(signum)
        name = signal.Signals(signum).name
        if len(received) > 1:
            raise Interrupted(signum, "at once (a second signal)")
        if not _flag.value:
            _flag.value = signum
        # os.write, not print: print may be in the middle of writing this very stream
        os.write(2, f"{name} received: stopping after the current batch (send it again to stop at once)\n".encode())

    previous = {signum: signal.signal(signum, handle) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _flag = _Flag()     # a stop asked for inside the block ends with it


def shared_flag(context):
    """A flag in shared memory (a `context.Value`) that replaces this process's, keeping its value: pass it to the
    workers of a pool through `adopt`."""
    global _flag
    _flag = context.Value("i", _flag.value)
    return _flag


def adopt(flag):
    """A sweep worker's initializer: use the parent's shared `flag`; SIGTERM and SIGINT set it (so they stop the
    whole sweep at its next safe points), never more."""
    global _flag
    _flag = flag

    def handle(signum, frame):
        if not flag.value:
            flag.value = signum

    for signum in SIGNALS:
        signal.signal(signum, handle)
