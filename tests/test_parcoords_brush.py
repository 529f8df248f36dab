"""ui/parcoords_brush.py: what a browser reports as brushed ranges is read as data."""

from ui.parcoords_brush import ranges_of, slider_value

LABELS = {"width": "width", "test acc": "test_acc"}


def test_brushed_ranges_are_read_by_column_in_order():
    raw = {"width": [32, 8.5], "test acc": [0.5, 0.9]}
    assert ranges_of(raw, LABELS) == {"width": (8.5, 32.0), "test_acc": (0.5, 0.9)}


def test_anything_else_a_browser_sends_is_dropped():
    raw = {
        "width": [[1, 2], [5, 6]],  # several ranges on one axis
        "test acc": ["nan", 1],
        "unknown axis": [0, 1],
        "<b>x</b>": [0, 1],
    }
    assert ranges_of(raw, LABELS) == {}
    for junk in (None, [], "width", 7, {"width": "0,1"}, {"width": [1]}, {"width": [1, "x"]}):
        assert ranges_of(junk, LABELS) == {}


def test_a_brush_becomes_a_slider_value_inside_the_sliders_range():
    assert slider_value((2.5, 40.0), 4, 32, whole=True) == (4, 32)
    assert slider_value((8.2, 15.7), 4, 32, whole=True) == (9, 15)
    assert slider_value((8.2, 8.7), 4, 32, whole=True) == (9, 9)
    assert slider_value((0.52, 0.91), 0.1, 0.9, whole=False) == (0.52, 0.9)
    assert slider_value(None, 4, 32, whole=True) == (4, 32)  # a cleared brush: everything


def test_a_brush_sets_the_ranges_of_the_axes_the_chart_drew_and_no_others():
    from cnnexp.analysis import Bounds
    from ui.parcoords_brush import merged

    limits = {
        "width": Bounds(4, 32, True),
        "depth": Bounds(2, 4, True),
        "lr": Bounds(0.1, 0.9, False),
    }
    ranges = {"depth": (3, 4), "lr": (0.2, 0.5)}  # set before: by sliders, a link, brushes
    drawn = ["width", "depth", "model"]  # lr was taken off the chart: not reported, not cleared
    # The browser reports every brush on the chart: a new one on width, none on depth (cleared).
    after = merged(ranges, {"width": (7.5, 20.2)}, drawn, limits)
    assert after == {"width": (8, 20), "lr": (0.2, 0.5)}
    assert ranges == {"depth": (3, 4), "lr": (0.2, 0.5)}  # a new record: the old one unchanged
    # The report repeats the ranges the chart was drawn with: nothing moves.
    assert merged(after, {"width": (8, 20)}, drawn, limits) == after


def test_a_brush_on_a_log_axis_comes_back_in_the_settings_values():
    raw = {"width": [0.9030899869919435, 1.2041199826559248], "test acc": [0.5, 0.9]}
    assert ranges_of(raw, LABELS, log={"width"}) == {"width": (8.0, 16.0), "test_acc": (0.5, 0.9)}
    assert slider_value((8.0, 16.0), 4, 32, whole=True) == (8, 16)  # not (8, 15)
    assert ranges_of({"width": [1e308, 1e308]}, LABELS, log={"width"}) == {}  # inf: dropped
