"""What every tutorial shares: its command line, its output folder, saving a figure, and stating a checked fact.

    from _common import setup, save_figure, fact      # tutorials/ is on sys.path when a tutorial runs
    args = setup(__doc__)             # args.quick, args.out (a Path), args.data, args.figure (out/<script>.png)

Importing this module also puts the repository root on sys.path (so `bnn`, `mtj` and `datasets` import from a plain
checkout, no install needed) and selects matplotlib's Agg backend (figures go to files, never to a screen).
"""
import argparse
import atexit
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

DEFAULT_OUT = Path(__file__).resolve().parent / "out"


def setup(doc):
    """Parse --quick / --out / --data for the tutorial whose module docstring is `doc`; print its title.

    Returns the argparse namespace with `out` created and `figure` = out/<script name>.png, the tutorial's figure.
    At exit the script prints its wall time.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="a smaller, faster version (used by the smoke tests)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"folder for figures and runs (default: {DEFAULT_OUT})")
    parser.add_argument("--data", type=Path, default=None,
                        help="data root holding mnist/ (default: $XNOR_MRAM_DATA, else ~/.cache/xnor-mram)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    args.figure = args.out / f"{Path(sys.argv[0]).stem}.png"
    # A terminal that cannot show ±, α or τ should not crash a lesson.
    sys.stdout.reconfigure(errors="backslashreplace")
    print(doc.split("\n")[0])
    print("=" * len(doc.split("\n")[0]))
    start = time.perf_counter()
    atexit.register(lambda: print(f"\nfinished in {time.perf_counter() - start:.1f} s"))
    return args


def save_figure(fig, path, dpi=120):
    """Write a matplotlib figure to `path` atomically (temp file + rename), close it, and say where it went."""
    path = Path(path)
    handle, temp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix)
    os.close(handle)
    try:
        fig.savefig(temp, dpi=dpi, bbox_inches="tight", format=path.suffix.lstrip("."))
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)
        import matplotlib.pyplot as plt
        plt.close(fig)
    print(f"figure: {path}")
    return path


def fact(statement, holds):
    """Print a fact the tutorial has just checked, or stop with an AssertionError naming it if it does not hold.

    (A plain `assert` would vanish under `python -O`; a tutorial's claims should not.)"""
    if not holds:
        raise AssertionError(f"expected: {statement}")
    print(f"  checked: {statement}")
