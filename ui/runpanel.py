"""The run panel under every experiment's settings: cached, or what would run (estimated,
previewed) and Launch, or live progress while the runner trains.

The page calls `run_panel(specs)` with the plan of its current settings and gets back
`Results` over whatever of that plan is saved; `nearest_link` offers the nearest saved
settings when nothing of the plan is.
"""

from __future__ import annotations

import json
from datetime import datetime
from types import ModuleType

import pandas as pd
import streamlit as st

from cnnexp import analysis, estimate, figures, nearest, policy, run_labels
from cnnexp.estimate import PlanEstimate, work_of_spec
from cnnexp.results import Results
from cnnexp.runqueue import ACTIVE
from cnnexp.runspec import RunSpec
from ui import access, estimates, links, resources, run_notes


def _when(iso: str | None) -> str:
    if not iso:
        return "earlier"
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")


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
        progress(specs, key)
    else:
        _offer_launch(results, key)
    _show_outcomes(results, snapshot)
    return results


def in_flight(specs: list[RunSpec], snapshot: dict | None = None) -> bool:
    """Whether any of these runs is queued or running (snapshot: the runner's, if taken)."""
    snapshot = resources.runner().snapshot() if snapshot is None else snapshot
    return any(snapshot.get(s.run_id) and snapshot[s.run_id].status in ACTIVE for s in specs)


# --- before Launch ------------------------------------------------------------------------------
def _offer_launch(results: Results, key: str) -> None:
    missing = results.missing
    planned = estimates.plan(results.specs)
    measuring = bool(planned.unmeasured) and estimates.measure(planned.unmeasured)
    part = _launch_part(missing)
    n, total = len(missing), len(results.specs)
    workers = getattr(resources.runner(), "workers", 1)
    when = estimates.plan(part).total if part else None
    text = (
        f"**{n} of {total} runs to train** ({total - n} cached) · "
        + _duration(when, measuring, len(part) < n)
        + f" on this machine ({workers} worker{'s' * (workers != 1)})"
    )
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.info(text, icon=":material/schedule:")
    if measuring:
        _await_measurement()
    if part and len(part) < n:
        st.caption(
            f":material/low_priority: This server's queue has room for {len(part)} more of "
            f"your runs now: Launch queues **{len(part)} of the {n}** (every configuration's "
            "first seed first, so every point appears); launch again for the rest when those "
            "have finished."
        )
    preview(results, planned, part)
    _launch_area(right, part or missing, key)


def _duration(span: estimate.Span | None, measuring: bool, partial: bool) -> str:
    if span is not None:
        return f"{estimates.words(span)}{' for this part' if partial else ''}"
    if measuring:
        return "no estimate yet: measuring this machine's speed for these models"
    return "no estimate yet (nothing comparable has run here)"


def _launch_part(missing: list[RunSpec]) -> list[RunSpec]:
    """The missing runs one Launch queues: all of them, or, where this server's queue has
    room for only some, that many in launch order (policy.launch_order)."""
    room = access.room() if access.can_launch() else None
    if room is None or room >= len(missing):
        return missing
    order = policy.launch_order([s.seed for s in missing])
    return [missing[i] for i in order[:room]]


def _launch_area(where, specs: list[RunSpec], key: str) -> None:
    """The one place the Launch button is drawn: who may, the caps' refusals, the button."""
    if not access.can_launch():
        where.caption("Viewing only: launching is not open to you on this server.")
        return
    problems = access.launch_problems(specs)
    if problems:
        st.error(" ".join(problems), icon=":material/block:")
        return
    notes = run_notes.launch_fields(key)  # name, tags, note: beside the runs, not their id
    if where.button("Launch", type="primary", key=f"{key}-launch", width="stretch"):
        try:
            run_notes.launch(specs, notes)  # checks mode and caps again, on the server
        except access.LaunchRefused as e:
            st.error(str(e), icon=":material/block:")
            return
        st.rerun()


@st.fragment(run_every=1.0)
def _await_measurement() -> None:
    """While a timing run measures this plan's models: say so, and redraw the page with the
    estimate once it has."""
    from cnnexp import timing

    if not timing.measuring(resources.results_root()):
        st.rerun()
    st.caption(
        ":material/timer: Measuring a few training steps of each model on this machine "
        "(once; remembered for every visitor)…"
    )


def preview(results: Results, planned: PlanEstimate, part: list[RunSpec]) -> None:
    """What Launch trains, folded: one row per configuration (its seeds together) with the
    settings that vary between them in the page's words, its epochs and steps, the
    estimated time of each run, and how many of its runs are saved; then who may launch."""
    rows = preview_rows(results, planned, {s.run_id for s in part})
    with st.expander(
        f"What Launch trains: {len(results.missing)} runs in {len(rows)} configurations",
        icon=":material/list_alt:",
    ):
        st.dataframe(
            rows, hide_index=True, height=min(36 * (len(rows) + 1) + 2, 320), placeholder="—"
        )
        st.caption(policy.who_may_launch(access.mode(), access.role()))


def preview_rows(results: Results, planned: PlanEstimate, this_launch: set[str]) -> pd.DataFrame:
    """The preview's table (see `preview`)."""
    groups: dict[str, list[RunSpec]] = {}
    for s in results.specs:
        groups.setdefault(json.dumps(s.config, sort_keys=True), []).append(s)
    configs = pd.DataFrame(
        [
            {"experiment": g[0].experiment, **{k: _cell(v) for k, v in g[0].config.items()}}
            for g in groups.values()
        ]
    )
    worded = run_labels.in_words(configs)
    quiet = {"experiment", "epochs", "evals", "perm_seed"}  # shown apart, or a detail
    varying = analysis.varying(worded, [c for c in worded.columns if c not in quiet])
    table = worded[varying].rename(columns=run_labels.label)
    if table.empty:
        table = pd.DataFrame({"run": [g[0].label for g in groups.values()]})
    works = [work_of_spec(g[0]) for g in groups.values()]
    table["epochs"] = [
        w.epochs if w else g[0].epochs for w, g in zip(works, groups.values(), strict=True)
    ]
    table["steps"] = [w.steps if w and w.steps else None for w in works]
    table["each"] = [
        estimates.words(planned.runs.get(g[0].run_id)).removeprefix("about ")
        for g in groups.values()
    ]
    saved = {s.run_id for s in results.specs} - {s.run_id for s in results.missing}
    table["runs"] = [_runs_word(g, saved, this_launch) for g in groups.values()]
    return table


def _cell(value):
    return ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else value


def _runs_word(group: list[RunSpec], saved: set[str], this_launch: set[str]) -> str:
    """How many of a configuration's runs are saved (cached), trained by this Launch, later."""
    cached = sum(s.run_id in saved for s in group)
    now = sum(s.run_id in this_launch for s in group)
    later = len(group) - cached - now
    parts = [f"{now} to train"] if now else []
    parts += [f"{later} later"] if later else []
    parts += [f"{cached} cached"] if cached else []
    return ", ".join(parts)


def nearest_link(exp: ModuleType, cfg, results: Results) -> None:
    """Where nothing of the plan is saved (and nothing is training), a link to the nearest
    saved settings: the bundle's plans, or the one saved last (cnnexp/nearest.py)."""
    if not results.specs or not results.runs.empty or in_flight(results.specs):
        return
    found = nearest.nearest(exp, cfg, resources.store())
    if found is None:
        return
    whose = "shipped with cnnexp" if found.source == "shipped" else "saved last on this server"
    st.page_link(
        f"pages/{exp.NAME}.py",
        label=f"Nothing is saved for these settings. Open the nearest saved ones ({whose}): "
        + nearest.said(found.changes),
        icon=":material/arrow_forward:",
        query_params=links.query_for(nearest.link_values(cfg, found.cfg)),
    )


# --- after Launch -----------------------------------------------------------------------------------
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


STATUS_ORDER = {"running": 0, "queued": 1}  # then every ended run


@st.fragment(run_every=1.0)
def progress(specs: list[RunSpec], key: str) -> None:
    """Live status of the plan's runs; reruns the page when the last one ends. The bar counts
    work (each run's estimated seconds × the part of it done), so it tracks time."""
    snap = resources.runner().snapshot()
    pairs = [(s, snap[s.run_id]) for s in specs if s.run_id in snap]
    states = [state for _, state in pairs]
    if not any(s.status in ACTIVE for s in states):
        st.rerun()  # everything ended: the full page now draws the saved results
    done = [1.0 if s.status not in ACTIVE else s.epoch / max(1, s.epochs) for s in states]
    st.progress(*_bar([s for s, _ in pairs], states, done))
    runs = [figures.LiveRun(s.label, s.seed, s.epochs, s.history) for s in states]
    if any(r.history for r in runs):
        st.plotly_chart(figures.live_progress(runs), key=f"{key}-live")
    order = sorted(range(len(states)), key=lambda i: STATUS_ORDER.get(states[i].status, 2))
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "status": states[i].status,
                    "epoch": f"{states[i].epoch}/{states[i].epochs}",
                    "done": done[i],
                    "run": f"{states[i].label} · seed {states[i].seed}",
                }
                for i in order
            ]
        ),
        hide_index=True,
        height=min(36 * (len(states) + 1) + 2, 250),
        placeholder="—",
        column_config={
            "status": st.column_config.TextColumn(width="small"),
            "epoch": st.column_config.TextColumn(width="small"),
            "done": st.column_config.ProgressColumn(format="percent", width="small"),
            "run": st.column_config.TextColumn(width="large"),
        },
    )
    mine = [s.run_id for s in states if s.status in ACTIVE and access.can_cancel(s.owner)]
    if mine and st.button("Cancel", key=f"{key}-cancel", icon=":material/stop:"):
        access.cancel_runs(mine)  # checks the role and the owner again, on the server


def _bar(specs: list[RunSpec], states: list, done: list[float]) -> tuple[float, str]:
    """The progress bar's fill and words: work done (estimated seconds, where every run has
    an estimate; else epochs) and the time left."""
    finished = sum(s.status not in ACTIVE for s in states)
    running = [s for s in states if s.status == "running"]
    text = f"{finished} of {len(states)} runs finished"
    if running:
        r = running[0]
        more = f" (+{len(running) - 1} more)" if len(running) > 1 else ""
        text += f" · training {r.label} · seed {r.seed}, epoch {r.epoch} of {r.epochs}{more}"
    spans = estimates.plan(specs).runs
    if all(s.run_id in spans for s in specs):
        work = [(spans[s.run_id], f) for s, f in zip(specs, done, strict=True)]
        workers = getattr(resources.runner(), "workers", 1)
        left = estimate.seconds_left(work, workers)
        fill = estimate.done_fraction(work)
        if left > 0:
            text += f" · about {estimates.clock(left)} left"
    else:
        fill = sum(s.epoch for s in states) / max(1, sum(s.epochs for s in states))
        fill = max(fill, finished / max(1, len(states)))
    return min(1.0, fill), text


def offer_again(spec: RunSpec, why: str, key: str) -> None:
    """For a saved run that lacks something only training makes (its weights): say why,
    and offer to train it again, as Launch does (same caps, only for those who may
    launch); its progress while it trains."""
    st.warning(why, icon=":material/history:")
    if in_flight([spec]):
        progress([spec], key)
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
