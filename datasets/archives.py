"""Reading tar archives (.tar, .tar.gz, ...) member by member, without unpacking to disk, safely.

Every member is checked before anything is read, even members the caller does not want: a name that is
absolute or climbs out with `..`, a symbolic or hard link, a device or FIFO make the whole archive a
DataError. Nothing is ever extracted, but an archive built to escape its folder is not one we trust.
"""
import gzip
import tarfile
import zlib
from pathlib import PurePosixPath

from .errors import DataError


def check_member(archive, member):
    """Raise DataError unless `member` is a plain file or directory whose name stays inside the archive."""
    name = member.name
    if member.issym() or member.islnk():
        raise DataError(f"{archive}: member {name!r} is a link (to {member.linkname!r}); only plain files "
                        f"and folders are allowed")
    if not (member.isfile() or member.isdir()):
        raise DataError(f"{archive}: member {name!r} is a device, FIFO or other special file; only plain "
                        f"files and folders are allowed")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or ".." in parts:
        raise DataError(f"{archive}: member {name!r} escapes the archive folder (absolute path or '..')")


def scan(path, wanted=lambda name: True):
    """Yield (name, bytes or None) for every regular file member, in archive order; the bytes are read only
    for names that satisfy `wanted`. Folder members are yielded too, as ("name/", None).

    Reads the archive once as a stream (a .tar.gz is decompressed sequentially). Names have any leading
    './' removed. Raises DataError naming the archive if it is truncated, corrupt or unsafe.
    """
    # Gzip goes through gzip.open, read to its end: it raises on truncation and on a CRC mismatch, where
    # tarfile's own gzip stream stops silently at a member boundary or at the end-of-archive blocks.
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open(path, "rb") if gzipped else open(path, "rb")) as raw, \
                tarfile.open(fileobj=raw, mode="r|" if gzipped else "r|*") as tar:
            for member in tar:
                check_member(path, member)
                name = str(PurePosixPath(member.name))
                if member.isdir():
                    yield name + "/", None
                else:
                    yield name, tar.extractfile(member).read() if wanted(name) else None
            while gzipped and raw.read(1 << 20):
                pass
    except DataError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError, UnicodeError) as err:
        raise DataError(f"{path}: cannot read the archive ({type(err).__name__}: {err}); "
                        f"it is truncated, corrupt or not a tar file") from err
