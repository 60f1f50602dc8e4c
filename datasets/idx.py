"""The IDX format of MNIST: a magic number, big-endian dimensions, then the raw array.

magic = 0x00 0x00 <type code> <number of dimensions>; then one big-endian uint32 per dimension; then
prod(dims) items of the type, big-endian. Files may be gzipped (detected by content, not by name).
"""
import hashlib
import math

import numpy as np

from .errors import DataError
from .sources import read_bytes

TYPE_CODES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(content, path, ndim):
    """Array from IDX bytes `content` (read from `path`, named in errors), which must have `ndim` dimensions."""
    if len(content) < 4:
        raise DataError(f"{path}: {len(content)} bytes is too short for an IDX header (4-byte magic number)")
    zero, code, dims = content[:2], content[2], content[3]
    if zero != b"\0\0" or code not in TYPE_CODES:
        raise DataError(f"{path}: magic number 0x{content[:4].hex()} is not IDX "
                        f"(expected 0x0000 then a type code in {sorted(hex(c) for c in TYPE_CODES)})")
    if dims != ndim:
        raise DataError(f"{path}: IDX file has {dims} dimensions, expected {ndim}")
    header = 4 + 4 * dims
    if len(content) < header:
        raise DataError(f"{path}: truncated IDX header ({len(content)} bytes, expected at least {header})")
    shape = tuple(int(d) for d in np.frombuffer(content, ">u4", dims, 4))
    dtype = np.dtype(TYPE_CODES[code])
    expected = header + math.prod(shape) * dtype.itemsize     # exact: a crafted header must not wrap around
    if len(content) != expected:
        raise DataError(f"{path}: {len(content)} bytes, expected {expected} for an IDX array of shape {shape} "
                        f"and type {dtype} (file truncated or padded)")
    try:
        array = np.frombuffer(content, dtype, offset=header).reshape(shape)
    except ValueError as err:   # a zero dimension passes the length check beside dimensions NumPy cannot hold
        raise DataError(f"{path}: IDX shape {shape} cannot be represented ({err})") from err
    return array.astype(dtype.newbyteorder("="))


def read_idx(path, ndim):
    """(array, SHA-256 of the decompressed content) of the IDX file at `path`."""
    content = read_bytes(path)
    return parse_idx(content, path, ndim), hashlib.sha256(content).hexdigest()
