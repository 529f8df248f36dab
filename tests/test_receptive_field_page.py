"""pages/receptive_field.py through AppTest: the instant tabs draw at once, saved runs of the
distance task show their headline and chart, bad probe settings and the probe budget refuse
with a message."""

import pytest
from streamlit.testing.v1.element_tree import Widget

from cnnexp.config import parse
from cnnexp.experiments import receptive_field as rf
from cnnexp.runner import execute
from cnnexp.runspec import RunContext
from cnnexp.store import Store
from tests.test_app import RUN_TAB, open_page, open_tab
from ui.links import query_for

PAGE = "pages/receptive_field.py"


@pytest.fixture
def saved(results):
    store = Store(results)
    for spec in rf.plan(parse(rf.Config, {**rf.TINY, "seeds": 2})):
        execute(spec, store, RunContext(device="cpu"))
    return results


def test_saved_runs_and_the_instant_parts_render(saved):
    at = open_page(PAGE, {**query_for(rf.TINY), "seeds": "2"})
    assert not at.exception, at.exception
    # Only the open tab is built: the theoretical field first.
    assert "a unit sees **9×9 pixels**" in " ".join(m.value for m in at.markdown)
    assert at.dataframe[0].value["field side (px)"].tolist() == [3, 5, 7, 9]
    assert len(at.get("plotly_chart")) == 1  # the squares
    assert not any("Cached" in c.value for c in at.caption)  # the trained tab is not built

    open_tab(at, *RUN_TAB["receptive_field"])
    assert not at.exception, at.exception
    assert any("Cached" in c.value for c in at.caption), [c.value for c in at.caption]
    assert "chance is 50%" in " ".join(m.value for m in at.markdown)  # the trained explanation
    assert len(at.get("plotly_chart")) == 2  # accuracy, the trained runs' effective fields

    open_tab(at, "receptive-field", "Effective field")
    assert not at.exception, at.exception
    assert "Luo et al." in " ".join(m.value for m in at.markdown)  # with its numbers
    assert len(at.get("plotly_chart")) == 2  # the effective map, the depth sweep


def test_probe_settings_from_a_link_change_the_table(results):
    at = open_page(PAGE, {"rf_depth": "3", "rf_dilation": "2", "rf_pool_every": "1"})
    assert not at.exception, at.exception
    assert at.dataframe[0].value["field side (px)"].tolist() == [5, 6, 14, 16, 32, 36]


def test_an_even_kernel_is_refused_with_the_reason(results):
    at = open_page(PAGE, {"rf_kernel": "4"})
    assert not at.exception, at.exception
    assert any("kernel 4 is even" in e.value for e in at.error), [e.value for e in at.error]
    assert not at.dataframe and not at.get("plotly_chart")  # nothing drawn from bad settings


def test_the_server_probe_budget_holds(results, monkeypatch):
    monkeypatch.setenv("CNNEXP_PROBE_GFLOP", "0.01")
    at = open_page(PAGE, tab=("receptive-field", "Effective field"))
    assert not at.exception, at.exception
    assert any("GFLOP" in w.value for w in at.warning), [w.value for w in at.warning]
    assert not at.get("plotly_chart")  # no effective field, no depth sweep


def test_the_first_tabs_settings_come_first_and_no_two_controls_share_a_label(results):
    """Found (issue 27): two sliders labelled "Depth", and the one under "Trained stacks", at the
    top of the sidebar, changed nothing on the first tab, whose own sat at the bottom."""
    at = open_page(PAGE)
    assert not at.exception, at.exception
    widgets = [w for w in at.sidebar if isinstance(w, Widget)]
    assert [w.key for w in widgets][:6] == [
        "rf_depth", "rf_kernel", "rf_stride", "rf_dilation", "rf_pool_every", "rf_seeds"
    ]  # fmt: skip
    labels = [w.label for w in at if isinstance(w, Widget)]
    assert len(labels) == len(set(labels)), sorted(labels)
    assert at.slider(key="rf_depth").label == "Depth"
    assert at.slider(key="depth").label == "Trained depth"
