"""Run `python -m bnn ARGS...` in this process, SIGKILLing it at a chosen point, or pausing there until a signal
asks it to stop (a helper of test_kill_resume.py). Exits with `python -m bnn`'s status.

    python tests/reliability/killable.py [--kill WHERE:N | --pause WHERE:N | --pause-worker WHERE:N] -- ARGS

WHERE:N kills the process (SIGKILL: no cleanup, no finally blocks, no atexit) at the N-th (1-based) event of a kind:
    cache       a write into the HDF5 cache file being built (datasets.cache.Sink.allocate / write, and the scan
                that hashes and measures its images before the file is sealed and renamed into place)
    batch       a loss evaluation (training or test batch), so mid-epoch
    checkpoint  a dataset written into the temporary checkpoint file, so mid-checkpoint-write
    result      a file written atomically by the sweep (config.json, result.json, results.csv / .h5), before its rename
Without --kill the command runs to its end.

--pause WHERE:N stops at that event instead, writes `paused at WHERE:N` to stderr and waits until SIGTERM or SIGINT
(sent by the test) raises bnn.interrupt's flag, then goes on: the command's own stop handling takes over from there,
at a reproducible point. --pause-worker does that in a sweep's worker processes instead of this one: they import
this file as `__mp_main__` (multiprocessing's spawn), and the pause reaches them through $KILLABLE_PAUSE_WORKER.
"""
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

KINDS = ("cache", "batch", "checkpoint", "result")


def kill():
    os.kill(os.getpid(), signal.SIGKILL)


def pause_until_stopped(where):
    """Wait (polling) until a signal has raised bnn.interrupt's stop flag; no race with a signal sent early."""
    from bnn import interrupt
    sys.stderr.write(f"paused at {where}\n")
    sys.stderr.flush()
    while not interrupt.requested():
        time.sleep(0.01)


def install(kind, n, action=kill):
    """Patch the functions behind event `kind` so that its n-th occurrence calls `action` (default: SIGKILL)."""
    count = [0]

    def tick():
        count[0] += 1
        if count[0] == n:
            action()

    def counted(function):
        def wrapper(*args, **kwargs):
            tick()
            return function(*args, **kwargs)
        return wrapper

    if kind == "cache":
        from datasets import cache
        cache.Sink.allocate = counted(cache.Sink.allocate)
        cache.Sink.write = counted(cache.Sink.write)
        cache.scan = counted(cache.scan)
    elif kind == "batch":
        import bnn.train
        bnn.train.softmax_cross_entropy = counted(bnn.train.softmax_cross_entropy)
    elif kind == "checkpoint":
        import h5py

        from bnn import checkpoint
        saving = [False]
        create_dataset = h5py.Group.create_dataset

        def create_dataset_counted(self, *args, **kwargs):
            out = create_dataset(self, *args, **kwargs)
            if saving[0]:
                self.file.flush()       # the partial file on disk, as a kill at this moment would find it
                tick()
            return out

        def save(*args, _save=checkpoint.save):
            saving[0] = True
            try:
                return _save(*args)
            finally:
                saving[0] = False
        h5py.Group.create_dataset = create_dataset_counted
        checkpoint.save = save
    else:
        from bnn import results   # the sweep's config.json, result.json and results.csv / .h5 are written here
        write_atomic = results.write_atomic

        def write_atomic_killed(path, write):
            def write_then_tick(tmp):
                write(tmp)
                tick()
            return write_atomic(path, write_then_tick)
        results.write_atomic = write_atomic_killed


def install_pause(where):
    kind, n = where.split(":")
    install(kind, int(n), action=lambda: pause_until_stopped(where))


def main(argv):
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1:]
    if options:
        kind, n = options[1].split(":")
        if options[0] not in ("--kill", "--pause", "--pause-worker") or kind not in KINDS:
            raise SystemExit(f"usage: killable.py [--kill | --pause | --pause-worker {{{','.join(KINDS)}}}:N] -- ARGS")
        if options[0] == "--kill":
            install(kind, int(n))
        elif options[0] == "--pause":
            install_pause(options[1])
        else:
            os.environ["KILLABLE_PAUSE_WORKER"] = options[1]    # inherited by the spawned workers
    from bnn.__main__ import main as bnn_main
    return bnn_main(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
elif __name__ == "__mp_main__" and os.environ.get("KILLABLE_PAUSE_WORKER"):
    install_pause(os.environ["KILLABLE_PAUSE_WORKER"])
