"""Fuzzing the files this project writes and reads back: the HDF5 dataset cache, training checkpoints, and the
sweep / training config files.

Cache: whatever happened to a cache file (truncation, bit flips, edited or missing attributes and datasets, another
format version), the next `datasets.load` returns exactly the data of the raw files: it rebuilds a cache it cannot
verify and never trusts a bad one. Checkpoints: `checkpoint.load` returns the saved state exactly, or raises
ValueError naming the file. Config files: a valid config, or ValueError / TypeError naming the bad key or value.
"""
import argparse
import os
import tempfile
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import datasets
from bnn import checkpoint, sweep
from bnn.train import TrainConfig
from datasets.synthetic import write_cifar

FUZZ = settings.get_profile("reliability")       # shared settings, registered in conftest.py
LONG = os.environ.get("XNOR_MRAM_FUZZ_LONG") == "1"
SCALE = float(os.environ.get("XNOR_MRAM_FUZZ_SCALE", "1"))
LIMIT = 60

pytestmark = pytest.mark.filterwarnings("ignore:.*expected the official:UserWarning",
                                        "ignore:.*is corrupt or stale:UserWarning")


def budget(ci, long):
    """Examples of a property: `ci` in CI, `long` x $XNOR_MRAM_FUZZ_SCALE (default 1) in long mode."""
    return settings(FUZZ, max_examples=max(1, round(long * SCALE)) if LONG else ci)


byte_damage = st.one_of(      # applied by the `damaged` fixture (conftest.py)
    st.tuples(st.just("truncate"), st.floats(0, 1, exclude_max=True)),
    st.tuples(st.just("flip"), st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 7)),
                                        min_size=1, max_size=4)),
    st.tuples(st.just("zero-block"), st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 2048))),
)


# --- the dataset cache ----------------------------------------------------------------------------------------------

def view(ds):
    """Everything a user of a Dataset sees, except the cache path."""
    meta = {k: v for k, v in ds.meta.items() if k != "cache"}
    return ds.images, ds.labels, ds.classes, ds.mean, ds.std, meta


def assert_same_dataset(got, want):
    for a, b, what in zip(view(got), view(want), ("images", "labels", "classes", "mean", "std", "meta")):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=what)
        elif what == "meta":
            assert a.keys() == b.keys(), what
            for key in a:
                np.testing.assert_equal(a[key], b[key], err_msg=f"meta[{key!r}]")
        else:
            assert a == b, what


@pytest.fixture(scope="module")
def pristine_cache(tmp_path_factory):
    """(data root, cache file bytes, the Dataset) of CIFAR-100 test (it has an extra: coarse labels)."""
    root = tmp_path_factory.mktemp("raw")
    write_cifar(root, np.random.default_rng(0), hundred=True, per_batch=4)
    cache = tmp_path_factory.mktemp("cache")
    ds = datasets.load("cifar100", "test", root=root, cache_dir=cache)
    return root, Path(ds.meta["cache"]).read_bytes(), ds


ATTRS = ["format_version", "name", "split", "variant", "n", "images_sha256", "classes", "mean", "std", "sources",
         "meta"]
storable_text = st.text(st.characters(codec="utf-8", exclude_characters="\0"), max_size=12)   # h5py refuses others
attribute_values = st.one_of(st.integers(-1, 3), storable_text, st.just("[not json"), st.just("{}"),
                             st.just('["0"]'), st.just("[0.5, 0.5, 0.5]"), st.booleans())
cache_edits = st.one_of(
    st.tuples(st.just("delete attr"), st.sampled_from(ATTRS)),
    st.tuples(st.just("set attr"), st.tuples(st.sampled_from(ATTRS), attribute_values)),
    st.tuples(st.just("flip attr"), st.tuples(st.sampled_from(ATTRS), st.integers(0, 10 ** 6), st.integers(0, 7))),
    st.tuples(st.just("delete dataset"), st.sampled_from(["images", "labels", "extra/coarse_labels", "extra"])),
    st.tuples(st.just("replace dataset"), st.tuples(st.sampled_from(["images", "labels", "extra/coarse_labels"]),
                                                    st.sampled_from(["float", "short", "scribble"]))),
)


def edit_cache(path, edit):
    """Apply one structural edit to the HDF5 cache at `path`."""
    kind, arg = edit
    with h5py.File(path, "r+") as f:
        if kind == "delete attr" and arg in f.attrs:
            del f.attrs[arg]
        elif kind == "set attr":
            f.attrs[arg[0]] = arg[1]
        elif kind == "flip attr" and arg[0] in f.attrs:
            value = f.attrs[arg[0]]
            if isinstance(value, str) and value:      # one bit of the stored text, as bit rot would do it
                raw = bytearray(value.encode())
                raw[arg[1] % len(raw)] ^= 1 << arg[2]
                f.attrs[arg[0]] = raw.decode("utf-8", errors="replace")
        elif kind == "delete dataset" and arg in f:
            del f[arg]
        elif kind == "replace dataset" and arg[0] in f:
            old = f[arg[0]][...]
            del f[arg[0]]
            if arg[1] == "float":
                f[arg[0]] = old.astype(np.float32)
            elif arg[1] == "short":
                f[arg[0]] = old[:-1]
            else:
                scribbled = old.copy()
                scribbled.reshape(-1)[0] ^= 1
                f[arg[0]] = scribbled


@budget(36, 1500)
@given(damage=st.one_of(byte_damage, cache_edits))
def test_a_damaged_cache_is_rebuilt_never_trusted(pristine_cache, damage, damaged, no_hang):
    root, data, want = pristine_cache
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        path = cache / Path(want.meta["cache"]).name
        if damage[0] in ("truncate", "flip", "zero-block"):
            path.write_bytes(damaged(data, damage))
        else:
            path.write_bytes(data)
            edit_cache(path, damage)
        with no_hang(LIMIT), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = datasets.load("cifar100", "test", root=root, cache_dir=cache)
        assert_same_dataset(got, want)
        assert {p.name for p in cache.iterdir()} <= {path.name, path.name + ".lock"}, "temporary files left"


# --- checkpoints ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pristine_checkpoint(tmp_path_factory):
    """(bytes of a checkpoint file, the Checkpoint saved in it)."""
    rng = np.random.default_rng(7)
    ckpt = checkpoint.Checkpoint(
        epoch=2, model_state={"conv1.weight": rng.standard_normal((4, 1, 3, 3)).astype(np.float32),
                              "bn.running_var": rng.random(4).astype(np.float32)},
        optimizer_arrays={"m": {"conv1.weight": rng.standard_normal((4, 1, 3, 3))},
                          "v": {"conv1.weight": rng.random((4, 1, 3, 3))}},
        optimizer_scalars={"t": 12}, rng_state=rng.bit_generator.state, config={"model": "lenet4", "lr": 0.01},
        history=[{"epoch": 1, "test_accuracy": 0.5}, {"epoch": 2, "test_accuracy": 0.75}])
    path = tmp_path_factory.mktemp("ckpt") / "checkpoint.h5"
    checkpoint.save(path, ckpt)
    return path.read_bytes(), ckpt


def same_checkpoint(a, b):
    arrays = [(a.model_state, b.model_state)] + [(a.optimizer_arrays.get(s), b.optimizer_arrays[s])
                                                 for s in b.optimizer_arrays]
    for got, want in arrays:
        if got is None or got.keys() != want.keys():
            return False
        if not all(got[k].dtype == want[k].dtype and np.array_equal(got[k], want[k]) for k in want):
            return False
    return (a.epoch, a.optimizer_scalars, a.rng_state, a.config, a.history) == \
        (b.epoch, b.optimizer_scalars, b.rng_state, b.config, b.history)


checkpoint_edits = st.one_of(
    st.tuples(st.just("delete"), st.sampled_from(["model", "optimizer", "model/conv1.weight", "optimizer/m"])),
    st.tuples(st.just("delete attr"), st.sampled_from(["format", "epoch", "config", "rng_state", "history",
                                                       "optimizer_scalars"])),
    st.tuples(st.just("set attr"), st.tuples(st.sampled_from(["format", "epoch", "config", "history"]),
                                             st.sampled_from(["xnor-mram checkpoint 0", "[not json", "-1", 3]))),
)


def edit_checkpoint(path, edit):
    kind, arg = edit
    with h5py.File(path, "r+") as f:
        if kind == "delete" and arg in f:
            del f[arg]
        elif kind == "delete attr" and arg in f.attrs:
            del f.attrs[arg]
        elif kind == "set attr":
            f.attrs[arg[0]] = arg[1]


@budget(36, 3000)
@given(damage=st.one_of(byte_damage, checkpoint_edits))
def test_a_damaged_checkpoint_loads_exactly_or_raises_valueerror(pristine_checkpoint, damage, damaged,
                                                                 no_hang):
    data, want = pristine_checkpoint
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "checkpoint.h5"
        if damage[0] in ("truncate", "flip", "zero-block"):
            path.write_bytes(damaged(data, damage))
        else:
            path.write_bytes(data)
            edit_checkpoint(path, damage)
        try:
            with no_hang(LIMIT):
                got = checkpoint.load(path)
        except ValueError as err:
            assert str(path) in str(err)
        else:
            assert same_checkpoint(got, want), f"{damage} gave a different checkpoint without an error"


# --- config files -----------------------------------------------------------------------------------------------------

CONFIG_VALUES = st.one_of(st.integers(-2, 3), st.floats(allow_nan=True), st.text(max_size=6), st.booleans(),
                          st.lists(st.integers(-1, 3), max_size=3), st.none(),
                          st.dictionaries(st.sampled_from(["ber", "rounding", "x"]), st.integers(0, 2), max_size=2))
TRAIN_KEYS = [f.name for f in TrainConfig.__dataclass_fields__.values()] + ["unknown_key"]


def config_error_names_its_cause(err, table):
    """True if the message names a key or a value of `table`, or of a table inside it (the user must be able to
    find the mistake)."""
    text = str(err)
    return any(str(k) in text or repr(v) in text or str(v) in text or
               isinstance(v, dict) and config_error_names_its_cause(err, v) for k, v in table.items())


@budget(60, 15000)
@given(table=st.dictionaries(st.sampled_from(TRAIN_KEYS), CONFIG_VALUES, max_size=4))
def test_training_config_from_any_dict_is_valid_or_a_clear_error(table):
    """TrainConfig.from_dict is what reads the config stored in checkpoints and result files."""
    base = TrainConfig.recipe("lenet4", epochs=2).to_dict()
    data = {**base, **table}
    data.pop("unknown_key", None)
    try:
        config = TrainConfig.from_dict(data)
    except (ValueError, TypeError) as err:
        assert config_error_names_its_cause(err, table), f"{type(err).__name__}: {err} names nothing of {table}"
    else:
        assert TrainConfig.from_dict(config.to_dict()) == config


TOML_VALUES = st.one_of(st.integers(-2, 3).map(str), st.sampled_from(['"x"', "0.5", "nan", "true", "[]", "[0, 0.1]",
                                                                      "[1, 1]", "[-1]", "{}", '"lenet4"', "1e400"]))
toml_lines = st.one_of(
    st.tuples(st.sampled_from(["ber", "repeats", "seed", "out", "workers", "threads", "bogus"]), TOML_VALUES)
    .map(lambda kv: ("sweep", f"{kv[0]} = {kv[1]}")),
    st.tuples(st.sampled_from(["model", "quick", "epochs", "batch_size", "lr", "train_subset", "seed", "bogus",
                               "optimizer"]),
              TOML_VALUES).map(lambda kv: ("train", f"{kv[0]} = {kv[1]}")),
    st.tuples(st.sampled_from(["ber", "rounding", "weights", "layer_bers", "schedule"]), TOML_VALUES)
    .map(lambda kv: ("train.errors", f"{kv[0]} = {kv[1]}")),
    st.sampled_from([("sweep", "[[broken"), ("sweep", "= 3"), ("other", "x = 1"), ("sweep", "ber = [0, 0]")]),
)


def toml_text(lines):
    tables = {}
    for table, line in lines:
        tables.setdefault(table, []).append(line)
    return "".join(f"[{t}]\n" + "\n".join(dict.fromkeys(ls)) + "\n" for t, ls in tables.items())


@budget(60, 10000)
@given(lines=st.lists(toml_lines, max_size=6))
def test_sweep_config_file_is_valid_or_a_clear_error(lines, tmp_path_factory):
    folder = tmp_path_factory.mktemp("toml")
    path = folder / "sweep.toml"
    path.write_text(toml_text([("sweep", 'out = "unused"'), ("sweep", "ber = [0]")] + lines))
    parser = argparse.ArgumentParser()
    sweep.add_sweep_arguments(parser)
    args = parser.parse_args(["--config", str(path)])
    try:
        settings_, table = sweep.settings_from_args(args)
    except (ValueError, TypeError) as err:
        assert str(err), "an error without a message"
        return
    try:
        base = sweep.base_config(table, source=sweep.train_source(args))
    except ValueError as err:
        assert str(path) in str(err), f"an error in the [train] table does not name the file: {err}"
        return
    try:
        specs = sweep.plan(base, settings_["ber"], settings_["repeats"], folder / "out", seed=settings_["seed"])
    except (ValueError, TypeError) as err:
        assert str(err), "an error without a message"
    else:
        assert specs and all(isinstance(s.config, TrainConfig) for s in specs)
        assert not (folder / "out").exists(), "planning wrote files"
