"""Fixtures for the datasets tests: a tiny MNIST in the official layout, and a check for leftover caches."""
import numpy as np
import pytest

from datasets.synthetic import write_mnist


@pytest.fixture
def fake_mnist(tmp_path):
    """(data root, cache dir, {split: (images, labels)}) with a tiny random MNIST in the official layout."""
    root = tmp_path / "data"
    arrays = write_mnist(root, np.random.default_rng(0))
    return root, tmp_path / "cache", arrays


@pytest.fixture
def leftovers():
    """leftovers(folder): names of cache and temporary files in `folder` (lock files are not caches)."""
    def names(folder):
        if not folder.exists():
            return []
        return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock"))
    return names
