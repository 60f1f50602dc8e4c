"""bnn.bridge: MTJ operating point -> write error rates -> per-direction ErrorConfig -> sweep runs -> figure."""
import argparse
import csv
import dataclasses

import pytest

import mtj
from bnn import bridge, sweep_cli
from bnn.errors import ErrorConfig
from bnn.sweep import RESULT_COLUMNS, sweep
from bnn.train import TrainConfig, TrainResult


# Each distinct (drive, pulse, Δ) is a Fokker-Planck solve of a second or more: the tests share a few points.
WEAK = mtj.MTJParams(v_c_volts=0.35)   # an AP->P direction that needs more voltage than P->AP's 0.3 V


@pytest.fixture(scope="module")
def symmetric():
    return bridge.operating_points([2.0, 2.78], 5.0, delta=40)


@pytest.fixture(scope="module")
def asymmetric():
    return bridge.operating_points([2.0], 5.0, ap_to_p=WEAK)[0]


@pytest.fixture(scope="module")
def error_free():
    return bridge.operating_points([8.0], 20.0)[0]


def test_drive_to_wer_to_config_round_trip(symmetric):
    assert symmetric[1]["wer_p_to_ap"] == pytest.approx(float(mtj.write_error_rate(2.78, 5.0, 40.0)), rel=1e-12)
    assert symmetric[1]["wer_p_to_ap"] == pytest.approx(1.03e-6, rel=0.01)    # the paper's operating point
    assert symmetric[0]["wer_p_to_ap"] > 100 * symmetric[1]["wer_p_to_ap"]   # less drive, more errors
    for (label, errors, record), drive in zip(bridge.runs(symmetric), [2.0, 2.78]):
        assert f"drive={drive:.4g}Vc" in label and record["drive_vc"] == pytest.approx(drive)
        wer = record["wer_p_to_ap"]
        assert record["wer_ap_to_p"] == wer and record["key"] == wer      # a symmetric cell: BER = WER
        assert errors.rates(layer=0, epoch=0) == (wer, wer)
        assert errors.bit_errors(3, 7).p_pos_to_neg == wer
        assert errors.ber == wer and errors.at_test is False


def test_volts_and_ns_are_the_same_operating_point_as_reduced_units(symmetric):
    params = mtj.MTJParams(v_c_volts=0.4, tau_d_ns=2.0)
    physical = bridge.operating_points([0.8], 10.0, p_to_ap=params, unit="volts", pulse_unit="ns")[0]
    assert physical["drive_vc"] == pytest.approx(2.0) and physical["pulse_tau"] == 5.0
    assert physical["wer_p_to_ap"] == pytest.approx(symmetric[0]["wer_p_to_ap"], rel=1e-12)


def test_asymmetric_directions_give_asymmetric_flip_rates(symmetric, asymmetric):
    assert asymmetric["wer_p_to_ap"] == symmetric[0]["wer_p_to_ap"]
    assert asymmetric["wer_ap_to_p"] == pytest.approx(float(mtj.write_error_rate(0.6 / 0.35, 5.0, 40.0)), rel=1e-12)
    assert asymmetric["wer_ap_to_p"] > 10 * asymmetric["wer_p_to_ap"]
    # +1 is stored as AP: a failed write of +1 is a failed P->AP switch and reads back as -1
    assert bridge.error_config(asymmetric).rates(0) == (asymmetric["wer_p_to_ap"], asymmetric["wer_ap_to_p"])
    assert asymmetric["key"] == pytest.approx(0.5 * (asymmetric["wer_p_to_ap"] + asymmetric["wer_ap_to_p"]))


def test_plus_state_and_switch_fraction_map_wers_to_flips():
    assert bridge.flip_rates(0.1, 0.3) == (0.1, 0.3)
    assert bridge.flip_rates(0.1, 0.3, plus_state="P") == (0.3, 0.1)
    assert bridge.flip_rates(0.1, 0.3, plus_state="P", switch_fraction=0.5) == (0.15, 0.05)


def test_delta_applies_to_both_directions(symmetric):
    low = bridge.operating_points([2.0], 5.0, delta=30, ap_to_p=mtj.MTJParams(delta=70))[0]
    assert low["delta_p_to_ap"] == low["delta_ap_to_p"] == 30
    assert low["wer_ap_to_p"] == low["wer_p_to_ap"] < symmetric[0]["wer_p_to_ap"]  # a lower barrier lets go sooner


def test_rates_below_the_resolution_floor_count_as_error_free(error_free):
    assert error_free["below_resolution"] == ["p_to_ap", "ap_to_p"]
    assert error_free["ber_pos_to_neg"] == error_free["ber_neg_to_pos"] == error_free["key"] == 0.0


@pytest.mark.parametrize("kwargs, message", [
    (dict(drives=[2.0, -1.0]), r"drives must be .*positive.*-1.0"),
    (dict(drives=[]), "drives must be a non-empty"),
    (dict(drives=[[2.0]]), "drives must be"),
    (dict(pulse=0.0), "pulse must be a positive number, got 0.0"),
    (dict(unit="mV"), "unit must be 'vc' or 'volts', got 'mV'"),
    (dict(pulse_unit="s"), "pulse_unit must be 'tau' or 'ns', got 's'"),
    (dict(plus_state="up"), "plus_state must be one of"),
    (dict(switch_fraction=0.0), r"switch_fraction must be in \(0, 1\], got 0.0"),
    (dict(delta=-5), "delta"),
])
def test_bad_operating_points_name_the_bad_value(kwargs, message):
    args = dict(drives=[2.0], pulse=5.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        bridge.operating_points(args.pop("drives"), args.pop("pulse"), **args)


def test_base_error_config_with_overriding_rates_is_refused():
    record = bridge.operating_points([2.0], 5.0)[0]
    with pytest.raises(ValueError, match="layer_bers"):
        bridge.error_config(record, ErrorConfig(layer_bers=(0.1, 0.1)))
    kept = bridge.error_config(record, ErrorConfig(rounding="stochastic", at_test=True))
    assert kept.rounding == "stochastic" and kept.at_test


def parse(argv):
    """The sweep command line's MTJ flags (bnn.sweep_cli) parsed."""
    parser = argparse.ArgumentParser()
    sweep_cli.add_bridge_arguments(parser)
    return parser.parse_args(argv)


def test_command_line_flags_become_runs(symmetric):
    (_, errors, record), = sweep_cli.runs_from_args(parse([
        "--mtj-drive", "0.6", "--mtj-volts", "--mtj-pulse", "5", "--mtj-ns", "--mtj-delta", "40",
        "--mtj-ap-to-p-vc", "0.35", "--mtj-switch-fraction", "0.5"]))
    assert record["drive_vc"] == pytest.approx(2.0) and record["pulse_tau"] == 5.0 and record["delta_ap_to_p"] == 40
    assert record["switch_fraction"] == 0.5 and record["wer_ap_to_p"] > record["wer_p_to_ap"]
    assert errors.ber_pos_to_neg == pytest.approx(0.5 * symmetric[0]["wer_p_to_ap"], rel=1e-12)
    assert sweep_cli.runs_from_args(parse([])) is None


@pytest.mark.parametrize("argv, message", [
    (["--mtj-drive", "2"], "--mtj-drive needs --mtj-pulse"),
    (["--mtj-pulse", "5"], "need --mtj-drive"),
])
def test_incomplete_flags_are_refused(argv, message):
    with pytest.raises(ValueError, match=message):
        sweep_cli.runs_from_args(parse(argv))


def fake_train(config, out_dir, resume):
    """Accuracy falls with the mean flip rate; one epoch, nothing trained."""
    accuracy = 0.99 - config.errors.ber
    history = [dict(epoch=1, train_loss=0.1, train_accuracy=accuracy, test_loss=0.1, test_accuracy=accuracy,
                    seconds=0.01)]
    return TrainResult(history, accuracy, accuracy, 0.01, out_dir)


def test_sweep_over_operating_points_and_its_figure(tmp_path, symmetric, asymmetric, error_free):
    points = symmetric + [asymmetric, error_free, dict(error_free, drive_vc=9.0)]
    runs = bridge.runs(points)
    keys = bridge.sweep_keys(runs)
    assert len(keys) == 4 and keys[0] == 0.0   # the two drives below the resolution floor share one run
    base = TrainConfig.recipe("lenet4", epochs=1, errors=ErrorConfig(rounding="stochastic"))
    records = sweep(base, keys, 2, tmp_path, workers=0, trainer=fake_train, make_config=bridge.make_config(runs),
                    log=lambda line: None)
    assert len(records) == 8
    by_key = {r["ber"]: r for r in records}
    for _, errors, record in runs:
        used = by_key[record["key"]]["config"]["errors"]
        assert used["ber_pos_to_neg"] == errors.ber_pos_to_neg and used["ber_neg_to_pos"] == errors.ber_neg_to_pos
        assert used["rounding"] == "stochastic"            # the base error config's other settings are kept
    bridge.write_operating_points(tmp_path, runs)
    assert [p["label"] for p in bridge.read_operating_points(tmp_path)] == [label for label, _, _ in runs]
    png = bridge.plot_accuracy_vs_drive(tmp_path)
    assert png.stat().st_size > 1000 and png.with_suffix(".svg").exists()
    with open(tmp_path / "results.csv") as f:
        assert tuple(csv.DictReader(f).fieldnames[:len(RESULT_COLUMNS)]) == RESULT_COLUMNS


def test_make_config_refuses_unknown_keys_and_clashing_points(symmetric):
    runs = bridge.runs(symmetric[:1])
    with pytest.raises(ValueError, match="no MTJ operating point has the sweep key 0.5"):
        bridge.make_config(runs)(TrainConfig(), 0.5, 0)
    label, errors, record = runs[0]
    clash = (label, dataclasses.replace(errors, ber_pos_to_neg=0.0, ber_neg_to_pos=2 * record["key"]), record)
    with pytest.raises(ValueError, match="share the sweep key"):
        bridge.make_config(runs + [clash])


def test_figure_needs_the_operating_points(tmp_path):
    with pytest.raises(FileNotFoundError, match="mtj_operating_points.json"):
        bridge.read_operating_points(tmp_path)
