"""The figure of a BER sweep: test accuracy against the training bit error rate, as in the paper's figures.

Mean +- standard deviation over the repeats of each BER (sample standard deviation, ddof = 1; no bar for a single
run), the individual runs drawn faintly behind. The BER axis is logarithmic, which cannot show BER 0, so the figure
has a broken x axis: a narrow linear panel at the left holds BER 0 (error-free training), the log panel the rest, and
a dashed line carries the BER-0 mean across the log panel as the reference the other points are judged against.
Reads DIR/results.csv (written by `bnn.sweep`); writes DIR/ber_accuracy.png and DIR/ber_accuracy.svg atomically.

With `live=True` (`python -m bnn plot DIR --live`) the runs are read from the run folders instead, as
`python -m bnn results DIR` tabulates them, so a sweep can be drawn while it trains: finished runs make the means,
unfinished runs are drawn as open circles at their last epoch's test accuracy (or their best so far with
--metric best_test_accuracy) and are left out of every mean and standard deviation.
"""
from pathlib import Path

import numpy as np

from .checkpoint import write_atomic
from .results import METRICS, read_reference, read_results, run_rows, summarize, test_accuracy_per_epoch

STYLE = {"font.size": 8, "axes.linewidth": 0.6, "xtick.direction": "in", "ytick.direction": "in",
         "xtick.major.width": 0.6, "ytick.major.width": 0.6, "xtick.minor.width": 0.4, "ytick.minor.width": 0.4,
         "lines.linewidth": 1.0, "savefig.dpi": 300, "svg.fonttype": "none"}
COLOR = "#1f4e99"


def live_results(out_dir, metric="final_test_accuracy"):
    """({ber: array of `metric` over finished runs}, {ber: array over unfinished runs}) from the run folders of
    DIR (bnn.results.run_rows); runs that have not finished an epoch yet have no value and are left out."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    finished, unfinished = {}, {}
    for row in run_rows(out_dir):
        if row[metric] is not None:
            (finished if row["finished"] else unfinished).setdefault(row["ber"], []).append(row[metric])
    if not finished and not unfinished:
        raise ValueError(f"no run in {Path(out_dir) / 'runs'} has finished an epoch yet")
    return ({ber: np.array(v) for ber, v in sorted(finished.items())},
            {ber: np.array(v) for ber, v in sorted(unfinished.items())})


def _draw(ax, results, unfinished, in_panel):
    """The panel's BERs (those with in_panel(ber) true): faint individual finished runs, the mean line with
    standard-deviation bars, and unfinished runs as open circles."""
    finished = {ber: values for ber, values in results.items() if in_panel(ber)}
    for ber, values in finished.items():
        ax.plot(np.full(len(values), ber), values, "o", ms=3, color=COLOR, alpha=0.35, mec="none", zorder=1)
    if finished:
        bers, means, stds, _ = summarize(finished)
        ax.errorbar(bers, means, yerr=stds, fmt="o-", ms=3, color=COLOR, capsize=2, elinewidth=0.8, capthick=0.8,
                    zorder=3)
    for ber, values in unfinished.items():
        if in_panel(ber):
            ax.plot(np.full(len(values), ber), values, "o", ms=4, mfc="none", mec=COLOR, mew=0.7, zorder=2,
                    label="unfinished runs (so far)")


def _draw_reference(ax, reference, label, in_panel):
    """A peer's accuracies ({ber: percent}) in the panel, as grey squares joined by a dashed line."""
    bers = [ber for ber in reference if in_panel(ber)]
    if bers:
        ax.plot(bers, [reference[ber] for ber in bers], "s--", ms=3, color="0.5", lw=0.8, zorder=2, label=label)


def _break_marks(ax_left, ax_right):
    """Short diagonal strokes at the top and bottom of the gap between the two panels."""
    kwargs = dict(marker=[(-1, -1.5), (1, 1.5)], markersize=6, linestyle="none", color="k", mec="k", mew=0.6,
                  clip_on=False)
    ax_left.plot([1, 1], [0, 1], transform=ax_left.transAxes, **kwargs)
    ax_right.plot([0, 0], [0, 1], transform=ax_right.transAxes, **kwargs)


def ber_accuracy_figure(results, title=None, unfinished=None, reference=None, reference_label="reference",
                        ylim=None):
    """A matplotlib Figure of {ber: accuracies (fractions in [0, 1])} with accuracy in percent.

    unfinished: {ber: accuracies of runs still training}, drawn as open circles and kept out of the means.
    reference: {ber: accuracy (fraction)} of another implementation, drawn beside the runs as `reference_label`.
    ylim: (low, high) of the accuracy axis in percent, to show small differences (points outside are cut off).
    """
    # matplotlib takes about a second to import: only when drawing, so `python -m bnn` starts fast
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    results = {ber: 100.0 * np.asarray(v) for ber, v in sorted(results.items()) if len(v)}
    unfinished = {ber: 100.0 * np.asarray(v) for ber, v in sorted((unfinished or {}).items()) if len(v)}
    reference = {ber: 100.0 * acc for ber, acc in sorted((reference or {}).items())}
    every_ber = np.array(sorted(set(results) | set(unfinished) | set(reference)))
    if not every_ber.size:
        raise ValueError("no accuracies to draw: every BER's list of runs is empty")
    positive = every_ber > 0
    has_zero = not positive.all()
    with rc_context(STYLE):
        fig = Figure(figsize=(3.4, 2.5), layout="constrained")
        if has_zero and positive.any():
            ax_zero, ax_log = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [1, 7], "wspace": 0.02})
        elif has_zero:
            ax_zero, ax_log = fig.subplots(), None
        else:
            ax_zero, ax_log = None, fig.subplots()
        if ax_zero is not None:
            _draw(ax_zero, results, unfinished, lambda ber: ber == 0)
            _draw_reference(ax_zero, reference, reference_label, lambda ber: ber == 0)
            ax_zero.set_xlim(-1, 1)
            ax_zero.set_xticks([0], ["0"])
            ax_zero.set_ylabel("test accuracy (%)")
        if ax_log is not None:
            _draw(ax_log, results, unfinished, lambda ber: ber > 0)
            _draw_reference(ax_log, reference, reference_label, lambda ber: ber > 0)
            ax_log.set_xscale("log")
            low, high = every_ber[positive].min(), every_ber[positive].max()
            ax_log.set_xlim(low / 2, high * 2)
            if has_zero:
                if 0.0 in results:
                    ax_log.axhline(results[0.0].mean(), color="0.4", ls="--", lw=0.7, zorder=0, label="BER 0 (mean)")
                ax_log.tick_params(axis="y", which="both", left=False)
                ax_log.spines["left"].set_visible(False)
                _break_marks(ax_zero, ax_log)
            else:
                ax_log.set_ylabel("test accuracy (%)")
        legend = {label: handle for ax in fig.axes for handle, label in zip(*ax.get_legend_handles_labels())}
        if legend:   # one entry per label, whichever panel drew it
            legend_ax = ax_log if ax_log is not None else ax_zero
            legend_ax.legend(legend.values(), legend.keys(), frameon=False, loc="best", fontsize=6)
        for ax in (ax_zero, ax_log):
            if ax is not None:
                if ylim is not None:
                    ax.set_ylim(*ylim)
                ax.grid(True, which="major", color="0.9", lw=0.5)
                ax.spines[["top", "right"]].set_visible(False)
        fig.supxlabel("bit error rate during training", fontsize=STYLE["font.size"])
        # the account on a line of its own: beside a title it overflows the 3.4-inch figure and gets clipped
        account = _spread(results, unfinished)
        fig.suptitle(f"{title}\n{account}" if title else account, fontsize=STYLE["font.size"])
    return fig


def _spread(results, unfinished):
    """The title's account of what the points are."""
    counts = [len(v) for v in results.values()]
    if not counts:
        spread = "no run finished yet"
    elif max(counts) == 1:
        spread = "one run per BER"
    else:
        runs = f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)}-{max(counts)}"
        spread = f"mean ± std over {runs} runs"
    unfinished_runs = sum(len(v) for v in unfinished.values())
    return spread + (f", {unfinished_runs} unfinished" if unfinished_runs else "")


def learning_curves_figure(curves, title=None):
    """A matplotlib Figure of {(ber, repeat): test accuracies per epoch (fractions)}: one line per run, test accuracy
    (%) against the epoch, colored by training BER (repeats share the color, with their own marker)."""
    from matplotlib import colormaps, rc_context
    from matplotlib.figure import Figure
    if not curves:
        raise ValueError("no run has ended an epoch yet: no learning curve to draw")
    bers = sorted({ber for ber, _ in curves})
    colors = dict(zip(bers, colormaps["viridis"](np.linspace(0, 0.85, len(bers)))))
    with rc_context(STYLE):
        fig = Figure(figsize=(4.6, 2.6), layout="constrained")
        ax = fig.subplots()
        for (ber, repeat), accuracies in sorted(curves.items()):
            epochs = np.arange(1, len(accuracies) + 1)
            ax.plot(epochs, 100 * np.asarray(accuracies), "os^dv"[repeat % 5] + "-", ms=2.5, color=colors[ber],
                    label=f"BER {ber:g}, repeat {repeat}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("test accuracy (%), error-free")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(True, color="0.9", lw=0.5)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(frameon=False, fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))
        if title:
            ax.set_title(title, fontsize=STYLE["font.size"])
    return fig


def plot_sweep(out_dir, metric="final_test_accuracy", title=None, live=False, path=None, reference=None,
               reference_label="reference", curves=False, ylim=None):
    """Draw DIR/results.csv (live: DIR's run folders, see the module docstring) into `path` (default
    DIR/ber_accuracy.png) and the SVG beside it; returns the two paths. reference: a CSV for `read_reference`,
    drawn beside the runs. curves: draw every run's test accuracy per epoch instead (default path
    DIR/test_accuracy_per_epoch.png; finished and unfinished runs, from their metrics.csv)."""
    out_dir = Path(out_dir)
    if curves:
        fig = learning_curves_figure(test_accuracy_per_epoch(out_dir), title)
        return _save(fig, out_dir / "test_accuracy_per_epoch.png" if path is None else Path(path))
    peer = dict(reference=read_reference(reference) if reference else None, reference_label=reference_label,
                ylim=ylim)
    if live:
        finished, unfinished = live_results(out_dir, metric)
        fig = ber_accuracy_figure(finished, title, unfinished, **peer)
    else:
        fig = ber_accuracy_figure(read_results(out_dir, metric), title, **peer)
    return _save(fig, out_dir / "ber_accuracy.png" if path is None else Path(path))


def _save(fig, path):
    """Write the figure to `path` (PNG) and its SVG beside it, atomically; returns the two paths."""
    from matplotlib import rc_context
    paths = [path, path.with_suffix(".svg")]
    for target, fmt in zip(paths, ("png", "svg")):
        with rc_context(STYLE):
            write_atomic(target, lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt))
    return paths


def add_plot_arguments(parser):
    """Add the `plot` subcommand's arguments to an argparse parser."""
    parser.description = "Plot test accuracy vs training BER of a sweep folder into DIR/ber_accuracy.png and .svg."
    parser.add_argument("dir", metavar="DIR", help="sweep folder holding results.csv")
    parser.add_argument("--metric", choices=METRICS, default="final_test_accuracy",
                        help="accuracy after the last epoch (default) or of the best epoch")
    parser.add_argument("--title", help="figure title prefix, e.g. 'LeNet-4, MNIST'")
    parser.add_argument("--live", action="store_true",
                        help="read DIR/runs/ instead of DIR/results.csv, as `python -m bnn results DIR` does: works "
                             "while the sweep trains; unfinished runs are open circles at their last epoch, outside "
                             "the means")
    parser.add_argument("--out", metavar="PNG", help="figure path (default DIR/ber_accuracy.png; the SVG beside it)")
    parser.add_argument("--reference", metavar="CSV",
                        help="another implementation's accuracies to draw beside the runs: a CSV with columns "
                             "ber,test_accuracy (fractions; # starts a comment line)")
    parser.add_argument("--reference-label", default="reference", help="its legend entry")
    parser.add_argument("--ylim", type=float, nargs=2, metavar=("LOW", "HIGH"),
                        help="accuracy axis range in percent (points outside are cut off)")
    parser.add_argument("--curves", action="store_true",
                        help="draw each run's test accuracy after every epoch instead (DIR/test_accuracy_per_epoch"
                             ".png; also while the sweep trains)")


def run_plot_from_args(args):
    """Draw the figure the parsed `plot` arguments describe; prints the paths written."""
    paths = plot_sweep(args.dir, args.metric, args.title, live=args.live, path=args.out, reference=args.reference,
                       reference_label=args.reference_label, curves=args.curves, ylim=args.ylim)
    print("wrote " + ", ".join(str(p) for p in paths))
    return paths
