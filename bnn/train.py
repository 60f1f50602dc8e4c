"""Training: a config dataclass, and `train(config, out_dir)` that runs epochs of mini-batches, evaluates, writes
metrics.csv, an HDF5 checkpoint after every epoch and a learning-curve plot, and resumes a killed run exactly.

    from bnn.train import TrainConfig, train
    config = TrainConfig.recipe("lenet4", epochs=5, seed=1)    # quick=True: the model's CPU recipe instead
    result = train(config, "runs/lenet4")        # TrainResult: history, final/best test accuracy, seconds

Reproducibility: one numpy Generator, seeded from `config.seed`, drives everything random in a run (weight
initialization, batch order, dropout, bit errors), and its state is saved in the checkpoint. Resuming restores
parameters, optimizer state, BatchNorm statistics and the Generator, so the resumed run computes exactly what the
uninterrupted run would have (same thread counts assumed: BLAS sums may be ordered differently across them).

Stopping: under `bnn.interrupt.stop_on_signals()` (the command line), SIGTERM or SIGINT stops a run after the
current batch (or test batch) with `bnn.interrupt.Interrupted`: the epoch in progress is dropped, since finishing it
could take minutes (a NiN epoch on CIFAR-10), and the last checkpoint is kept, from which `resume` continues exactly.
"""
import csv
import dataclasses
import io
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import datasets

from . import checkpoint, interrupt
from .errors import ErrorConfig, stochastic_sign
from .layers import BatchNorm, Sign, softmax_cross_entropy
from .models import DATASETS, QUICK_RECIPES, RECIPES, build
from .optim import learning_rate, make_optimizer

METRIC_COLUMNS = ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds")
# Besides checkpoint.h5 (the last epoch, from which a run resumes), a run keeps the checkpoint of its best epoch by
# test accuracy, as the reference code does. Reporting the best epoch selects on the test set: docs quote the last.
BEST_CHECKPOINT = "best.h5"


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (JSON-serialisable through `to_dict` / `from_dict`).

    lr_schedule: 'constant', 'step' (lr * lr_gamma every lr_step epochs; lr_step may be fractional) or
    'multistep' (lr * lr_gamma at each 0-based epoch in lr_milestones).
    train_subset / test_subset: use only the first n images of a split (None: all).
    errors: bit errors of binary activations during training (see bnn.errors.ErrorConfig).
    """
    model: str = "lenet4"
    dataset: str = "mnist"
    epochs: int = 60
    batch_size: int = 128
    optimizer: str = "adam"
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-5
    lr_schedule: str = "step"
    lr_step: float = 15.0
    lr_milestones: tuple = ()
    lr_gamma: float = 0.1
    seed: int = 0
    train_subset: int | None = None
    test_subset: int | None = None
    augment: bool = False
    errors: ErrorConfig = field(default_factory=ErrorConfig)

    def __post_init__(self):
        # config files (sweep TOML, checkpoints) can hold any type: say which field is wrong, not a bare TypeError
        for name in ("epochs", "batch_size", "lr", "momentum", "weight_decay", "lr_step", "lr_gamma", "seed"):
            if not _is_number(getattr(self, name)):
                raise ValueError(f"{name} must be a finite number, got {getattr(self, name)!r}")
        for name in ("train_subset", "test_subset"):
            if getattr(self, name) is not None and not _is_number(getattr(self, name)):
                raise ValueError(f"{name} must be a finite number or None, got {getattr(self, name)!r}")
        if not isinstance(self.lr_milestones, (list, tuple)) or not all(map(_is_number, self.lr_milestones)):
            raise ValueError(f"lr_milestones must be a list of epochs, got {self.lr_milestones!r}")
        if not isinstance(self.errors, ErrorConfig):
            raise ValueError(f"errors must be an ErrorConfig, got {self.errors!r}")
        for name in ("epochs", "batch_size"):
            if int(getattr(self, name)) != getattr(self, name) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if int(self.seed) != self.seed or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        object.__setattr__(self, "lr_milestones", tuple(self.lr_milestones))
        learning_rate(0, self.lr, self.lr_schedule, self.lr_step, self.lr_milestones, self.lr_gamma)  # validates
        make_optimizer(self.optimizer, {}, self.lr)                                                    # validates

    @classmethod
    def recipe(cls, model="lenet4", epochs=None, quick=False, **overrides):
        """The model's reference recipe (bnn.models.RECIPES), or its CPU recipe if `quick` (bnn.models.QUICK_RECIPES),
        with its lr schedule scaled to `epochs` when that differs from the recipe's length (decays stay at the same
        fractions of the run), and `overrides` applied (they win over both recipes)."""
        if not isinstance(model, str) or model not in RECIPES:
            raise ValueError(f"no recipe for model {model!r}; available: {sorted(RECIPES)}")
        if not isinstance(quick, bool):
            raise ValueError(f"quick must be true or false, got {quick!r}")
        values = dict((QUICK_RECIPES if quick else RECIPES)[model], model=model, dataset=DATASETS[model])
        if epochs is not None and epochs != values["epochs"]:
            scale = epochs / values["epochs"]
            values["lr_step"] = values.get("lr_step", 1.0) * scale
            values["lr_milestones"] = tuple(round(m * scale) for m in values.get("lr_milestones", ()))
            values["epochs"] = epochs
        values.update(overrides)
        return cls(**values)

    def to_dict(self):
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data):
        data = dict(data)
        errors = data.pop("errors", {})
        if not isinstance(errors, dict):
            raise ValueError(f"errors must be a table of bnn.errors.ErrorConfig fields, got {errors!r}")
        errors = {k: tuple(tuple(i) if isinstance(i, list) else i for i in v) if isinstance(v, list) else v
                  for k, v in errors.items()}
        return cls(**data, errors=ErrorConfig(**errors))


def format_seconds(seconds):
    """h:mm:ss."""
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _is_number(value):
    """A finite int or float (a TOML 1e400 is inf, which int() cannot convert)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and \
        math.isfinite(value)


@dataclass
class TrainResult:
    history: list                  # one dict per epoch with METRIC_COLUMNS
    final_test_accuracy: float     # fraction, after the last epoch
    best_test_accuracy: float      # fraction, best epoch
    seconds: float                 # wall time of all epochs (summed over resumed parts)
    out_dir: Path


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite (the message names the epoch and the batch), or a parameter or BatchNorm
    statistic did by the end of an epoch (the message names the arrays)."""


def kept_checkpoint(ckpt_path, epoch):
    """The part of a TrainingDiverged message that says which checkpoint survives."""
    return (f"the last good checkpoint (epoch {epoch}) is {ckpt_path}" if ckpt_path.exists()
            else "no checkpoint was written yet")


def build_model(config, rng):
    """The model of `config`, initialized from `rng`."""
    return build(config.model, rng)


def attach_errors(model, errors, epoch, rng):
    """Install the bit-error models of `errors` (an ErrorConfig) for `epoch` on the model's binary layers:
    activation flips on every binary layer, the same flips on its packed weights if errors.weights, and
    stochastic rounding (drawing from `rng`) in the Sign layers if errors.rounding == 'stochastic'."""
    for i, layer in enumerate(model.binary_layers()):
        bit_errors = errors.bit_errors(i, epoch)
        layer.activation_errors = bit_errors if bit_errors.active else None
        layer.weight_errors = bit_errors if bit_errors.active and errors.weights else None
    for layer in model.layers:
        if isinstance(layer, Sign):
            layer.rounding = (lambda x: stochastic_sign(x, rng)) if errors.rounding == "stochastic" else None


def load_split(config, split, data_root=None):
    ds = datasets.load(config.dataset, split, root=data_root)
    n = config.train_subset if split == "train" else config.test_subset
    if n is not None:
        if not 0 < n <= len(ds):
            raise ValueError(f"{split}_subset must be in [1, {len(ds)}], got {n}")
        ds = dataclasses.replace(ds, images=ds.images[:n], labels=ds.labels[:n])
    return ds


def evaluate(model, dataset, batch_size=1000):
    """(mean loss, accuracy as a fraction) of `model` in eval mode over `dataset`; raises bnn.interrupt.Interrupted
    after a batch once a stop is asked for."""
    model.eval()
    loss_sum = correct = 0.0
    rng = np.random.default_rng(0)  # unused: no shuffle, no augmentation
    for x, y in datasets.batches(dataset, batch_size, rng, shuffle=False):
        logits = model.forward(x)
        loss, _ = softmax_cross_entropy(logits, y)
        loss_sum += loss * len(y)
        correct += (logits.argmax(axis=1) == y).sum()
        interrupt.check("during a test pass")
    return loss_sum / len(dataset), correct / len(dataset)


def precise_batchnorm(model, dataset, batch_size, rng, training_input=True):
    """Set every BatchNorm's running statistics to the mean of its batch statistics over one pass of `dataset`
    (momentum 1/(i+1) at batch i), parameters unchanged: "precise BN", free of the noise of a running average that
    remembers about the last 1/momentum batches. training_input: every layer runs in training mode (bit errors,
    dropout), as in training; otherwise only the BatchNorms do, so they measure the input of an error-free test."""
    norms = [layer for layer in model.layers if isinstance(layer, BatchNorm)]
    momenta = [layer.momentum for layer in norms]
    try:
        for i, (x, _) in enumerate(datasets.batches(dataset, batch_size, rng)):
            for layer in norms:
                layer.momentum = 1.0 / (i + 1)
            for layer in model.layers:
                x = layer.forward(x, training_input or isinstance(layer, BatchNorm))
                layer.cache = None
    finally:
        for layer, momentum in zip(norms, momenta):
            layer.momentum = momentum


def write_metrics(path, history):
    text = io.StringIO()
    writer = csv.DictWriter(text, METRIC_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    checkpoint.write_atomic(path, lambda tmp: tmp.write_text(text.getvalue()))


def train(config, out_dir, resume=False, progress=False, data_root=None, plot=True, log=None):
    """Train `config` (a TrainConfig) into `out_dir`; returns a TrainResult.

    Writes out_dir/metrics.csv (METRIC_COLUMNS, accuracies as fractions), out_dir/checkpoint.h5 after each epoch,
    out_dir/best.h5 after each epoch that raises the best test accuracy, and out_dir/learning_curve.png at the end.
    resume: continue from out_dir/checkpoint.h5 if it exists (it must hold the same config); without resume an
    existing checkpoint is an error. progress: show a tqdm bar (the command line does so only on a terminal).
    log: callable(str) for one line per epoch (default: silent).
    Raises TrainingDiverged when the loss or, at the end of an epoch, a parameter or BatchNorm statistic is not
    finite, leaving the last good checkpoint in place; PermissionError at once if out_dir cannot be written;
    bnn.interrupt.Interrupted after the current batch once a stop is asked for (see the module docstring).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not os.access(out_dir, os.W_OK):     # also false for root on a read-only mount: fail before an epoch's work
        raise PermissionError(f"{out_dir} is not writable: no checkpoint or metrics could be saved")
    ckpt_path = out_dir / "checkpoint.h5"
    rng = np.random.default_rng(config.seed)
    model = build_model(config, rng)
    model.constrain()
    optimizer = make_optimizer(config.optimizer, model.params(), config.lr, config.weight_decay, config.momentum)
    history, start_epoch = [], 0
    if ckpt_path.exists():
        if not resume:
            raise FileExistsError(f"{ckpt_path} exists: resume it (resume=True, --resume) or choose another folder")
        ckpt = checkpoint.load(ckpt_path)
        if ckpt.config != config.to_dict():
            raise ValueError(f"{ckpt_path} was written by a run with another config:\n{ckpt.config}\n"
                             f"this run: {config.to_dict()}")
        model.load_state(ckpt.model_state)
        optimizer.load_state_dict(ckpt.optimizer_arrays, ckpt.optimizer_scalars)
        rng.bit_generator.state = ckpt.rng_state
        history, start_epoch = ckpt.history, ckpt.epoch
    train_ds, test_ds = load_split(config, "train", data_root), load_split(config, "test", data_root)
    n_batches = math.ceil(len(train_ds) / config.batch_size)
    for epoch in range(start_epoch, config.epochs):
        kept = kept_checkpoint(ckpt_path, epoch)
        interrupt.check(f"before epoch {epoch + 1} of {config.epochs} in {out_dir}; {kept}")
        dropped = f"during epoch {epoch + 1} of {config.epochs} in {out_dir}: that epoch is dropped; {kept}"
        start = time.perf_counter()
        optimizer.lr = learning_rate(epoch, config.lr, config.lr_schedule, config.lr_step, config.lr_milestones,
                                     config.lr_gamma)
        attach_errors(model, config.errors, epoch, rng)
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=len(train_ds), desc=f"epoch {epoch + 1}/{config.epochs}", unit="img", leave=False)
        model.train()
        loss_sum = correct = seen = 0.0
        for batch, (x, y) in enumerate(datasets.batches(train_ds, config.batch_size, rng, augment=config.augment)):
            logits = model.forward(x)
            loss, dlogits = softmax_cross_entropy(logits, y)
            if not math.isfinite(loss):
                raise TrainingDiverged(f"loss is {loss} at epoch {epoch + 1}, batch {batch + 1} of {n_batches} "
                                       f"(lr {optimizer.lr:g}); {kept_checkpoint(ckpt_path, epoch)}")
            model.backward(dlogits)
            optimizer.step(model.grads())
            model.constrain()
            loss_sum += loss * len(y)
            correct += (logits.argmax(axis=1) == y).sum()
            seen += len(y)
            if bar is not None:
                bar.update(len(y))
                bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.4f}")
            if interrupt.requested():
                if bar is not None:
                    bar.close()
                interrupt.check(dropped)
        if bar is not None:
            bar.close()
        bad = [name for name, array in model.state().items() if not np.isfinite(array).all()]
        if bad:     # a NaN input or update: the sign layers turn NaN into -1, so the loss alone may stay finite
            raise TrainingDiverged(f"non-finite values in {', '.join(bad[:4])}{' ...' if len(bad) > 4 else ''} after "
                                   f"epoch {epoch + 1}; {kept_checkpoint(ckpt_path, epoch)}")
        # test in training-sized batches: the memory a training step needed is enough (eval-mode results do not
        # depend on the batch size)
        try:
            test_loss, test_accuracy = evaluate(model, test_ds, config.batch_size)
        except interrupt.Interrupted as stop:
            raise interrupt.Interrupted(stop.signum, dropped) from None
        history.append(dict(epoch=epoch + 1, train_loss=float(loss_sum / seen),
                            train_accuracy=float(correct / seen), test_loss=float(test_loss),
                            test_accuracy=float(test_accuracy),
                            seconds=time.perf_counter() - start))
        write_metrics(out_dir / "metrics.csv", history)
        state = checkpoint.Checkpoint(
            epoch=epoch + 1, model_state=model.state(), optimizer_arrays=optimizer.state_dict()[0],
            optimizer_scalars=optimizer.state_dict()[1], rng_state=rng.bit_generator.state, config=config.to_dict(),
            history=history)
        # best.h5 first: if either write fails (disk full), checkpoint.h5 still holds the previous epoch, so a resume
        # redoes this epoch, bit for bit the same, and writes both; the other order could leave best.h5 unwritten
        if test_accuracy > max((r["test_accuracy"] for r in history[:-1]), default=-1.0):
            checkpoint.save(out_dir / BEST_CHECKPOINT, state)   # the first epoch of the highest test accuracy
        checkpoint.save(ckpt_path, state)
        if log is not None:
            row = history[-1]
            epoch_seconds = np.mean([r["seconds"] for r in history[start_epoch:]])  # this process's epochs
            log(f"epoch {row['epoch']}/{config.epochs}  lr {optimizer.lr:g}  train loss {row['train_loss']:.4f} "
                f"acc {row['train_accuracy']:.4f}  test loss {row['test_loss']:.4f} acc {row['test_accuracy']:.4f}  "
                f"{row['seconds']:.1f} s ({len(train_ds) / row['seconds']:.0f} img/s incl. test), "
                f"run ETA {format_seconds(epoch_seconds * (config.epochs - row['epoch']))}")
    if plot and history:
        from .plots import learning_curve
        learning_curve(history, out_dir / "learning_curve.png", title=f"{config.model} on {config.dataset}")
    return TrainResult(history=history, final_test_accuracy=history[-1]["test_accuracy"] if history else float("nan"),
                       best_test_accuracy=max((r["test_accuracy"] for r in history), default=float("nan")),
                       seconds=sum(r["seconds"] for r in history), out_dir=out_dir)
