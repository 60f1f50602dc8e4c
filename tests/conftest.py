"""Shared fixtures: where the real data lives, and a private cache folder per test session."""
import os
from pathlib import Path

# Tests multiply small matrices: a multi-threaded BLAS buys nothing there, and on a loaded machine its spinning
# threads made the mtj suite ~20x slower. Set before anything imports numpy (this file loads first).
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
# No test may use the network: datasets.load downloads missing raw files unless this is set. Tests of the download
# path pass download=True with $XNOR_MRAM_MIRROR pointing at a server on 127.0.0.1 that they start themselves.
os.environ["XNOR_MRAM_OFFLINE"] = "1"

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def shared_data_root():
    """The folder with the real MNIST / CIFAR-10 copies: $XNOR_MRAM_DATA, else ../shared/data beside the repo."""
    env = os.environ.get("XNOR_MRAM_DATA")
    root = Path(env) if env else REPO.parent / "shared" / "data"
    return root if root.is_dir() else None


@pytest.fixture(scope="session")
def data_root():
    root = shared_data_root()
    if root is None:
        pytest.skip("real data not found: set XNOR_MRAM_DATA to the folder holding mnist/ and cifar10-jpeg/")
    return root


@pytest.fixture(scope="session")
def mnist_dir(data_root):
    path = data_root / "mnist"
    if not path.is_dir():
        pytest.skip(f"real MNIST not found in {path}")
    return path


def pytest_addoption(parser):
    parser.addoption("--fuzz-long", action="store_true",
                     help="long fuzzing and kill-and-resume campaigns in tests/reliability (also: XNOR_MRAM_FUZZ_LONG=1)")
