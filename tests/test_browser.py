"""A real browser: headless Chromium (Debian's package) drives `streamlit run app.py`.

Starts the server on a free localhost port with a fresh results folder, opens every page,
launches a tiny run on the Baseline page, waits for its chart, checks that a shared link
works as the very first request of a fresh server, and saves screenshots to
$CNNEXP_SCREENSHOTS (default: screenshots/). Skipped where Chromium is not installed,
unless CNNEXP_REQUIRE_BROWSER=1 (CI sets it), which turns the skip into a failure.
"""

import contextlib
import os
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from cnnexp import experiments
from tests.browser import CHROMIUM, launch, settled, streamlit_server
from tests.conftest import ROOT, TINY

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("CNNEXP_SCREENSHOTS", ROOT / "screenshots"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if CHROMIUM is None:
        if os.environ.get("CNNEXP_REQUIRE_BROWSER") == "1":
            pytest.fail(
                "CNNEXP_REQUIRE_BROWSER=1 but no chromium is installed (apt-get install chromium)"
            )
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    results = tmp_path_factory.mktemp("browser") / "results"
    log = results.parent / "server.log"
    with streamlit_server(results, log=log) as url:
        yield {"url": url, "results": results, "log": log}


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def test_a_shared_link_is_the_first_request_of_a_fresh_server(server, browser):
    # Must run first in this module: the server has served nobody yet.
    page = browser.new_page(viewport={"width": 1400, "height": 2600})
    page.goto(f"{server['url']}/scaling?image_size=64")
    settled(page)
    body = page.inner_text("body")
    assert "Parameter scaling" in body and "Results:" in body  # app.py's navigation and frame
    assert "64×64×3 image" in body  # the linked setting took effect
    page.screenshot(path=SHOTS / "scaling-linked.png", full_page=True)
    page.close()


def elsewhere(page) -> list[str]:
    """Start recording what the page asks of any host but the dashboard's own: the default
    must work offline, and a visitor's browser should not tell third parties what it opens
    (Streamlit fetches a Material-icon favicon from fonts.gstatic.com, for one)."""
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if not r.url.startswith(OWN) else None)
    return asked


OWN = ("http://127.0.0.1:", "http://localhost:", "data:", "blob:", "about:")


def test_home(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 2600})
    asked = elsewhere(page)
    page.goto(server["url"] + "/")
    settled(page)
    page.screenshot(path=SHOTS / "home.png", full_page=True)
    assert "cnnexp" in page.inner_text("h1")
    assert page.evaluate("document.querySelector('link[rel~=icon]').href").startswith("data:")
    assert asked == []
    page.close()


@pytest.mark.parametrize("name", [*experiments.names(), "runs"])
def test_every_page_opens(server, browser, name):
    page = browser.new_page(viewport={"width": 1400, "height": 2600})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    asked = elsewhere(page)
    page.goto(f"{server['url']}/{name}")
    settled(page)
    assert not page.query_selector("[data-testid='stException']"), page.inner_text("body")[:2000]
    page.screenshot(path=SHOTS / f"{name}-empty.png", full_page=True)
    assert not errors
    assert asked == []
    page.close()


# What a host reading the server's log must not have to wade through: Streamlit's words for
# Streamlit code run outside a server (found: 23 lines and the "use streamlit run" banner per
# launch, from each spawned worker running app.py again; ui/server_tuning.py).
NOT_REAL_PROBLEMS = ("missing ScriptRunContext", "streamlit run [FILE_NAME]", "No script run")


def test_launch_a_tiny_run_and_see_its_chart(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 2600})
    query = "&".join(f"{k}={v}" for k, v in {**TINY, "epochs": 3, "seeds": 2}.items())
    page.goto(f"{server['url']}/baseline?{query}")
    settled(page)
    logged = server["log"].stat().st_size  # the log from here on is the launch's
    page.get_by_role("button", name="Launch").click()
    page.wait_for_selector("[data-testid='stMetric']", timeout=180_000)
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    settled(page)
    assert "Cached" in page.inner_text("body")
    with open(server["log"], "rb") as f:
        f.seek(logged)
        during = f.read().decode(errors="replace")
    assert not [w for w in NOT_REAL_PROBLEMS if w in during], during[-3000:]
    assert "Traceback" not in during, during[-3000:]
    page.screenshot(path=SHOTS / "baseline-launched.png", full_page=True)
    for fmt, magic in (("PNG", b"\x89PNG\r\n\x1a\n"), ("SVG", b"<svg")):
        page.get_by_role("button", name="Download", exact=True).first.click()
        with page.expect_download(timeout=60_000) as download:
            page.get_by_role("button", name=fmt, exact=True).click()
        data = Path(download.value.path()).read_bytes()
        assert data.lstrip()[: len(magic)] == magic, (fmt, data[:40])
        # Closing the menu reruns the page (it is built only while open); a rerun still in
        # flight from the download can draw it open again, so the next click would close it.
        settled(page)
        page.keyboard.press("Escape")
        settled(page)
    # Tabs are built when opened, and the open tab goes in the link.
    page.get_by_role("tab", name="Loss").click()
    page.wait_for_url("**tabs-baseline=Loss**", timeout=30_000)
    settled(page)
    assert page.get_by_text("Cross-entropy loss per epoch").is_visible()
    from cnnexp.store import Store

    ids = ",".join(Store(server["results"]).runs()["run_id"])
    page.goto(f"{server['url']}/runs?runs={ids}")  # a link that selects both runs
    settled(page)
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    # The linked selection can draw its delete button in a rerun after the curves (seen once
    # on a loaded CI machine): wait for both texts, then report what the page said.
    want = ["2 of 2 saved runs", "Delete 2 selected run(s)"]
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(
            "w => w.every(t => document.body.innerText.includes(t))", arg=want, timeout=60_000
        )
    body = page.inner_text("body")
    assert all(t in body for t in want), body
    page.screenshot(path=SHOTS / "runs.png", full_page=True)
    page.close()
