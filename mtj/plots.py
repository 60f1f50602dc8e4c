"""Figures of the MTJ calculator (matplotlib, Agg backend: no display needed). Each writes a PNG atomically."""
import os
import tempfile
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

from .wer import write_error_rate  # noqa: E402


def plot_figure5(figure, path, tau_d_ns=1.0):
    """Write `figure5_figure` to the PNG at path."""
    _save(figure5_figure(figure, tau_d_ns), path)


def figure5_figure(figure, tau_d_ns=1.0):
    """Write drive (V/V_c) against pulse width for each WER target, with the Table 1 points marked.

    figure: a `mtj.paper.Figure5`; tau_d_ns labels the pulse axis in ns. Returns the matplotlib Figure.
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    for target, pulse in zip(figure.targets, figure.pulse):
        ax.plot(pulse * tau_d_ns, figure.drive, label=f"WER = {target:.0e}")
    stagger = 0
    for row in figure.marked:
        ax.plot(row.pulse * tau_d_ns, row.drive, "ko", markerfacecolor="none")
        if row.pulse_change < 0:  # the reduced-voltage points sit side by side: stagger their labels underneath
            stagger += 1
        ax.annotate(f"{row.target_wer:.0e}", (row.pulse * tau_d_ns, row.drive), textcoords="offset points",
                    xytext=(0, -4 - 9 * stagger) if row.pulse_change < 0 else (5, 4),
                    ha="center" if row.pulse_change < 0 else "left", fontsize=7)
    ax.plot([], [], "ko", markerfacecolor="none", label="Table 1 points")
    ax.set(xscale="log", yscale="log", xlabel=f"pulse width t (ns, τ_D = {tau_d_ns:g} ns)",
           ylabel="write voltage V / V_c", title="Write voltage needed for a target WER")
    ax.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.yaxis.set_minor_formatter(matplotlib.ticker.ScalarFormatter())
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    if figure.inputs:
        fig.text(0.01, -0.02, inputs_caption(figure.inputs), fontsize=6.5, va="top", ha="left", wrap=True)
    return fig


def inputs_caption(inputs):
    """One line per input status: 'inferred: ...', 'assumed: ...' (see `mtj.paper.paper_inputs`)."""
    lines = []
    for status in ("inferred", "from the paper", "assumed", "given"):
        names = [f"{item.name} {item.value}" for item in inputs
                 if item.status == status and item.name != "endurance model"]
        if status == "assumed" and any(item.name == "endurance model" for item in inputs):
            names.append("endurance surrogate")
        if names:
            lines.append(f"{status}: " + "; ".join(names))
    return "\n".join(lines + ['"2-3 ECC bits" and "unlimited endurance" follow from the assumed inputs'])


def plot_wer_curves(drive, pulses, path, delta=40.0, field=0.0):
    """Write `wer_curves_figure` to the PNG at path."""
    _save(wer_curves_figure(drive, pulses, delta, field), path)


def wer_curves_figure(drive, pulses, delta=40.0, field=0.0):
    """WER against drive (V/V_c) for each pulse width in `pulses` (units of τ_D), log WER axis. Returns the Figure."""
    drive = np.asarray(drive, dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    wer = write_error_rate(drive[:, None], np.asarray(pulses, dtype=float)[None, :], delta, field,
                           below_resolution="nan")
    for k, pulse in enumerate(pulses):
        ax.plot(drive, wer[:, k], label=f"t = {pulse:g} τ_D")
    ax.set(yscale="log", xlabel="write voltage V / V_c", ylabel="write error rate (probability)",
           title=f"Fokker-Planck WER, Δ = {delta:g}, h = {field:g}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def plot_wer_map(drive, pulse, estimate, path, delta=40.0, field=0.0):
    """Write `wer_map_figure` to the PNG at path."""
    _save(wer_map_figure(drive, pulse, estimate, delta, field), path)


def wer_map_figure(drive, pulse, estimate, delta=40.0, field=0.0):
    """log10 WER over drive (V/V_c, rows) × pulse (τ_D, columns, log axis), with contours at 1e-3, 1e-6, 1e-9, 1e-12.

    estimate: a `mtj.wer.Estimate` of shape (len(drive), len(pulse)); points below their floor are grey.
    """
    value = np.where(estimate.resolved, estimate.value, np.nan)
    fig, ax = plt.subplots(figsize=(6.8, 4.8))
    mesh = ax.pcolormesh(pulse, drive, np.log10(value), shading="nearest", cmap="viridis", vmin=-15, vmax=0)
    ax.set_facecolor("0.8")
    levels = [-12, -9, -6, -3]
    contours = ax.contour(pulse, drive, np.log10(np.where(np.isnan(value), 1e-300, value)), levels=levels,
                          colors="white", linewidths=0.8, linestyles="solid")
    ax.clabel(contours, fmt=lambda v: f"1e{int(v)}", fontsize=7)
    fig.colorbar(mesh, ax=ax, label="log10 write error rate")
    ax.set(xscale="log", xlabel="pulse width t / tau_D", ylabel="write voltage V / V_c",
           title=f"Fokker-Planck WER, Δ = {delta:g}, h = {field:g} (grey: below the resolution floor)")
    return fig


def _save(fig, path):
    """Save fig as a PNG atomically (temporary file beside path, then os.replace) and close it."""
    path = Path(path)
    handle, temp = tempfile.mkstemp(dir=path.parent, suffix=".png")
    os.close(handle)
    try:
        fig.savefig(temp, dpi=120, bbox_inches="tight")
        os.replace(temp, path)
    finally:
        plt.close(fig)
        if os.path.exists(temp):
            os.remove(temp)
