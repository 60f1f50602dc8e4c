"""python -m mtj: text and --json output, and errors without tracebacks."""
import json

import pytest

from mtj.__main__ import main


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_wer_json(capsys):
    code, out, _ = run(capsys, "wer", "--drive", "2.78", "--pulse", "5", "--json")
    result = json.loads(out)
    assert code == 0 and result["drive"] == 2.78 and result["pulse"] == 5 and result["delta"] == 40
    assert result["wer"] == pytest.approx(1.0263e-6, rel=1e-4)


def test_drive_and_pulse_text(capsys):
    assert run(capsys, "drive", "--wer", "1e-6", "--pulse", "5")[1].strip() == "drive = 2.78274 V_c"
    code, out, _ = run(capsys, "pulse", "--wer", "1e-3", "--drive", "2.5", "--delta", "40", "--json")
    assert code == 0 and json.loads(out)["pulse"] < 5


def test_table1_prints_the_first_row(capsys):
    code, out, _ = run(capsys, "table1")
    assert code == 0 and "2.78" in out.splitlines()[2] and "2-3" in out.splitlines()[2]


def test_bad_input_exits_with_a_message(capsys):
    code, out, err = run(capsys, "wer", "--drive", "2", "--pulse", "-1")
    assert code == 2 and out == "" and "pulse width" in err and "Traceback" not in err
    code, _, err = run(capsys, "drive", "--wer", "1e-9", "--pulse", "1e-4")
    assert code == 2 and "not reached" in err
