"""The queue, visible: every queued and running run on this server, in the order they train,
with when each may start, and Cancel for the runs this visitor may cancel.

What each visitor sees of a run is decided by cnnexp.policy.queue_visibility (a viewer: counts;
a launcher: their own runs named, everyone else's without who; an admin: all); the rows come
from cnnexp.queue_view over the durable queue, which also holds what the command line queued.
Cancel asks the policy again on the server when the click arrives (`cancel`), with each run's
owner as the durable queue records it then.
"""

from __future__ import annotations

import sqlite3

import pandas as pd
import streamlit as st

from cnnexp import policy, queue_view
from cnnexp.runspec import RunSpec
from ui import access, resources

REFRESH_S = 3.0  # how often the open page reads the queue again (one small SQLite read)
CANCEL = "queue-cancel"  # the key of the multiselect of runs to cancel


def queue_panel() -> None:
    st.caption(
        "Runs queued and running on this server — from this dashboard and from the command "
        "line — in the order they train. Start times are estimates from how fast comparable "
        "runs went here."
    )
    _live()


@st.fragment(run_every=REFRESH_S)
def _live() -> None:
    try:
        rows = queue_view.queue_rows(resources.results_root())
    except sqlite3.Error as e:
        st.warning(f"The queue cannot be read on this server ({e}).", icon=":material/error:")
        return
    role, me = access.role(), access.owner()
    runner = _runner(role)
    snap = runner.snapshot() if runner is not None else {}
    runs = queue_view.waiting(rows, {i: s.epoch for i, s in snap.items()})
    listed = [w for w in runs if policy.queue_visibility(role, me, w.owner) != "count"]
    starts = queue_view.start_times(
        runs, run_seconds([w.spec for w in listed]), getattr(runner, "workers", 1) or 1
    )
    shown = queue_view.view(runs, starts, role, me)
    _counts(shown, role)
    if shown.rows:
        _table(shown.rows)
        _cancel_ui(shown.rows, role, me)


def _runner(role: str):
    """The runner, for those who may launch (they started it already: app.py's sidebar); a
    viewer's page never starts workers, and sees no progress or start times."""
    return resources.runner() if policy.may_launch(role) else None


def _counts(shown: queue_view.QueueView, role: str) -> None:
    mine = sum(r["yours"] for r in shown.rows)
    c1, c2, c3 = st.columns(3)
    c1.metric("Running", shown.running)
    c2.metric("Queued", shown.queued)
    if policy.may_launch(role):
        c3.metric("Yours", mine, help="Your runs queued or running")
    if not shown.running and not shown.queued:
        st.info("Nothing is queued or training right now.", icon=":material/check_circle:")
    elif shown.hidden:
        why = (
            "Sign in, or enter the access token in the sidebar, to see which runs and when "
            "yours would start."
            if access.mode() == "guarded"
            else "Which runs they are is shown to those who may launch on this server."
        )
        st.caption(f":material/visibility_off: {why}")


def _when(seconds: float | None, position: str) -> str:
    if position == "running":
        return "training now"
    if seconds is None:
        return "no estimate yet (nothing comparable has run)"
    if seconds < 5:
        return "next, as soon as a worker is free"
    if seconds < 90:
        return f"in about {round(seconds)} s"
    if seconds < 90 * 60:
        return f"in about {round(seconds / 60)} min"
    return f"in about {seconds / 3600:.1f} h"


def _table(rows: list[dict]) -> None:
    table = pd.DataFrame(
        [
            {
                "#": r["position"],
                "experiment": r["experiment"],
                "run": r["run"],
                "settings": r["settings"],
                "status": r["progress"],
                "starts": _when(r["starts_in_s"], r["position"]),
                "launched by": r["launched_by"],
            }
            for r in rows
        ]
    )
    # Text cells (st.dataframe): a label or setting value is data, never markup.
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        placeholder="—",
        column_config={
            "#": st.column_config.TextColumn("#", width="small", help="Place in the queue"),
            "settings": st.column_config.TextColumn(
                "settings", help="The settings that differ from the page's defaults"
            ),
        },
    )


def _cancel_ui(rows: list[dict], role: str, me: str) -> None:
    """Cancel, for the runs this visitor may cancel (their own; an admin any)."""
    mine = {r["run_id"]: r for r in rows if policy.may_cancel(role, me, r["owner"])}
    if not mine:
        return
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    picked = left.multiselect(
        "Cancel runs",
        list(mine),
        key=CANCEL,
        format_func=lambda i: (
            f"#{mine[i]['position']} · {mine[i]['experiment']} · {mine[i]['run']}"
            if i in mine
            else i
        ),
        placeholder="Pick runs to cancel",
        help="A queued run is dropped; a running one stops after its current step.",
    )
    right.button(
        "Cancel",
        icon=":material/stop:",
        key="queue-cancel-go",
        disabled=not picked,
        on_click=_cancel_clicked,  # before the rerun: the table then shows the queue after it
    )
    said = st.session_state.pop(SAID, None)
    if said is not None:
        (st.error if said[0] == "error" else st.success)(said[1], icon=said[2])


SAID = "queue-said"  # what the last Cancel click said, shown once


def _cancel_clicked() -> None:
    picked = list(st.session_state.get(CANCEL) or [])
    try:
        cancel(picked)  # the role and the owners checked again, here
    except access.Refused as e:
        st.session_state[SAID] = ("error", str(e), ":material/block:")
        return
    st.session_state[CANCEL] = []
    st.session_state[SAID] = ("ok", f"Cancelled {len(picked)} run(s).", ":material/stop_circle:")


def cancel(run_ids: list[str]) -> None:
    """Cancel these runs, or raise access.Refused if this visitor may not cancel every one
    (policy.may_cancel, with the owners the durable queue holds now: it also has the runs the
    command line queued, which this server's runner never saw). Runs that ended meanwhile are
    left alone."""
    owners = {r["run_id"]: r["owner"] for r in queue_view.queue_rows(resources.results_root())}
    role, me = access.role(), access.owner()
    present = [i for i in run_ids if i in owners]
    theirs = [i for i in present if not policy.may_cancel(role, me, owners[i])]
    if theirs:
        raise access.Refused(
            f"You may cancel only runs you launched; {len(theirs)} of these were launched by "
            "someone else (an admin can cancel them)."
            if policy.may_launch(role)
            else "Cancelling runs is not open to you on this server."
        )
    if present:
        resources.runner().cancel(present)


@st.cache_data(max_entries=64, show_spinner=False)
def _seconds(run_ids: tuple[str, ...], past_state: tuple, _specs, _past) -> dict:
    # Keyed by the runs and the saved runs' state, as the run panel's estimate is: the same for
    # every visitor until a run is saved.
    from cnnexp.estimate import estimate_seconds

    return {s.run_id: estimate_seconds([s], _past) for s in _specs}


def run_seconds(specs: list[RunSpec]) -> dict[str, float | None]:
    """Each run's estimated wall time (None: no estimate): the queue's one call to
    cnnexp.estimate, so a change of its API is met here alone."""
    if not specs:
        return {}
    past = resources.store().runs()
    state = (len(past), int(past["_mtime_ns"].sum())) if "_mtime_ns" in past else (len(past),)
    return _seconds(tuple(s.run_id for s in specs), state, specs, past)
