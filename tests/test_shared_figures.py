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


def test_a_shown_figure_is_turned_into_a_dict_once(monkeypatch):
    import numpy as np
    import plotly.graph_objects as go
    import plotly.io as pio
    import plotly.tools

    from ui import export

    fig = go.Figure(go.Heatmap(z=np.arange(64.0).reshape(8, 8)), layout={"title": "probe"})
    sent = export.sendable(fig)
    assert export.sendable(fig) is sent  # kept on the figure for every later view
    assert pio.to_json(sent, validate=False) == pio.to_json(fig, validate=False)

    # What st.plotly_chart does with it on every view: no new copy of the figure's data.
    copies = []
    monkeypatch.setattr(go.Figure, "to_dict", lambda self: copies.append(self) or {})
    for _ in range(3):
        as_sent = plotly.tools.return_figure_from_figure_or_data(sent, validate_figure=True)
        assert as_sent["data"][0]["type"] == "heatmap"
    assert copies == []
