"""Every tutorial runs alone with --quick, states its checked facts, and writes its figure (tutorials/README.md)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIALS_DIR = Path(__file__).resolve().parents[1] / "tutorials"
TUTORIALS = sorted(TUTORIALS_DIR.glob("[0-9][0-9]_*.py"))
# The training runs: over ~20 s each on a busy machine even in --quick mode.
SLOW = {"08_train_lenet4", "10_ber_sweep", "13_closing_the_loop"}
NEEDS_MNIST = {"06_batchnorm_before_sign", "08_train_lenet4", "10_ber_sweep", "13_closing_the_loop"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_the_tutorials_are_numbered_01_to_14_and_listed_in_the_readme():
    assert [int(path.name[:2]) for path in TUTORIALS] == list(range(1, 15))
    readme = (TUTORIALS_DIR / "README.md").read_text()
    missing = [path.name for path in TUTORIALS if path.name not in readme]
    assert not missing, f"tutorials/README.md does not list {missing}"


@pytest.mark.parametrize("script", [pytest.param(path, id=path.stem,
                                                 marks=[pytest.mark.slow] if path.stem in SLOW else [])
                                    for path in TUTORIALS])
def test_tutorial_runs_and_writes_its_figure(script, tmp_path, request):
    env = dict(os.environ)
    if script.stem in NEEDS_MNIST:
        env["XNOR_MRAM_DATA"] = str(request.getfixturevalue("data_root"))   # skips when the real data is absent
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, str(script), "--quick", "--out", str(out)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, (f"{script.name} --quick failed (exit {result.returncode}):\n"
                                    f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    assert "checked:" in result.stdout, f"{script.name} checked no fact:\n{result.stdout[-2000:]}"
    figure = out / f"{script.stem}.png"
    assert figure.is_file(), f"{script.name} did not write {figure.name}; wrote {sorted(p.name for p in out.iterdir())}"
    assert figure.read_bytes()[:8] == PNG_SIGNATURE and figure.stat().st_size > 10_000, f"{figure} is not a real PNG"
