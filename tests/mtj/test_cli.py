"""python -m mtj: text and --json output, errors without tracebacks, both write directions, the new commands."""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from mtj.__main__ import main

REPO = Path(__file__).resolve().parents[2]


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_wer_json(capsys):
    code, out, _ = run(capsys, "wer", "--drive", "2.78", "--pulse", "5", "--json")
    result = json.loads(out)
    assert code == 0 and result["drive"] == 2.78 and result["pulse"] == 5 and result["delta"] == 40
    assert result["wer"] == pytest.approx(1.0263e-6, rel=1e-4)
    assert result["p_to_ap"]["wer"] == result["ap_to_p"]["wer"] == result["wer"]


def test_wer_below_the_floor_gives_a_bound_not_a_library_hint(capsys):
    code, out, err = run(capsys, "wer", "--drive", "4", "--pulse", "10")
    assert code == 0 and err == "" and out.startswith("WER = < ")
    assert "below_resolution" not in out and "below what double precision resolves" in out
    code, out, _ = run(capsys, "wer", "--drive", "4", "--pulse", "10", "--json")
    result = json.loads(out)
    assert result["wer"] is None and 0 < result["p_to_ap"]["wer_below"] < 1e-13


def test_directions_with_their_own_parameters(capsys):
    code, out, _ = run(capsys, "wer", "--volts", "0.834", "--ns", "5", "--ap-to-p-vc", "0.25", "--json")
    result = json.loads(out)
    assert code == 0 and result["ap_to_p"]["v_c_volts"] == 0.25 and result["p_to_ap"]["v_c_volts"] == 0.3
    assert result["ap_to_p"]["wer"] < result["p_to_ap"]["wer"]  # lower V_c: the same volts drive it harder
    code, out, _ = run(capsys, "drive", "--wer", "1e-6", "--pulse", "5", "--ap-to-p-delta", "45")
    assert code == 0 and "P->AP needs" in out and "AP->P needs" in out
    code, out, _ = run(capsys, "table1", "--ap-to-p-delta", "45", "--json")
    rows = json.loads(out)["rows"]
    assert rows[0]["wer_ap_to_p"] == pytest.approx(1e-6, rel=1e-5) and rows[0]["wer_p_to_ap"] < 1e-6
    code, out, _ = run(capsys, "windows", "--ap-to-p-vbd", "1.0", "--json")
    assert json.loads(out)["conventional"]["upper_volts"] == 1.0


def test_drive_and_pulse_text(capsys):
    assert run(capsys, "drive", "--wer", "1e-6", "--pulse", "5")[1].strip() == "drive = 2.78274 V_c"
    code, out, _ = run(capsys, "pulse", "--wer", "1e-3", "--drive", "2.5", "--delta", "40", "--json")
    assert code == 0 and json.loads(out)["pulse"] < 5


def test_table1_prints_the_first_row_and_labels_its_inputs(capsys):
    code, out, _ = run(capsys, "table1")
    lines = out.splitlines()
    assert code == 0 and "2.78" in lines[2] and "2-3" in lines[2]
    for name, status in (("thermal stability Delta", "inferred"), ("pulse width", "inferred"),
                         ("raw target WER", "inferred"), ("voltage cut", "assumed"), ("critical voltage V_c",
                         "assumed"), ("breakdown voltage V_bd", "assumed"), ("word-failure targets", "assumed"),
                         ("tau_D", "assumed")):
        assert any(name in line and status in line for line in lines), name
    assert '"2-3 ECC bits" follows from' in out and '"unlimited" endurance follows from' in out
    result = json.loads(run(capsys, "table1", "--json")[1])
    assert {item["status"] for item in result["inputs"]} >= {"inferred", "assumed"} and result["consequences"]


def test_figure5_labels_its_inputs_in_text_json_and_png(capsys, tmp_path):
    code, out, _ = run(capsys, "figure5")
    assert code == 0 and "inferred" in out and "assumed" in out
    png = tmp_path / "figure5.png"
    code, out, _ = run(capsys, "figure5", "--out", str(png), "--json")
    result = json.loads(out)
    assert code == 0 and png.is_file() and any(item["status"] == "assumed" for item in result["inputs"])


def test_map_writes_csv_and_png(capsys, tmp_path):
    out = tmp_path / "map"
    code, text, _ = run(capsys, "map", "--drive", "1", "4", "30", "--pulse", "0.5", "50", "20", "--out", str(out))
    assert code == 0 and "30 x 20" in text
    with open(out.with_suffix(".csv")) as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 600 and rows[0]["drive_v_over_vc"] == "1" and float(rows[0]["wer"]) > 0.99
    assert any(row["wer"] == "" for row in rows)  # below the floor: left empty, its error estimate kept
    with Image.open(out.with_suffix(".png")) as image:
        assert image.size[0] > 400
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.csv", "map.png"]


def test_retention_and_read_disturb(capsys):
    code, out, _ = run(capsys, "retention", "--delta", "60", "--json")
    result = json.loads(out)
    assert code == 0 and result["failure"] == pytest.approx(1.19e-8, rel=0.01) and result["years"] == 10
    assert result["brown_closed_form"] == pytest.approx(result["failure"], rel=0.03)
    hot = json.loads(run(capsys, "retention", "--delta", "60", "--temperature", "350", "--json")[1])
    assert hot["delta"] < 60 and hot["failure"] > 100 * result["failure"]
    code, out, _ = run(capsys, "read-disturb", "--read-drive", "0.7", "--read-pulse", "10", "--reads", "100")
    assert code == 0 and "0.0372" in out and "100 reads" in out
    code, out, _ = run(capsys, "read-disturb", "--read-drive", "-0.3", "--read-pulse", "10", "--json")
    result = json.loads(out)
    assert result["per_read"] is None and result["total_closed_form"] < 1e-20


def test_bad_input_exits_with_a_message(capsys):
    code, out, err = run(capsys, "wer", "--drive", "2", "--pulse", "-1")
    assert code == 2 and out == "" and "pulse width" in err and "Traceback" not in err
    code, _, err = run(capsys, "drive", "--wer", "1e-9", "--pulse", "1e-4")
    assert code == 2 and "not reached" in err
    code, _, err = run(capsys, "map", "--pulse", "5", "1", "10")
    assert code == 2 and "LOW < HIGH" in err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the bundled OpenBLAS through ctypes")
def test_importing_mtj_first_makes_blas_single_threaded():
    # What `python -m mtj` does: mtj/__init__.py runs before NumPy loads OpenBLAS, so the setting takes effect.
    probe = ("import mtj, ctypes, glob, os, numpy\n"
             "libs = glob.glob(os.path.join(os.path.dirname(numpy.__file__) + '.libs', '*openblas*'))\n"
             "lib = ctypes.CDLL(libs[0]) if libs else None\n"
             "name = next((n for n in ('scipy_openblas_get_num_threads64_', 'openblas_get_num_threads64_',"
             " 'openblas_get_num_threads') if lib is not None and hasattr(lib, n)), None)\n"
             "print(os.environ['OPENBLAS_NUM_THREADS'], getattr(lib, name)() if name else 'unknown')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                            "MKL_NUM_THREADS")}
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run([sys.executable, "-c", probe], env=env, cwd=REPO, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[0] == "1" and out[1] in ("1", "unknown")
