"""The bridge from an MRAM write operating point to a training bit error rate: the one place where `mtj` meets `bnn`.

"If I write activations at this voltage and pulse width, what accuracy do I keep?" An operating point (drive, pulse,
the cell's parameters per write direction) goes through `mtj.write_error_rate` (as `mtj.write_flip_probabilities`
does, computing a symmetric cell's single direction once) to the write error rate (WER) of each switching direction,
and from there to the two flip probabilities of `bnn.errors.ErrorConfig`:

    ber_pos_to_neg = switch_fraction * WER(write of +1)      ber_neg_to_pos = switch_fraction * WER(write of -1)

Conventions (each a keyword, recorded with every operating point):
- plus_state "AP" (default) stores +1 as the antiparallel state, so writing +1 is a P->AP switch; "P" the reverse.
- switch_fraction: the fraction of writes that must actually switch the cell. A write into a cell already in the
  target state cannot fail (see mtj/flips.py). 1 (default) treats every write as a switch: BER = WER, the paper's
  model and the worst case; 0.5 is a cell holding a uniformly random old bit.
- Units: drives in units of V_c of the P->AP direction (unit="vc", default) or in volts (unit="volts"); the pulse
  in units of tau_D of the P->AP direction (pulse_unit="tau", default) or in ns. Both directions see the same
  applied |V| and pulse, each in its own V_c and tau_D (MTJParams of each direction).
- A WER below what `mtj` resolves (a floor from each value's own error estimate, about 1e-14 for write pulses)
  counts as 0 (error-free) and the record says so: no training run can sample such a rate anyway (a 1e-12 rate
  flips nothing in ~1e9 activations of a CIFAR epoch).

Sweeps. `python -m bnn sweep ... --mtj-drive I [I ...] --mtj-pulse T [--mtj-delta D]` (flags of bnn.sweep_cli,
which turns them into `runs`). A sweep is keyed by one float per run; here the key is the mean of the two flip
probabilities, which equals the BER for a symmetric cell. `sweep_keys(runs)` gives the
keys, `make_config(runs)` the sweep's make_config that installs each run's per-direction ErrorConfig, and
`write_operating_points(out_dir, runs)` stores the records beside results.csv for `accuracy_vs_drive_figure`.
Operating points with identical flip probabilities (e.g. several drives below the resolution floor) share one run.
"""
import dataclasses
import json
from pathlib import Path

import numpy as np

from .checkpoint import write_atomic
from .errors import ErrorConfig
from .results import read_results, summarize

PLUS_STATES = ("AP", "P")
OPERATING_POINTS_FILE = "mtj_operating_points.json"


def _directions(p_to_ap, ap_to_p, delta):
    """MTJParams of both directions, with Δ replaced in both if `delta` is given."""
    from mtj import MTJParams
    p_to_ap = MTJParams() if p_to_ap is None else p_to_ap
    ap_to_p = p_to_ap if ap_to_p is None else ap_to_p
    if delta is not None:
        p_to_ap, ap_to_p = (dataclasses.replace(p, delta=float(delta)) for p in (p_to_ap, ap_to_p))
    return p_to_ap, ap_to_p


def flip_rates(wer_p_to_ap, wer_ap_to_p, plus_state="AP", switch_fraction=1.0):
    """(ber_pos_to_neg, ber_neg_to_pos) from the WERs of the two switching directions (see the module docstring)."""
    if plus_state not in PLUS_STATES:
        raise ValueError(f"plus_state must be one of {PLUS_STATES}, got {plus_state!r}")
    if not 0 < switch_fraction <= 1:
        raise ValueError(f"switch_fraction must be in (0, 1], got {switch_fraction!r}")
    plus, minus = (wer_p_to_ap, wer_ap_to_p) if plus_state == "AP" else (wer_ap_to_p, wer_p_to_ap)
    return switch_fraction * plus, switch_fraction * minus


def _write_error_rates(params, volts, pulse_ns):
    """WER of one direction at each voltage (V) for one pulse (ns); NaN below the resolution floor."""
    from mtj import write_error_rate
    return write_error_rate(params.drive(volts), params.pulse(pulse_ns), params.delta, params.field,
                            below_resolution="nan")


def operating_points(drives, pulse, *, delta=None, p_to_ap=None, ap_to_p=None, unit="vc", pulse_unit="tau",
                     plus_state="AP", switch_fraction=1.0):
    """One record (dict) per drive: the operating point, both WERs and the two flip probabilities.

    drives: sequence of drives (> 0), in units of V_c of the P->AP direction (unit="vc") or volts (unit="volts").
    pulse: pulse width (> 0), in units of tau_D of the P->AP direction (pulse_unit="tau") or ns (pulse_unit="ns").
    delta: thermal stability for both directions (None: the parameters' own). p_to_ap, ap_to_p: mtj.MTJParams of
    the two directions (defaults: the paper's cell; ap_to_p defaults to p_to_ap). plus_state, switch_fraction:
    see the module docstring.
    Record keys: drive_vc, volts, pulse_tau, pulse_ns, delta_p_to_ap, delta_ap_to_p, wer_p_to_ap, wer_ap_to_p,
    below_resolution (list of the directions whose WER was below mtj's resolution and counted as 0), plus_state,
    switch_fraction, ber_pos_to_neg, ber_neg_to_pos, key (their mean).
    """
    if unit not in ("vc", "volts"):
        raise ValueError(f"unit must be 'vc' or 'volts', got {unit!r}")
    if pulse_unit not in ("tau", "ns"):
        raise ValueError(f"pulse_unit must be 'tau' or 'ns', got {pulse_unit!r}")
    flip_rates(0.0, 0.0, plus_state, switch_fraction)   # validates both before the expensive part
    drives = np.atleast_1d(np.asarray(drives, dtype=float))
    if drives.ndim != 1 or drives.size == 0 or not np.all(np.isfinite(drives) & (drives > 0)):
        raise ValueError(f"drives must be a non-empty list of positive numbers, got {drives.tolist()}")
    pulse = float(pulse)
    if not (np.isfinite(pulse) and pulse > 0):
        raise ValueError(f"pulse must be a positive number, got {pulse!r}")
    p_to_ap, ap_to_p = _directions(p_to_ap, ap_to_p, delta)
    volts = drives * p_to_ap.v_c_volts if unit == "vc" else drives
    pulse_ns = pulse * p_to_ap.tau_d_ns if pulse_unit == "tau" else pulse
    # mtj.write_flip_probabilities computes both directions; for a symmetric cell (the paper's) one suffices.
    wer_p_to_ap = _write_error_rates(p_to_ap, volts, pulse_ns)
    wer_ap_to_p = wer_p_to_ap if ap_to_p == p_to_ap else _write_error_rates(ap_to_p, volts, pulse_ns)
    records = []
    for k in range(len(drives)):
        wer = {"p_to_ap": float(wer_p_to_ap[k]), "ap_to_p": float(wer_ap_to_p[k])}
        below = [name for name, value in wer.items() if np.isnan(value)]
        wer = {name: 0.0 if np.isnan(value) else value for name, value in wer.items()}
        pos_to_neg, neg_to_pos = flip_rates(wer["p_to_ap"], wer["ap_to_p"], plus_state, switch_fraction)
        records.append(dict(
            drive_vc=float(volts[k] / p_to_ap.v_c_volts), volts=float(volts[k]),
            pulse_tau=float(pulse_ns / p_to_ap.tau_d_ns), pulse_ns=float(pulse_ns),
            delta_p_to_ap=p_to_ap.delta, delta_ap_to_p=ap_to_p.delta,
            wer_p_to_ap=wer["p_to_ap"], wer_ap_to_p=wer["ap_to_p"], below_resolution=below,
            plus_state=plus_state, switch_fraction=float(switch_fraction),
            ber_pos_to_neg=pos_to_neg, ber_neg_to_pos=neg_to_pos, key=0.5 * (pos_to_neg + neg_to_pos)))
    return records


def error_config(record, base=None):
    """The ErrorConfig of an operating-point record: `base` (default ErrorConfig()) with both flip probabilities
    set; `ber` carries their mean. The base must not set per-layer or scheduled rates (they would override these)."""
    base = ErrorConfig() if base is None else base
    if base.layer_bers is not None or base.schedule:
        raise ValueError(f"an MTJ operating point sets the per-direction rates, but the base error config also sets "
                         f"layer_bers={base.layer_bers} / schedule={base.schedule}, which would override them")
    return dataclasses.replace(base, ber=record["key"], ber_pos_to_neg=record["ber_pos_to_neg"],
                               ber_neg_to_pos=record["ber_neg_to_pos"])


def runs(records, base=None):
    """[(label, ErrorConfig, record)], one per operating point, in the records' order."""
    return [(f"drive={r['drive_vc']:.4g}Vc pulse={r['pulse_tau']:.4g}tauD", error_config(r, base), r)
            for r in records]


def sweep_keys(bridge_runs):
    """The distinct sweep keys (mean flip probabilities) of the runs, ascending."""
    return sorted({record["key"] for _, _, record in bridge_runs})


def make_config(bridge_runs):
    """A `make_config(base_config, key, seed)` for bnn.sweep.sweep: the base TrainConfig with the seed and the
    ErrorConfig of the operating point whose key is `key`."""
    by_key = {}
    for label, errors, record in bridge_runs:
        if by_key.get(record["key"], errors) != errors:
            raise ValueError(f"two operating points share the sweep key {record['key']!r} but differ in their "
                             f"per-direction rates ({label}); sweep them separately")
        by_key[record["key"]] = errors

    def configure(base_config, key, seed):
        if key not in by_key:
            raise ValueError(f"no MTJ operating point has the sweep key {key!r}; keys: {sorted(by_key)}")
        errors = dataclasses.replace(by_key[key], rounding=base_config.errors.rounding,
                                     weights=base_config.errors.weights, at_test=base_config.errors.at_test)
        return dataclasses.replace(base_config, seed=seed, errors=errors)
    return configure


def write_operating_points(out_dir, bridge_runs):
    """Write the runs' records to out_dir/mtj_operating_points.json (atomically); returns the path."""
    path = Path(out_dir) / OPERATING_POINTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps([dict(record, label=label) for label, _, record in bridge_runs], indent=2)
    write_atomic(path, lambda tmp: tmp.write_text(text))
    return path


def read_operating_points(out_dir):
    path = Path(out_dir) / OPERATING_POINTS_FILE
    if not path.exists():
        raise FileNotFoundError(f"no {OPERATING_POINTS_FILE} in {out_dir}: the sweep was not run from MTJ operating "
                                f"points (bnn.bridge.write_operating_points writes it)")
    return json.loads(path.read_text())


def accuracy_vs_drive_figure(out_dir, metric="final_test_accuracy", title=None):
    """A matplotlib Figure: test accuracy (mean +- std over repeats, %) against the drive (V/V_c) of each operating
    point of the sweep in out_dir, with both write directions' WER on a second, logarithmic axis.
    Reads out_dir/results.csv and out_dir/mtj_operating_points.json."""
    from matplotlib.figure import Figure
    results = read_results(out_dir, metric)
    points = sorted(read_operating_points(out_dir), key=lambda r: r["drive_vc"])
    points = [p for p in points if p["key"] in results]
    if not points:
        raise ValueError(f"no finished run in {out_dir} matches an operating point of {OPERATING_POINTS_FILE}")
    drive = np.array([p["drive_vc"] for p in points])
    keys, means, stds, _ = summarize({p["key"]: 100.0 * results[p["key"]] for p in points})
    by_key = {key: (m, s) for key, m, s in zip(keys.tolist(), means, stds)}   # drives may share a key (one run)
    mean, std = (np.array([by_key[p["key"]][k] for p in points]) for k in (0, 1))
    fig = Figure(figsize=(4.2, 3.0), layout="constrained")
    ax = fig.add_subplot()
    ax.errorbar(drive, mean, yerr=std, fmt="o-", ms=3, color="#1f4e99", capsize=2, label="test accuracy")
    ax.set_xlabel(f"write drive V/V_c (pulse {points[0]['pulse_tau']:g} tau_D, Delta {points[0]['delta_p_to_ap']:g})")
    ax.set_ylabel("test accuracy (%)", color="#1f4e99")
    wer_ax = ax.twinx()
    wers = {name: np.array([p[f"wer_{name}"] for p in points]) for name in ("p_to_ap", "ap_to_p")}
    symmetric = np.array_equal(wers["p_to_ap"], wers["ap_to_p"])
    for (name, wer), style in zip(wers.items(), ("s--", "^:")):
        if symmetric and name == "ap_to_p":
            break
        shown = wer > 0   # a WER below the resolution floor is recorded as 0 and cannot sit on a log axis
        label = "WER (both directions)" if symmetric else f"WER {name.replace('_to_', '->').upper()}"
        wer_ax.semilogy(drive[shown], wer[shown], style, ms=3, color="#b03a2e", label=label)
    wer_ax.set_ylabel("write error rate", color="#b03a2e")
    wer_ax.legend(loc="center right", fontsize=7)
    if title:
        ax.set_title(title)
    return fig


def plot_accuracy_vs_drive(out_dir, path=None, **options):
    """Save `accuracy_vs_drive_figure` as PNG (and SVG beside it), atomically; returns the PNG path
    (default out_dir/accuracy_vs_drive.png)."""
    path = Path(path) if path is not None else Path(out_dir) / "accuracy_vs_drive.png"
    fig = accuracy_vs_drive_figure(out_dir, **options)
    for target, fmt in ((path, "png"), (path.with_suffix(".svg"), "svg")):
        write_atomic(target, lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=200))
    return path
