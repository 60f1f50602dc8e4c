"""Plots use log axes with unit labels and a legend, and are written atomically as PNG images."""
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from mtj import plots
from mtj.paper import figure5
from mtj.wer import write_error_rate_estimate


def small_figure5():
    return figure5(drive=np.linspace(1.2, 4.0, 12), rows=[])


def test_figure5_axes():
    fig = plots.figure5_figure(small_figure5())
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "ns" in ax.get_xlabel() and "V_c" in ax.get_ylabel()
    assert len(ax.get_legend().get_texts()) == 5 + 1  # five targets and the marked points
    plt.close(fig)


def test_wer_curves_axes():
    fig = plots.wer_curves_figure(np.linspace(0.8, 4, 30), [2.0, 5.0, 20.0])
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and "V_c" in ax.get_xlabel() and len(ax.get_legend().get_texts()) == 3
    plt.close(fig)


def test_figure5_names_its_inputs():
    figure = small_figure5()
    fig = plots.figure5_figure(figure)
    caption = " ".join(text.get_text() for text in fig.texts)
    assert "inferred: thermal stability Delta 40" in caption and "assumed:" in caption and "V_bd" in caption
    plt.close(fig)


def test_wer_map_axes():
    drive, pulse = np.linspace(1.0, 4.0, 12), np.geomspace(0.5, 50.0, 10)
    fig = plots.wer_map_figure(drive, pulse, write_error_rate_estimate(drive[:, None], pulse[None, :]))
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and "V_c" in ax.get_ylabel() and "floor" in ax.get_title()
    plt.close(fig)


def test_png_written_atomically(tmp_path):
    path = tmp_path / "figure5.png"
    plots.plot_figure5(small_figure5(), path)
    with Image.open(path) as image:
        assert image.size[0] > 400 and image.size[1] > 300
    assert list(tmp_path.iterdir()) == [path], "no temporary file left behind"
