"""BER sweep orchestration, specified with a fast fake trainer (the real engine has one end-to-end test at the end).

The fake trainer "trains" one epoch per line of epochs.log, keeps a JSON checkpoint of its history so a rerun
resumes, rewrites metrics.csv after every epoch as the real trainer does, and can be told to crash after a given
epoch. It lives in this module, which spawned workers import by its
dotted name (tests/ is a namespace package under the repository root).
"""
import csv
import dataclasses
import json
import multiprocessing
import os
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np
import pytest

from bnn import sweep as sw
from bnn import sweep_execute
from bnn.sweep_run import epochs_left

REPO = Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class FakeConfig:
    epochs: int = 3
    seed: int = 0
    ber: float = 0.0
    sleep: float = 0.0


def fake_config(base, ber, seed):
    return dataclasses.replace(base, ber=ber, seed=seed)


def fake_accuracy(config, epoch):
    return 0.9 - config.ber + 0.01 * np.random.default_rng([config.seed, epoch]).random()


def fake_train(config, out_dir, resume):
    """Train `config.epochs` fake epochs into out_dir, resuming from checkpoint.json if resume and it exists."""
    out_dir = Path(out_dir)
    checkpoint = out_dir / "checkpoint.json"
    history = json.loads(checkpoint.read_text()) if resume and checkpoint.exists() else []
    with open(out_dir / "calls.log", "a") as log:
        log.write(f"start {len(history)}\n")
    crash = out_dir / "crash_after"
    for epoch in range(len(history), config.epochs):
        if config.sleep:
            threading.Event().wait(config.sleep)
        history.append({"epoch": epoch + 1, "test_accuracy": fake_accuracy(config, epoch), "phase": "train"})
        sw.write_text_atomic(checkpoint, json.dumps(history))
        sw.write_text_atomic(out_dir / "metrics.csv", "epoch,test_accuracy,seconds\n" + "".join(
            f"{row['epoch']},{row['test_accuracy']!r},0.01\n" for row in history))
        with open(out_dir / "epochs.log", "a") as log:
            log.write(f"{epoch}\n")
        if crash.exists() and int(crash.read_text()) == epoch:
            crash.unlink()
            raise RuntimeError("simulated crash")
    import numba  # record the thread limits the worker runs under
    (out_dir / "threads.json").write_text(json.dumps([os.environ.get("NUMBA_NUM_THREADS"), numba.get_num_threads(),
                                                      os.environ.get("OPENBLAS_NUM_THREADS")]))
    accuracies = [row["test_accuracy"] for row in history]
    return SimpleNamespace(final_test_accuracy=accuracies[-1], best_test_accuracy=max(accuracies),
                           seconds=0.01 * len(history), history=history)


def run_fake_sweep(out_dir, bers=(0.0, 0.01, 0.1), repeats=2, base=FakeConfig(), **kwargs):
    lines = []
    kwargs.setdefault("workers", 0)
    records = sw.sweep(base, bers, repeats, out_dir, trainer=fake_train, make_config=fake_config,
                       log=lines.append, **kwargs)
    return records, lines


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.fixture(autouse=True)
def importable_tests(monkeypatch):
    """Spawned workers unpickle fake_train by its module name tests.bnn.test_sweep: put the repo on their path."""
    if str(REPO) not in sys.path:
        monkeypatch.syspath_prepend(str(REPO))


# --- seeds -----------------------------------------------------------------------------------------------------

def test_run_seed_is_the_spawn_tree_grandchild():
    root = np.random.SeedSequence(1234)
    grandchild = root.spawn(3)[2].spawn(2)[1]
    assert sw.run_seed(1234, 2, 1) == int(grandchild.generate_state(1, np.uint64)[0] >> np.uint64(1))


def test_run_seeds_distinct_reproducible_and_int64():
    seeds = [sw.run_seed(7, i, r) for i in range(7) for r in range(10)]
    assert len(set(seeds)) == len(seeds)
    assert seeds == [sw.run_seed(7, i, r) for i in range(7) for r in range(10)]
    assert all(0 <= s < 2**63 for s in seeds)
    assert sw.run_seed(8, 0, 0) != sw.run_seed(7, 0, 0)


def test_plan_assigns_seeds_configs_and_folders(tmp_path):
    specs = sw.plan(FakeConfig(), [0, 0.001], 2, tmp_path, seed=5, make_config=fake_config)
    assert [(s.ber, s.repeat) for s in specs] == [(0.0, 0), (0.001, 0), (0.0, 1), (0.001, 1)]
    assert [s.seed for s in specs] == [sw.run_seed(5, i, r) for r in range(2) for i in range(2)]
    assert [s.config.seed for s in specs] == [s.seed for s in specs]
    assert [s.config.ber for s in specs] == [0.0, 0.001, 0.0, 0.001]
    assert specs[3].directory == tmp_path / "runs" / "ber=0.001" / "rep=1"


def test_plan_takes_one_repeat_count_per_ber_and_keeps_the_seeds(tmp_path):
    specs = sw.plan(FakeConfig(), [0, 0.01, 0.1], [2, 1, 3], tmp_path, seed=5, make_config=fake_config)
    assert [(s.ber, s.repeat) for s in specs] == [(0.0, 0), (0.01, 0), (0.1, 0), (0.0, 1), (0.1, 1), (0.1, 2)]
    uniform = {(s.ber, s.repeat): s.seed for s in sw.plan(FakeConfig(), [0, 0.01, 0.1], 3, tmp_path, seed=5,
                                                           make_config=fake_config)}
    assert all(s.seed == uniform[s.ber, s.repeat] for s in specs)


@pytest.mark.parametrize("repeats, message", [([1, 2], "one number or one per BER \\(3\\), got 2"),
                                              ([1, 0, 1], "repeats must be a whole number >= 1, got 0")])
def test_plan_rejects_bad_repeat_lists(tmp_path, repeats, message):
    with pytest.raises(ValueError, match=message):
        sw.plan(FakeConfig(), [0, 0.01, 0.1], repeats, tmp_path, make_config=fake_config)


@pytest.mark.parametrize("bers, message", [([], "at least one BER"), ([0.1, 1.5], "got 1.5"),
                                           ([-0.1], "got -0.1"), ([0.1, 0.1], "distinct")])
def test_plan_rejects_bad_bers(tmp_path, bers, message):
    with pytest.raises(ValueError, match=message):
        sw.plan(FakeConfig(), bers, 1, tmp_path, make_config=fake_config)


@pytest.mark.parametrize("repeats", [0, 1.5, -2])
def test_plan_rejects_bad_repeats(tmp_path, repeats):
    with pytest.raises(ValueError, match=f"repeats must be a whole number >= 1, got {repeats}"):
        sw.plan(FakeConfig(), [0.0], repeats, tmp_path, make_config=fake_config)


def test_run_seed_rejects_negative():
    with pytest.raises(ValueError, match="base_seed must be a non-negative integer, got -1"):
        sw.run_seed(-1, 0, 0)


# --- results files ---------------------------------------------------------------------------------------------

def test_sweep_writes_csv_and_h5(tmp_path):
    records, lines = run_fake_sweep(tmp_path, seed=3)
    rows = read_csv(tmp_path / "results.csv")
    assert list(rows[0]) == list(sw.RESULT_COLUMNS)
    assert [(float(r["ber"]), int(r["repeat"])) for r in rows] == [(b, r) for b in (0.0, 0.01, 0.1) for r in (0, 1)]
    for i, row in enumerate(rows):
        ber_index, repeat = divmod(i, 2)
        config = FakeConfig(seed=sw.run_seed(3, ber_index, repeat), ber=float(row["ber"]))
        accuracies = [fake_accuracy(config, e) for e in range(3)]
        assert int(row["seed"]) == config.seed
        assert (row["epochs"], row["epochs_done"]) == ("3", "3")
        assert float(row["final_test_accuracy"]) == accuracies[-1]  # repr round-trips floats exactly
        assert float(row["best_test_accuracy"]) == max(accuracies)
        assert float(row["seconds"]) == pytest.approx(0.03)
    assert len(records) == 6 and len(lines) == 6

    with h5py.File(tmp_path / "results.h5") as f:
        assert f.attrs["package_version"] == sw.package_version() != "unknown"
        np.testing.assert_array_equal(f["seed"][:], [int(r["seed"]) for r in rows])
        np.testing.assert_array_equal(f["epochs_done"][:], [3] * 6)
        np.testing.assert_array_equal(f["final_test_accuracy"][:], [float(r["final_test_accuracy"]) for r in rows])
        run = f["runs/ber=0.01/rep=1"]
        assert run.attrs["seed"] == sw.run_seed(3, 1, 1)
        config = json.loads(run.attrs["config"])
        assert config == {"epochs": 3, "seed": sw.run_seed(3, 1, 1), "ber": 0.01, "sleep": 0.0}
        np.testing.assert_array_equal(run["history/epoch"][:], [1, 2, 3])
        expected = [fake_accuracy(FakeConfig(seed=config["seed"], ber=0.01), e) for e in range(3)]
        np.testing.assert_array_equal(run["history/test_accuracy"][:], expected)
        assert [v.decode() for v in run["history/phase"][:]] == ["train"] * 3
    assert not list(tmp_path.glob(".*.tmp")), "atomic writes leave no temp files"


def test_progress_lines_count_runs_and_give_an_eta(tmp_path):
    _, lines = run_fake_sweep(tmp_path, bers=[0.0, 0.2], repeats=1)
    assert lines[0].startswith("[1/2] ber=0 rep=0: test accuracy ")
    assert lines[1].startswith("[2/2] ber=0.2 rep=0: test accuracy ")
    assert "ETA 0:00:00" in lines[1] and "ETA" in lines[0]


def test_eta_counts_the_epochs_left_so_a_resumed_run_is_not_taken_for_a_whole_one(monkeypatch):
    clock = iter([0.0, 100.0, 1300.0])
    monkeypatch.setattr(sweep_execute.time, "perf_counter", lambda: next(clock))
    lines = []
    progress = sw.Progress({"resumed": 1, "new": 12, "other": 12}, lines.append)
    ran = sw.RunOutcome("ran", {"final_test_accuracy": 0.5, "best_test_accuracy": 0.6, "seconds": 1.0})
    progress.update(SimpleNamespace(label="resumed"), ran)     # its last epoch took 100 s: 24 epochs are left
    progress.update(SimpleNamespace(label="new"), ran)         # 13 epochs in 1300 s: 12 left
    assert lines[0].endswith("elapsed 0:01:40, ETA 0:40:00") and lines[1].endswith("elapsed 0:21:40, ETA 0:20:00")

    clock = iter([0.0, 5.0])
    progress = sw.Progress({"killed after its last epoch": 0, "new": 12}, lines.append)
    progress.update(SimpleNamespace(label="killed after its last epoch"), ran)     # no epoch trained: no rate yet
    assert lines[2].endswith("elapsed 0:00:05, ETA unknown")

    clock = iter([0.0, 5.0])
    progress = sw.Progress({"the only run, killed after its last epoch": 0}, lines.append)
    progress.update(SimpleNamespace(label="the only run, killed after its last epoch"), ran)
    assert lines[3].endswith("elapsed 0:00:05, ETA 0:00:00")


def test_epochs_left_reads_the_epochs_a_run_folder_has_done(tmp_path):
    (tmp_path / "runs/ber=0.01/rep=1/crash_after").parent.mkdir(parents=True)
    (tmp_path / "runs/ber=0.01/rep=1/crash_after").write_text("0")      # the run stops after its first of 3 epochs
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_fake_sweep(tmp_path)
    specs = {spec.label: spec for spec in sw.plan(FakeConfig(), [0.0, 0.01, 0.1], 2, tmp_path, 0, fake_config)}
    assert {label: epochs_left(spec) for label, spec in specs.items()} == {
        "ber=0 rep=0": 0, "ber=0 rep=1": 0, "ber=0.01 rep=0": 0, "ber=0.01 rep=1": 2, "ber=0.1 rep=0": 0,
        "ber=0.1 rep=1": 0}

    damaged = specs["ber=0.01 rep=1"].directory
    (damaged / "metrics.csv").write_text("epoch,test_accuracy\nnot a number,0.5\n")
    assert epochs_left(specs["ber=0.01 rep=1"]) == 3       # the estimate falls back to the whole run
    (damaged / "config.json").write_text("{truncated")
    assert epochs_left(specs["ber=0.01 rep=1"]) == 3
    # the run itself reports the damage, and the others finish
    with pytest.raises(sweep_execute.SweepFailed, match=r"1 of 6 runs failed: ber=0.01 rep=1 \(ValueError: "
                                                        r".*config.json is not valid JSON"):
        run_fake_sweep(tmp_path)


# --- rerun, resume, conflicts ----------------------------------------------------------------------------------

def test_rerun_skips_finished_runs(tmp_path):
    first, _ = run_fake_sweep(tmp_path)
    second, lines = run_fake_sweep(tmp_path)
    assert second == first
    assert all("already finished" in line for line in lines)
    for log in tmp_path.glob("runs/*/*/calls.log"):
        assert log.read_text() == "start 0\n"


def test_more_repeats_keep_old_runs_and_seeds(tmp_path):
    run_fake_sweep(tmp_path, repeats=1)
    records, lines = run_fake_sweep(tmp_path, repeats=2)
    assert sum("already finished" in line for line in lines) == 3
    assert [r["seed"] for r in records] == [sw.run_seed(0, i, r) for i in range(3) for r in range(2)]


def test_interrupted_run_resumes_and_others_still_finish(tmp_path):
    crashed = sw.run_dir(tmp_path, 0.01, 1)
    crashed.mkdir(parents=True)
    (crashed / "crash_after").write_text("1")
    with pytest.raises(RuntimeError, match=r"1 of 6 runs failed: ber=0.01 rep=1 \(RuntimeError: simulated crash\)"):
        run_fake_sweep(tmp_path)
    assert len(read_csv(tmp_path / "results.csv")) == 5
    assert not (crashed / "result.json").exists()

    records, lines = run_fake_sweep(tmp_path)
    assert sum("already finished" in line for line in lines) == 5
    assert (crashed / "calls.log").read_text() == "start 0\nstart 2\n"
    assert (crashed / "epochs.log").read_text() == "0\n1\n2\n", "finished epochs are not trained again"
    resumed = next(r for r in records if (r["ber"], r["repeat"]) == (0.01, 1))
    config = FakeConfig(seed=sw.run_seed(0, 1, 1), ber=0.01)
    assert resumed["final_test_accuracy"] == fake_accuracy(config, 2)
    assert len(read_csv(tmp_path / "results.csv")) == 6


SLOW = FakeConfig(epochs=20, sleep=0.05)


def _slow_single_run_sweep(out_dir):
    run_fake_sweep(out_dir, bers=[0.0], repeats=1, base=SLOW)


def test_killed_sweep_releases_its_lock_and_the_rerun_resumes(tmp_path):
    process = multiprocessing.get_context("spawn").Process(target=_slow_single_run_sweep, args=(tmp_path,))
    process.start()
    epochs = sw.run_dir(tmp_path, 0.0, 0) / "epochs.log"
    while not (epochs.exists() and len(epochs.read_text().split()) >= 2):
        threading.Event().wait(0.02)
    process.kill()  # SIGKILL: no cleanup runs, the kernel drops the lock
    process.join()
    records, _ = run_fake_sweep(tmp_path, bers=[0.0], repeats=1, base=SLOW)
    calls = (sw.run_dir(tmp_path, 0.0, 0) / "calls.log").read_text().split("\n")
    assert calls[0] == "start 0" and int(calls[1].split()[1]) >= 2, "resumed from the checkpoint"
    assert records[0]["history"] == [
        {"epoch": e + 1, "test_accuracy": fake_accuracy(FakeConfig(seed=sw.run_seed(0, 0, 0)), e), "phase": "train"}
        for e in range(20)]


def test_rerun_with_another_config_into_the_same_folder_raises(tmp_path):
    run_fake_sweep(tmp_path, bers=[0.0], repeats=1)
    with pytest.raises(RuntimeError, match="different config"):
        run_fake_sweep(tmp_path, bers=[0.0], repeats=1, base=FakeConfig(epochs=4))


def test_reordered_bers_into_the_same_folder_raise(tmp_path):
    run_fake_sweep(tmp_path, bers=[0.0, 0.1], repeats=1)
    with pytest.raises(RuntimeError, match="different seed"):
        run_fake_sweep(tmp_path, bers=[0.1, 0.0], repeats=1)


def test_a_run_held_elsewhere_is_busy_then_waited_for(tmp_path):
    spec = sw.plan(FakeConfig(sleep=0.1), [0.0], 1, tmp_path, make_config=fake_config)[0]
    other = threading.Thread(target=sw.execute_run, args=(spec, fake_train, 1))  # another sweep training the run
    other.start()
    while not (spec.directory / "calls.log").exists():
        threading.Event().wait(0.01)
    assert sw.execute_run(spec, fake_train, 1) == sw.RunOutcome("busy", None)
    waited = sw.execute_run(spec, fake_train, 1, wait=True)
    other.join()
    assert waited.status == "skipped" and waited.record["final_test_accuracy"] == fake_accuracy(spec.config, 2)
    assert (spec.directory / "calls.log").read_text() == "start 0\n"


# --- live results: a sweep folder tabulated while (or after) it trains, read only -------------------------------

def snapshot(folder):
    """{relative path: (size, mtime_ns)} of every file under folder."""
    return {p.relative_to(folder): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def bnn_command(argv):
    from bnn.__main__ import main
    return main(argv)


def test_results_command_tabulates_an_interrupted_sweep_without_writing_into_it(tmp_path, capsys):
    out = tmp_path / "sweep"
    crashed = sw.run_dir(out, 0.01, 1)
    crashed.mkdir(parents=True)
    (crashed / "crash_after").write_text("1")       # the run stops after its second of 3 epochs
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_fake_sweep(out)
    started = sw.run_dir(out, 0.2, 0)                 # started, no epoch ended yet
    started.mkdir(parents=True)
    (started / "config.json").write_text(json.dumps({"epochs": 3, "seed": 5, "ber": 0.2}))
    sw.run_dir(out, 0.5, 0).mkdir(parents=True)       # created, no config.json yet: not a row
    before = snapshot(out)
    capsys.readouterr()

    bnn_command(["results", str(out), "--csv", str(tmp_path / "live.csv")])
    assert snapshot(out) == before, "the results command only reads the sweep folder"
    text = (tmp_path / "live.csv").read_text()
    assert text.splitlines()[0] == "ber,repeat,seed,epochs,epochs_done,final_test_accuracy,best_test_accuracy,seconds"
    rows = read_csv(tmp_path / "live.csv")
    assert [(float(r["ber"]), int(r["repeat"])) for r in rows] == [(0.0, 0), (0.0, 1), (0.01, 0), (0.01, 1),
                                                                   (0.1, 0), (0.1, 1), (0.2, 0)]
    config = FakeConfig(seed=sw.run_seed(0, 1, 1), ber=0.01)
    interrupted = rows[3]
    assert int(interrupted["seed"]) == config.seed
    assert (int(interrupted["epochs"]), int(interrupted["epochs_done"])) == (3, 2)
    assert float(interrupted["final_test_accuracy"]) == fake_accuracy(config, 1)
    assert float(interrupted["best_test_accuracy"]) == max(fake_accuracy(config, e) for e in (0, 1))
    assert float(interrupted["seconds"]) == pytest.approx(0.02)
    assert [r["epochs_done"] for r in rows] == ["3", "3", "3", "2", "3", "3", "0"]
    assert rows[6]["final_test_accuracy"] == rows[6]["best_test_accuracy"] == "" and rows[6]["seed"] == "5"
    finished = read_csv(out / "results.csv")
    assert [{k: r[k] for k in finished[0]} for r in rows[:3] + rows[4:6]] == finished, "the same finished rows"

    printed = capsys.readouterr().out
    assert "5 of 7 started runs finished" in printed and "2/3" in printed and "unfinished" in printed
    summary = printed.split("per BER:")[1].splitlines()
    assert summary[3].split()[:2] == ["0.01", "1"], "the summary counts the finished runs only"

    bnn_command(["results", str(out), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert [r["finished"] for r in document["runs"]] == [True, True, True, False, True, True, False]
    assert document["runs"][6]["final_test_accuracy"] is None
    assert [(s["ber"], s["runs"]) for s in document["summary"]] == [(0.0, 2), (0.01, 1), (0.1, 2)]
    assert bnn_command(["results", str(out), "--csv", str(out / "results.csv")]) == 2    # a user's mistake
    err = capsys.readouterr().err
    assert err.startswith("error: --csv ") and "the sweep's own results file" in err


def test_results_of_a_sweep_that_is_training(tmp_path):
    process = multiprocessing.get_context("spawn").Process(target=_slow_single_run_sweep, args=(tmp_path,))
    process.start()
    epochs = sw.run_dir(tmp_path, 0.0, 0) / "epochs.log"
    while not (epochs.exists() and len(epochs.read_text().split()) >= 2):
        threading.Event().wait(0.02)
    (row,) = sw.run_rows(tmp_path)
    process.join(60)
    assert process.exitcode == 0
    assert not row["finished"] and 2 <= row["epochs_done"] < SLOW.epochs and row["epochs"] == SLOW.epochs
    assert row["final_test_accuracy"] == fake_accuracy(FakeConfig(seed=row["seed"]), row["epochs_done"] - 1)
    assert (sw.run_dir(tmp_path, 0.0, 0) / "calls.log").read_text() == "start 0\n", "the run was not disturbed"
    (row,) = sw.run_rows(tmp_path)
    assert row["finished"] and row["epochs_done"] == SLOW.epochs


def test_result_files_without_epoch_columns_get_them_from_config_and_history(tmp_path):
    """result.json files written before `epochs` / `epochs_done` existed: the columns come from the config and the
    history, and a rerun still skips the run."""
    first, _ = run_fake_sweep(tmp_path, bers=[0.0, 0.1], repeats=1)
    for path in tmp_path.glob("runs/*/*/result.json"):
        record = json.loads(path.read_text())
        del record["epochs"], record["epochs_done"]
        path.write_text(json.dumps(record))
    records, lines = run_fake_sweep(tmp_path, bers=[0.0, 0.1], repeats=1)
    assert all("already finished" in line for line in lines) and records == first
    assert [(r["epochs"], r["epochs_done"]) for r in read_csv(tmp_path / "results.csv")] == [("3", "3")] * 2


def test_plot_live_draws_unfinished_runs_apart_from_the_means(tmp_path, capsys):
    from bnn import sweep_plot
    out = tmp_path / "sweep"
    crashed = sw.run_dir(out, 0.1, 0)
    crashed.mkdir(parents=True)
    (crashed / "crash_after").write_text("0")
    with pytest.raises(RuntimeError):
        run_fake_sweep(out, repeats=1)
    finished, unfinished = sweep_plot.live_results(out)
    assert list(finished) == [0.0, 0.01] and list(unfinished) == [0.1]
    np.testing.assert_array_equal(unfinished[0.1], [fake_accuracy(FakeConfig(seed=sw.run_seed(0, 2, 0), ber=0.1), 0)])
    fig = sweep_plot.ber_accuracy_figure(finished, unfinished=unfinished)
    ax_log = fig.axes[1]
    open_circles = [line for line in ax_log.lines if line.get_markerfacecolor() == "none"]
    np.testing.assert_allclose(open_circles[0].get_ydata(), 100 * unfinished[0.1])
    means = [line for line in ax_log.lines if line.get_linestyle() == "-"]
    np.testing.assert_allclose(means[0].get_xdata(), [0.01]), "the unfinished BER has no mean"
    before = snapshot(out)
    bnn_command(["plot", str(out), "--live", "--out", str(tmp_path / "live.png")])
    assert (tmp_path / "live.png").exists() and (tmp_path / "live.svg").exists()
    assert snapshot(out) == before
    assert "1 unfinished" in (tmp_path / "live.svg").read_text()


# --- parallel paths --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("runs, workers, threads, cores, expected", [
    (14, None, None, 2, (2, 1)), (14, None, None, 16, (14, 1)), (3, None, None, 16, (3, 5)), (1, None, None, 4, (1, 4)),
    (14, 1, None, 8, (1, 8)), (14, 0, None, 8, (0, 8)), (14, 4, 2, 2, (4, 2))])
def test_local_parallelism_does_not_oversubscribe_by_default(runs, workers, threads, cores, expected):
    assert sw.local_parallelism(runs, workers, threads, cores) == expected


@pytest.mark.parametrize("workers, threads, message", [(-1, None, "workers must be a whole number >= 0, got -1"),
                                                       (2, 0, "threads must be a whole number >= 1, got 0")])
def test_local_parallelism_rejects_bad_counts(workers, threads, message):
    with pytest.raises(ValueError, match=message):
        sw.local_parallelism(4, workers, threads, 2)


@pytest.mark.parametrize("workers, threads", [(2, 1), (1, 2)])
def test_process_pool_matches_inline_and_limits_threads(tmp_path, workers, threads):
    inline, _ = run_fake_sweep(tmp_path / "inline", seed=11)
    pooled, lines = run_fake_sweep(tmp_path / "pool", seed=11, workers=workers, threads=threads)
    assert [{k: r[k] for k in sw.RESULT_COLUMNS} for r in pooled] == \
           [{k: r[k] for k in sw.RESULT_COLUMNS} for r in inline]
    assert len(lines) == 6
    for path in (tmp_path / "pool").glob("runs/*/*/threads.json"):   # Numba gets the threads, BLAS always 1
        assert json.loads(path.read_text()) == [str(threads), threads, "1"]


def _sweep_in_process(out_dir):
    run_fake_sweep(out_dir, bers=(0.0, 0.01, 0.1, 0.2), base=FakeConfig(epochs=2, sleep=0.05))


def test_two_sweeps_into_one_folder_train_every_run_exactly_once(tmp_path):
    context = multiprocessing.get_context("spawn")
    sweeps = [context.Process(target=_sweep_in_process, args=(tmp_path,)) for _ in range(2)]
    for process in sweeps:
        process.start()
    for process in sweeps:
        process.join(60)
        assert process.exitcode == 0
    logs = sorted(tmp_path.glob("runs/*/*/calls.log"))
    assert len(logs) == 8
    assert all(log.read_text() == "start 0\n" for log in logs), "no run trained twice"
    assert len(read_csv(tmp_path / "results.csv")) == 8


def test_dask_local_cluster_matches_inline(tmp_path):
    distributed = pytest.importorskip("distributed")
    inline, _ = run_fake_sweep(tmp_path / "inline", seed=2)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) \
            as cluster, distributed.Client(cluster) as client:
        on_dask, lines = run_fake_sweep(tmp_path / "dask", seed=2, scheduler=client)
    assert [{k: r[k] for k in sw.RESULT_COLUMNS} for r in on_dask] == \
           [{k: r[k] for k in sw.RESULT_COLUMNS} for r in inline]
    assert len(lines) == 6 and len(read_csv(tmp_path / "dask" / "results.csv")) == 6
    for path in (tmp_path / "dask").glob("runs/*/*/threads.json"):
        assert json.loads(path.read_text())[1] == 1, "Dask runs default to one Numba thread"


# --- statistics, engine adapter, command line ------------------------------------------------------------------

def test_summarize_uses_sample_std_and_zero_for_single_runs():
    bers, means, stds, counts = sw.summarize({0.1: [5.0], 0.0: [1.0, 2.0, 3.0]})
    np.testing.assert_array_equal(bers, [0.0, 0.1])
    np.testing.assert_array_equal(means, [2.0, 5.0])
    np.testing.assert_array_equal(stds, [1.0, 0.0])  # ddof = 1: sqrt(((1-2)^2 + (3-2)^2) / 2) = 1
    np.testing.assert_array_equal(counts, [3, 1])


def test_summary_table_in_percent():
    records = [{"ber": 0.0, "final_test_accuracy": a} for a in (0.97, 0.99)] + [{"ber": 0.1, "final_test_accuracy": 0.9}]
    lines = sw.summary_table(records).splitlines()
    assert lines[1].split() == ["0", "2", "98.00", "1.41", "97.00", "99.00"]
    assert lines[2].split() == ["0.1", "1", "90.00", "0.00", "90.00", "90.00"]


def test_summary_table_beside_a_reference_as_markdown():
    records = [{"ber": 0.0, "final_test_accuracy": a} for a in (0.97, 0.99)] + [{"ber": 0.1, "final_test_accuracy": 0.9}]
    lines = sw.summary_table(records, reference={0.0: 0.985}, markdown=True).splitlines()
    assert lines[0] == "| BER | runs | mean % | std | min | max | reference % | difference |"
    assert lines[2] == "| 0 | 2 | 98.00 | 1.41 | 97.00 | 99.00 | 98.50 | -0.50 |"
    assert lines[3] == "| 0.1 | 1 | 90.00 | 0.00 | 90.00 | 90.00 | - | - |"


def test_run_config_replaces_seed_and_ber_only():
    train = pytest.importorskip("bnn.train")
    base = train.TrainConfig.recipe("lenet4", epochs=2)
    config = sw.run_config(base, 0.05, 123)
    assert config.seed == 123 and config.errors.ber == 0.05
    assert dataclasses.replace(config, seed=base.seed, errors=base.errors) == base


@pytest.mark.parametrize("errors", [{"ber_pos_to_neg": 0.1}, {"layer_bers": (0.1, 0.2)}, {"schedule": ((1, 0.1),)}])
def test_run_config_refuses_rates_that_would_override_the_swept_ber(errors):
    train = pytest.importorskip("bnn.train")
    from bnn.errors import ErrorConfig
    base = train.TrainConfig.recipe("lenet4", epochs=2, errors=ErrorConfig(**errors))
    with pytest.raises(ValueError, match=f"errors also set .*{next(iter(errors))}"):
        sw.run_config(base, 0.01, 1)


def test_base_config_is_the_recipe_with_overrides():
    train = pytest.importorskip("bnn.train")
    config = sw.base_config({"model": "lenet4", "epochs": 4, "train_subset": 500, "errors": {"rounding": "stochastic"}})
    assert config == train.TrainConfig.recipe("lenet4", epochs=4, train_subset=500,
                                              errors=dataclasses.replace(config.errors, rounding="stochastic"))
    assert config.errors.rounding == "stochastic"
    with pytest.raises(ValueError, match=r"unknown training config keys \['epoch'\]"):
        sw.base_config({"epoch": 3})
    for table in ({"seed": 3}, {"errors": {"ber": 0.1}}):
        with pytest.raises(ValueError, match="a sweep sets every run's seed and errors.ber itself"):
            sw.base_config(table)


def sweep_parser():
    import argparse
    parser = argparse.ArgumentParser()
    sw.add_sweep_arguments(parser)
    return parser


def test_toml_file_and_flags_merge_with_flags_winning(tmp_path):
    pytest.importorskip("bnn.train")
    config = tmp_path / "sweep.toml"
    config.write_text(sw.EXAMPLE_TOML)
    args = sweep_parser().parse_args(["--config", str(config), "--repeats", "2", "--epochs", "1", "--ber", "0", "0.1"])
    settings, train_table = sw.settings_from_args(args)
    assert settings == {**sw.SWEEP_DEFAULTS, "ber": [0.0, 0.1], "repeats": [2], "out": "runs/lenet4-ber"}
    assert train_table == {"model": "lenet4", "quick": False, "epochs": 1, "errors": {"rounding": "deterministic"}}
    assert sw.base_config(train_table).epochs == 1


def test_quick_recipe_from_the_file_or_the_flags_with_flags_winning(tmp_path):
    train = pytest.importorskip("bnn.train")
    assert sw.base_config({"model": "nin", "quick": True, "epochs": 5}) == \
        train.TrainConfig.recipe("nin", quick=True, epochs=5)
    config = tmp_path / "sweep.toml"
    config.write_text('[sweep]\nber = [0]\nout = "o"\n[train]\nmodel = "nin"\nquick = true\nlr = 0.002\n')
    for argv, quick in (([], True), (["--no-quick"], False), (["--quick"], True)):
        _, table = sw.settings_from_args(sweep_parser().parse_args(["--config", str(config), *argv]))
        assert sw.base_config(table) == train.TrainConfig.recipe("nin", quick=quick, lr=0.002), argv
    _, table = sw.settings_from_args(sweep_parser().parse_args(["--ber", "0", "--out", "o", "--quick", "--epochs", "4"]))
    assert sw.base_config(table) == train.TrainConfig.recipe("lenet4", quick=True, epochs=4)


@pytest.mark.parametrize("toml, argv, message", [
    ("[sweep]\nbers = [0]\n", [], r"unknown keys \['bers'\] in \[sweep\] of"),
    ("[trian]\n", [], r"unknown keys \['trian'\] in"),
    ("", ["--out", "x"], "a sweep needs --ber"),
    ("", ["--ber", "0"], "a sweep needs --out")])
def test_bad_sweep_settings_name_the_problem(tmp_path, toml, argv, message):
    config = tmp_path / "sweep.toml"
    config.write_text(toml)
    with pytest.raises(ValueError, match=message):
        sw.settings_from_args(sweep_parser().parse_args(["--config", str(config), *argv]))


def fake_train_config(config, out_dir, resume):
    """fake_train for a real TrainConfig."""
    return fake_train(FakeConfig(epochs=config.epochs, seed=config.seed, ber=config.errors.ber), out_dir, resume)


def test_command_line_sweep_with_a_fake_trainer(tmp_path, capsys):
    pytest.importorskip("bnn.train")
    argv = ["--ber", "0", "0.01", "--repeats", "2", "--epochs", "2", "--out", str(tmp_path), "--workers", "0"]
    records = sw.run_sweep_from_args(sweep_parser().parse_args(argv), trainer=fake_train_config)
    out = capsys.readouterr().out
    assert out.count("ETA") == 4 and "mean %" in out and "results.csv" in out
    assert [r["config"]["errors"]["ber"] for r in records] == [0.0, 0.0, 0.01, 0.01]
    assert [r["config"]["seed"] for r in records] == [sw.run_seed(0, i, r) for i in range(2) for r in range(2)]
    assert all(r["config"]["epochs"] == 2 and r["config"]["model"] == "lenet4" for r in records)


# --- the real engine, end to end -------------------------------------------------------------------------------

def test_real_lenet4_sweep_on_an_mnist_subset(tmp_path, data_root):
    train = pytest.importorskip("bnn.train")
    base = train.TrainConfig.recipe("lenet4", epochs=1, batch_size=64, train_subset=512, test_subset=500)
    lines = []
    records = sw.sweep(base, [0.0, 0.1], 1, tmp_path, seed=1, trainer=sw.default_trainer(data_root), log=lines.append)
    assert [(r["ber"], r["config"]["errors"]["ber"]) for r in records] == [(0.0, 0.0), (0.1, 0.1)]
    for rec in records:
        assert 0.2 < rec["final_test_accuracy"] <= 1, "one short epoch already beats chance (0.1) clearly"
        assert rec["history"][0]["epoch"] == 1 and rec["seconds"] > 0
        folder = sw.run_dir(tmp_path, rec["ber"], 0)
        assert (folder / "metrics.csv").exists() and (folder / "checkpoint.h5").exists()
    assert len(read_csv(tmp_path / "results.csv")) == 2
    again = sw.sweep(base, [0.0, 0.1], 1, tmp_path, seed=1, trainer=sw.default_trainer(data_root), log=lines.append)
    assert again == records and all("already finished" in line for line in lines[2:])


def test_command_line_sweep_from_mtj_operating_points(tmp_path, capsys):
    """--mtj-drive/--mtj-pulse: each drive becomes a run at the write error rate mtj computes for it."""
    pytest.importorskip("bnn.train")
    from mtj import write_error_rate
    argv = ["--mtj-drive", "1.5", "2.0", "--mtj-pulse", "5", "--epochs", "1", "--out", str(tmp_path), "--workers", "0"]
    records = sw.run_sweep_from_args(sweep_parser().parse_args(argv), trainer=fake_train_config)
    errors = [r["config"]["errors"] for r in records]
    expected = sorted(float(write_error_rate(drive, 5.0)) for drive in (1.5, 2.0))
    assert [e["ber_pos_to_neg"] for e in errors] == pytest.approx(expected, rel=1e-12)
    assert [e["ber_neg_to_pos"] for e in errors] == pytest.approx(expected, rel=1e-12)
    assert (tmp_path / "mtj_operating_points.json").exists()
    assert (tmp_path / "accuracy_vs_drive.png").exists()
    assert "accuracy against write drive" in capsys.readouterr().out
    with pytest.raises(ValueError, match="not both"):
        sw.settings_from_args(sweep_parser().parse_args(argv + ["--ber", "0.1"]))
