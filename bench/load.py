"""python -m bench.load: many visitors at once on one dashboard server.

Starts `streamlit run app.py` on localhost with a results folder holding one cached baseline
plan, starts a training run beside it at the dashboard workers' lower priority (the machine is
busy, as a class server is), and for each N in --sessions drives N concurrent visitors through
one headless Chromium (Debian's package; a browser context per visitor, so each has its own
Streamlit session; the browser runs at a lower priority than the server, standing in for the
visitors' own machines):

    Home → Baseline with cached results → Runs → Equivariance probe → a slider change

It reports, per N: p50/p95 seconds to the first complete paint of a page (script run and
every element drawn), p50/p95 seconds for the rerun after the slider change, errors, the
server's CPU seconds per visitor (the capacity figure that does not depend on where the
browsers run), the browsers' CPU seconds per visitor (the rest of the machine's busy time:
on one machine they share the cores with the server and bound what N visitors can see), the server's peak memory (RSS of its process tree, sampled every 0.5 s) and its memory after the
round, and each time as a ratio to N = 1 measured in the same run. Rounds run in the order
given, so memory that grows from one round to the next shows in the last column.

    python -m bench.load --sessions 1 5 10 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from cnnexp.runner import lower_priority
from tests.browser import CHROMIUM, CHROMIUM_ARGS, IDLE, streamlit_server
from tests.conftest import ROOT, TINY, cli_env

BASELINE = "&".join(f"{k}={v}" for k, v in TINY.items())
CLIENT_NICENESS = 5  # the browsers yield to the server (renice_clients)
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


def _tree(pid: int) -> list[int]:
    """A process and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += _children(p)
    return out


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:  # the process ended while we looked
        return ""


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    kb = (
        int(line.split()[1])
        for p in _tree(pid)
        for line in _read(f"/proc/{p}/status").splitlines()
        if line.startswith("VmRSS:")
    )
    return sum(kb) / 1024


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


# --- server CPU, from /proc (Linux) -----------------------------------------------------------
def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its live descendants."""
    total = 0
    for p in _tree(pid):
        fields = _read(f"/proc/{p}/stat").rsplit(")", 1)[-1].split()
        if len(fields) > 12:
            total += int(fields[11]) + int(fields[12])  # utime, stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (all cores, /proc/stat; not idle, not
    waiting for the disk)."""
    ticks = [int(v) for v in _read("/proc/stat").split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def renice_clients(server: int, n: int = CLIENT_NICENESS) -> None:
    """Lower the priority of every process this one started except the server's tree: the
    browser driver and Chromium. They stand in for visitors' own machines; on the server's 2
    cores they must not take its CPU, or the figures measure Chromium drawing N pages, not the
    server."""
    spare = set(_tree(server))
    for p in _tree(os.getpid())[1:]:
        if p not in spare:
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, p, n)


# --- one visitor ------------------------------------------------------------------------------
async def settled(page, timeout: float) -> None:
    """tests.browser.settled for the async API: the script ran and every element is drawn."""
    await page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    for _ in range(2):  # a rerun can start just after the first idle moment
        await page.wait_for_function(IDLE, timeout=timeout)
        await page.wait_for_timeout(400)


async def visit(browser, url: str, timeout_s: float = 180) -> dict:
    """One visitor (its own browser context: own cookies, own Streamlit session) through VISIT:
    paint times per page, the rerun time, errors."""
    paints, rerun, errors = [], None, []
    ms = timeout_s * 1000
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = await context.new_page()
        for name, path in VISIT:
            t0 = time.perf_counter()
            await page.goto(f"{url}/{path}", timeout=ms)
            await settled(page, ms)
            paints.append(time.perf_counter() - t0)
            if await page.locator("[data-testid='stException']").count():
                errors.append(f"{name}: the page shows an exception")
        # the probe page is open: move the first sidebar slider (photo side) one step up
        thumb = page.locator("[data-testid='stSidebar'] [data-testid='stSlider'] input").first
        await thumb.focus()
        t0 = time.perf_counter()
        await thumb.press("ArrowRight")
        await page.wait_for_timeout(50)  # let the rerun request leave before waiting for idle
        await settled(page, ms)
        rerun = time.perf_counter() - t0 - 0.8  # settled() waits 2 × 0.4 s once idle
    except Exception as e:  # a timeout or a crash counts as an error of this session
        first = (str(e).splitlines() or [""])[0]  # a timeout's message can be empty
        errors.append(f"{type(e).__name__}: {first[:200]}")
    finally:
        await context.close()
    return {"paints": paints, "rerun": rerun, "errors": errors}


async def visitors(url: str, server: int, n: int) -> list[dict]:
    """N visitors at once, each in its own context of one headless Chromium (a browser per
    visitor would spend the 2 cores on N browser processes rather than on N pages)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        renice_clients(server)
        try:
            return await asyncio.gather(*(visit(browser, url) for _ in range(n)))
        finally:
            await browser.close()


# --- rounds -----------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    i = (len(values) - 1) * q
    lo = int(i)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (i - lo) * (values[hi] - values[lo])


def round_of(url: str, pid: int, n: int, trainer: int | None = None) -> dict:
    cpu0, busy0 = tree_cpu_s(pid), machine_busy_s()
    train0 = tree_cpu_s(trainer) if trainer else 0.0
    with PeakMemory(pid) as mem:
        sessions = asyncio.run(visitors(url, pid, n))
    server = tree_cpu_s(pid) - cpu0
    train = tree_cpu_s(trainer) - train0 if trainer else 0.0
    paints = [t for s in sessions for t in s["paints"]]
    reruns = [s["rerun"] for s in sessions if s["rerun"] is not None]
    return {
        "n": n,
        "paint_p50": pct(paints, 0.5),
        "paint_p95": pct(paints, 0.95),
        "rerun_p50": pct(reruns, 0.5),
        "rerun_p95": pct(reruns, 0.95),
        "errors": [e for s in sessions for e in s["errors"]],
        "cpu_per_session_s": server / n,
        # the rest of the machine's busy time: the browsers, their driver and this script
        "client_cpu_per_session_s": (machine_busy_s() - busy0 - server - train) / n,
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
    """A long training run beside the server: the load of a class server with a queue. It runs
    at the priority the dashboard's own workers take (runner.lower_priority)."""
    return subprocess.Popen(
        [sys.executable, "-m", "cnnexp", "run", "baseline", "--dataset=digits", "--epochs=500"]
        + ["--width=32", "--seeds=1"],
        cwd=ROOT,
        env=cli_env(results),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=lower_priority,
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
                asyncio.run(visitors(url, pid, 1))  # warm up: imports and caches, not measured
                busy = trainer.pid if trainer is not None else None
                return [round_of(url, pid, n, busy) for n in sessions]
        finally:
            if trainer is not None:
                trainer.terminate()
                trainer.wait(timeout=30)


def report(rows: list[dict]) -> str:
    base = rows[0]
    lines = [
        f"| N | paint p50 s | paint p95 s (×N={base['n']}) | rerun p50 s | rerun p95 s "
        f"(×N={base['n']}) | errors | server CPU s per visitor | browsers' CPU s per visitor "
        "| server peak MB | MB after round |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']} | {r['paint_p50']:.2f} | {r['paint_p95']:.2f} "
            f"({r['paint_p95'] / base['paint_p95']:.1f}×) | {r['rerun_p50']:.2f} | "
            f"{r['rerun_p95']:.2f} ({r['rerun_p95'] / base['rerun_p95']:.1f}×) | "
            f"{len(r['errors'])} | {r['cpu_per_session_s']:.2f} | "
            f"{r['client_cpu_per_session_s']:.2f} | {r['peak_mb']:.0f} | "
            f"{r['after_mb']:.0f} |"
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
