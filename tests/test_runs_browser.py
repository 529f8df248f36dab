"""The Runs page in a real browser: narrowing a setting's range shrinks the table, whether the
range is set with its slider (the keyboard, as a user can) or dragged along an axis of the
parallel-coordinates chart (reported by ui/parcoords_brush.py; Streamlit's own chart
selections do not report axis brushes)."""

import contextlib
import os
import re

import pytest

from cnnexp.store import Store
from tests.browser import CHROMIUM, launch, settled, streamlit_server
from tests.test_analysis import write_runs

pytestmark = pytest.mark.browser

# Each axis of the chart: its title and the box one drags in (plotly.js draws both per axis).
AXES = """() => [...document.querySelectorAll('.st-key-chart-runs-parallel .y-axis')].map(a => {
    const t = a.querySelector('.axis-title'), r = a.querySelector('.axis-brush rect.background');
    const b = r && r.getBoundingClientRect();
    return [t ? t.textContent : '', b ? [b.x, b.y, b.width, b.height] : null];
})"""


@contextlib.contextmanager
def runs_page(tmp_path, query: str):
    """The Runs page over 12 runs (depth 2, 3, 4 × width 4, 8, 16, 32, one seed), opened
    with `query`; yields the page and the saved runs."""
    if CHROMIUM is None:
        if os.environ.get("CNNEXP_REQUIRE_BROWSER") == "1":
            pytest.fail("CNNEXP_REQUIRE_BROWSER=1 but no chromium is installed")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    results = tmp_path / "results"
    write_runs(Store(results), n_seeds=1)
    with streamlit_server(results) as url, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 2000})
        page.goto(f"{url}/runs?{query}")
        # A cold first run (a fresh clone compiles and imports as it goes) can pause with only
        # the title drawn, which looks idle: wait for the table's caption itself.
        page.get_by_text("12 of 12 saved runs").first.wait_for(timeout=90_000)
        settled(page)
        yield page, Store(results).runs()
        browser.close()


@contextlib.contextmanager
def parallel_page(tmp_path):
    """The Runs page, one row per run, its parallel-coordinates view open."""
    with runs_page(tmp_path, "group=off&view=parallel-coordinates") as (page, _):
        assert page.locator(".js-plotly-plot .parcoords").count() == 1
        yield page


def test_a_range_slider_shrinks_the_table(tmp_path):
    with parallel_page(tmp_path) as page:
        page.get_by_text("Ranges (0 set)").click()
        thumb = page.get_by_role("slider").first  # the first range: depth (2, 3, 4), low end
        thumb.focus()
        thumb.press("End")  # the low end to the top: only the deepest runs remain
        settled(page)
        body = page.inner_text("body")
        assert re.search(r"4 runs · 4 of 12 saved runs", body), body[:2000]
        assert "range=" in page.url


def test_dragging_along_an_axis_filters_the_table(tmp_path):
    with parallel_page(tmp_path) as page:
        page.wait_for_selector(".st-key-chart-runs-parallel .axis-brush", timeout=30_000)
        x, y, w, h = dict(page.evaluate(AXES))["depth"]  # depth 2 at the bottom, 4 at the top
        page.mouse.move(x + w / 2, y + 2)
        page.mouse.down()
        page.mouse.move(x + w / 2, y + h * 0.25, steps=8)  # the top quarter: depth 4 only
        page.mouse.up()
        page.wait_for_timeout(500)
        settled(page)
        body = page.inner_text("body")
        assert re.search(r"4 runs · 4 of 12 saved runs", body), body[:2000]
        assert "range=depth" in page.url  # the brush is in the link, like a slider's range
        # Another view has no chart to brush (nor its listener): the range stays, and is
        # drawn again as the axis's brush on the way back.
        for view in ("curves", "parallel coordinates"):
            page.locator("[data-testid='stButtonGroup']").get_by_text(view, exact=True).click()
            settled(page)
            assert re.search(r"4 runs · 4 of 12 saved runs", page.inner_text("body")), view
        assert "range=depth" in page.url
        page.wait_for_selector(".st-key-chart-runs-parallel .axis-brush", timeout=30_000)
        brush = page.evaluate(
            """() => document.querySelector('.st-key-chart-runs-parallel .js-plotly-plot')
                .data[0].dimensions.find(d => d.label === 'depth').constraintrange"""
        )
        assert brush == [4, 4], brush  # the depth range, drawn on its axis again


def test_a_selection_follows_its_run_through_a_filter(tmp_path):
    """Found: the table kept its tick at the same row position after a filter, so the curves,
    the link and Delete took another run. AppTest does not keep a table's selection between
    runs; the browser does."""
    rid = "0000000000000002"  # write_runs: width 4, depth 4, the third run saved
    with runs_page(tmp_path, f"group=off&runs={rid}") as (page, runs):
        assert runs.set_index("run_id").loc[rid, ["width", "depth"]].tolist() == [4, 4]
        assert f"runs={rid}" in page.url
        search = page.get_by_placeholder("label, run id, setting, name or note")
        search.fill('"depth": 4')
        search.press("Enter")
        page.get_by_text("4 of 12 saved runs").first.wait_for(timeout=60_000)
        settled(page)
        assert f"runs={rid}" in page.url, page.url  # the same run, on another row
        search.fill('"depth": 3')
        search.press("Enter")
        page.get_by_text("4 of 12 saved runs").first.wait_for(timeout=60_000)
        settled(page)
        assert "runs=" not in page.url, page.url  # hidden by the filter: not selected
        assert "not saved runs here" not in page.inner_text("body")


def test_dragging_along_a_log_axis_filters_by_the_settings_values(tmp_path):
    """Widths 4 to 32 read on a log axis (its positions are the widths' logarithms): a brush
    there filters by widths, not by their logarithms."""
    with parallel_page(tmp_path) as page:
        page.wait_for_selector(".st-key-chart-runs-parallel .axis-brush", timeout=30_000)
        x, y, w, h = dict(page.evaluate(AXES))["width"]  # 4 at the bottom, 32 at the top
        page.mouse.move(x + w / 2, y + h * 0.5)  # from the middle to past the top: the brush
        page.mouse.down()  # ends at 32 (log10 of 11 to 32: widths 16 and 32)
        page.mouse.move(x + w / 2, y - 20, steps=8)
        page.mouse.up()
        page.wait_for_timeout(500)
        settled(page)
        body = page.inner_text("body")
        assert re.search(r"6 runs · 6 of 12 saved runs", body), body[:2000]
        # widths, not their logarithms (1.05 to 1.51), in the link
        assert re.search(r"range=width%3A1[1-6]%3A32", page.url), page.url


def test_an_empty_table_keeps_clear_of_the_view_label(tmp_path):
    """Found: with no run in the filter, the "View" label was drawn over the table's border
    (its height allowed for the header alone, not the empty row Streamlit draws)."""
    with runs_page(tmp_path, "") as (page, _):
        search = page.get_by_placeholder("label, run id, setting, name or note")
        search.fill("no such run")
        search.press("Enter")
        page.get_by_text("0 of 12 saved runs").first.wait_for(timeout=60_000)
        settled(page)
        # the grid as drawn (it overflows the element's box when that is too short)
        table = page.locator("[data-testid='stDataFrameResizable']").first.bounding_box()
        label = page.get_by_text("View", exact=True).first.bounding_box()
        assert label["y"] >= table["y"] + table["height"], (label, table)


def test_run_detail_opens_the_inside_page_for_its_run(tmp_path):
    """Issue 26: Inside a model is opened from a run on the Runs page, for that run."""
    with runs_page(tmp_path, "group=off") as (page, runs):
        rid = runs["run_id"].iloc[0]
        page.goto(page.url.split("?")[0] + f"?group=off&view=run-detail&runs={rid}")
        link = page.get_by_text("Look inside this run")
        link.first.wait_for(timeout=60_000)
        link.first.click()
        # Runs written by hand, with no version: the page says it cannot rebuild them (found:
        # a KeyError traceback), for the run the link named.
        page.get_by_text("nothing to look inside").first.wait_for(timeout=90_000)
        assert page.get_by_text("Traceback").count() == 0
        assert "/inside?" in page.url and "run=" in page.url, page.url
        assert re.search(r"run=([0-9a-f]+)", page.url).group(1) == rid, page.url
