"""python -m bench.load: many visitors at once on one dashboard server.

Starts `streamlit run app.py` on localhost with a results folder holding one cached baseline
plan, starts a training run beside it (the machine is busy, as a class server is), and for
each N in --sessions drives N concurrent headless Chromium sessions (Debian's package, one
browser per session, as Streamlit's own e2e_playwright/load_testing does) through:

    Home → Baseline with cached results → Runs → Equivariance probe → a slider change

It reports, per N: p50/p95 seconds to the first complete paint of a page (script run and
every element drawn), p50/p95 seconds for the rerun after the slider change, errors, the
server's peak memory (RSS of its process tree, sampled every 0.5 s) and its memory after the
round, and each time as a ratio to N = 1 measured in the same run. Rounds run in the order
given, so memory that grows from one round to the next shows in the last column.

    python -m bench.load --sessions 1 5 10 20
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.browser import launch, settled, streamlit_server
from tests.conftest import ROOT, TINY, cli_env

BASELINE = "&".join(f"{k}={v}" for k, v in TINY.items())
# (name, path): the pages a visitor opens, in order.
VISIT = [
    ("home", ""),
    ("cached experiment", f"baseline?{BASELINE}"),
    ("runs", "runs"),
    ("probe", "equivariance"),
]


# --- server memory, from /proc (Linux) --------------------------------------------------------
def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            out += [int(c) for c in task.read_text().split()]
    return out


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
        todo += _children(p)
    return total / 1024


def server_pid(url: str) -> int:
    """The `streamlit run` child of this process serving `url`."""
    port = url.rsplit(":", 1)[1]
    for pid in _children(os.getpid()):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in b" ".join(cmd) and port.encode() in cmd:
            return pid
    raise RuntimeError(f"no streamlit server on port {port} among this process's children")


class PeakMemory:
    """Samples a process tree's RSS every 0.5 s in a thread; `.peak` in MB."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_mb(self.pid))
            self._stop.wait(0.5)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


# --- one visitor ------------------------------------------------------------------------------
def visit(url: str, timeout_s: float = 180) -> dict:
    """One browser session through VISIT: paint times per page, the rerun time, errors."""
    from playwright.sync_api import sync_playwright

    paints, rerun, errors = [], None, []
    ms = timeout_s * 1000
    try:
        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            for name, path in VISIT:
                t0 = time.perf_counter()
                page.goto(f"{url}/{path}", timeout=ms)
                settled(page, timeout=ms)
                paints.append(time.perf_counter() - t0)
                if page.locator("[data-testid='stException']").count():
                    errors.append(f"{name}: the page shows an exception")
            # the probe page is open: move the first sidebar slider (photo side) one step up
            thumb = page.locator("[data-testid='stSidebar'] [data-testid='stSlider'] input").first
            thumb.focus()
            t0 = time.perf_counter()
            thumb.press("ArrowRight")
            page.wait_for_timeout(50)  # let the rerun request leave before waiting for idle
            settled(page, timeout=ms)
            rerun = time.perf_counter() - t0 - 0.8  # settled() waits 2 × 0.4 s once idle
            browser.close()
    except Exception as e:  # a timeout or a crash counts as an error of this session
        errors.append(f"{type(e).__name__}: {str(e).splitlines()[0][:200]}")
    return {"paints": paints, "rerun": rerun, "errors": errors}


# --- rounds -----------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    i = (len(values) - 1) * q
    lo = int(i)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (i - lo) * (values[hi] - values[lo])


def round_of(url: str, pid: int, n: int) -> dict:
    with PeakMemory(pid) as mem, ThreadPoolExecutor(n) as pool:
        sessions = list(pool.map(lambda _: visit(url), range(n)))
    paints = [t for s in sessions for t in s["paints"]]
    reruns = [s["rerun"] for s in sessions if s["rerun"] is not None]
    return {
        "n": n,
        "paint_p50": pct(paints, 0.5),
        "paint_p95": pct(paints, 0.95),
        "rerun_p50": pct(reruns, 0.5),
        "rerun_p95": pct(reruns, 0.95),
        "errors": [e for s in sessions for e in s["errors"]],
        "peak_mb": mem.peak,
        "after_mb": tree_rss_mb(pid),
    }


def seed(results: Path) -> None:
    """One cached baseline plan, so the experiment page and the Runs page have something."""
    args = [f"--{k.replace('_', '-')}={v}" for k, v in TINY.items()]
    subprocess.run(
        [sys.executable, "-m", "cnnexp", "run", "baseline", *args],
        cwd=ROOT,
        env=cli_env(results),
        check=True,
        capture_output=True,
    )


def busy_worker(results: Path) -> subprocess.Popen:
    """A long training run beside the server: the load of a class server with a queue."""
    return subprocess.Popen(
        [sys.executable, "-m", "cnnexp", "run", "baseline", "--dataset=digits", "--epochs=500"]
        + ["--width=32", "--seeds=1"],
        cwd=ROOT,
        env=cli_env(results),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run(sessions: list[int], train: bool = True, results: Path | None = None) -> list[dict]:
    """Every round on one server; returns one row per N."""
    with tempfile.TemporaryDirectory() as tmp:
        results = results or Path(tmp) / "results"
        seed(results)
        trainer = busy_worker(results) if train else None
        try:
            with streamlit_server(results, env={"CNNEXP_MODE": "viewer"}) as url:
                pid = server_pid(url)
                visit(url)  # warm up: imports and caches, not measured
                return [round_of(url, pid, n) for n in sessions]
        finally:
            if trainer is not None:
                trainer.terminate()
                trainer.wait(timeout=30)


def report(rows: list[dict]) -> str:
    base = rows[0]
    lines = [
        f"| N | paint p50 s | paint p95 s (×N={base['n']}) | rerun p50 s | rerun p95 s "
        f"(×N={base['n']}) | errors | server peak MB | MB after round |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']} | {r['paint_p50']:.2f} | {r['paint_p95']:.2f} "
            f"({r['paint_p95'] / base['paint_p95']:.1f}×) | {r['rerun_p50']:.2f} | "
            f"{r['rerun_p95']:.2f} ({r['rerun_p95'] / base['rerun_p95']:.1f}×) | "
            f"{len(r['errors'])} | {r['peak_mb']:.0f} | {r['after_mb']:.0f} |"
        )
    errors = [e for r in rows for e in r["errors"]]
    return "\n".join(lines + [f"- {e}" for e in errors[:20]])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, nargs="+", default=[1, 5, 10, 20])
    ap.add_argument("--no-train", action="store_true", help="no training run beside the server")
    args = ap.parse_args()
    import torch

    print(f"torch {torch.__version__} · {os.cpu_count()} CPUs · viewer mode")
    print(report(run(args.sessions, train=not args.no_train)))


if __name__ == "__main__":
    main()
