"""bnn.interrupt: a signal raises a flag inside stop_on_signals, and only there; Interrupted crosses processes."""
import os
import pickle
import signal
import threading

import pytest

from bnn import interrupt


def test_the_flag_is_raised_inside_the_block_only_and_the_handlers_come_back():
    before = {signum: signal.getsignal(signum) for signum in interrupt.SIGNALS}
    with interrupt.stop_on_signals():
        assert interrupt.requested() is None
        interrupt.check("never raised")
        os.kill(os.getpid(), signal.SIGINT)
        assert interrupt.requested() == signal.SIGINT
        with pytest.raises(interrupt.Interrupted, match="^stopped by SIGINT after the batch$"):
            interrupt.check("after the batch")
    assert {signum: signal.getsignal(signum) for signum in interrupt.SIGNALS} == before
    assert interrupt.requested() is None, "the stop ends with its block"
    interrupt.check("not raised after the block")


def test_outside_the_main_thread_the_block_changes_nothing():
    seen = []

    def worker():
        with interrupt.stop_on_signals():
            seen.append(signal.getsignal(signal.SIGTERM))
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [signal.getsignal(signal.SIGTERM)]


def test_interrupted_survives_pickling_to_a_parent_process():
    stop = pickle.loads(pickle.dumps(interrupt.Interrupted(signal.SIGTERM, "during epoch 2 of 3")))
    assert (stop.signum, stop.exit_status, str(stop)) == (signal.SIGTERM, 143, "stopped by SIGTERM during epoch 2 of 3")
    assert not isinstance(stop, Exception), "a sweep's `except Exception` does not count a stop as a failed run"
