"""The run panel's estimates: the machine the workers train on, its remembered step costs
(cnnexp/timing.py), and each planned run's time (cnnexp/estimate.py), shared by every session.

Where a plan's model shapes have not been measured on this machine, a visitor who may
launch starts a timing run in the background (a few seconds; never on the page's thread);
until it has measured them, the page shows the rough estimate from past runs, or says that
it is measuring. CNNEXP_TIMING=off (environment or secrets) turns the timing runs off.
"""

from __future__ import annotations

import streamlit as st

from cnnexp import estimate, timing
from cnnexp.runspec import RunSpec
from ui import resources


def timing_on() -> bool:
    from ui import access

    return str(access.setting("timing", "on")).strip().lower() not in ("off", "false", "0")


def machine() -> timing.Machine:
    """What a worker of this server's pool trains on."""
    r = resources.runner()
    return timing.Machine.here(getattr(r, "device", "auto"), workers=getattr(r, "workers", 1))


@st.cache_resource(show_spinner=False, max_entries=16)
def _timings(root: str, machine: timing.Machine) -> timing.Timings:
    return timing.Timings(root, machine)  # one per folder: it rereads the file when it changes


def timings() -> timing.Timings:
    return _timings(resources.results_root(), machine())


def _warm() -> bool:
    """Whether a worker is up already (no start-up to wait for). The Ray backend's actors are
    long-lived: counted as up."""
    r = resources.runner()
    return not hasattr(r, "worker_pid") or r.worker_pid is not None


@st.cache_data(max_entries=256, show_spinner=False)
def _plan(key: tuple, _specs: list[RunSpec], _past, _timings, workers: int, startup: float):
    # Keyed by the runs, the saved runs' state and the measurements' file: the same for every
    # visitor until a run is saved or a shape measured (estimating was half a viewer's server
    # CPU on a page that offers a launch, before it was shared).
    return estimate.plan_estimate(
        _specs, _past, _timings, _timings.machine.device, workers, startup
    )


def plan(specs: list[RunSpec]) -> estimate.PlanEstimate:
    """The estimate of these runs on this server's workers, as they are now."""
    t, past = timings(), resources.store().runs()
    state = (len(past), int(past["_mtime_ns"].sum())) if "_mtime_ns" in past else (len(past),)
    try:
        measured = t.path.stat().st_mtime_ns
    except OSError:
        measured = 0
    startup = 0.0 if _warm() else (t.startup() or 0.0)
    workers = getattr(resources.runner(), "workers", 1)
    key = (tuple(s.run_id for s in specs), state, measured)
    return _plan(key, specs, past, t, workers, startup)


def measure(specs: list[RunSpec]) -> bool:
    """Start measuring the shapes among `specs` not measured yet, where this visitor may
    launch and timing runs are on; whether a timing run is under way for this folder."""
    from ui import access

    if not (timing_on() and access.can_launch()):
        return False
    try:
        return timing.start_measuring(resources.results_root(), machine(), specs)
    except OSError:  # a read-only results folder: the rough estimate stays
        return False


def words(span: estimate.Span | None) -> str:
    """An estimate in words: "about 40 s", or "2–4 min" when its range is wide."""
    if span is None:
        return "no estimate yet"
    if span.high <= 1.35 * span.low:
        return f"about {clock(span.seconds)}"
    lo, hi = span.low, span.high
    if hi < 90:
        return f"{max(1, round(lo))}–{max(1, round(hi))} s"
    if hi < 90 * 60:
        return f"{max(1, round(lo / 60))}–{max(1, round(hi / 60))} min"
    return f"{clock(lo)}–{clock(hi)}"


def clock(seconds: float) -> str:
    """Seconds as a person reads them: "40 s", "12 min", "1.5 h"."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
