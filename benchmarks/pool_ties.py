"""Max-pool ties: does it matter which tied maximum receives a window's gradient?

After a binary block the XNOR outputs are quantized (alpha * k + bias, k an integer), so many max-pool windows hold
two or more equal maxima. The engine's MaxPool2d gives the window's gradient to the first of them in row-major
order; a float implementation lets rounding noise pick one. This script measures two things:

1. How often ties happen, and where "first" sends the gradient: for a batch of real images through a trained (or
   freshly initialized) model, the fraction of max-pool windows whose positive maximum is tied, and the share of
   the gradient that each window offset receives under each rule (with "first", the top-left cells get more).
2. Whether the choice changes training: the same runs (same seeds, data and recipe) trained with each rule, tested
   error-free, final test accuracy per rule and seed.

Rules: `first` (the engine's kernel), `shared` (the gradient split equally among the tied maxima: the average of the
valid subgradients) and `random` (one tied maximum drawn uniformly, from the run's Generator). The last two are
NumPy implementations in this script, swapped into the built model in place of each MaxPool2d.

    python benchmarks/pool_ties.py --model lenet4 --epochs 3 --seeds 0 1 --batches 8 --out ../runs/pool-ties
    python benchmarks/pool_ties.py --model nin --seeds --stats init RUN/checkpoint.h5 --batches 8 \\
        --out ../runs/pool-ties

The second line measures ties and gradients only, on a trained checkpoint (e.g. one of the CIFAR-10 campaign's).
Gradient agreement: for the same batches (and dropout masks), the cosine between the parameter gradient under
`first` and under each other rule, per layer, beside the cosine between the gradients of two successive batches.
Runs resume from their checkpoints (rerun the same command). Results: a table on stdout and
benchmarks/results/pool_ties_<model>.json.
"""
import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Run as a script, this folder comes first on sys.path, and benchmarks/mtj.py would shadow the mtj package.
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import bnn  # noqa: E402,F401  (first: it makes BLAS single-threaded before NumPy loads)
import numpy as np  # noqa: E402

import bnn.train  # noqa: E402
import datasets  # noqa: E402
from bnn import checkpoint  # noqa: E402
from bnn.checkpoint import write_atomic  # noqa: E402
from bnn.layers import MaxPool2d  # noqa: E402

RULES = ("first", "shared", "random")


def window_view(x, k, stride, padding):
    """(N, C, OH, OW, k, k) read-only view of the -inf-padded input's pooling windows."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))
    return windows[:, :, ::stride, ::stride]


def tie_weights(x, out, k, stride, padding, rule, rng=None):
    """(N, C, OH, OW, k, k) share of each window's gradient that each cell receives under `rule`.

    x: (N, C, H, W) pooled input; out: (N, C, OH, OW) its max-pool output. Every window's shares sum to 1 (a
    convex combination of the tied maxima: a valid subgradient of max)."""
    windows = window_view(x, k, stride, padding)[:, :, :out.shape[2], :out.shape[3]]
    tied = windows == out[..., None, None]
    flat = tied.reshape(tied.shape[:4] + (k * k,))
    if rule == "first":
        choice = flat.argmax(axis=-1)
    elif rule == "random":
        choice = np.where(flat, rng.random(flat.shape, dtype=np.float32), -1.0).argmax(axis=-1)
    elif rule == "shared":
        return (flat / flat.sum(axis=-1, keepdims=True)).reshape(tied.shape).astype(x.dtype)
    else:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    one_hot = np.zeros(flat.shape, x.dtype)
    np.put_along_axis(one_hot, choice[..., None], 1, axis=-1)
    return one_hot.reshape(tied.shape)


def scatter_windows(contributions, input_shape, stride, padding):
    """Sum (N, C, OH, OW, k, k) per-window contributions back onto the (N, C, H, W) input (overlaps add)."""
    n, c, h, w = input_shape
    oh, ow, k = contributions.shape[2], contributions.shape[3], contributions.shape[4]
    dxp = np.zeros((n, c, h + 2 * padding, w + 2 * padding), contributions.dtype)
    for dy in range(k):
        for dx in range(k):
            dxp[:, :, dy:dy + stride * (oh - 1) + 1:stride, dx:dx + stride * (ow - 1) + 1:stride] += \
                contributions[:, :, :, :, dy, dx]
    return dxp[:, :, padding:padding + h, padding:padding + w]


class TiedMaxPool2d(MaxPool2d):
    """MaxPool2d whose backward pass gives each window's gradient to its tied maxima by `rule` (NumPy)."""

    def __init__(self, pool, rule, rng):
        super().__init__(pool.kernel_size, pool.stride, pool.padding)
        self.name, self.rule, self.rng = pool.name, rule, rng

    def forward(self, x, training):
        out = super().forward(x, training)
        self.cache = (x, out) if training else None
        return out

    def backward(self, dout):
        x, out = self.cache
        k, stride, padding = self._geometry(x.shape)
        shares = tie_weights(x, out, k, stride, padding, self.rule, self.rng)
        return scatter_windows(shares * dout[..., None, None], x.shape, stride, padding)


BUILD_MODEL = bnn.train.build_model   # the engine's, captured once: replacements must not wrap each other


def build_with_rule(rule):
    """A bnn.train.build_model replacement that swaps every MaxPool2d of the model for the rule's variant."""
    def build_model(config, rng):
        model = BUILD_MODEL(config, rng)
        if rule != "first":
            model.layers = [TiedMaxPool2d(layer, rule, rng) if type(layer) is MaxPool2d else layer
                            for layer in model.layers]
            if not any(isinstance(layer, TiedMaxPool2d) for layer in model.layers):
                raise ValueError(f"{config.model} has no MaxPool2d for the rule {rule!r} to replace")
        return model
    return build_model


def tie_statistics(model, images):
    """Per MaxPool2d of the model (a forward pass over `images` in training mode): the fraction of windows whose
    maximum is positive and tied, and, per rule, the share of the gradient each window offset receives (k x k,
    summed over windows with a positive maximum, normalized to 1)."""
    stats = {}
    model.train()
    x = images
    for layer in model.layers:
        y = layer.forward(x, True)
        if isinstance(layer, MaxPool2d):
            k, stride, padding = layer._geometry(x.shape)
            windows = window_view(x, k, stride, padding)[:, :, :y.shape[2], :y.shape[3]]
            positive = y > 0
            tied = ((windows == y[..., None, None]).sum(axis=(-2, -1)) > 1) & positive
            rng = np.random.default_rng(0)
            offsets = {rule: (tie_weights(x, y, k, stride, padding, rule, rng)[positive].sum(axis=0)
                              / positive.sum()).round(4).tolist() for rule in RULES}
            stats[layer.name] = dict(windows=int(y.size), positive_max=float(positive.mean()),
                                     tied_positive_max=float(tied.mean()),
                                     tied_among_positive=float(tied.sum() / max(positive.sum(), 1)),
                                     gradient_share_by_offset=offsets)
        x = y
    model.eval()
    return stats


def check_rules_agree_without_ties(seed=0):
    """The three rules give the same gradient (up to the order of sums over overlapping windows) when no window is
    tied: a self-test of the NumPy backward."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, 9, 9)).astype(np.float32)
    pool = MaxPool2d(3, stride=2, padding=1)
    pool.name = "pool"
    out = pool.forward(x, True)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    reference = pool.backward(dout)
    for rule in ("shared", "random"):
        variant = TiedMaxPool2d(pool, rule, rng)
        variant.forward(x, True)
        np.testing.assert_allclose(variant.backward(dout), reference, rtol=1e-6, err_msg=rule)  # sum order differs


def cosine(a, b):
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def gradient_agreement(model, batches, seed=0):
    """How much the tie rule changes a training step's gradient, against how much the batch changes it.

    For each (x, y) batch: the parameter gradient under each rule, with the same dropout masks (the model's
    Generator is rewound before each rule). Returns {layer: {"shared": mean cosine(g_first, g_shared) over batches,
    "random": ..., "other batch": mean cosine(g_first of batch i, g_first of batch i+1), "shared, summed over
    batches": cosine of the gradients summed over all batches, "random, summed over batches": ...}}, for every layer
    with parameters, in model order. A rule that matters only a little keeps its cosines near 1, well above the
    batch-to-batch cosine (the noise every step lives with); a systematic bias of `first` shows as summed cosines
    below the per-batch ones (the batches' noise averages out of the sum, a shared bias does not)."""
    from bnn.layers import softmax_cross_entropy
    pools = {i: layer for i, layer in enumerate(model.layers) if type(layer) is MaxPool2d}
    generator = next(layer.rng for layer in model.layers if hasattr(layer, "rng"))
    model.train()
    gradients = []          # per batch: {rule: {param name: flat gradient}}
    for b, (x, y) in enumerate(batches):
        state, per_rule = generator.bit_generator.state, {}
        for rule in RULES:
            generator.bit_generator.state = state
            for i, pool in pools.items():
                model.layers[i] = pool if rule == "first" else TiedMaxPool2d(pool, rule, np.random.default_rng([seed, b]))
            _, dlogits = softmax_cross_entropy(model.forward(x), y)
            model.backward(dlogits)
            per_rule[rule] = {name: g.ravel().astype(np.float64) for name, g in model.grads().items()}
        gradients.append(per_rule)
    for i, pool in pools.items():
        model.layers[i] = pool
    layers = dict.fromkeys(name.split(".")[0] for name in gradients[0]["first"])
    result = {}
    for layer in layers:
        def flat(g):
            return np.concatenate([v for name, v in g.items() if name.split(".")[0] == layer])
        result[layer] = {rule: float(np.mean([cosine(flat(g["first"]), flat(g[rule])) for g in gradients]))
                         for rule in RULES[1:]}
        result[layer]["other batch"] = float(np.mean([cosine(flat(a["first"]), flat(b["first"]))
                                                      for a, b in zip(gradients, gradients[1:])]))
        # a bias that every batch shares survives the sum over batches, where the batch-to-batch noise averages out
        result[layer].update({f"{rule}, summed over batches": cosine(sum(flat(g["first"]) for g in gradients),
                                                                     sum(flat(g[rule]) for g in gradients))
                              for rule in RULES[1:]})
    return result


def train_runs(args, data_root):
    """Train every (seed, rule) run (resuming); returns one dict per run."""
    runs = []
    for seed in args.seeds:
        for rule in args.rules:
            config = bnn.train.TrainConfig.recipe(args.model, epochs=args.epochs, seed=seed)
            bnn.train.build_model = build_with_rule(rule)
            label = f"{rule} seed {seed}"
            result = bnn.train.train(config, args.out / args.model / f"{rule}_seed{seed}", resume=True,
                                     data_root=data_root, plot=False,
                                     log=lambda line: print(f"[{label}] {line}", flush=True))
            runs.append(dict(rule=rule, seed=seed, final_test_accuracy=result.final_test_accuracy,
                             best_test_accuracy=result.best_test_accuracy,
                             test_accuracy_per_epoch=[r["test_accuracy"] for r in result.history],
                             train_loss_per_epoch=[r["train_loss"] for r in result.history],
                             seconds=result.seconds))
    bnn.train.build_model = build_with_rule("first")
    print_table(runs)
    return runs


def checkpoint_statistics(path, batches, data_root, model_name):
    """Tie statistics and gradient agreement of the model in checkpoint `path` (or, for path "init", a freshly
    initialized `model_name` with its recipe), on its first training batches."""
    if str(path) == "init":
        config, epoch = bnn.train.TrainConfig.recipe(model_name), 0
        model = bnn.train.build_model(config, np.random.default_rng(config.seed))
    else:
        ckpt = checkpoint.load(path)
        config, epoch = bnn.train.TrainConfig.from_dict(ckpt.config), ckpt.epoch
        model = bnn.train.build_model(config, np.random.default_rng(config.seed))
        model.load_state(ckpt.model_state)
    data = datasets.batches(bnn.train.load_split(config, "train", data_root), config.batch_size,
                            np.random.default_rng(0))
    chosen = [next(data) for _ in range(batches)]
    ties = tie_statistics(model, chosen[0][0])
    for name, s in ties.items():
        print(f"{path} (epoch {epoch}), {name}: {100 * s['tied_among_positive']:.1f} % of the windows with a "
              f"positive maximum are tied ({100 * s['positive_max']:.1f} % of all windows have one); share of the "
              f"gradient at the top-left cell: " + ", ".join(
                  f"{rule} {s['gradient_share_by_offset'][rule][0][0]:.3f}" for rule in RULES))
    agreement = gradient_agreement(model, chosen)
    print("| layer | cos(first, shared) | cos(first, random) | the same, gradients summed over the batches | "
          "cos(batch i, batch i+1) |\n|---|---|---|---|---|")
    for layer, c in agreement.items():
        print(f"| {layer} | {c['shared']:.4f} | {c['random']:.4f} | {c['shared, summed over batches']:.4f} / "
              f"{c['random, summed over batches']:.4f} | {c['other batch']:.4f} |")
    return dict(checkpoint=str(path), epoch=epoch, batches=batches, tie_statistics=ties,
                gradient_cosines=agreement)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("lenet4", "nin"), default="lenet4")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run (the recipe's schedule scaled)")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2], help="training runs (none: only --stats)")
    parser.add_argument("--rules", nargs="+", choices=RULES, default=list(RULES))
    parser.add_argument("--stats", type=Path, nargs="*", default=[], metavar="CHECKPOINT",
                        help="tie statistics and gradient agreement of these checkpoints, 'init' for a freshly "
                             "initialized model (default: the first seed's 'first' run, if trained here)")
    parser.add_argument("--batches", type=int, default=8, help="training batches for --stats")
    parser.add_argument("--out", type=Path, required=True, help="run folder (outside the repository)")
    parser.add_argument("--data-root", help="default: $XNOR_MRAM_DATA")
    parser.add_argument("--json", type=Path, help="default: benchmarks/results/pool_ties_<model>.json")
    args = parser.parse_args(argv)
    check_rules_agree_without_ties()
    runs = train_runs(args, args.data_root)
    stats = args.stats or [path for path in [args.out / args.model / f"first_seed{args.seeds[0]}" / "checkpoint.h5"]
                           if args.seeds and path.exists()]
    report = dict(command="python benchmarks/pool_ties.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                  model=args.model, epochs=args.epochs, runs=runs,
                  checkpoints=[checkpoint_statistics(path, args.batches, args.data_root, args.model)
                               for path in stats])
    path = args.json or REPO / "benchmarks" / "results" / f"pool_ties_{args.model}.json"
    write_atomic(path, lambda tmp: tmp.write_text(json.dumps(report, indent=1)))
    print(f"wrote {path}")


def print_table(runs):
    rules = sorted({r["rule"] for r in runs}, key=RULES.index)
    if not rules:
        return
    print("| rule | runs | final test accuracy (%), per seed | mean | std |")
    print("|---|---|---|---|---|")
    for rule in rules:
        acc = [100 * r["final_test_accuracy"] for r in runs if r["rule"] == rule]
        std = np.std(acc, ddof=1) if len(acc) > 1 else 0.0
        print(f"| {rule} | {len(acc)} | {' / '.join(f'{a:.2f}' for a in acc)} | {np.mean(acc):.2f} | {std:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
