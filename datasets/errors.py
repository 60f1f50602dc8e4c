"""The two ways a dataset can fail to load: the data is bad, or it is not there.

`DataError` is the one exception every parser raises for malformed input (wrong magic number, truncated
archive, record length, checksum mismatch, unsafe tar member, unreadable image, ...). Its message always
names the offending file (and member, for archives) and says what is wrong and what was expected. It
subclasses ValueError so callers that already catch bad values keep working.

`SourceMissing` means raw files are absent and were not downloaded (automatic download off, no official
download, or the download failed). Its message has three lines: what is missing and why it was not fetched,
which files to put where (exact paths), and how to fetch them. A command line prints it after "error: " as is.
"""


class DataError(ValueError):
    """Malformed or unverifiable dataset input. The message names the file and what is wrong."""


class SourceMissing(FileNotFoundError):
    """Raw dataset files are not on disk. The message (three lines) says what is missing and why it was not
    downloaded, where to put the files, and how to fetch them."""
