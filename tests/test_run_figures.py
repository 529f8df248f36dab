"""cnnexp/run_figures.py: the Runs page's figures (more in tests/test_runs_page.py)."""

import math

import numpy as np
import pandas as pd
import pytest

from cnnexp import run_figures


def test_widths_learning_rates_and_image_counts_read_on_log_axes():
    """Found: widths 1 to 64 on an even axis piled up at its foot, their labels overlapping."""
    runs = pd.DataFrame(
        {
            "width": [1, 2, 4, 8, 16, 64] * 2,
            "depth": [2, 3, 4, 2, 3, 4] * 2,  # a ratio of 2: an even axis
            "lr": [0.001, 0.002] * 6,  # declared log by its config.param, whatever its span
            "augment_shift": [0, 6] * 6,  # zero has no logarithm
            "test_acc": np.linspace(0.5, 0.9, 12),
        }
    )
    cols = ["width", "depth", "lr", "augment_shift"]
    assert run_figures.log_axes(runs, cols) == {"width", "lr"}
    width, depth, lr, shift, acc = run_figures.parallel(runs, cols).data[0].dimensions
    assert list(width.values[:6]) == pytest.approx([math.log10(w) for w in (1, 2, 4, 8, 16, 64)])
    assert list(width.ticktext) == ["1", "2", "4", "8", "16", "64"]  # evenly apart, none over
    assert list(width.tickvals) == pytest.approx(list(width.values[:6]))
    assert list(depth.values[:3]) == [2, 3, 4] and list(shift.ticktext) == ["0", "6"]
    assert list(lr.ticktext) == ["0.001", "0.002"]


def test_x_against_y_reads_in_words_with_its_runs_in_sight():
    """Found: the runs' dots were nearly invisible behind the means, the axes read the raw
    `test_acc` and `n_train`, the legend said "runs mean (3 seeds max)"."""
    runs = pd.DataFrame(
        {
            "run_id": [f"{i:016x}" for i in range(6)],
            "n_train": [100, 100, 300, 300, 1438, 1438],
            "seed": [0, 1] * 3,
            "test_acc": [0.70, 0.72, 0.80, 0.81, 0.90, 0.92],
        }
    )
    fig = run_figures.scatter(runs, "n_train", "test_acc", group_by=["n_train"])
    means, dots = fig.data  # the runs drawn over their means
    assert dots.marker.symbol == "circle-open" and dots.marker.size >= 7
    assert list(dots.customdata[:, 0]) == list(runs["run_id"])  # a box selects runs
    assert [(t.name, t.showlegend) for t in fig.data] == [
        ("mean over seeds, 95% CI", True),
        ("one run (seed)", True),
    ]
    assert fig.layout.xaxis.title.text == "training images"
    assert fig.layout.yaxis.title.text == "test accuracy" and fig.layout.yaxis.tickformat == ".0%"
    assert fig.layout.xaxis.type == "log"  # 100 to 1,438 images, ticked at those
    assert list(fig.layout.xaxis.ticktext) == ["100", "300", "1,438"]
