"""Planning a BER sweep: which runs, with which seeds and configs, in which folders, in which order.

Seeds. Run (BER index i, repeat r) of a sweep with base seed s trains with the integer

    SeedSequence(s, spawn_key=(i, r)).generate_state(1, uint64)[0] >> 1     (63 bits, fits int64)

which is the state of `SeedSequence(s).spawn(...)[i].spawn(...)[r]`: independent streams for every run, reproducible
from (s, i, r) alone, and unchanged when repeats are added or BERs appended to the list. The index is the position
in the sweep's BER list, so reordering the list changes the seeds; a rerun that would give an existing finished or
started run a different seed or config raises (bnn.sweep_run) instead of mixing two sweeps in one folder.

Configs. `run_config` is the one place that knows which TrainConfig fields a sweep varies (the seed and errors.ber);
`base_config` builds the config they are varied in from a [train] table.
"""
import dataclasses
from pathlib import Path

import numpy as np

from .results import run_dir


def run_config(base, ber, seed):
    """The training config of one run: `base` (a TrainConfig) with its seed and its training-time BER replaced.

    Raises ValueError if the base's error config has rates that would override `errors.ber` (per-direction,
    per-layer or scheduled), since the sweep would not vary them.
    """
    errors = base.errors
    overriding = {name: getattr(errors, name) for name in ("ber_pos_to_neg", "ber_neg_to_pos", "layer_bers")
                  if getattr(errors, name) is not None}
    if errors.schedule:
        overriding["schedule"] = errors.schedule
    if overriding:
        raise ValueError(f"a BER sweep sets errors.ber, but the base config's errors also set {overriding}, "
                         f"which would override it; expected none of them")
    return dataclasses.replace(base, seed=seed, errors=dataclasses.replace(errors, ber=ber))


def base_config(train_table, source=None):
    """The sweep's base TrainConfig from a [train] table / flags dict: the model's recipe (the reference one, or the
    CPU one if `quick` is true; its lr schedule scaled to `epochs`), then every other key as a TrainConfig field
    ("errors" as a table of ErrorConfig fields).

    source: where the table came from (e.g. "the [train] table of sweep.toml"); a bad key or value is then a
    ValueError that says so as well (the message alone names only the key and the value).
    """
    try:
        return _base_config(train_table)
    except (ValueError, TypeError) as error:
        if source is None:
            raise
        raise ValueError(f"in {source}: {error}") from error


def _base_config(train_table):
    from .train import TrainConfig
    table = dict(train_table)
    recipe = TrainConfig.recipe(table.pop("model", "lenet4"), epochs=table.pop("epochs", None),
                                quick=table.pop("quick", False))
    errors = table.get("errors", {})
    if "seed" in table or isinstance(errors, dict) and "ber" in errors:   # a non-table is from_dict's to name
        raise ValueError("a sweep sets every run's seed and errors.ber itself: give the base seed as the sweep's "
                         f"`seed` and the rates as its `ber` list, not in the training config {train_table}")
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(table) - fields)
    if unknown:
        raise ValueError(f"unknown training config keys {unknown}; expected some of {sorted(fields | {'quick'})}")
    return TrainConfig.from_dict({**recipe.to_dict(), **table})


def run_seed(base_seed, ber_index, repeat):
    """The seed of run (ber_index, repeat): see the module docstring. Returns a non-negative int < 2**63."""
    for name, value in (("base_seed", base_seed), ("ber_index", ber_index), ("repeat", repeat)):
        if int(value) != value or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    state = np.random.SeedSequence(int(base_seed), spawn_key=(int(ber_index), int(repeat))).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One planned run: everything a worker needs (picklable)."""
    ber_index: int
    ber: float
    repeat: int
    seed: int
    config: object
    directory: Path     # the run folder: run_dir(out_dir, ber, repeat)

    @property
    def label(self):
        return f"ber={self.ber:g} rep={self.repeat}"


def check_bers(bers):
    """The BER list as floats; raises ValueError unless it is non-empty, duplicate-free and within [0, 1]."""
    bers = [float(b) for b in bers]
    if not bers:
        raise ValueError("a sweep needs at least one BER, got an empty list")
    for b in bers:
        if not 0.0 <= b <= 1.0:
            raise ValueError(f"every BER must be a probability in [0, 1], got {b}")
    if len(set(bers)) != len(bers):
        raise ValueError(f"BERs must be distinct, got {bers}")
    return bers


def whole_number(name, value, minimum):
    """`value` as an int, or a ValueError naming it unless it is a whole number >= minimum (a TOML 1e400 is inf)."""
    whole = isinstance(value, (int, np.integer)) or (isinstance(value, float) and value.is_integer())
    if not whole or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def repeats_per_ber(repeats, bers):
    """`repeats` (one whole number for every BER, or a list of one per BER) as a list of ints, one per BER."""
    if isinstance(repeats, (list, tuple)):
        if len(repeats) == 1:
            repeats = repeats[0]
        elif len(repeats) != len(bers):
            raise ValueError(f"repeats must be one number or one per BER ({len(bers)}), got {len(repeats)}: "
                             f"{list(repeats)}")
        else:
            return [whole_number("repeats", r, 1) for r in repeats]
    return [whole_number("repeats", repeats, 1)] * len(bers)


def plan(base_config, bers, repeats, out_dir, seed=0, make_config=run_config):
    """The list of RunSpecs of a sweep, repeat-major: the first repeat of every BER, then the second, ...

    repeats: runs per BER, one number for all or a list with one per BER. Repeat-major order means a sweep cut short
    (or whose runs take hours) has a whole accuracy-vs-BER curve before it has a second run of any BER.
    """
    bers = check_bers(bers)
    counts, seed = repeats_per_ber(repeats, bers), whole_number("seed", seed, 0)
    specs = []
    for r in range(max(counts)):
        for i, ber in enumerate(bers):
            if r < counts[i]:
                s = run_seed(seed, i, r)
                specs.append(RunSpec(i, ber, r, s, make_config(base_config, ber, s), run_dir(out_dir, ber, r)))
    return specs
