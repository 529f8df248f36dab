"""The Runs page in a real browser: dragging a range along a parallel-coordinates axis filters
the table, through ui/parcoords_brush.py (Streamlit's own chart selections do not report it)."""

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


def test_dragging_along_an_axis_filters_the_table(tmp_path):
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
        page.goto(f"{url}/runs?group=off&view=parallel-coordinates")
        settled(page)
        assert "12 of 12 saved runs" in page.inner_text("body")
        page.wait_for_selector(".st-key-chart-runs-parallel .axis-brush", timeout=30_000)
        axes = dict(page.evaluate(AXES))
        x, y, w, h = axes["depth"]  # depth 2, 3, 4 from the bottom of the axis to the top
        page.mouse.move(x + w / 2, y + 2)
        page.mouse.down()
        page.mouse.move(x + w / 2, y + h * 0.25, steps=8)  # the top quarter: depth 4 only
        page.mouse.up()
        page.wait_for_timeout(500)
        settled(page)
        body = page.inner_text("body")
        assert re.search(r"4 runs · 4 of 12 saved runs", body), body[:2000]
        assert "range=depth" in page.url  # the brush is in the link, like a slider's range
        browser.close()
