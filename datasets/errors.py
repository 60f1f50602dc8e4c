"""The two ways a dataset can fail to load: the data is bad, or it is not there.

`DataError` is the one exception every parser raises for malformed input (wrong magic number, truncated
archive, record length, checksum mismatch, unsafe tar member, unreadable image, ...). Its message always
names the offending file (and member, for archives) and says what is wrong and what was expected. It
subclasses ValueError so callers that already catch bad values keep working.

`SourceMissing` means a raw file is absent; its message says which file to place where.
"""


class DataError(ValueError):
    """Malformed or unverifiable dataset input. The message names the file and what is wrong."""


class SourceMissing(FileNotFoundError):
    """A raw dataset file is not on disk. The message names the file, where to put it, and its official URL."""
