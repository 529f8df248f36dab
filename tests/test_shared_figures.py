"""ui.page.charts: a page's figures are built once per saved state and shared by every session."""

import os
import shutil

from cnnexp.config import parse
from cnnexp.experiments import baseline
from cnnexp.results import Results
from cnnexp.store import Store
from ui import page


def _charts(root, values):
    cfg = parse(baseline.Config, values)
    return page.charts(baseline, cfg, Results(baseline.plan(cfg), Store(root)))


def test_the_same_saved_runs_share_one_set_of_figures_until_a_run_is_saved_anew(
    tmp_path, tiny_saved
):
    root = tmp_path / "results"
    shutil.copytree(tiny_saved("baseline"), root)
    values = {**baseline.TINY, "seeds": 2}
    first = _charts(root, values)
    assert first["accuracy"].data, "the figure shows the saved runs"
    assert _charts(root, values) is first  # a second visitor: no figure is built again

    # a run saved anew (its file rewritten) is another saved state: the figures are rebuilt
    run_file = next((root / "runs" / "baseline").glob("*.parquet"))
    later = os.stat(run_file).st_mtime_ns + 10**9
    os.utime(run_file, ns=(later, later))
    rebuilt = _charts(root, values)
    assert rebuilt is not first
    assert rebuilt["accuracy"].to_dict() == first["accuracy"].to_dict()  # same runs, same chart

    # other settings (one seed of the plan) get their own figures
    assert _charts(root, {**values, "seeds": 1}) is not rebuilt


def test_a_shared_figure_is_turned_into_a_dict_once_for_every_view(monkeypatch):
    import numpy as np
    import plotly.graph_objects as go
    import plotly.io as pio
    import pytest

    from ui import downloads

    def heatmap():
        return go.Figure(go.Heatmap(z=np.arange(64.0).reshape(8, 8)), layout={"title": "probe"})

    fig = heatmap()
    assert page.shared("test-figure", ("a", 1, None), lambda: {"fig": fig})["fig"] is fig
    sent = fig._cnnexp_sent  # made when it was shared
    assert pio.to_json(sent, validate=False) == pio.to_json(fig, validate=False)

    # What each view does (st.plotly_chart, bare mode here): no new copy of a shared figure,
    # where a figure built for one view is copied as before.
    copies = []
    real = go.Figure.to_dict
    monkeypatch.setattr(go.Figure, "to_dict", lambda self: copies.append(self) or real(self))
    for _ in range(3):
        downloads.chart(fig, "shared")
    assert copies == []
    once = heatmap()
    downloads.chart(once, "once")
    assert copies == [once]

    with pytest.raises(TypeError, match="allowed: str, int, float, None, tuple"):
        page.shared("test-figure", ("a", [1]), lambda: {})  # a list's repr is no safe key
