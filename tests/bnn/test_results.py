"""bnn.results: rows of a sweep folder from hand-made run folders, in the real trainer's file formats.

(The sweep writing these files, and the `results` command on an interrupted sweep, are in test_sweep.py.)
"""
import csv
import io
import json

import pytest

from bnn import results
from bnn.train import METRIC_COLUMNS


def write_run(out_dir, ber, repeat, config=None, metrics=None, result=None):
    folder = results.run_dir(out_dir, ber, repeat)
    folder.mkdir(parents=True)
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config))
    if metrics is not None:
        text = io.StringIO()
        writer = csv.DictWriter(text, METRIC_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(metrics)
        (folder / "metrics.csv").write_text(text.getvalue())
    if result is not None:
        (folder / "result.json").write_text(json.dumps(result))
    return folder


def epoch(n, test_accuracy, seconds=10.0):
    return dict(epoch=n, train_loss=1.0 / n, train_accuracy=0.5, test_loss=1.0, test_accuracy=test_accuracy,
                seconds=seconds)


def test_run_dir_names_the_ber_exactly():
    assert results.run_dir("d", 0.1, 2).as_posix() == "d/runs/ber=0.1/rep=2"
    assert results.run_dir("d", 1e-7, 0).parent.name == "ber=1e-07"


def test_an_unfinished_run_is_read_from_the_trainers_metrics(tmp_path):
    write_run(tmp_path, 0.05, 1, config={"epochs": 12, "seed": 99, "model": "nin"},
              metrics=[epoch(1, 0.30), epoch(2, 0.41, 12.5), epoch(3, 0.38)])
    (row,) = results.run_rows(tmp_path)
    assert row == {"ber": 0.05, "repeat": 1, "seed": 99, "epochs": 12, "epochs_done": 3, "final_test_accuracy": 0.38,
                   "best_test_accuracy": 0.41, "seconds": 32.5, "finished": False}


def test_rows_are_sorted_and_skip_folders_that_are_not_runs_or_not_started(tmp_path):
    write_run(tmp_path, 0.1, 0, config={"epochs": 2, "seed": 1})
    write_run(tmp_path, 0.0, 1, config={"epochs": 2, "seed": 2})
    write_run(tmp_path, 0.0, 0)                                       # created, config.json not written yet
    (tmp_path / "runs" / "ber=old" / "rep=0").mkdir(parents=True)     # not this layout
    rows = results.run_rows(tmp_path)
    assert [(r["ber"], r["repeat"], r["epochs_done"], r["final_test_accuracy"]) for r in rows] == \
        [(0.0, 1, 0, None), (0.1, 0, 0, None)]
    assert results.csv_text(rows).splitlines()[1] == "0.0,1,2,2,0,,,0.0"


def test_a_result_without_epoch_columns_takes_them_from_config_and_history(tmp_path):
    history = [epoch(1, 0.5), epoch(2, 0.6)]
    record = {"ber": 0.0, "repeat": 0, "seed": 7, "final_test_accuracy": 0.6, "best_test_accuracy": 0.6,
              "seconds": 20.0, "ber_index": 0, "package_version": "0.1.0", "config": {"epochs": 5}, "history": history}
    write_run(tmp_path, 0.0, 0, result=record)
    write_run(tmp_path, 0.1, 0, result=dict(record, ber=0.1, config={"lr": 0.1}))   # no planned epochs: those done
    rows = results.run_rows(tmp_path)
    assert [(r["epochs"], r["epochs_done"], r["finished"]) for r in rows] == [(5, 2, True), (2, 2, True)]
    records = results.collect_results(tmp_path)
    assert [r["epochs"] for r in records] == [5, 2]
    assert (tmp_path / "results.csv").read_text().splitlines()[0] == ",".join(results.RESULT_COLUMNS)


def test_read_results_refuses_a_metric_it_does_not_tabulate(tmp_path):
    with pytest.raises(ValueError, match="metric must be one of .*, got 'epochs_done'"):
        results.read_results(tmp_path, "epochs_done")


def test_test_accuracy_per_epoch_of_finished_and_unfinished_runs(tmp_path, capsys):
    write_run(tmp_path, 0.0, 0, config={"epochs": 3, "seed": 5}, metrics=[epoch(1, 0.2), epoch(2, 0.4)])
    write_run(tmp_path, 0.1, 0, config={"epochs": 3, "seed": 6}, metrics=[])     # started, no epoch ended yet
    assert results.test_accuracy_per_epoch(tmp_path) == {(0.0, 0): [0.2, 0.4]}

    import argparse
    from bnn import results_cli
    parser = argparse.ArgumentParser()
    results_cli.add_results_arguments(parser)
    results_cli.run_results_from_args(parser.parse_args([str(tmp_path), "--per-epoch"]))
    table = capsys.readouterr().out.split("| BER | repeat |")[1].splitlines()
    assert table[2:] == ["| 0 | 0 | 5 | 2/3 | 20.00 / 40.00 |", "| 0.1 | 0 | 6 | 0/3 | - |"]
    results_cli.run_results_from_args(parser.parse_args([str(tmp_path), "--per-epoch", "--json"]))
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [run["test_accuracy_per_epoch"] for run in runs] == [[0.2, 0.4], []]
