"""Chart exports are work done for a visitor (ui/downloads.py, cnnexp/export.py): bounded by the
server's caps, with the limit named in the popover, and checked again where the image is
drawn, as a forged click would reach it."""

import numpy as np
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from cnnexp import export, policy
from tests.test_app import open_page
from ui import access
from ui import downloads as ui_export

SMALL_PROBE = {"image_size": "32", "channels": "4"}
needs_browser = pytest.mark.skipif(export.browser() is None, reason="no Chrome or Chromium")


@pytest.fixture
def fresh_counts():
    """Image counts start empty and are forgotten after the test (they live in the process)."""
    ui_export._drawn.clear()
    ui_export._html.clear()
    yield ui_export._drawn
    ui_export._drawn.clear()
    ui_export._html.clear()


def popover_text(at) -> tuple[list[str], str]:
    """Every chart's Download popover opened (its content is built only while open), then
    the buttons and captions on the page."""
    closed = [b for b in at.get("download_button") if b.proto.label == "PNG"]
    assert not closed, "a closed popover's buttons were built"
    for chart in at.get("plotly_chart"):  # ids end with the key: "$$ID-<hash>-chart-<name>"
        name = chart.proto.id.split("-", 2)[2].removeprefix("chart-")
        at.session_state[f"export-{name}"] = True
    at.run()
    labels = [b.proto.label for b in at.get("download_button")]
    return labels, " ".join(c.value for c in at.caption)


def test_points_count_markers_whole_and_heatmap_cells_by_sixteen():
    fig = go.Figure(go.Scatter(x=np.arange(1000), y=np.arange(1000)))
    fig.add_trace(go.Heatmap(z=np.zeros((64, 64))))  # 4,096 cells: 256 points
    fig.add_trace(go.Parcoords(dimensions=[{"values": [1, 2, 3]}, {"values": [4, 5, 6]}]))
    fig.add_trace(go.Bar(x=["a", "b"], y=[[1], [2]]))
    assert export.figure_points(fig) == 1000 + 256 + 6 + 2
    assert export.figure_points(go.Figure()) == 0


@needs_browser
def test_a_persons_image_rate_holds_in_a_new_session(results, monkeypatch, fresh_counts):
    monkeypatch.setenv("CNNEXP_MODE", "viewer")
    monkeypatch.setenv("CNNEXP_MAX_IMAGES_PER_MINUTE", "1")
    caps = access.caps()
    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2]))
    # the click's server side, called directly as a forged request would reach it
    assert ui_export.draw_image(fig, "svg", "client:local", caps).lstrip().startswith(b"<svg")
    with pytest.raises(access.Refused, match="at most 1 PNG or SVG images per person per minute"):
        ui_export.draw_image(fig, "png", "client:local", caps)
    # a new session of the same person: the popover says so instead of offering images
    at = open_page("pages/equivariance.py", SMALL_PROBE)
    assert not at.exception, at.exception
    labels, said = popover_text(at)
    assert "PNG" not in labels and "HTML (interactive)" in labels
    assert "per person per minute; try again in" in said
    # someone else is not held back
    assert ui_export.rate_problem(caps, "client:10.0.0.2") is None


def test_a_persons_html_charts_are_rated_in_hosted_modes(results, monkeypatch, fresh_counts):
    """Found: each click on HTML made ~5 MB (plotly.js inside, for offline use), unbounded in
    hosted modes. Each person gets a few a minute; the file itself is unchanged."""
    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2]))
    assert access.caps().max_html_per_minute is None  # a laptop: as many as its owner likes
    for _ in range(3):
        ui_export.html_file(fig, "client:local", access.caps())
    ui_export._html.clear()
    monkeypatch.setenv("CNNEXP_MODE", "viewer")
    assert policy.Caps.defaults("viewer").max_html_per_minute == 10
    monkeypatch.setenv("CNNEXP_MAX_HTML_PER_MINUTE", "1")
    caps = access.caps()
    html = ui_export.html_file(fig, "client:local", caps)  # the click, as a forged one reaches it
    assert b"<html>" in html[:100] and b"plotly.js v" in html  # offline: plotly.js inside
    with pytest.raises(access.Refused, match="at most 1 interactive HTML charts .* per minute"):
        ui_export.html_file(fig, "client:local", caps)
    at = open_page("pages/equivariance.py", SMALL_PROBE)  # a new session of the same person
    assert not at.exception, at.exception
    labels, said = popover_text(at)
    assert "HTML (interactive)" not in labels
    assert "interactive HTML charts (~5 MB each" in said and "try again in" in said
    assert ui_export.rate_problem(caps, "client:10.0.0.2", "html") is None  # someone else


def test_a_chart_over_the_points_cap_is_not_exported(results, monkeypatch, fresh_counts):
    monkeypatch.setenv("CNNEXP_MODE", "viewer")
    monkeypatch.setenv("CNNEXP_MAX_FIGURE_POINTS", "100")
    at = open_page("pages/equivariance.py", SMALL_PROBE)
    assert not at.exception, at.exception
    labels, said = popover_text(at)
    assert at.get("plotly_chart")  # the charts are shown; only their export is refused
    assert "this server exports charts of at most 100." in said
    assert labels.count("PNG") < len(at.get("plotly_chart"))  # the maps (384 points) have none
    fig = go.Figure(go.Scatter(x=np.arange(101), y=np.arange(101)))
    with pytest.raises(access.Refused, match="at most 100"):  # and a forged click draws nothing
        ui_export.draw_image(fig, "png", "client:local", access.caps())
    assert not fresh_counts  # a refused chart does not spend the person's rate


def test_a_chart_with_nothing_to_draw_says_so_instead_of_empty_axes():
    def page():
        import plotly.graph_objects as go

        from ui import downloads as export

        empty = go.Figure(go.Scatter(x=[], y=[]), layout={"title": {"text": "Final accuracy"}})
        export.chart(empty, "empty")
        export.chart(go.Figure(go.Scatter(x=[1], y=[2])), "one-point")

    at = AppTest.from_function(page).run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 1  # the chart with a point
    assert not export.draws_anything(go.Figure([go.Scatter(x=[], y=[]), go.Heatmap(z=[])]))
    assert export.draws_anything(go.Figure([go.Scatter(x=[]), go.Heatmap(z=[[1.0]])]))
    assert [c.value for c in at.caption] == ["Final accuracy: nothing to draw yet."]


def test_the_image_limits_are_named_on_the_buttons(results, monkeypatch):
    monkeypatch.setenv("CNNEXP_MODE", "viewer")
    at = open_page("pages/equivariance.py", SMALL_PROBE)
    popover_text(at)  # opens every Download popover
    png = [b for b in at.get("download_button") if b.proto.label == "PNG"]
    if export.browser() is None:
        pytest.skip("no Chrome or Chromium: no image buttons")
    assert png and "6 images per person per minute" in png[0].proto.help


def test_a_busy_server_refuses_rather_than_queue_without_end(fresh_counts):
    caps = policy.Caps(max_images_at_once=1)
    slots = ui_export._slots(1)
    assert slots.acquire(timeout=5)  # another visitor's image is being drawn
    try:
        with pytest.raises(access.Refused, match="at most 1 image"):
            ui_export.draw_image(go.Figure(), "png", "client:a", caps, wait_s=0.05)
    finally:
        slots.release()


def test_a_server_may_turn_images_off(results, monkeypatch):
    monkeypatch.setenv("CNNEXP_MAX_IMAGES_AT_ONCE", "0")
    at = open_page("pages/equivariance.py", SMALL_PROBE)
    labels, said = popover_text(at)
    if export.browser() is not None:
        assert policy.NO_IMAGES in said
    assert "PNG" not in labels and "HTML (interactive)" in labels


@pytest.mark.browser
def test_in_a_browser_the_second_image_of_the_minute_is_refused(tmp_path):
    """The deferred download runs draw_image in the real server: the first image of the
    minute downloads, the next click is refused, and a reload says why."""
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, launch, settled, streamlit_server

    if CHROMIUM is None or export.browser() is None:
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    env = {"CNNEXP_MODE": "viewer", "CNNEXP_MAX_IMAGES_PER_MINUTE": "1"}
    query = "&".join(f"{k}={v}" for k, v in SMALL_PROBE.items())
    with streamlit_server(tmp_path / "results", env) as url, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 2600})
        page.goto(f"{url}/equivariance?{query}")
        settled(page)
        page.get_by_role("button", name="Download", exact=True).first.click()
        with page.expect_download(timeout=120_000) as download:
            page.get_by_role("button", name="PNG", exact=True).click()
        assert Path(download.value.path()).read_bytes()[:4] == b"\x89PNG"
        page.get_by_role("button", name="SVG", exact=True).click()
        page.wait_for_selector("[data-testid='stDownloadButtonError']", timeout=60_000)
        page.reload()
        settled(page)
        page.get_by_role("button", name="Download", exact=True).first.click()
        page.wait_for_selector("text=per person per minute; try again in", timeout=30_000)
        assert page.get_by_role("button", name="PNG", exact=True).count() == 0
        browser.close()


def test_the_data_behind_a_page_is_offered_only_once_its_box_is_opened(tiny_saved, monkeypatch):
    from tests.conftest import TINY
    from ui.links import query_for

    monkeypatch.setenv("CNNEXP_RESULTS", str(tiny_saved("baseline")))
    at = open_page("pages/baseline.py", {**query_for(TINY), "seeds": "2"})
    assert not at.exception, at.exception
    assert not at.get("download_button")  # closed: nothing built
    at.session_state["data-baseline"] = True  # the visitor opens "Download the data…"
    at.run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels.count("CSV") == labels.count("PARQUET") >= 1
    assert any("rows ×" in m.value for m in at.markdown)
