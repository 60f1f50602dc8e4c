"""Training checkpoints in HDF5, written atomically (a temp file in the same folder, then os.replace), so a run
killed mid-write leaves the previous checkpoint whole.

Layout (a sealed HDF5 file, see datasets.sealed):
    header                                  the label FORMAT and the SHA-256 of the rest of the file
    /model/<layer>.<param or buffer>        float32 arrays (parameters and BatchNorm running statistics)
    /optimizer/<slot>/<layer>.<param>       optimizer state arrays (Adam m and v, or SGD momentum buffers)
    attrs: epoch (epochs completed), config, rng_state, optimizer_scalars, history (JSON strings)

Damage is detected, not trusted, and never reaches libhdf5: `load` hashes the whole file and lets h5py open it only
if the digest in its header matches (libhdf5 may loop forever on a damaged file, even in its checksummed format).
The digest covers every byte, so it replaces format 1's SHA-256 of the arrays and attributes. Format-1 checkpoints
(plain HDF5, no header) are refused with a message saying so, rather than opened unverified.
"""
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from datasets import BrokenSeal, create_sealed, open_sealed

FORMAT = "xnor-mram checkpoint, format 2"


def write_atomic(path, write):
    """Call write(temp_path) and move the temp file onto `path`: readers see the old file or the new one, whole.
    Temp files of `path` left by writers that were killed mid-write are removed first."""
    path = Path(path)
    remove_stale_temps(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def remove_stale_temps(path):
    """Delete the temp files `.<name>.<pid>.<ns>.tmp` of `path` whose writing process no longer exists (a write
    killed before its rename). Temp files of live processes, and names not of this pattern, are left alone."""
    path = Path(path)
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        pid = tmp.name[len(path.name) + 2:-len(".tmp")].split(".")[0]
        if pid.isdigit() and not _process_exists(int(pid)):
            tmp.unlink(missing_ok=True)


def _process_exists(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # exists, owned by someone else
        return True
    return True


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
        with create_sealed(tmp, FORMAT) as f:
            f.attrs["epoch"] = int(ckpt.epoch)
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
    """Read a Checkpoint from `path`. Raises ValueError naming the file if it is not a checkpoint of this format, or
    is damaged (its content does not match the SHA-256 in its header, or it is incomplete)."""
    try:
        f = open_sealed(path, FORMAT)
    except BrokenSeal as err:
        if err.unsealed:
            raise ValueError(f"{path} has no SHA-256 header: a checkpoint of format 1 (written before checkpoints "
                             f"were sealed) or another HDF5 file. This version does not open such files unverified "
                             f"(a damaged one can hang libhdf5): start the run over in a new folder, or finish it "
                             f"with the version that wrote it") from err
        raise ValueError(f"{path} is not a readable checkpoint: {err.reason}") from err
    try:
        with f:
            attrs = dict(f.attrs)
            return Checkpoint(
                epoch=int(attrs["epoch"]),
                model_state={name: np.asarray(d) for name, d in f["model"].items()},
                optimizer_arrays={slot: {name: np.asarray(d) for name, d in g.items()}
                                  for slot, g in f["optimizer"].items()} if "optimizer" in f else {},
                optimizer_scalars=json.loads(attrs["optimizer_scalars"]),
                rng_state=json.loads(attrs["rng_state"]),
                config=json.loads(attrs["config"]),
                history=json.loads(attrs["history"]),
            )
    except Exception as err:    # a verified file can still lack a part (written by something else with our label)
        raise ValueError(f"{path} is not a readable checkpoint ({type(err).__name__}: {err})") from err
