"""The NiN CIFAR-10 campaign's finished runs, kept in docs/results/nin_cifar10_50k without their checkpoints, are runs
its sweep file plans: copied into a run folder on a new machine, each is skipped (same seed, same config) rather than
trained again or refused. And the committed CSV carries their numbers."""
import csv
from pathlib import Path

import pytest

from bnn.results import finished_records
from bnn.sweep import base_config, load_toml, plan, read_result

DOCS = Path(__file__).resolve().parents[2] / "docs" / "results"
ARCHIVE = DOCS / "nin_cifar10_50k"


@pytest.fixture(scope="module")
def specs():
    document = load_toml(DOCS / "nin_cifar10_50k.toml")
    sweep = document["sweep"]
    return plan(base_config(document["train"]), sweep["ber"], sweep["repeats"], ARCHIVE, seed=sweep["seed"])


def test_every_archived_run_is_a_finished_run_of_the_campaign(specs):
    by_folder = {spec.directory: spec for spec in specs}
    archived = sorted(ARCHIVE.glob("runs/*/*/result.json"))
    assert archived, f"no finished run under {ARCHIVE}"
    for path in archived:
        assert path.parent in by_folder, f"{path} is not a run the campaign plans"
        record = read_result(by_folder[path.parent])   # raises if its seed or config is not the planned one
        assert record["epochs_done"] == record["epochs"] == 12
        assert len(record["history"]) == 12 and (path.parent / "metrics.csv").exists()


def test_the_csv_holds_the_archived_results():
    with open(DOCS / "nin_cifar10_50k.csv", newline="") as f:
        rows = {(float(row["ber"]), int(row["repeat"])): row for row in csv.DictReader(f)}
    records = finished_records(ARCHIVE)
    assert records
    for record in records:
        row = rows[(record["ber"], record["repeat"])]
        assert int(row["seed"]) == record["seed"] and int(row["epochs_done"]) == record["epochs_done"]
        assert float(row["final_test_accuracy"]) == record["final_test_accuracy"]
        assert float(row["best_test_accuracy"]) == record["best_test_accuracy"]
