"""The run panel under every experiment's settings: cached, or what would run and Launch,
or live progress while the runner trains.

The page calls `run_panel(specs)` with the plan of its current settings and gets back
`Results` over whatever of that plan is saved.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from cnnexp import figures
from cnnexp.estimate import estimate_seconds
from cnnexp.results import Results
from cnnexp.runqueue import ACTIVE
from cnnexp.runspec import RunSpec
from ui import access, resources


def _when(iso: str | None) -> str:
    if not iso:
        return "earlier"
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "no estimate yet (nothing comparable has run)"
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    return f"about {seconds / 60:.0f} min"


def run_panel(specs: list[RunSpec], key: str = "run") -> Results:
    """Show the state of a plan and offer to launch what is missing."""
    store, runner = resources.store(), resources.runner()
    results = Results(specs, store)
    if not specs:  # an instant mode (analytic, probe): nothing to train
        return results
    snapshot = runner.snapshot()
    # Saved wins over the runner's word: a worker saves a run before it reports the end, so
    # for a moment a saved run can still read "running" there.
    if results.complete:
        st.caption(
            f":material/check_circle: Cached · {len(specs)} run(s) saved {_when(results.saved_at())}"
        )
    elif in_flight(specs, snapshot):
        progress([s.run_id for s in specs], key)
    else:
        _offer_launch(results, key)
    _show_outcomes(results, snapshot)
    return results


def in_flight(specs: list[RunSpec], snapshot: dict | None = None) -> bool:
    """Whether any of these runs is queued or running (snapshot: the runner's, if taken)."""
    snapshot = resources.runner().snapshot() if snapshot is None else snapshot
    return any(snapshot.get(s.run_id) and snapshot[s.run_id].status in ACTIVE for s in specs)


@st.cache_data(max_entries=256, show_spinner=False)
def _estimate(run_ids: tuple[str, ...], past_state: tuple, _specs, _past) -> float | None:
    # Keyed by the runs to estimate and the saved runs' state: the estimate is the same for
    # every visitor until a run is saved, and was half a viewer's server CPU on a page that
    # offers a launch (its pandas work per planned run).
    return estimate_seconds(_specs, _past)


def estimate(specs: list[RunSpec]) -> float | None:
    past = resources.store().runs()
    state = (len(past), int(past["_mtime_ns"].sum())) if "_mtime_ns" in past else (len(past),)
    return _estimate(tuple(s.run_id for s in specs), state, specs, past)


def _offer_launch(results: Results, key: str) -> None:
    missing = results.missing
    n, total = len(missing), len(results.specs)
    estimate_s = estimate(missing)
    text = (
        f"**{n} of {total} runs to train** ({total - n} cached) · {_duration(estimate_s)} "
        f"on this machine"
    )
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.info(text, icon=":material/schedule:")
    if not access.can_launch():
        right.caption("Viewing only: launching is not open to you on this server.")
        return
    problems = access.launch_problems(missing)
    if problems:
        st.error(" ".join(problems), icon=":material/block:")
        return
    if right.button("Launch", type="primary", key=f"{key}-launch", width="stretch"):
        try:
            access.launch(missing)  # checks mode and caps again, on the server
        except access.LaunchRefused as e:
            st.error(str(e), icon=":material/block:")
            return
        st.rerun()


def _show_outcomes(results: Results, snapshot) -> None:
    """One message per kind of unhappy ending (failed, cancelled, interrupted, diverged)."""
    ended: dict[str, list[str]] = {"failed": [], "cancelled": [], "diverged": [], "interrupted": []}
    for s in results.specs:
        rec, state = results.records.get(s.run_id) or {}, snapshot.get(s.run_id)
        if state is not None and state.status in ACTIVE:
            continue
        status = (state.status if state else None) or rec.get("status")
        if status in ended:
            error = (state.error if state else None) or rec.get("error")
            if status == "cancelled":
                error = _what_was_kept(rec)
            ended[status].append(f"{s.label} · seed {s.seed}" + (f": {error}" if error else ""))

    def listed(runs: list[str]) -> str:
        more = f"\n- … and {len(runs) - 5} more" if len(runs) > 5 else ""
        return "\n".join(f"- {r}" for r in runs[:5]) + more

    if ended["failed"]:
        st.error(
            f"**{len(ended['failed'])} run(s) failed**\n{listed(ended['failed'])}",
            icon=":material/error:",
        )
    if ended["cancelled"]:
        st.info(
            f"**{len(ended['cancelled'])} run(s) were cancelled**; Launch trains them again.\n"
            f"{listed(ended['cancelled'])}",
            icon=":material/stop_circle:",
        )
    if ended["interrupted"]:
        st.warning(
            f"**{len(ended['interrupted'])} run(s) were interrupted** (the server stopped while "
            f"they trained); Launch trains them again.\n{listed(ended['interrupted'])}",
            icon=":material/restart_alt:",
        )
    if ended["diverged"]:
        st.warning(
            f"**{len(ended['diverged'])} run(s) diverged** (the loss became NaN or inf)\n"
            f"{listed(ended['diverged'])}",
            icon=":material/warning:",
        )


def _what_was_kept(record: dict) -> str:
    """A run cancelled while queued (or killed for ignoring the cancel) saved nothing; one
    stopped while training saved its record with the epochs it finished."""
    if record.get("status") != "cancelled":
        return "stopped before it trained; nothing was saved"
    epochs = record.get("epochs_run") or 0
    return f"stopped after {epochs} epoch(s); those are saved, marked cancelled"


@st.fragment(run_every=1.0)
def progress(run_ids: list[str], key: str) -> None:
    """Live status of the plan's runs; reruns the page when the last one ends."""
    snap = resources.runner().snapshot()
    states = [snap[i] for i in run_ids if i in snap]
    if not any(s.status in ACTIVE for s in states):
        st.rerun()  # everything ended: the full page now draws the saved results
    finished = sum(s.status not in ACTIVE for s in states)
    running = next((s for s in states if s.status == "running"), None)
    epochs = sum(s.epoch for s in states) / max(1, sum(s.epochs for s in states))
    text = f"{finished} of {len(states)} runs finished"
    if running:
        text += f" · training {running.label} · seed {running.seed}, epoch {running.epoch} of {running.epochs}"
    st.progress(min(1.0, epochs), text=text)
    left, right = st.columns([3, 1])
    with left:
        histories = {f"{s.label} · seed {s.seed}": s.history for s in states if s.history}
        if histories:
            st.plotly_chart(figures.live_curves(histories), key=f"{key}-live")
    with right:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "run": f"{s.label} · {s.seed}",
                        "status": s.status,
                        "epoch": f"{s.epoch}/{s.epochs}",
                    }
                    for s in states
                ]
            ),
            hide_index=True,
            height=260,
            placeholder="—",
        )
        mine = [s.run_id for s in states if s.status in ACTIVE and access.can_cancel(s.owner)]
        if mine and st.button("Cancel", key=f"{key}-cancel", icon=":material/stop:"):
            access.cancel_runs(mine)  # checks the role and the owner again, on the server


def offer_again(spec: RunSpec, why: str, key: str) -> None:
    """For a saved run that lacks something only training makes (its weights): say why,
    and offer to train it again, as Launch does (same caps, only for those who may
    launch); its progress while it trains."""
    st.warning(why, icon=":material/history:")
    if in_flight([spec]):
        progress([spec.run_id], key)
        return
    if not access.can_launch():
        st.caption("Viewing only: training is not open to you on this server.")
        return
    problems = access.launch_problems([spec])
    if problems:
        st.error(" ".join(problems), icon=":material/block:")
        return
    if st.button("Train it again", type="primary", key=f"{key}-again", icon=":material/replay:"):
        try:
            access.launch([spec], again=True)  # checks mode and caps again, on the server
        except access.LaunchRefused as e:
            st.error(str(e), icon=":material/block:")
            return
        st.rerun()
