"""SIGTERM / SIGINT to python -m bnn in this process: the stop message, the command that goes on, the exit status.
(Real subprocesses stopped and resumed bit for bit: tests/reliability/test_kill_resume.py.)"""
import os
import signal
import sys

from bnn import interrupt, sweep_cli
from bnn.__main__ import main


def stopped_at_its_batch(config, out_dir, resume, **options):
    """A trainer that receives SIGTERM in its first batch and stops at the next check, as bnn.train does."""
    os.kill(os.getpid(), signal.SIGTERM)
    interrupt.check(f"during epoch 1 of 1 in {out_dir}")
    raise AssertionError("not stopped")


def test_a_sweep_in_this_process_stops_and_says_how_to_resume(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sweep_cli, "default_trainer", lambda data_root: stopped_at_its_batch)
    monkeypatch.setattr("datasets.require", lambda *args, **kwargs: [])
    argv = ["sweep", "--ber", "0", "0.1", "--workers", "0", "--out", str(tmp_path)]
    handler = signal.getsignal(signal.SIGTERM)
    assert main(argv) == 143
    out, err = capsys.readouterr()
    run = tmp_path / "runs" / "ber=0.0" / "rep=0"
    assert out.splitlines() == [f"ber=0 rep=0: stopped by SIGTERM during epoch 1 of 1 in {run}"], "one line per run"
    assert err.splitlines()[-2:] == [
        "stopped by SIGTERM with 0 of 2 runs finished; the runs stopped keep their last checkpoints",
        f"resume with: {sys.executable} -m bnn {' '.join(argv)}"]
    assert not (tmp_path / "runs" / "ber=0.1").exists(), "the second run never started"
    assert signal.getsignal(signal.SIGTERM) == handler and interrupt.requested() is None


def test_the_demo_stops_and_says_to_run_it_again(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("bnn.__main__.check_data", lambda name, root: None)
    monkeypatch.setattr("bnn.sweep_run.train_logging_epochs", stopped_at_its_batch)
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 143
    assert capsys.readouterr().err.splitlines()[-1] == \
        f"demo starts afresh each time; run it again with: {sys.executable} -m bnn demo --out {tmp_path / 'demo'}"


def test_ctrl_c_in_a_command_without_safe_points_is_status_130_without_a_traceback(tmp_path, capsys, monkeypatch):
    def interrupted(args, out=None):
        raise KeyboardInterrupt
    monkeypatch.setattr("bnn.results_cli.run_results_from_args", interrupted)
    assert main(["results", str(tmp_path)]) == 130
    assert capsys.readouterr().err == "interrupted\n"
