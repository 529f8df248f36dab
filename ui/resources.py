"""Objects every session shares, held by st.cache_resource: the store and the runner."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from cnnexp.runqueue import ACTIVE
from cnnexp.store import Store, default_root

if TYPE_CHECKING:  # the runner (and the experiments it imports) loads when a page needs it
    from cnnexp.runner import LocalRunner


def results_root() -> str:
    return str(default_root().resolve())


@st.cache_resource(show_spinner=False)
def _store(root: str) -> Store:
    from cnnexp import bundle

    # A fresh results folder starts with the bundled runs, so nobody opens an empty app; a
    # read-only folder keeps what it has.
    with contextlib.suppress(OSError):
        bundle.seed(Path(root), bundle.default_dir())
    store = Store(root)
    # Writers killed mid-save (a cancelled worker past its grace, a crashed server) leave
    # temporary files; the server's start is the moment none of ours can still be writing.
    with contextlib.suppress(OSError):
        store.cleanup()
    return store


def _close(runner: LocalRunner) -> None:
    runner.close()  # its queued runs stay in the durable queue for the next server


@st.cache_resource(show_spinner=False, on_release=_close)
def _runner(root: str, device: str, workers: int | None, backend: str) -> LocalRunner:
    # One pool for the whole server: every browser session shares its durable queue.
    data_dir = os.environ.get("CNNEXP_DATA")
    if backend == "ray":  # imported only when chosen; RayRunner says how to install Ray
        from cnnexp.ray_backend import RayRunner

        return RayRunner(root, device=device, data_dir=data_dir, workers=workers)
    if backend != "local":
        raise ValueError(f"CNNEXP_BACKEND={backend!r} unknown; allowed: local, ray")
    from cnnexp.runner import LocalRunner

    return LocalRunner(root, device=device, data_dir=data_dir, workers=workers)


def store() -> Store:
    return _store(results_root())


def runner() -> LocalRunner:
    workers = os.environ.get("CNNEXP_WORKERS")  # validated by runner.default_workers
    r = _runner(
        results_root(),
        os.environ.get("CNNEXP_DEVICE", "auto"),
        int(workers) if workers and workers.isdigit() else None,
        os.environ.get("CNNEXP_BACKEND", "local"),
    )
    _started.add(results_root())
    return r


_started: set[str] = set()  # results folders whose runner this process has started
START_AFTER_S = 5.0  # the longest the runner's start waits for the first page's script
DRAW_GRACE_S = 2.0  # and then for the browser to draw that page
_starting = threading.Lock()
_start_ended = threading.Event()


def _start_runner() -> bool:
    """Start the runner on a thread, once: it imports the training machinery (and pandas),
    which the first page a server shows should not wait for; queued runs a previous server
    left behind still resume right away. True when runner() may be called in line now:
    under AppTest (a thread would outlive the test's temporary results folder), or once the
    thread has ended (then runner() returns the runner, or raises what went wrong)."""
    from streamlit import config

    if config.get_option("global.appTest") or _start_ended.is_set():
        return True
    if _starting.acquire(blocking=False):  # never released: one start per process
        page = threading.current_thread()  # the script thread painting the first page
        threading.Thread(
            target=_start_in_background, args=(page,), name="cnnexp-start", daemon=True
        ).start()
    return False


def _start_in_background(page: threading.Thread) -> None:
    # Its imports hold the interpreter's lock for a second or more: started while the first
    # page is still drawn, they slowed Home's first paint (bench/ui.py). So they wait until
    # that page's script has ended (its thread ends with it), or START_AFTER_S at most, and
    # then a little more: on a small machine their CPU slowed the browser drawing what the
    # script had sent (py-spy: 0.6 s of imports right after Home's script, on 2 cores).
    page.join(timeout=START_AFTER_S)
    time.sleep(DRAW_GRACE_S)
    try:
        runner()
    except Exception:  # noqa: BLE001 - the next page calls runner() in line and shows it
        pass
    finally:
        _start_ended.set()


def backend_line(r: LocalRunner) -> str:
    """The sidebar's one line on what runs the queue (the lead calls it from app.py)."""
    snap = r.snapshot().values()
    running = sum(s.status == "running" for s in snap)
    queued = sum(s.status == "queued" for s in snap)
    if hasattr(r, "cluster"):  # the Ray backend
        c = r.cluster()
        return (
            f"Backend: Ray cluster, {c['cpus']:g} CPUs, {c['gpus']:g} GPUs · "
            f"{c['in_flight']} runs in flight, {queued} queued"
        )
    line = (
        f"Backend: local pool, {r.workers} worker{'s' * (r.workers != 1)} "
        f"({r.device}) · {running} running, {queued} queued"
    )
    return f"{line} · {r.notice}" if r.notice else line  # why fewer workers than asked


def show_backend() -> None:
    if not (results_root() in _started or _start_runner()):
        st.sidebar.caption("Backend: starting…")
        return
    r = runner()
    with st.sidebar:
        if any(s.status in ACTIVE for s in r.snapshot().values()):
            _live_backend_line()
        else:
            st.caption(backend_line(r))


@st.fragment(run_every=2.0)
def _live_backend_line() -> None:
    # While runs are queued or running the counts change without a rerun of the page (the run
    # panel's progress is its own fragment): drawn once, the line said "0 running, 12 queued"
    # while a run trained. The page reruns when the last run ends, and draws it still again.
    st.caption(backend_line(runner()))
