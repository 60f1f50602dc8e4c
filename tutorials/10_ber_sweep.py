"""Step 10: a small BER sweep on MNIST, and its plot.

The experiment of the paper: train the same network many times, each time with a fixed bit error rate on every
binary activation during training (step 9), test every run *without* errors, and plot test accuracy against the
training BER, mean ± standard deviation over repeated runs with different seeds. The paper's finding for
LeNet-4 on MNIST: accuracy holds (even rises slightly) up to a BER of a few percent, then falls; at BER 0.5 every
binary activation is a coin flip during training, so the binary layers learn nothing the error-free test can use.

`bnn.sweep.sweep(base_config, bers, repeats, out_dir)` trains one run per (BER, repeat), in parallel worker
processes (here: in this process, see the comment at the call), each with its own seed derived from (sweep seed,
BER index, repeat); it writes DIR/runs/ber=…/rep=…/ per run and DIR/results.csv, skips finished runs and resumes
interrupted ones when started again.
`bnn.sweep_plot` draws the figure: a broken x axis, because BER 0 has no place on a log scale.

Sizes: --quick trains 8 batches per run (a smoke test: the curve is noisy, only BER 0.5 clearly fails). The
default trains one epoch on 10,000 images, 6 BERs × 2 repeats: about 8 minutes of CPU time.
The paper's full version is a command line away (60 epochs per run, 10 repeats):

    python -m bnn sweep --model lenet4 --ber 0 0.001 0.01 0.05 0.1 0.2 0.5 --repeats 10 --out runs/lenet4-sweep
"""
import numpy as np

from _common import fact, save_figure, setup

args = setup(__doc__)

from bnn.sweep import default_trainer, sweep  # noqa: E402
from bnn.sweep_plot import ber_accuracy_figure, read_results  # noqa: E402
from bnn.train import TrainConfig  # noqa: E402

if args.quick:
    bers, repeats = (0.0, 0.01, 0.1, 0.5), 1
    base = TrainConfig.recipe("lenet4", epochs=1, train_subset=8 * 128, test_subset=500)
else:
    bers, repeats = (0.0, 0.001, 0.01, 0.05, 0.2, 0.5), 2
    base = TrainConfig.recipe("lenet4", epochs=1, train_subset=10_000)
out_dir = args.out / ("10_ber_sweep_quick" if args.quick else "10_ber_sweep")
print(f"{len(bers)} BERs × {repeats} repeats, each: 1 epoch on {base.train_subset} images, "
      f"tested on {base.test_subset or 10_000}; runs in {out_dir}")
# workers=0 trains the runs one after another in this process (each using every core through Numba and BLAS).
# Worker processes (the default) start by re-importing the main module, so a script that uses them must keep its
# top-level code under `if __name__ == "__main__":`; `python -m bnn sweep` does, this flat lesson does not.
records = sweep(base, bers, repeats, out_dir, workers=0, trainer=default_trainer(args.data))

results = read_results(out_dir)                                        # {ber: accuracies of the repeats}
print(f"\n{'BER':>6}  test accuracy (%) per repeat")
for ber, accuracies in results.items():
    print(f"{ber:>6g}  " + "  ".join(f"{100 * a:.2f}" for a in accuracies))
fact(f"all {len(bers) * repeats} runs finished", len(records) == len(bers) * repeats)
clean, coin = np.mean(results[0.0]), np.mean(results[0.5])
fact("training at BER 0.5 (coin-flip activations) ruins the error-free test accuracy (20+ points below BER 0)",
     coin < clean - 0.2)
allowed = 0.10 if args.quick else 0.05                                  # one short run is noisy
fact(f"a BER of 1 % costs less than {100 * allowed:.0f} points", np.mean(results[0.01]) > clean - allowed)

fig = ber_accuracy_figure(results, title="LeNet-4 on MNIST" + (" (--quick)" if args.quick else ""))
save_figure(fig, args.figure, dpi=250)   # a small figure in print proportions: more pixels
