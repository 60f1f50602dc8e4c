"""Figures of single training runs (the BER-sweep figure lives in sweep_plot.py)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen before pyplot is imported)
from matplotlib.ticker import MaxNLocator  # noqa: E402

from .checkpoint import write_atomic  # noqa: E402


def learning_curve(history, path, title=""):
    """Loss and accuracy per epoch (train and test) from a run's history (dicts with the metrics.csv columns);
    written atomically to `path` (format from its suffix, e.g. .png)."""
    epochs = [row["epoch"] for row in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for split, style in (("train", "-"), ("test", "--")):
        ax_loss.plot(epochs, [row[f"{split}_loss"] for row in history], style, marker="o", ms=3, label=split)
        ax_acc.plot(epochs, [100 * row[f"{split}_accuracy"] for row in history], style, marker="o", ms=3,
                    label=split)
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", yscale="log")
    best = max(history, key=lambda row: row["test_accuracy"])
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)",
               title=f"final test {100 * history[-1]['test_accuracy']:.2f} %, best {100 * best['test_accuracy']:.2f} %"
                     f" (epoch {best['epoch']})")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=110, format=str(path).rsplit(".", 1)[-1]))
    plt.close(fig)
