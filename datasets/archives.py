"""Reading tar archives (.tar, .tar.gz, ...) member by member, without unpacking to disk, safely.

Every member is checked before anything is read, even members the caller does not want: a name that is
absolute or climbs out with `..`, a symbolic or hard link, a device or FIFO make the whole archive a
DataError. Nothing is ever extracted, but an archive built to escape its folder is not one we trust.

Truncation: tarfile alone stops silently when a stream ends at a member boundary. So the archive is
decompressed here (gzip, bzip2, xz: each raises on a truncated or corrupt stream, and checks its CRC once
read to the end), read to its end, and must finish with the end-of-archive marker (two zero blocks).
"""
import bz2
import gzip
import lzma
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


COMPRESSED = {b"\x1f\x8b": gzip.open, b"BZh": bz2.open, b"\xfd7zXZ": lzma.open}


class TailReader:
    """A read-only stream wrapper that remembers the last 1024 bytes read (the end-of-archive marker) and counts
    the bytes read."""

    def __init__(self, stream):
        self.stream, self.tail, self.count = stream, b"", 0

    def read(self, size=-1):
        data = self.stream.read(size)
        self.tail = (self.tail + data)[-1024:]
        self.count += len(data)
        return data


def scan(path, wanted=lambda name: True):
    """Yield (name, bytes or None) for every regular file member, in archive order; the bytes are read only
    for names that satisfy `wanted`. Folder members are yielded too, as ("name/", None).

    Reads the archive once as a stream (a .tar.gz is decompressed sequentially). Names have any leading
    './' removed. Raises DataError naming the archive if it is truncated, corrupt or unsafe.
    """
    with open(path, "rb") as f:
        magic = f.read(6)
    opener = next((o for m, o in COMPRESSED.items() if magic.startswith(m)), open)
    try:
        with opener(path, "rb") as compressed:
            raw = TailReader(compressed)
            data_end = 0    # where the last member's data blocks end: the end-of-archive blocks come after
            with tarfile.open(fileobj=raw, mode="r|") as tar:
                for member in tar:
                    check_member(path, member)
                    data_end = member.offset_data + -(-member.size // 512) * 512
                    name = str(PurePosixPath(member.name))
                    if member.isdir():
                        yield name + "/", None
                    elif wanted(name):
                        yield name, tar.extractfile(member).read()
                    else:
                        # read, not skipped: tarfile skips an unread member by seeking the stream a block at a
                        # time, ~1e8 empty reads when a header declares a terabyte; a read stops at the end of
                        # the data with ReadError ("unexpected end of data")
                        content = tar.extractfile(member)
                        while content.read(1 << 20):
                            pass
                        yield name, None
            while raw.read(1 << 20):
                pass
        # zeros at the end of a member's own data are no end marker (an archive cut right after such a member)
        if raw.tail != bytes(len(raw.tail)) or len(raw.tail) < 1024 or raw.count - data_end < 1024:
            raise DataError(f"{path}: the archive does not end with the tar end-of-archive blocks; "
                            f"it is truncated")
    except DataError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, OSError, ValueError, UnicodeError) as err:
        raise DataError(f"{path}: cannot read the archive ({type(err).__name__}: {err}); "
                        f"it is truncated, corrupt or not a tar file") from err
