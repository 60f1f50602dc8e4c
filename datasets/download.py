"""Verified downloads: stream the official URL with a progress bar, check SHA-256, retry, and only then
move the file to its final name (so a partial or wrong file never sits where the loaders look).

The digest checked is the file's when the official one is known (`Source.sha256`), else that of its
decompressed content (`Source.content_sha256`, for the re-compressed MNIST mirrors). A mismatch is retried
(a cut connection can deliver a short file) and then raised as DataError; network failures end in
SourceMissing, whose message says which file to place where.
"""
import gzip
import hashlib
import os
import time
import urllib.request
import zlib

from tqdm import tqdm

from .errors import DataError, SourceMissing

CHUNK = 1 << 20
RETRIES = 3
BACKOFF_S = 1.0           # first pause between attempts; doubles each time
TIMEOUT_S = 60


def _stream(response, out, digest, label):
    total = response.headers.get("Content-Length") if getattr(response, "headers", None) else None
    with tqdm(total=int(total) if total else None, unit="B", unit_scale=True, desc=label, disable=None) as bar:
        while chunk := response.read(CHUNK):
            out.write(chunk)
            digest.update(chunk)
            bar.update(len(chunk))


def _content_sha256(path):
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
    except (EOFError, gzip.BadGzipFile, OSError, zlib.error) as err:
        return f"undecompressable ({err})"
    return digest.hexdigest()


def download_verified(source, dest, opener=None, retries=RETRIES, backoff_s=None):
    """Download `source.url` to `dest` (a Path), verified by SHA-256; returns dest.

    opener: callable(url, timeout=...) -> file-like response (default urllib.request.urlopen); tests pass
    their own to stay off the network. Raises DataError if the digest never matches, SourceMissing if the
    file cannot be fetched.
    """
    if source.sha256 is None and source.content_sha256 is None:
        raise ValueError(f"{source.filename}: no official SHA-256 known, refusing an unverifiable download")
    opener = opener or urllib.request.urlopen
    backoff_s = BACKOFF_S if backoff_s is None else backoff_s
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass
    if not os.access(dest.parent, os.W_OK):
        raise SourceMissing(f"cannot download into {dest.parent} (not writable). " +
                            source.missing_message(dest.parent.parent))
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    failure = None
    for attempt in range(retries):
        try:
            digest = hashlib.sha256()
            with opener(source.url, timeout=TIMEOUT_S) as response, open(tmp, "wb") as out:
                _stream(response, out, digest, source.filename)
            actual, expected = ((digest.hexdigest(), source.sha256) if source.sha256 else
                                (_content_sha256(tmp), source.content_sha256))
            if actual == expected:
                os.replace(tmp, dest)
                return dest
            failure = DataError(f"{source.url}: downloaded {source.filename} has SHA-256 {actual}, "
                                f"expected {expected}")
        except (OSError, ValueError) as err:      # URLError and timeouts are OSErrors
            failure = err
        finally:
            tmp.unlink(missing_ok=True)
        if attempt + 1 < retries:
            time.sleep(backoff_s * 2 ** attempt)
    if isinstance(failure, DataError):
        raise failure
    raise SourceMissing(f"download of {source.url} failed after {retries} attempts ({failure}). "
                        + source.missing_message(dest.parent.parent))
