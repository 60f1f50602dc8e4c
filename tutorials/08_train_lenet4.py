"""Step 8: training a binarized LeNet-4 on MNIST for one epoch, with a learning curve.

Everything so far comes together (bnn/models/lenet4.py):

    conv 20@5×5 → BN → maxpool 2 → ReLU                                     (full precision: the pixels are not ±1)
    → BN → sign → binary conv 50@5×5 → maxpool 2 → ReLU                     (XNOR-popcount, steps 4, 6, 7)
    → BN → sign → flatten 800 → binary dense 500 → ReLU                     (XNOR-popcount, steps 3, 6, 7)
    → dense 10                                                              (full precision: the class scores)

The first and last layers stay in float, as in the paper and in XNOR-Net: the first sees real pixels, the last
produces real class scores, and together they hold a small share of the weights and multiply-adds (see the summary
table this script prints).

One training step is the same as for any network: forward pass, softmax cross-entropy loss, backward pass
(straight-through estimator at every sign, step 5; latent-weight gradient of the binary layers, step 7), an Adam
step on the latent weights, and `constrain()` to mean-centre and clip them and clamp the BatchNorm weights. The
loop is written out below in a dozen lines; `bnn.train.train(TrainConfig.recipe("lenet4"))` is the same loop with
checkpoints, resumption, learning-rate schedules and metrics files (`python -m bnn` runs it from the command line).

The recipe: Adam, lr 0.01, weight decay 1e-5, batch 128. One epoch on all 60,000 images reaches about 96-97 % test
accuracy (--quick: 16 batches, 80-85 % on 2,000 test images); the paper reports 99.23 % after 60 epochs.
"""
import dataclasses
import time

import numpy as np

from _common import fact, save_figure, setup

args = setup(__doc__)

import datasets  # noqa: E402
from bnn.layers import softmax_cross_entropy  # noqa: E402
from bnn.models import RECIPES, build  # noqa: E402
from bnn.optim import make_optimizer  # noqa: E402
from bnn.train import evaluate  # noqa: E402


def first(dataset, n):
    """The first n images of a split (the loaders' Dataset is a plain dataclass)."""
    return dataclasses.replace(dataset, images=dataset.images[:n], labels=dataset.labels[:n])


recipe = RECIPES["lenet4"]
train_set = datasets.load("mnist", "train", root=args.data)
test_set = datasets.load("mnist", "test", root=args.data)
if args.quick:
    train_set, test_set = first(train_set, 16 * 128), first(test_set, 2000)
    probe_set, eval_every = first(test_set, 300), 4
else:
    probe_set, eval_every = first(test_set, 2000), 50
rng = np.random.default_rng(8)
model = build("lenet4", rng)
print(model.summary())
model.constrain()
optimizer = make_optimizer(recipe["optimizer"], model.params(), recipe["lr"], recipe["weight_decay"])

print(f"\ntraining on {len(train_set)} images, batch {recipe['batch_size']}, "
      f"{recipe['optimizer']} lr {recipe['lr']} (test accuracy on {len(probe_set)} images every {eval_every} batches)")
losses, accuracies, probes = [], [], []
start = time.perf_counter()
for step, (x, y) in enumerate(datasets.batches(train_set, recipe["batch_size"], rng), start=1):
    model.train()
    logits = model.forward(x)                          # (128, 10)
    loss, dlogits = softmax_cross_entropy(logits, y)
    model.backward(dlogits)                            # fills every layer's grads
    optimizer.step(model.grads())                      # Adam on the latent weights (and BN, biases)
    model.constrain()                                  # clip latent weights, clamp BN weights
    losses.append(loss)
    accuracies.append(np.mean(logits.argmax(axis=1) == y))
    if step % eval_every == 0:
        probes.append((step, evaluate(model, probe_set)[1]))
        print(f"  batch {step:4d}: train loss {np.mean(losses[-eval_every:]):.3f}, "
              f"test accuracy {probes[-1][1]:.1%}  ({time.perf_counter() - start:.0f} s)")
seconds = time.perf_counter() - start
test_loss, test_accuracy = evaluate(model, test_set)
print(f"\nafter one epoch ({seconds:.0f} s, {len(train_set) / seconds:.0f} img/s): test loss {test_loss:.3f}, "
      f"test accuracy {test_accuracy:.2%} on all {len(test_set)} test images")
tenth = max(3, len(losses) // 10)
fact("the training loss of the last tenth of the batches is under a third of the first tenth's",
     np.mean(losses[-tenth:]) < np.mean(losses[:tenth]) / 3)
fact(f"test accuracy above {'70' if args.quick else '95'} %", test_accuracy > (0.70 if args.quick else 0.95))

import matplotlib.pyplot as plt  # noqa: E402

fig, (ax_l, ax_a) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
steps = np.arange(1, len(losses) + 1)
window = max(1, len(losses) // 40)
smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
ax_l.plot(steps, losses, color="0.8", lw=0.8, label="per batch")
ax_l.plot(steps[window - 1:], smooth, label=f"mean of {window} batches")
ax_l.set(xlabel="batch", ylabel="cross-entropy loss", yscale="log", title="binarized LeNet-4, first epoch")
ax_l.legend()
ax_a.plot(steps[window - 1:], 100 * np.convolve(accuracies, np.ones(window) / window, mode="valid"),
          label="train (running)")
ax_a.plot(*zip(*[(s, 100 * a) for s, a in probes]), "o-", ms=3, label=f"test ({len(probe_set)} images)")
ax_a.set(xlabel="batch", ylabel="accuracy (%)", ylim=(50, 100),
         title=f"test accuracy after the epoch: {test_accuracy:.2%}")
ax_a.legend(loc="lower right")
for ax in (ax_l, ax_a):
    ax.grid(alpha=0.3)
save_figure(fig, args.figure)
