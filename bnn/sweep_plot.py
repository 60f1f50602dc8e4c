"""The figure of a BER sweep: test accuracy against the training bit error rate, as in the paper's figures.

Mean +- standard deviation over the repeats of each BER (sample standard deviation, ddof = 1; no bar for a single
run), the individual runs drawn faintly behind. The BER axis is logarithmic, which cannot show BER 0, so the figure
has a broken x axis: a narrow linear panel at the left holds BER 0 (error-free training), the log panel the rest, and
a dashed line carries the BER-0 mean across the log panel as the reference the other points are judged against.
Reads DIR/results.csv (written by `bnn.sweep`); writes DIR/ber_accuracy.png and DIR/ber_accuracy.svg atomically.
"""
import csv
from pathlib import Path

import numpy as np

from bnn.checkpoint import write_atomic
from bnn.sweep import summarize

METRICS = ("final_test_accuracy", "best_test_accuracy")
STYLE = {"font.size": 8, "axes.linewidth": 0.6, "xtick.direction": "in", "ytick.direction": "in",
         "xtick.major.width": 0.6, "ytick.major.width": 0.6, "xtick.minor.width": 0.4, "ytick.minor.width": 0.4,
         "lines.linewidth": 1.0, "savefig.dpi": 300, "svg.fonttype": "none"}
COLOR = "#1f4e99"


def read_results(out_dir, metric="final_test_accuracy"):
    """{ber: array of `metric` over the repeats}, BERs ascending, from DIR/results.csv."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    path = Path(out_dir) / "results.csv"
    if not path.exists():
        raise FileNotFoundError(f"no sweep results at {path}: run `python -m bnn sweep --out {out_dir}` first")
    by_ber = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            by_ber.setdefault(float(row["ber"]), []).append(float(row[metric]))
    if not by_ber:
        raise ValueError(f"{path} holds no finished runs yet")
    return {ber: np.array(by_ber[ber]) for ber in sorted(by_ber)}


def _draw(ax, bers, values_per_ber, means, stds):
    """Faint individual runs, then the mean line with standard-deviation bars."""
    for ber, values in zip(bers, values_per_ber):
        ax.plot(np.full(len(values), ber), values, "o", ms=3, color=COLOR, alpha=0.35, mec="none", zorder=1)
    ax.errorbar(bers, means, yerr=stds, fmt="o-", ms=3, color=COLOR, capsize=2, elinewidth=0.8, capthick=0.8,
                zorder=3)


def _break_marks(ax_left, ax_right):
    """Short diagonal strokes at the top and bottom of the gap between the two panels."""
    kwargs = dict(marker=[(-1, -1.5), (1, 1.5)], markersize=6, linestyle="none", color="k", mec="k", mew=0.6,
                  clip_on=False)
    ax_left.plot([1, 1], [0, 1], transform=ax_left.transAxes, **kwargs)
    ax_right.plot([0, 0], [0, 1], transform=ax_right.transAxes, **kwargs)


def ber_accuracy_figure(results, title=None):
    """A matplotlib Figure of {ber: accuracies (fractions in [0, 1])} with accuracy in percent."""
    # matplotlib takes about a second to import: only when drawing, so `python -m bnn` starts fast
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    results = {ber: 100.0 * np.asarray(results[ber]) for ber in sorted(results)}
    bers, means, stds, counts = summarize(results)
    positive = bers > 0
    has_zero = not positive.all()
    with rc_context(STYLE):
        fig = Figure(figsize=(3.4, 2.5), layout="constrained")
        if has_zero and positive.any():
            ax_zero, ax_log = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [1, 7], "wspace": 0.02})
        elif has_zero:
            ax_zero, ax_log = fig.subplots(), None
        else:
            ax_zero, ax_log = None, fig.subplots()
        values = list(results.values())
        if ax_zero is not None:
            _draw(ax_zero, [0.0], values[:1], means[:1], stds[:1])
            ax_zero.set_xlim(-1, 1)
            ax_zero.set_xticks([0], ["0"])
            ax_zero.set_ylabel("test accuracy (%)")
        if ax_log is not None:
            _draw(ax_log, bers[positive], [v for v, p in zip(values, positive) if p], means[positive], stds[positive])
            ax_log.set_xscale("log")
            low, high = bers[positive].min(), bers[positive].max()
            ax_log.set_xlim(low / 2, high * 2)
            if has_zero:
                ax_log.axhline(means[0], color="0.4", ls="--", lw=0.7, zorder=0, label="BER 0 (mean)")
                ax_log.legend(frameon=False, loc="best")
                ax_log.tick_params(axis="y", which="both", left=False)
                ax_log.spines["left"].set_visible(False)
                _break_marks(ax_zero, ax_log)
            else:
                ax_log.set_ylabel("test accuracy (%)")
        for ax in (ax_zero, ax_log):
            if ax is not None:
                ax.grid(True, which="major", color="0.9", lw=0.5)
                ax.spines[["top", "right"]].set_visible(False)
        fig.supxlabel("bit error rate during training", fontsize=STYLE["font.size"])
        runs = f"{counts.min()}" if counts.min() == counts.max() else f"{counts.min()}-{counts.max()}"
        spread = "one run per BER" if counts.max() == 1 else f"mean ± std over {runs} runs"
        fig.suptitle(f"{title + ': ' if title else ''}{spread}", fontsize=STYLE["font.size"])
    return fig


def plot_sweep(out_dir, metric="final_test_accuracy", title=None):
    """Draw DIR/results.csv into DIR/ber_accuracy.png and .svg; returns the two paths."""
    out_dir = Path(out_dir)
    fig = ber_accuracy_figure(read_results(out_dir, metric), title)
    from matplotlib import rc_context
    paths = []
    for fmt in ("png", "svg"):
        path = out_dir / f"ber_accuracy.{fmt}"
        with rc_context(STYLE):
            write_atomic(path, lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt))
        paths.append(path)
    return paths


def add_plot_arguments(parser):
    """Add the `plot` subcommand's arguments to an argparse parser."""
    parser.description = "Plot test accuracy vs training BER of a sweep folder into DIR/ber_accuracy.png and .svg."
    parser.add_argument("dir", metavar="DIR", help="sweep folder holding results.csv")
    parser.add_argument("--metric", choices=METRICS, default="final_test_accuracy",
                        help="accuracy after the last epoch (default) or of the best epoch")
    parser.add_argument("--title", help="figure title prefix, e.g. 'LeNet-4, MNIST'")


def run_plot_from_args(args):
    """Draw the figure the parsed `plot` arguments describe; prints the paths written."""
    paths = plot_sweep(args.dir, args.metric, args.title)
    print("wrote " + ", ".join(str(p) for p in paths))
    return paths
