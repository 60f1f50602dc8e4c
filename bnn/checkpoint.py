"""Training checkpoints in HDF5, written atomically (a temp file in the same folder, then os.replace), so a run
killed mid-write leaves the previous checkpoint whole.

Layout:
    /model/<layer>.<param or buffer>        float32 arrays (parameters and BatchNorm running statistics)
    /optimizer/<slot>/<layer>.<param>       optimizer state arrays (Adam m and v, or SGD momentum buffers)
    attrs: format, epoch (epochs completed), config, rng_state, optimizer_scalars, history (JSON strings),
           sha256 (of all of the above, see `content_sha256`)

Damage is detected, not trusted: files are written in HDF5's latest format, whose metadata carries checksums (a
damaged older-format HDF5 file was found to send libhdf5 into an endless loop), and `load` recomputes the SHA-256 of
every array and attribute. Checkpoints written before the digest existed load without that check.
"""
import hashlib
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

FORMAT = "xnor-mram checkpoint 1"


@contextmanager
def created_hdf5(path):
    """h5py.File(path, "w") in HDF5's latest (checksummed) format, closed on exit. If the block failed, an error from
    closing (HDF5 flushes again, e.g. into the same full disk, and raises RuntimeError) does not hide the first one."""
    f = h5py.File(path, "w", libver="latest")
    try:
        yield f
    except BaseException:
        try:
            f.close()
        except Exception:
            pass
        raise
    f.close()


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


def content_sha256(attrs, arrays):
    """SHA-256 of a checkpoint's attributes ({name: JSON text or int}) and arrays ({path: array}), in sorted order."""
    digest = hashlib.sha256()
    for name in sorted(attrs):
        digest.update(f"{name}={attrs[name]}\n".encode())
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{array.dtype.str}:{array.shape}\n".encode())
        digest.update(array.data)
    return digest.hexdigest()


def _arrays(ckpt):
    arrays = {f"model/{name}": array for name, array in ckpt.model_state.items()}
    arrays.update({f"optimizer/{slot}/{name}": array for slot, group in ckpt.optimizer_arrays.items()
                   for name, array in group.items()})
    return arrays


def save(path, ckpt):
    """Write `ckpt` (a Checkpoint) to `path` atomically."""
    attrs = dict(format=FORMAT, epoch=int(ckpt.epoch),
                 **{key: json.dumps(getattr(ckpt, key)) for key in ("config", "rng_state", "optimizer_scalars",
                                                                     "history")})

    def write(tmp):
        with created_hdf5(tmp) as f:
            # text as fixed-length bytes: stored inside the (checksummed) object header, not in HDF5's global heap,
            # which has no checksum (a damaged one made libhdf5 loop forever reading a variable-length string)
            f.attrs.update({k: np.bytes_(v.encode()) if isinstance(v, str) else v for k, v in attrs.items()})
            f.attrs["sha256"] = np.bytes_(content_sha256(attrs, _arrays(ckpt)).encode())
            group = f.create_group("model")
            for name, array in ckpt.model_state.items():
                group.create_dataset(name, data=array)
            for slot, arrays in ckpt.optimizer_arrays.items():
                group = f.create_group(f"optimizer/{slot}")
                for name, array in arrays.items():
                    group.create_dataset(name, data=array)
    write_atomic(path, write)


def _text(value):
    """An attribute as written: text is stored as fixed-length bytes (older checkpoints: as str)."""
    return value.decode() if isinstance(value, bytes) else value


def load(path):
    """Read a Checkpoint from `path`. Raises ValueError naming the file if it is not a checkpoint of this engine, or
    is damaged (unreadable, incomplete, or its content does not match its SHA-256)."""
    try:
        with h5py.File(path, "r") as f:
            attrs = {key: _text(value) for key, value in f.attrs.items()}
            if attrs.get("format") != FORMAT:
                raise ValueError(f"{path} is not a checkpoint of this engine (format {attrs.get('format')!r}, "
                                 f"expected {FORMAT!r})")
            ckpt = Checkpoint(
                epoch=int(attrs["epoch"]),
                model_state={name: np.asarray(d) for name, d in f["model"].items()},
                optimizer_arrays={slot: {name: np.asarray(d) for name, d in g.items()}
                                  for slot, g in f["optimizer"].items()} if "optimizer" in f else {},
                optimizer_scalars=json.loads(attrs["optimizer_scalars"]),
                rng_state=json.loads(attrs["rng_state"]),
                config=json.loads(attrs["config"]),
                history=json.loads(attrs["history"]),
            )
            stored = attrs.pop("sha256", None)
            if stored is not None:
                if content_sha256(attrs, _arrays(ckpt)) != stored:
                    raise ValueError(f"{path} is damaged: its content does not match its SHA-256")
            return ckpt
    except ValueError as err:
        if str(path) in str(err):
            raise
        raise ValueError(f"{path} is not a readable checkpoint ({type(err).__name__}: {err})") from err
    except Exception as err:    # h5py raises many types on a damaged file (OSError, KeyError, RuntimeError, ...)
        raise ValueError(f"{path} is not a readable checkpoint ({type(err).__name__}: {err})") from err
