"""Training checkpoints in HDF5, written atomically (a temp file in the same folder, then os.replace), so a run
killed mid-write leaves the previous checkpoint whole.

Layout:
    /model/<layer>.<param or buffer>        float32 arrays (parameters and BatchNorm running statistics)
    /optimizer/<slot>/<layer>.<param>       optimizer state arrays (Adam m and v, or SGD momentum buffers)
    attrs: format, epoch (epochs completed), config, rng_state, optimizer_scalars, history (JSON strings)
"""
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

FORMAT = "xnor-mram checkpoint 1"


def write_atomic(path, write):
    """Call write(temp_path) and move the temp file onto `path`: readers see the old file or the new one, whole."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass
class Checkpoint:
    epoch: int                 # epochs completed
    model_state: dict          # {name: array}, as Model.state()
    optimizer_arrays: dict     # {slot: {name: array}}
    optimizer_scalars: dict    # e.g. {"t": 1234}
    rng_state: dict            # numpy Generator.bit_generator.state
    config: dict               # the run's config as plain JSON data
    history: list              # per-epoch metric dicts


def save(path, ckpt):
    """Write `ckpt` (a Checkpoint) to `path` atomically."""
    def write(tmp):
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["epoch"] = ckpt.epoch
            for key in ("config", "rng_state", "optimizer_scalars", "history"):
                f.attrs[key] = json.dumps(getattr(ckpt, key))
            group = f.create_group("model")
            for name, array in ckpt.model_state.items():
                group.create_dataset(name, data=array)
            for slot, arrays in ckpt.optimizer_arrays.items():
                group = f.create_group(f"optimizer/{slot}")
                for name, array in arrays.items():
                    group.create_dataset(name, data=array)
    write_atomic(path, write)


def load(path):
    """Read a Checkpoint from `path`."""
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != FORMAT:
            raise ValueError(f"{path} is not a checkpoint of this engine (format {f.attrs.get('format')!r}, "
                             f"expected {FORMAT!r})")
        return Checkpoint(
            epoch=int(f.attrs["epoch"]),
            model_state={name: np.asarray(d) for name, d in f["model"].items()},
            optimizer_arrays={slot: {name: np.asarray(d) for name, d in g.items()}
                              for slot, g in f["optimizer"].items()} if "optimizer" in f else {},
            optimizer_scalars=json.loads(f.attrs["optimizer_scalars"]),
            rng_state=json.loads(f.attrs["rng_state"]),
            config=json.loads(f.attrs["config"]),
            history=json.loads(f.attrs["history"]),
        )
