"""python -m bnn answers a user's mistake with one `error: ...` line on stderr and exit status 2 (argparse's own
message for a flag it refuses), a bug with a traceback, and checks the data before any run; --threads goes before
or after the subcommand."""
import os
import subprocess
import sys
from pathlib import Path

import numba
import pytest

import bnn.__main__ as cli
import bnn.train as train_module
from bnn import sweep_cli
from bnn.__main__ import main, make_parser
from bnn.train import TrainingDiverged

REPO = Path(__file__).resolve().parents[2]


def refused(capsys, argv):
    """(exit status, stderr) of argv that argparse refuses."""
    with pytest.raises(SystemExit) as raised:
        main(argv)
    return raised.value.code, capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["train", "--model", "lenet5"], "argument --model: invalid choice: 'lenet5' (choose from 'alexnet', 'lenet4', "
                                     "'nin')"),
    (["train", "--dataset", "mnist2"], "argument --dataset: invalid choice: 'mnist2'"),
    (["train", "--epochs", "0"], "argument --epochs: must be a whole number >= 1, got '0'"),
    (["train", "--epochs", "-1"], "argument --epochs: must be a whole number >= 1, got '-1'"),
    (["train", "--epochs", "2.5"], "argument --epochs: must be a whole number >= 1, got '2.5'"),
    (["train", "--batch-size", "0"], "argument --batch-size: must be a whole number >= 1, got '0'"),
    (["train", "--lr", "-1"], "argument --lr: must be a finite number > 0, got '-1'"),
    (["train", "--lr", "inf"], "argument --lr: must be a finite number > 0, got 'inf'"),
    (["train", "--threads", "0"], "argument --threads: must be a whole number >= 1, got '0'"),
    (["train", "--seed", "-3"], "argument --seed: must be a whole number >= 0, got '-3'"),
    (["sweep", "--ber", "1.5"], "argument --ber: must be a probability in [0, 1], got '1.5'"),
    (["sweep", "--ber", "0", "nan"], "argument --ber: must be a probability in [0, 1], got 'nan'"),
    (["sweep", "--ber", "0", "--repeats", "2", "0"], "argument --repeats: must be a whole number >= 1, got '0'"),
    (["sweep", "--ber", "0", "--workers", "-1"], "argument --workers: must be a whole number >= 0, got '-1'"),
    (["sweep", "--ber", "0", "--model", "lenet5"], "argument --model: invalid choice: 'lenet5'"),
    (["demo", "--train-images", "0"], "argument --train-images: must be a whole number >= 1, got '0'"),
    (["--threads", "x", "summary"], "argument --threads: must be a whole number >= 1, got 'x'"),
])
def test_argparse_refuses_values_out_of_range(capsys, tmp_path, argv, message):
    if argv[0] in ("train", "sweep"):
        argv = [*argv, "--out", str(tmp_path / "out")]
    code, err = refused(capsys, argv)
    prog = "python -m bnn" + ("" if argv[0].startswith("--") else f" {argv[0]}")    # main parser or subcommand
    assert code == 2 and err.splitlines()[-1].startswith(f"{prog}: error: {message}")
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def run(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_error_line(code, err, start):
    assert code == 2 and err.count("\n") == 1 and err.startswith(f"error: {start}"), err


def test_a_folder_without_results_or_runs(tmp_path, capsys):
    code, _, err = run(capsys, ["plot", str(tmp_path)])
    assert_one_error_line(code, err, f"no sweep results at {tmp_path / 'results.csv'}: run `python -m bnn sweep "
                                     f"--out {tmp_path}` first")
    code, _, err = run(capsys, ["results", str(tmp_path)])
    assert_one_error_line(code, err, f"no started run under {tmp_path / 'runs'}")


def test_a_missing_or_damaged_checkpoint_to_export(tmp_path, capsys):
    code, _, err = run(capsys, ["export", str(tmp_path / "none.h5"), str(tmp_path / "out.h5")])
    assert_one_error_line(code, err, "")
    assert str(tmp_path / "none.h5") in err
    (tmp_path / "bad.h5").write_bytes(b"not a checkpoint")
    code, _, err = run(capsys, ["export", str(tmp_path / "bad.h5"), str(tmp_path / "out.h5")])
    assert_one_error_line(code, err, f"{tmp_path / 'bad.h5'} is not a readable checkpoint")


def test_sweep_file_errors_name_the_file(tmp_path, capsys):
    path = tmp_path / "sweep.toml"
    path.write_text("[sweep\nber = [0]\n")
    code, _, err = run(capsys, ["sweep", "--config", str(path)])
    assert_one_error_line(code, err, f"{path} is not a valid TOML file: ")
    path.write_text(f'[sweep]\nber = [0]\nout = "{tmp_path / "o"}"\nrepeat = 2\n')
    code, _, err = run(capsys, ["sweep", "--config", str(path)])
    assert_one_error_line(code, err, f"unknown keys ['repeat'] in [sweep] of {path}")
    code, _, err = run(capsys, ["sweep", "--config", str(tmp_path / "missing.toml")])
    assert_one_error_line(code, err, "[Errno 2] No such file or directory")


@pytest.fixture
def data_checked(monkeypatch):
    """The data check passes without data; returns the list of (dataset, root) it was asked for."""
    asked = []
    monkeypatch.setattr(cli, "check_data", lambda name, root: asked.append((name, root)))
    return asked


@pytest.mark.parametrize("error, message", [
    (TrainingDiverged("loss is nan at epoch 2, batch 3 of 5 (lr 0.01); no checkpoint was written yet"),
     "loss is nan at epoch 2, batch 3 of 5"),
    (FileExistsError("runs/x/checkpoint.h5 exists: resume it (resume=True, --resume) or choose another folder"),
     "runs/x/checkpoint.h5 exists: resume it"),
    (PermissionError("runs/x is not writable: no checkpoint or metrics could be saved"), "runs/x is not writable"),
    (ValueError("train_subset must be in [1, 60000], got 70000"), "train_subset must be in [1, 60000], got 70000"),
])
def test_training_errors_of_the_user_are_one_line(tmp_path, capsys, monkeypatch, data_checked, error, message):
    def fails(*args, **kwargs):
        raise error
    monkeypatch.setattr(train_module, "train", fails)
    code, _, err = run(capsys, ["train", "--out", str(tmp_path)])
    assert_one_error_line(code, err, message)
    assert data_checked == [("mnist", None)], "the data is checked before training"


def test_a_bug_keeps_its_traceback_and_debug_shows_every_one(tmp_path, capsys, monkeypatch, data_checked):
    def bug(*args, **kwargs):
        raise ZeroDivisionError("a bug")
    monkeypatch.setattr(train_module, "train", bug)
    with pytest.raises(ZeroDivisionError):
        main(["train", "--out", str(tmp_path)])

    def mistake(*args, **kwargs):
        raise ValueError("a mistake")
    monkeypatch.setattr(train_module, "train", mistake)
    for argv in (["--debug", "train", "--out", str(tmp_path)], ["train", "--out", str(tmp_path), "--debug"]):
        with pytest.raises(ValueError, match="a mistake"):
            main(argv)


def test_a_sweep_whose_runs_all_failed_by_a_users_mistake_is_one_line(tmp_path, capsys, monkeypatch):
    """Each failed run has its line already; the sweep's own error is then one line too. A run that failed by a
    bug keeps the traceback."""
    def diverges(config, out_dir, resume):
        raise TrainingDiverged(f"loss is nan at epoch 1 ({config.errors.ber})")
    monkeypatch.setattr(sweep_cli, "default_trainer", lambda data_root: diverges)
    monkeypatch.setattr("datasets.require", lambda *args, **kwargs: [])
    argv = ["sweep", "--ber", "0", "0.1", "--workers", "0", "--out", str(tmp_path)]
    code, out, err = run(capsys, argv)
    assert code == 2 and err == "error: 2 of 2 runs failed: ber=0 rep=0 (TrainingDiverged: loss is nan at epoch 1 " \
                                "(0.0)), ber=0.1 rep=0 (TrainingDiverged: loss is nan at epoch 1 (0.1))\n"
    assert out.count("FAILED: TrainingDiverged") == 2

    def bug(config, out_dir, resume):
        raise KeyError("a bug")
    monkeypatch.setattr(sweep_cli, "default_trainer", lambda data_root: bug)
    with pytest.raises(RuntimeError, match=r"2 of 2 runs failed: ber=0 rep=0 \(KeyError"):
        main(argv)


# --- the data check: once, before any run -------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["train", "--epochs", "1"], ["sweep", "--ber", "0", "0.1", "--epochs", "1"],
                                     ["demo"]])
def test_missing_data_offline_is_the_three_line_message_once(tmp_path, command):
    """As on a fresh machine without network: a subprocess with $XNOR_MRAM_OFFLINE=1 and an empty data root."""
    env = dict(os.environ, PYTHONPATH=str(REPO), XNOR_MRAM_OFFLINE="1", XNOR_MRAM_CACHE=str(tmp_path / "cache"))
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "bnn", *command, "--out", str(out), "--data-root",
                           str(tmp_path / "empty")], env=env, capture_output=True, text=True, timeout=300)
    what, where, how = done.stderr.rstrip("\n").split("\n")
    assert done.returncode == 2 and done.stdout == ""
    assert what == f"error: mnist train+test: 4 of its files are not in the data root {tmp_path / 'empty'}, and " \
                   f"automatic download is off ($XNOR_MRAM_OFFLINE=1)"
    assert where.startswith(f"put them at {tmp_path / 'empty' / 'mnist' / 'train-images-idx3-ubyte.gz'}, ")
    assert how.startswith("to fetch them: ")
    assert not out.exists(), "nothing started"


def test_the_sweep_checks_its_dataset_from_the_sweep_file(tmp_path, capsys, monkeypatch):
    asked = []

    def require(name, root=None):
        asked.append((name, root))
        raise FileNotFoundError(f"no {name} in {root}")
    monkeypatch.setattr("datasets.require", require)
    path = tmp_path / "sweep.toml"
    path.write_text(f'[sweep]\nber = [0]\nout = "{tmp_path / "o"}"\ndata_root = "{tmp_path / "d"}"\n'
                    f'[train]\nmodel = "lenet4"\ndataset = "cifar10"\n')
    code, _, err = run(capsys, ["sweep", "--config", str(path)])
    assert_one_error_line(code, err, f"no cifar10 in {tmp_path / 'd'}")
    assert asked == [("cifar10", str(tmp_path / "d"))] and not (tmp_path / "o").exists()


# --- --threads before or after the subcommand ------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["train", "--out", "x"], ["demo"],
                                     ["sweep", "--ber", "0", "--out", "x"]])
def test_threads_before_and_after_the_subcommand_parse_alike(command):
    before = make_parser().parse_args(["--threads", "1", *command])
    after = make_parser().parse_args([command[0], "--threads", "1", *command[1:]])
    assert vars(before) == vars(after) and before.threads == 1
    assert make_parser().parse_args(command).threads is None
    assert make_parser().parse_args(["--threads", "2", command[0], "--threads", "1", *command[1:]]).threads == 1


def test_threads_before_and_after_set_the_same_numba_threads(tmp_path, capsys, monkeypatch, data_checked):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs 2 Numba threads to tell 1 from the default")
    seen = []

    def records_threads(*args, **kwargs):
        seen.append(numba.get_num_threads())
        raise ValueError("stop here")
    monkeypatch.setattr(train_module, "train", records_threads)
    default = numba.get_num_threads()
    try:
        for argv in (["--threads", "1", "train", "--out", str(tmp_path)], ["train", "--threads", "1", "--out",
                                                                            str(tmp_path)]):
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
            assert main(argv) == 2
    finally:
        numba.set_num_threads(default)
    assert seen == [1, 1]


def test_sweep_threads_before_and_after_are_the_threads_per_run(tmp_path):
    for argv in (["--threads", "1", "sweep"], ["sweep", "--threads", "1"]):
        args = make_parser().parse_args([*argv, "--ber", "0", "--out", str(tmp_path)])
        settings, _ = sweep_cli.settings_from_args(args)
        assert settings["threads"] == 1
