"""A real browser: headless Chromium (Debian's package) drives `streamlit run app.py`.

Starts the server on a free localhost port with a fresh results folder, opens every page,
launches a tiny run on the Baseline page, waits for its chart, and saves screenshots to
$CNNEXP_SCREENSHOTS (default: screenshots/). Skipped where Chromium is not installed,
unless CNNEXP_REQUIRE_BROWSER=1 (CI sets it), which turns the skip into a failure.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cnnexp import experiments
from tests.conftest import ROOT, TINY, cli_env

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(os.environ.get("CNNEXP_SCREENSHOTS", ROOT / "screenshots"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if CHROMIUM is None:
        if os.environ.get("CNNEXP_REQUIRE_BROWSER") == "1":
            pytest.fail(
                "CNNEXP_REQUIRE_BROWSER=1 but no chromium is installed (apt-get install chromium)"
            )
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    results = tmp_path_factory.mktemp("browser") / "results"
    port = _free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
        ],
        cwd=ROOT,
        env=cli_env(results),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("streamlit did not become healthy: " + proc.stdout.read().decode()[-2000:])
    yield {"url": url, "results": results, "started": started}
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


IDLE = """() => !!document.querySelector('h1') &&
    !document.querySelector('[data-testid="stStatusWidget"]') &&
    !document.querySelector('[data-testid="stSkeleton"]')"""


def settled(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has run the page's script and drawn every element, twice over."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    for _ in range(2):  # a rerun can start just after the first idle moment
        page.wait_for_function(IDLE, timeout=timeout)
        page.wait_for_timeout(400)


def test_home_first_paint_cold(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    t0 = time.perf_counter()
    page.goto(server["url"] + "/")
    settled(page)
    paint = time.perf_counter() - t0
    page.screenshot(path=SHOTS / "home.png", full_page=True)
    (SHOTS / "timings.json").write_text(json.dumps({"home_first_paint_s": paint}))
    print(f"\nHome first complete paint (cold server): {paint:.2f} s")
    assert "cnnexp" in page.inner_text("h1")
    page.close()


@pytest.mark.parametrize("name", [*experiments.names(), "runs"])
def test_every_page_opens(server, browser, name):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server['url']}/{name}")
    settled(page)
    assert not page.query_selector("[data-testid='stException']"), page.inner_text("body")[:2000]
    page.screenshot(path=SHOTS / f"{name}-empty.png", full_page=True)
    assert not errors
    page.close()


def test_launch_a_tiny_run_and_see_its_chart(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    query = "&".join(f"{k}={v}" for k, v in {**TINY, "epochs": 3, "seeds": 2}.items())
    page.goto(f"{server['url']}/baseline?{query}")
    settled(page)
    page.get_by_role("button", name="Launch").click()
    page.wait_for_selector("[data-testid='stMetric']", timeout=180_000)
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    settled(page)
    assert "Cached" in page.inner_text("body")
    page.screenshot(path=SHOTS / "baseline-launched.png", full_page=True)
    from cnnexp.store import Store

    ids = ",".join(Store(server["results"]).runs()["run_id"])
    page.goto(f"{server['url']}/runs?runs={ids}")  # a link that selects both runs
    settled(page)
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    body = page.inner_text("body")
    assert "2 of 2 saved runs" in body and "Download or delete" in body
    page.screenshot(path=SHOTS / "runs.png", full_page=True)
    page.close()
