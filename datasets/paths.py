"""Where raw files and HDF5 caches live.

Raw files: `<root>/<dataset folder>/<file>`, with the data root taken from the argument, else
`$XNOR_MRAM_DATA`, else `~/.cache/xnor-mram`. The root may be read-only (CI shares one copy).
Caches: the `cache_dir` argument, else `$XNOR_MRAM_CACHE`, else `<root>/cache` if that can be written,
else `~/.cache/xnor-mram/cache`.
"""
import os
from pathlib import Path

HOME_ROOT = Path("~/.cache/xnor-mram")


def data_root(root=None):
    """The data root as an absolute Path (it need not exist)."""
    if root is None:
        root = os.environ.get("XNOR_MRAM_DATA") or HOME_ROOT
    return Path(root).expanduser().resolve()


def _writable(folder):
    """True if `folder` exists and is writable, or does not exist and could be created."""
    folder = Path(folder)
    while not folder.exists():
        if folder.parent == folder:
            return False
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def cache_root(cache_dir=None, root=None):
    """The folder holding HDF5 caches, created if needed."""
    if cache_dir is None:
        cache_dir = os.environ.get("XNOR_MRAM_CACHE")
    if cache_dir is None:
        in_root = data_root(root) / "cache"
        cache_dir = in_root if _writable(in_root) else HOME_ROOT / "cache"
    folder = Path(cache_dir).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def describe_root(root):
    """`root` (a resolved data root) and where it came from, for messages."""
    env = os.environ.get("XNOR_MRAM_DATA")
    if env and data_root(env) == Path(root):
        return f"data root {root} ($XNOR_MRAM_DATA)"
    if not env and data_root(HOME_ROOT) == Path(root):
        return f"data root {root} (the default: $XNOR_MRAM_DATA is not set)"
    return f"data root {root}"
