"""The Runs page in a real browser: narrowing a setting's range shrinks the table.

Streamlit reports no selection event for a parallel-coordinates axis brush (Plotly's Parcoords
sends none), so the range a user drags lives in the page's range sliders; this drives one with
the keyboard, as a user can, and reads the run count the page states."""

import os
import re

import pytest

from cnnexp.store import Store
from tests.browser import CHROMIUM, launch, settled, streamlit_server
from tests.test_analysis import write_runs

pytestmark = pytest.mark.browser


def test_dragging_a_range_shrinks_the_table(tmp_path):
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
        assert page.locator(".js-plotly-plot .parcoords").count() == 1
        page.get_by_text("Ranges (0 set)").click()
        thumb = page.get_by_role("slider").first  # the first range: depth (2, 3, 4), low end
        thumb.focus()
        thumb.press("End")  # the low end to the top: only the deepest runs remain
        settled(page)
        body = page.inner_text("body")
        assert re.search(r"4 runs · 4 of 12 saved runs", body), body[:2000]
        assert "range=" in page.url
        browser.close()
