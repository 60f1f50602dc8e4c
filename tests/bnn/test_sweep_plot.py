"""The BER-accuracy figure: what it reads from results.csv, what it draws, and the files it writes."""
import argparse
import csv

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from bnn import results, sweep_plot
from bnn.sweep import RESULT_COLUMNS

OLD_COLUMNS = ("ber", "repeat", "seed", "final_test_accuracy", "best_test_accuracy", "seconds")  # before epochs_done

ACCURACY = {0.0: [0.990, 0.992, 0.994], 0.001: [0.991, 0.993, 0.995], 0.01: [0.992, 0.990, 0.988],
            0.2: [0.90, 0.95, 0.97]}


def write_results(out_dir, accuracy=ACCURACY, columns=RESULT_COLUMNS):
    with open(out_dir / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, columns, extrasaction="ignore")
        writer.writeheader()
        for ber, values in accuracy.items():
            for repeat, value in enumerate(values):
                writer.writerow(dict(ber=ber, repeat=repeat, seed=100 + repeat, epochs=3, epochs_done=3,
                                     final_test_accuracy=value, best_test_accuracy=value + 0.001, seconds=1.5))
    return out_dir


@pytest.mark.parametrize("columns", [RESULT_COLUMNS, OLD_COLUMNS])
def test_read_results_groups_runs_by_ber(tmp_path, columns):
    results = sweep_plot.read_results(write_results(tmp_path, columns=columns))
    assert list(results) == [0.0, 0.001, 0.01, 0.2]
    np.testing.assert_array_equal(results[0.01], ACCURACY[0.01])
    best = sweep_plot.read_results(tmp_path, "best_test_accuracy")
    np.testing.assert_allclose(best[0.2], np.array(ACCURACY[0.2]) + 0.001)


def test_figure_draws_ber0_apart_and_the_rest_on_a_log_axis():
    fig = sweep_plot.ber_accuracy_figure({b: np.array(v) for b, v in ACCURACY.items()})
    ax_zero, ax_log = fig.axes
    assert ax_zero.get_xscale() == "linear" and ax_log.get_xscale() == "log"
    assert [t.get_text() for t in ax_zero.get_xticklabels()] == ["0"]
    mean_lines = [line for line in ax_log.lines if line.get_linestyle() == "-" and len(line.get_xdata()) == 3]
    assert len(mean_lines) == 1
    np.testing.assert_allclose(mean_lines[0].get_xdata(), [0.001, 0.01, 0.2])
    np.testing.assert_allclose(mean_lines[0].get_ydata(), [100 * np.mean(ACCURACY[b]) for b in (0.001, 0.01, 0.2)])
    reference = [line for line in ax_log.lines if line.get_linestyle() == "--"]
    np.testing.assert_allclose(reference[0].get_ydata(), 100 * np.mean(ACCURACY[0.0]))
    faint = [line for line in ax_log.lines if line.get_alpha() is not None and line.get_alpha() < 1]
    assert sum(len(line.get_xdata()) for line in faint) == 9, "every individual run is drawn"


@pytest.mark.parametrize("bers, scales", [([0.01, 0.1], ["log"]), ([0.0], ["linear"])])
def test_figure_without_ber0_or_with_only_ber0(bers, scales):
    fig = sweep_plot.ber_accuracy_figure({b: np.array(ACCURACY[0.0]) for b in bers})
    assert [ax.get_xscale() for ax in fig.axes] == scales


def test_plot_sweep_writes_png_and_svg(tmp_path):
    png, svg = sweep_plot.plot_sweep(write_results(tmp_path), title="LeNet-4, MNIST")
    assert (png, svg) == (tmp_path / "ber_accuracy.png", tmp_path / "ber_accuracy.svg")
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size[0] > 600
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and "LeNet-4, MNIST" in text
    assert not list(tmp_path.glob(".*.tmp"))


def test_plot_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="no sweep results"):
        sweep_plot.plot_sweep(tmp_path)
    with pytest.raises(ValueError, match="metric must be one of .*, got 'seconds'"):
        sweep_plot.read_results(write_results(tmp_path), "seconds")
    write_results(tmp_path, {})
    with pytest.raises(ValueError, match="no finished runs"):
        sweep_plot.read_results(tmp_path)


def test_plot_command_line(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    sweep_plot.add_plot_arguments(parser)
    paths = sweep_plot.run_plot_from_args(parser.parse_args([str(write_results(tmp_path)), "--metric",
                                                             "best_test_accuracy"]))
    assert all(p.exists() for p in paths) and "ber_accuracy.svg" in capsys.readouterr().out


def test_a_peer_reference_is_drawn_beside_the_runs(tmp_path, capsys):
    reference = tmp_path / "peer.csv"
    reference.write_text("# a peer's means\nber,test_accuracy\n0,0.9888\n0.01,0.9894\n0.2,0.9836\n")
    assert results.read_reference(reference) == {0.0: 0.9888, 0.01: 0.9894, 0.2: 0.9836}
    fig = sweep_plot.ber_accuracy_figure({b: np.array(v) for b, v in ACCURACY.items()},
                                         reference=results.read_reference(reference), reference_label="PyTorch")
    ax_zero, ax_log = fig.axes
    peer = [line for ax in fig.axes for line in ax.lines if line.get_label() == "PyTorch"]
    assert [list(line.get_xdata()) for line in peer] == [[0.0], [0.01, 0.2]]
    np.testing.assert_allclose(peer[1].get_ydata(), [98.94, 98.36])
    assert "PyTorch" in [text.get_text() for text in ax_log.get_legend().get_texts()]

    parser = argparse.ArgumentParser()
    sweep_plot.add_plot_arguments(parser)
    sweep_plot.run_plot_from_args(parser.parse_args([str(write_results(tmp_path)), "--reference", str(reference),
                                                     "--reference-label", "PyTorch"]))
    assert "PyTorch" in (tmp_path / "ber_accuracy.svg").read_text()


@pytest.mark.parametrize("text", ["ber,accuracy\n0,0.9\n", "ber,test_accuracy\n0,high\n", ""])
def test_a_bad_reference_file_is_named(tmp_path, text):
    reference = tmp_path / "peer.csv"
    reference.write_text(text)
    with pytest.raises(ValueError, match="peer.csv"):
        results.read_reference(reference)


def test_learning_curves_draw_one_line_per_run(tmp_path):
    curves = {(0.0, 0): [0.3, 0.5, 0.6], (0.0, 1): [0.35, 0.45], (0.1, 0): [0.2, 0.4, 0.5]}
    fig = sweep_plot.learning_curves_figure(curves, title="NiN")
    lines = fig.axes[0].lines
    assert [line.get_label() for line in lines] == ["BER 0, repeat 0", "BER 0, repeat 1", "BER 0.1, repeat 0"]
    np.testing.assert_allclose(lines[1].get_xdata(), [1, 2])
    np.testing.assert_allclose(lines[2].get_ydata(), [20, 40, 50])
    colors = [tuple(line.get_color()) for line in lines]
    assert colors[0] == colors[1] != colors[2]   # the color is the BER's
    with pytest.raises(ValueError, match="no run has ended an epoch"):
        sweep_plot.learning_curves_figure({})


def test_ylim_zooms_the_accuracy_axis():
    fig = sweep_plot.ber_accuracy_figure({b: np.array(v) for b, v in ACCURACY.items()}, ylim=(98.5, 99.6))
    assert all(ax.get_ylim() == (98.5, 99.6) for ax in fig.axes)


def test_a_long_title_and_the_run_count_fit_inside_the_figure():
    fig = sweep_plot.ber_accuracy_figure({b: np.array(v) for b, v in ACCURACY.items()},
                                         title="NiN, CIFAR-10 (JPEG), 12 epochs", unfinished={0.05: [0.34]})
    FigureCanvasAgg(fig).draw()   # lays the figure out as a saved file is
    title, = [text for text in fig.texts if "unfinished" in text.get_text()]
    assert title.get_text().startswith("NiN, CIFAR-10 (JPEG), 12 epochs") and "over 3 runs" in title.get_text()
    box, page = title.get_window_extent(), fig.bbox
    assert page.x0 <= box.x0 and box.x1 <= page.x1, "the title is clipped at the figure's edges"
