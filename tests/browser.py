"""Helpers to drive `streamlit run app.py` with Debian's headless Chromium (tests and bench)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT, cli_env

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# No sandbox (root in CI) and none of Chromium's background traffic (no network here).
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
IDLE = """() => !!document.querySelector('h1') &&
    !document.querySelector('[data-testid="stStatusWidget"]') &&
    !document.querySelector('[data-testid="stSkeleton"]')"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(
    results: Path, env: dict | None = None, script: str = "app.py", log: Path | None = None
) -> Iterator[str]:
    """A fresh `streamlit run <script>` on a free localhost port; yields its URL once healthy.
    The server's log (stdout and stderr) goes to the file `log`, else to a temporary file: a
    pipe nobody reads would stop the server once it filled."""
    port = free_port()
    out = open(log, "wb") if log is not None else tempfile.TemporaryFile()  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            script,
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
        ],
        cwd=ROOT,
        env={**cli_env(results), **(env or {})},
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.1)
        else:
            out.seek(0)
            raise RuntimeError("streamlit did not become healthy: " + out.read().decode()[-2000:])
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        out.close()


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def settled(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has run the page's script and drawn every element, twice over."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    for _ in range(2):  # a rerun can start just after the first idle moment
        page.wait_for_function(IDLE, timeout=timeout)
        page.wait_for_timeout(400)
