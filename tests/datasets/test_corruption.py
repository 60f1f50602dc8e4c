"""The DataError contract, property-tested: a damaged raw file either still parses or raises DataError
(never another exception), and a failed load leaves no cache behind."""
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import datasets
from datasets.synthetic import write_cifar, write_imagefolder, write_mnist, write_svhn

pytestmark = pytest.mark.filterwarnings("ignore:.*expected the official:UserWarning")

# (dataset, split, file to damage relative to the root, variant)
TARGETS = [
    ("mnist", "test", "mnist/t10k-images-idx3-ubyte.gz", {}),
    ("mnist", "test", "mnist/t10k-labels-idx1-ubyte.gz", {}),
    ("cifar100", "test", "cifar100/cifar-100-binary.tar.gz", {}),
    ("svhn", "test", "svhn/test_32x32.mat", {}),
    ("imagefolder", "train", "folder.tar.gz", {"source": "folder.tar.gz"}),
    ("imagefolder", "train", "folder.tar", {"source": "folder.tar"}),
]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    root = tmp_path_factory.mktemp("pristine")
    rng = np.random.default_rng(0)
    write_mnist(root, rng, n_train=2, n_test=4)
    write_cifar(root, rng, hundred=True, per_batch=3)
    write_svhn(root, rng, sizes=(("test", 3),))
    for name in ("folder.tar.gz", "folder.tar"):
        write_imagefolder(root / name, rng, splits=(("train", 2),))
    return root


damage = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1, exclude_max=True)),
    st.tuples(st.just("overwrite"), st.lists(st.tuples(st.floats(0, 1, exclude_max=True),
                                                       st.integers(0, 255)), min_size=1, max_size=8)),
    st.tuples(st.just("insert"), st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=64))),
)


def apply(data, how):
    kind, arg = how
    if kind == "truncate":
        return data[:int(arg * len(data))]
    data = bytearray(data)
    if kind == "overwrite":
        for where, value in arg:
            data[int(where * len(data))] = value
    else:
        at = int(arg[0] * len(data))
        data[at:at] = arg[1]
    return bytes(data)


@pytest.mark.parametrize("name, split, damaged, variant", TARGETS, ids=[t[2] for t in TARGETS])
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(how=damage)
def test_damaged_file_parses_or_raises_dataerror(pristine, name, split, damaged, variant, how):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        shutil.copytree(pristine, root)
        path = root / damaged
        path.write_bytes(apply(path.read_bytes(), how))
        cache = Path(tmp) / "cache"
        try:
            ds = datasets.load(name, split, root=root, cache_dir=cache, **variant)
        except datasets.DataError as err:
            assert str(path) in str(err)
            assert not list(cache.glob("*.h5")) and not list(cache.glob(".*.tmp"))
        else:
            assert ds.images.dtype == np.uint8 and len(ds.images) == len(ds.labels) > 0
            assert 0 <= ds.labels.min() and ds.labels.max() < len(ds.classes)
