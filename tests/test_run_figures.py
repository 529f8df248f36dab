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
