"""ui/runs_ranges.py: the ranges set, as the Runs page's sliders show them."""

from cnnexp.analysis import Bounds
from ui.runs_ranges import within

LIMITS = {"width": Bounds(4, 32, True), "lr": Bounds(0.001, 0.05, False)}


def test_ranges_are_held_within_their_bounds_and_a_full_one_filters_nothing():
    assert within({"width": (8, 16), "lr": (0.001, 0.05)}, LIMITS) == {"width": (8, 16)}
    # a link's range past the bounds is narrowed (whole numbers for a whole setting)
    assert within({"width": (2.7, 100.0)}, LIMITS) == {}
    assert within({"width": (16.9, 100.0)}, LIMITS) == {"width": (16, 32)}
    assert within({"lr": (0.0001, 0.01)}, LIMITS) == {"lr": (0.001, 0.01)}


def test_a_range_on_a_setting_the_filters_hide_is_kept_out_of_the_filter():
    assert within({"depth": (3, 4), "width": (8, 8)}, LIMITS) == {"width": (8, 8)}
