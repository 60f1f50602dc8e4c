"""Verified downloads: stream a raw file from its official URL (or a mirror's copy) into a temporary file beside its
destination, check the official SHA-256, and only then rename it to its final name. A partial or wrong file never
sits where the loaders look, and the temporary file is removed whatever happens (an error, Ctrl-C); one left by a
killed process is removed by the next download into that folder.

Mirror: $XNOR_MRAM_MIRROR, a base URL laid out like a data root (`<mirror>/mnist/train-images-idx3-ubyte.gz`,
`<mirror>/cifar10/cifar-10-binary.tar.gz`; http(s):// or file://), replaces the official URLs. What a mirror
serves is checked against the same official digests: it can make a download fail, never let a wrong file in.

What is checked: the file's SHA-256 when the official one is known (`Source.sha256`: CIFAR, SVHN), else that of
its decompressed content (`Source.content_sha256`: MNIST, whose mirrors re-compress the IDX files), and the byte
count against the Content-Length header (urllib returns a body cut short by a closed connection without an error).
A failed attempt is retried (RETRIES attempts in all, pauses BACKOFF_S, 2 x BACKOFF_S, ...), except an HTTP 4xx
answer or a URL urllib cannot open; then DownloadFailed names the URL and the problem.

When to download: `download_policy` (load's download=None downloads unless $XNOR_MRAM_OFFLINE=1; True and False
are obeyed as given).

Concurrent downloads of one dataset (sweep workers) take an exclusive lock on the dataset folder (flock on the
folder itself, so no lock file is left behind); the one that waited finds the file in place and downloads nothing.
"""
import fcntl
import gzip
import hashlib
import http.client
import os
import sys
import time
import urllib.error
import urllib.request
import zlib
from contextlib import contextmanager

from tqdm import tqdm

CHUNK = 1 << 20
RETRIES = 3
BACKOFF_S = 1.0           # pause after the first failed attempt; doubles after each further one
TIMEOUT_S = 60            # seconds a connection may stay silent
MIRROR_ENV = "XNOR_MRAM_MIRROR"
OFFLINE_ENV = "XNOR_MRAM_OFFLINE"


class DownloadFailed(Exception):
    """A download that did not produce the verified file. The message names the URL and the problem; the loaders
    turn it into SourceMissing (see sources.locate_all)."""


def download_policy(download):
    """(whether to download missing files, why not) for a `download` argument: True or False as given; None (the
    default of `load`): yes, unless $XNOR_MRAM_OFFLINE is 1 (or true/yes/on)."""
    if download is not None and not isinstance(download, bool):
        raise ValueError(f"download must be True, False or None (automatic), got {download!r}")
    if download is False:
        return False, "download is off (download=False / --no-download)"
    if download is True:
        return True, None
    value = os.environ.get(OFFLINE_ENV, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return False, f"automatic download is off (${OFFLINE_ENV}={os.environ[OFFLINE_ENV]})"
    if value not in ("", "0", "false", "no", "off"):
        raise ValueError(f"${OFFLINE_ENV} must be 1/true/yes/on or 0/false/no/off, got {os.environ[OFFLINE_ENV]!r}")
    return True, None


def source_url(source):
    """The URL `source` is fetched from: `$XNOR_MRAM_MIRROR/<folder>/<filename>` if that is set, else the official
    one (None if there is none)."""
    mirror = os.environ.get(MIRROR_ENV)
    if mirror:
        return f"{mirror.rstrip('/')}/{source.folder}/{source.filename}"
    return source.url


def _content_length(response):
    """The Content-Length of a response as an int, or None if absent or not a number."""
    headers = getattr(response, "headers", None)
    value = headers.get("Content-Length") if headers is not None else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _content_sha256(path):
    """SHA-256 of the gzip file's decompressed content; DownloadFailed if it does not decompress."""
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
    except (EOFError, gzip.BadGzipFile, OSError, zlib.error) as err:
        raise DownloadFailed(f"wrong bytes: the downloaded file does not decompress ({err})") from err
    return digest.hexdigest()


def _fetch(source, url, tmp, opener):
    """Write the body at `url` into `tmp` (fsynced) and check it; raises DownloadFailed (without the URL) if it is
    short or its digest is not the official one."""
    digest, size = hashlib.sha256(), 0
    with opener(url, timeout=TIMEOUT_S) as response, open(tmp, "wb") as out:
        expected_size = _content_length(response)
        with tqdm(total=expected_size, unit="B", unit_scale=True, desc=source.filename, disable=None) as bar:
            try:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    bar.update(len(chunk))
            except http.client.IncompleteRead as err:
                size += len(err.partial)
        out.flush()
        os.fsync(out.fileno())
    if expected_size is not None and size != expected_size:
        raise DownloadFailed(f"the connection closed after {size:,} of the {expected_size:,} bytes announced")
    if source.sha256 is not None:
        what, actual, expected = "SHA-256", digest.hexdigest(), source.sha256
    else:
        what, actual, expected = "decompressed content's SHA-256", _content_sha256(tmp), source.content_sha256
    if actual != expected:
        raise DownloadFailed(f"wrong bytes: the {size:,}-byte file's {what} is {actual}, not the official {expected}")


def _reason(err):
    """A short description of a network or HTTP error."""
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    if isinstance(err, urllib.error.URLError):
        return str(err.reason)
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


@contextmanager
def folder_lock(folder):
    """Hold an exclusive flock on the folder itself (released when the descriptor closes)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def download_verified(source, dest, opener=None, retries=None, backoff_s=None):
    """Download `source` (a sources.Source) to `dest` (a Path), verified by its official SHA-256; returns dest.

    The URL is `source_url(source)`. opener: callable(url, timeout=...) -> file-like response (default
    urllib.request.urlopen). Raises DownloadFailed naming the URL and the problem (folder not writable, network
    error, short body, wrong digest); ValueError for a source without an official digest (nothing to verify).
    """
    if source.sha256 is None and source.content_sha256 is None:
        raise ValueError(f"{source.filename}: no official SHA-256 known, refusing an unverifiable download")
    url = source_url(source)
    if url is None:
        raise DownloadFailed(f"{source.filename} has no official download URL")
    opener = opener or urllib.request.urlopen
    retries = RETRIES if retries is None else retries
    if not isinstance(retries, int) or retries < 1:
        raise ValueError(f"retries must be a positive number of attempts, got {retries!r}")
    backoff_s = BACKOFF_S if backoff_s is None else backoff_s
    folder = dest.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DownloadFailed(f"cannot create the folder {folder} ({err.strerror})") from err
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DownloadFailed(f"cannot download into {folder}: the folder is not writable")
    with folder_lock(folder):
        if dest.is_file():
            return dest                     # downloaded meanwhile by the process that held the lock
        for stale in folder.glob(f".{dest.name}.*.part"):
            stale.unlink(missing_ok=True)   # left by a killed download; none can be running now
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
        print(f"downloading {url} to {dest}", file=sys.stderr, flush=True)
        for attempt in range(retries):
            if attempt:
                time.sleep(backoff_s * 2 ** (attempt - 1))
            try:
                _fetch(source, url, tmp, opener)
                os.replace(tmp, dest)
                return dest
            except DownloadFailed as err:
                failure = str(err)
            except urllib.error.HTTPError as err:
                failure = _reason(err)
                if 400 <= err.code < 500:   # the server says the file is not there: asking again will not help
                    break
            except ValueError as err:       # a URL urllib cannot open (unknown scheme, malformed)
                failure = _reason(err)
                break
            except (OSError, http.client.HTTPException) as err:     # URLError, timeouts, resets are OSErrors
                failure = _reason(err)
            finally:
                tmp.unlink(missing_ok=True)
        attempts = f"{attempt + 1} attempt{'s' if attempt else ''}"
        raise DownloadFailed(f"{url}: {failure} ({attempts})")
