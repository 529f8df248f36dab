"""Runs: every saved run, grouped over seeds or one per row; filter them, select them, and see
their curves, parallel coordinates, any x against any y, what matters, and one run in detail.
Every choice is in the URL. Logic lives in cnnexp.analysis and cnnexp.run_figures."""

import hashlib
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from cnnexp import analysis, experiments, figures, run_figures
from ui import access, export, page, parcoords_brush, resources
from ui import runs_view as url
from ui.links import query_for

page.require_app()

MAX_CURVES = 60  # runs whose curves are read and drawn at once; more are downsampled
MAX_DOTS = 5000  # runs drawn in the scatter and parallel coordinates
MAX_IMPORTANCE = 2000  # runs the importance model is fitted on
MAX_AXES = 8  # parallel-coordinates axes at once: past about eight their labels overlap
SERIES = {
    "test accuracy": ("test", "acc"),
    "train accuracy": ("train", "acc"),
    "test loss": ("test", "loss"),
    "train loss": ("train", "loss"),
}
VIEWS = ["curves", "parallel coordinates", "x against y", "what matters", "run detail"]
RUN_COLUMNS = ["label", "seed", "status", "test_acc", "device", "precision", "duration_s"]


def _from_url(key: str, value) -> None:
    """Seed a widget from the link on the first run only (later the widget is the truth)."""
    if key not in st.session_state:
        st.session_state[key] = value


@st.cache_data(max_entries=16, show_spinner=False)
def read_metrics(root: str, files: tuple[tuple[str, int], ...]) -> pd.DataFrame:
    """The per-epoch metrics of these (run id, file time) pairs in the results folder `root`.
    Cached: changing the series or the colouring reads no file again; a run saved anew has
    another file time, so it is read afresh."""
    return resources.store().metrics([rid for rid, _ in files])


def say_ignored(problems: list[str]) -> None:
    """What of the link was ignored, as literal text: a stranger's values are never markdown."""
    if problems:
        st.warning("**Some values in this link were ignored.**", icon=":material/link_off:")
        st.text("\n".join(problems))


# Bounded: some entries are copies of the runs table (the filtered view, the table as shown),
# so a few filter states' worth (~7 entries each), whatever text visitors search for.
@st.cache_resource(max_entries=24, ttl=3600, show_spinner=False)
def _remembered(what: str, key: tuple, _build: Callable[[], Any]) -> Any:
    return _build()


def remembered(what: str, key: tuple, build: Callable[[], Any]) -> Any:
    """build(), once per saved state of the runs and `key`, shared by every session (so it
    must not be changed): the pandas work over the runs table was most of this page's server
    time per view (bench/wire.py). `version` changes whenever a run is saved or deleted."""
    return _remembered(what, (version, *key), build)


def filtered(runs: pd.DataFrame, exps: list, statuses: list, text: str) -> pd.DataFrame:
    """The runs the filters keep, newest first."""
    view = runs
    if exps:
        view = view[view["experiment"].isin(exps)]
    if statuses:
        view = view[view["status"].isin(statuses)]
    if text:
        hay = view["label"].astype(str) + " " + view["run_id"] + " " + view["config_json"]
        view = view[hay.str.contains(text, case=False, regex=False)]
    if "ended_at" not in view:  # records written by hand or by other tools may lack it
        return view.reset_index(drop=True)
    return view.sort_values("ended_at", ascending=False).reset_index(drop=True)


def bounds(col: pd.Series) -> tuple[float, float, bool]:
    """A numeric setting's lowest and highest value, and whether all its values are whole."""
    col = pd.to_numeric(col, errors="coerce").dropna()
    whole = bool((col == col.round()).all())  # integer settings slide in whole steps
    lo, hi = float(col.min()), float(col.max())
    return (int(lo), int(hi), whole) if whole else (lo, hi, whole)


def percent(rows: pd.DataFrame, fractions: tuple[str, ...], shown: list[str]) -> pd.DataFrame:
    """The table as shown: these columns, in this order, fractions as percentages."""
    table = rows[[c for c in dict.fromkeys(shown) if c in rows.columns]]
    return table.assign(**{c: table[c] * 100 for c in fractions if c in table})


def metrics_of(runs: pd.DataFrame) -> pd.DataFrame:
    times = runs["_mtime_ns"].astype(int).tolist()
    files = tuple(zip(runs["run_id"].tolist(), times, strict=True))
    return read_metrics(str(store.root), files)


def delete(run_ids: list[str]) -> None:
    """The one place the page deletes runs: the access module checks the role on the server."""
    access.delete_runs(store, run_ids)


access.access_panel()
st.title("Runs")
store = resources.store()
runs, version = store.runs_and_version()
if runs.empty:
    st.info(
        "No saved runs yet. Launch one from an experiment page, or run "
        "`python -m cnnexp run baseline` in a terminal.",
        icon=":material/info:",
    )
    st.stop()

problems: list[str] = []
all_settings = remembered("settings", (), lambda: analysis.settings(runs))

# --- filters -----------------------------------------------------------------------------
f1, f2, f3 = st.columns([2, 2, 3])
_from_url("runs_exp", url.choose("exp", sorted(runs["experiment"].unique()), problems))
_from_url("runs_status", url.choose("status", sorted(runs["status"].unique()), problems))
_from_url("runs_search", (url.values("q") or [""])[0])
exps = f1.multiselect("Experiment", sorted(runs["experiment"].unique()), key="runs_exp")
statuses = f2.multiselect("Status", sorted(runs["status"].unique()), key="runs_status")
text = f3.text_input("Search", placeholder="label, run id or setting value", key="runs_search")
filters = (tuple(exps), tuple(statuses), text)
view = remembered("view", filters, lambda: filtered(runs, exps, statuses, text))
varies = list(remembered("varying", filters, lambda: analysis.varying(view, all_settings)))
numeric = list(
    remembered("numeric", filters, lambda: analysis.numeric(view, [*varies, "test_acc"]))
)
# A range on a numeric setting filters everything below. It is set by the sliders here, by
# the link, or by dragging on an axis of the parallel-coordinates chart: a brush there moves
# the slider (Streamlit's chart selections do not report axis ranges: ui/parcoords_brush.py).
linked_ranges = url.ranges(numeric, problems)
axis_labels = {(c.replace("_", " ") if c == analysis.TARGET else c): c for c in numeric}
_from_url("runs_view", (url.values("view") or ["curves"])[0].replace("-", " "))
if st.session_state["runs_view"] not in VIEWS:
    st.session_state["runs_view"] = "curves"
if st.session_state["runs_view"] == "parallel coordinates":
    brushed = parcoords_brush.ranges_of(
        parcoords_brush.listen("chart-runs-parallel", key="runs_brush"), axis_labels
    )
    brushed_before = st.session_state.get("runs_brushed", {})
else:  # no chart to brush, no listener: loading it cost every other view ~0.5 s to paint
    brushed = brushed_before = {}
# What the browser reports changed on an axis the chart drew: a new brush, or one cleared
# there. An axis the visitor took off the chart is not reported any more, yet not cleared.
drawn = set(st.session_state.get("runs_drawn_axes", []))
rebrushed = {
    c
    for c in brushed.keys() | brushed_before.keys()
    if c in drawn and brushed.get(c) != brushed_before.get(c)
}
st.session_state["runs_brushed"] = brushed
# Each slider's value first (from the link, or a brush on its axis), so the expander's
# label counts the ranges set in this very run; keyed, it stays open as its label changes.
limits = remembered("bounds", filters, lambda: {c: bounds(view[c]) for c in numeric})
sliding = [c for c in numeric if limits[c][0] != limits[c][1]]
bounds_before = st.session_state.get("runs_range_bounds", {})
for c in sliding:
    lo, hi, whole = limits[c]
    if whole:
        linked_ranges[c] = tuple(int(v) for v in linked_ranges.get(c, (lo, hi)))
    _from_url(f"runs_range_{c}", linked_ranges.get(c, (lo, hi)))
    if c in rebrushed:  # a new brush (or a cleared one) on this axis moves its slider
        st.session_state[f"runs_range_{c}"] = parcoords_brush.slider_value(
            brushed.get(c), lo, hi, whole
        )
    # Bounds that moved (a filter, a save): a range that was whole stays whole; another is
    # held within the new bounds (a link's range beyond them raised). Streamlit would reset
    # either only when drawing the slider, after the label below had counted it as set.
    value = tuple(st.session_state[f"runs_range_{c}"])
    if value == bounds_before.get(c):
        value = (lo, hi)
    a, b = (min(max(v, lo), hi) for v in value)
    st.session_state[f"runs_range_{c}"] = (min(a, b), max(a, b))
st.session_state["runs_range_bounds"] = {c: limits[c][:2] for c in sliding}
n_set = sum(tuple(st.session_state[f"runs_range_{c}"]) != limits[c][:2] for c in sliding)
chosen_ranges = {}
with st.expander(f"Ranges ({n_set} set)", icon=":material/tune:", key="runs_ranges"):
    for c in sliding:
        lo, hi, whole = limits[c]
        # A fraction (a learning rate, 0.001 to 0.05) in a hundred steps, shown to 3 digits:
        # Streamlit's default step of 0.01 and two decimals left such a slider no stops.
        fine = {} if whole or hi - lo >= 1 else {"step": (hi - lo) / 100, "format": "%.3g"}
        got = st.slider(c, lo, hi, key=f"runs_range_{c}", **fine)
        if got != (lo, hi):
            chosen_ranges[c] = got
if chosen_ranges:
    view = view[analysis.in_ranges(view, chosen_ranges)].reset_index(drop=True)

# --- grouping ------------------------------------------------------------------------------
g1, g2 = st.columns([1, 3], vertical_alignment="bottom")
_from_url("runs_group", url.values("group") != ["off"])
_from_url("runs_by", url.choose("by", all_settings, problems) or varies or ["experiment"])
grouped = g1.toggle(
    "Group over seeds",
    key="runs_group",
    help="One row per configuration: runs that differ only in seed, averaged",
)
by = g2.multiselect(
    "Group by",
    all_settings,
    key="runs_by",
    disabled=not grouped,
    help="By default every setting that varies here; pick fewer to pool more runs",
)
# Checked against every saved run (one the filters hide is no error), then kept to the shown
# ones: a selection follows its runs through a filter, and is dropped where they are hidden.
linked = set(url.run_ids(set(runs["run_id"]), problems)) & set(view["run_id"])

# --- the table -----------------------------------------------------------------------------
pct = {
    "test_acc": st.column_config.NumberColumn("test acc", format="%.1f%%"),
    "mean": st.column_config.NumberColumn("mean test acc", format="%.1f%%"),
    "lo": st.column_config.NumberColumn("95% CI low", format="%.1f%%"),
    "hi": st.column_config.NumberColumn("95% CI high", format="%.1f%%"),
    "n": st.column_config.NumberColumn(
        "seeds", help="runs in this group with a test accuracy (failed or running: not counted)"
    ),
    "duration_s": st.column_config.NumberColumn("duration", format="%.1f s"),
    "ended_at": st.column_config.DatetimeColumn("ended", format="YYYY-MM-DD HH:mm"),
}
if grouped:
    ranged = (*filters, tuple(sorted(chosen_ranges.items())), tuple(by))
    rows = remembered("group", ranged, lambda: analysis.group(view, by))
    shown = ["mean", "lo", "hi", "n", *by, "duration_s"]  # the result first: by may be long
    table = remembered("grouped-table", ranged, lambda: percent(rows, ("mean", "lo", "hi"), shown))
    default_rows = (
        [i for i, ids in enumerate(rows["run_ids"]) if not linked.isdisjoint(ids)] if linked else []
    )
    noun = "configurations"
else:
    rows = view
    # the columns of every run, not of the filtered ones: they stay put while filtering
    anywhere = remembered("varying", ((), (), ""), lambda: analysis.varying(runs, all_settings))
    # The run and its accuracy first: past a dozen settings they were off the screen.
    first = ["experiment", "label", "test_acc"]
    shown = [*first, *anywhere, *[c for c in RUN_COLUMNS if c not in first], "ended_at"]
    ranged = (*filters, tuple(sorted(chosen_ranges.items())))
    table = remembered("runs-table", ranged, lambda: percent(view, ("test_acc",), shown))
    default_rows = np.flatnonzero(view["run_id"].isin(linked)).tolist()
    noun = "runs"
say_ignored(problems)
st.caption(
    f"{len(rows):,} {noun} · {len(view):,} of {len(runs):,} saved runs · select rows to compare"
)
# What decides the table's rows (the saved state, the filters, the grouping): no pass over them.
rows_key = hashlib.blake2b(repr((version, ranged)).encode(), digest_size=6).hexdigest()

event = st.dataframe(
    table,
    hide_index=True,
    # A new key whenever the rows change: Streamlit keeps a selection by row position, which
    # after a filter named other runs (and Delete would have removed those); the new table's
    # selection is the linked runs that are still shown.
    key=f"runs_table_{grouped}_{st.session_state.get('runs_deleted', 0)}_{rows_key}",
    on_select="rerun",
    selection_mode="multi-row",
    height=min(400, 35 * (len(table) + 1) + 3),
    selection_default={"selection": {"rows": default_rows}} if default_rows else None,
    column_config=pct,
)
picked = rows.iloc[[i for i in event.selection.rows if i < len(rows)]]
ids = [i for ids in picked["run_ids"] for i in ids] if grouped else list(picked["run_id"])
selected = view[view["run_id"].isin(set(ids))] if ids else view.iloc[:0]
url.write(
    {
        "exp": exps,
        "status": statuses,
        "q": text,
        "group": None if grouped else "off",
        "by": by if grouped and by != (varies or ["experiment"]) else None,
        "range": [f"{c}:{lo:g}:{hi:g}" for c, (lo, hi) in chosen_ranges.items()],
        "runs": list(selected["run_id"])[: url.MAX_LINKED],
    }
)

# --- one view at a time: only what is shown is computed -------------------------------------
shown_view = st.segmented_control("View", VIEWS, key="runs_view") or "curves"
url.write({"view": None if shown_view == "curves" else shown_view.replace(" ", "-")})


def curves_view() -> None:
    if selected.empty:
        st.info(
            "Select runs or configurations in the table to overlay their learning curves.",
            icon=":material/touch_app:",
        )
        return
    few, n = analysis.downsample(selected, MAX_CURVES)
    if n > len(few):
        st.caption(f"Showing the curves of {len(few)} of the {n:,} selected runs, drawn at random.")
    config = pd.DataFrame([json.loads(c) for c in few["config_json"]], index=few.index)
    differs = [c for c in config.columns if config[c].astype(str).nunique() > 1 and c != "seed"]
    few = few.assign(
        configuration=[
            " · ".join(f"{k}={config.at[i, k]}" for k in differs) or lab
            for i, lab in zip(few.index, few["label"], strict=True)
        ],
        run=[
            f"{lab} · seed {s} · {r[:6]}"
            for lab, s, r in zip(few["label"], few["seed"], few["run_id"], strict=True)
        ],
    )
    lines = ["configuration", "run", *differs]
    problems: list[str] = []  # the table's warning is drawn already: this view says its own
    _from_url("runs_series", url.one("series", list(SERIES), "test accuracy", problems))
    _from_url("runs_colour", url.one("lines", lines, "configuration", problems))
    say_ignored(problems)
    c1, c2 = st.columns(2)
    series = c1.selectbox("Series", list(SERIES), key="runs_series")
    colour = c2.selectbox(
        "Colour by",
        lines,
        key="runs_colour",
        help="configuration groups seeds of identical settings into a mean line and a 95% band",
    )
    url.write(  # the defaults leave the link short
        {
            "series": None if series == "test accuracy" else series,
            "lines": None if colour == "configuration" else colour,
        }
    )
    metrics = metrics_of(few)
    split, metric = SERIES[series]
    curves = metrics[(metrics["split"] == split) & (metrics["metric"] == metric)].merge(
        few[["run_id", "configuration", "run", *differs]], on="run_id"
    )
    if curves.empty:
        st.warning(
            "The selected runs have no per-epoch metrics (they failed before an epoch ended)."
        )
        return
    fig = figures.lines_ci(
        curves,
        "epoch",
        colour,
        title=series.capitalize(),
        x_title="epoch",
        y_title=series,
        percent=metric == "acc",
    )
    export.chart(fig, "runs-curves")
    export.data_downloads(
        {"runs": selected.astype({"config_json": str}), "metrics": metrics}, "runs"
    )


def _axes_picked() -> None:
    st.session_state["runs_axes_picked"] = True


def choose_axes(runs: pd.DataFrame, candidates: list[str]) -> list[str]:
    """The settings drawn as axes: at most MAX_AXES. By default those with the most distinct
    values here, following the filters; once the visitor picks (or a link's ?axes= does),
    their pick, less what the filters took away."""
    default = analysis.most_varied(runs, candidates, MAX_AXES)
    if "runs_axes" not in st.session_state:  # the link's axes, read when the widget starts
        problems: list[str] = []
        linked = list(dict.fromkeys(url.choose("axes", candidates, problems)))
        if len(linked) > MAX_AXES:
            problems.append(
                f"axes: {len(linked)} given, the first {MAX_AXES} drawn; allowed: at most "
                f"{MAX_AXES}"
            )
            linked = linked[:MAX_AXES]
        say_ignored(problems)
        if linked:
            st.session_state["runs_axes_picked"] = True
            st.session_state["runs_axes"] = linked
    picked = st.session_state.get("runs_axes_picked", False)
    kept = [c for c in st.session_state.get("runs_axes", []) if c in candidates] if picked else []
    st.session_state["runs_axes"] = kept or default
    cols = st.multiselect(
        "Axes",
        candidates,
        key="runs_axes",
        max_selections=MAX_AXES,
        on_change=_axes_picked,
        help=f"Settings drawn as axes, at most {MAX_AXES}; test accuracy is always the last",
    )
    cols = cols or default
    url.write({"axes": cols if picked and cols != default else None})
    st.session_state["runs_drawn_axes"] = [*cols, analysis.TARGET]  # what a brush can change
    return cols


def parallel_view() -> None:
    done = view[view["test_acc"].notna()] if "test_acc" in view else view.iloc[:0]
    if done.empty:
        st.info("No finished runs with a test accuracy in this filter.", icon=":material/info:")
        return
    candidates = varies or ["experiment"]
    cols = choose_axes(done, candidates)
    few, n = analysis.downsample(done, MAX_DOTS)
    hidden = len(candidates) - len(cols)
    st.caption(
        f"{len(few):,} of {n:,} finished runs · one line per run"
        + (
            f" · {len(cols)} of the {len(candidates)} settings that vary here as axes "
            f"({hidden} not shown: pick them under *Axes*, or filter by experiment)"
            if hidden
            else ""
        )
        + ". Drag along a numeric axis to filter the table and charts to that range (the "
        "slider under *Ranges* follows; click the axis to clear it); on a text axis a drag "
        "only highlights."
    )
    export.chart(run_figures.parallel(few, cols, ranges=chosen_ranges), "runs-parallel")


def scatter_view() -> None:
    cols = [c for c in ["test_acc", "duration_s", *numeric, *all_settings] if c in view]
    cols = list(dict.fromkeys(cols))
    problems: list[str] = []  # the table's warning is drawn already: this view says its own
    _from_url("runs_x", url.one("x", cols, varies[0] if varies else cols[-1], problems))
    _from_url("runs_y", url.one("y", cols, "test_acc", problems))
    _from_url("runs_c", url.one("colour", cols, None, problems))
    _from_url("runs_f", url.one("facet", cols, None, problems))
    say_ignored(problems)
    c1, c2, c3, c4 = st.columns(4)
    x = c1.selectbox("x", cols, key="runs_x")
    y = c2.selectbox("y", cols, key="runs_y")
    colour = c3.selectbox("Colour by", cols, key="runs_c", index=None, placeholder="none")
    facet = c4.selectbox("Facet by", cols, key="runs_f", index=None, placeholder="none")
    url.write({"x": x, "y": y, "colour": colour, "facet": facet})
    few, n = analysis.downsample(view, MAX_DOTS)
    if n > len(few):
        st.caption(f"{len(few):,} of {n:,} runs drawn, at random.")
    fig = run_figures.scatter(
        few, x, y, colour=colour, facet=facet, group_by=[c for c in all_settings if c in varies]
    )
    st.caption(
        "Small dots are runs (seeds); diamonds are the mean of each configuration with its "
        "95% interval. Drag a box or lasso over dots to select those runs."
    )
    picked = st.plotly_chart(
        fig, key="runs_scatter", on_select="rerun", selection_mode=("box", "lasso", "points")
    )
    hit = [p["customdata"][0] for p in picked.selection.points if p.get("customdata")]
    if hit:
        st.caption(f"{len(set(hit))} runs in your selection:")
        st.dataframe(view[view["run_id"].isin(hit)][["run_id", x, y]], hide_index=True)


def importance_view() -> None:
    few, n = analysis.downsample(view, MAX_IMPORTANCE)
    with st.spinner(f"Fitting a random forest to {len(few):,} runs…"):  # seconds, not instant
        imp = analysis.importance(few, varies)
    if imp.empty:
        st.info(
            "Needs at least four finished runs and one setting that varies in this filter.",
            icon=":material/info:",
        )
        return
    st.caption(
        f"Fitted on {len(few):,} of {n:,} runs. **Permutation importance**: how much a random "
        "forest's fit of test accuracy (R²) drops when one setting's values are shuffled; "
        "**Spearman ρ**: the plain rank correlation (its sign says the direction; none for a "
        "setting whose values have no order, such as the model, or that some runs lack). "
        "Limits: with "
        "few runs both are noisy; settings that change together (correlated) share or swap "
        "credit; a setting that never varies here cannot show up."
    )
    export.chart(run_figures.importance_bars(imp), "runs-importance")
    st.dataframe(imp, hide_index=True)


def detail_view() -> None:
    if selected.empty:
        st.info("Select one run in the table to see it in detail.", icon=":material/touch_app:")
        return
    rid = st.selectbox("Run", list(selected["run_id"]), key="runs_detail")
    run = selected[selected["run_id"] == rid].iloc[0]
    config = json.loads(run["config_json"])
    shown = {
        k: run.get(k)
        for k in [
            "experiment",
            "status",
            "device",
            "precision",
            "duration_s",
            "test_acc",
            "ended_at",
        ]
        if k in run
    }
    if pd.notna(shown.get("test_acc")):
        shown["test_acc"] = f"{shown['test_acc']:.2%}"
    if pd.notna(shown.get("duration_s")):
        shown["duration_s"] = f"{shown['duration_s']:.1f} s"
    shown = {k: f"{v:.4g}" if isinstance(v, float) else str(v) for k, v in shown.items()}
    values = {**shown, **{k: str(v) for k, v in config.items()}}  # settings exactly as set
    st.dataframe(pd.Series(values, name=rid), width="stretch")
    versions = {k: run[k] for k in run.index if "version" in k and pd.notna(run[k])}
    if versions:
        st.caption(" · ".join(f"{k} {v}" for k, v in versions.items()))
    if run["experiment"] in experiments.REGISTRY:
        st.page_link(
            f"pages/{run['experiment']}.py",
            label=f"Open {run['experiment']} with these settings",
            icon=":material/open_in_new:",
            query_params=query_for({k: v for k, v in config.items() if k != "seed"}),
        )
    metrics = metrics_of(selected[selected["run_id"] == rid])
    if len(metrics):
        metrics = metrics.assign(series=metrics["split"] + " " + metrics["metric"])
        acc = metrics[metrics["metric"] == "acc"]
        st.plotly_chart(
            figures.lines_ci(
                acc, "epoch", "series", title="Accuracy", x_title="epoch", y_title="accuracy"
            )
        )


{
    "curves": curves_view,
    "parallel coordinates": parallel_view,
    "x against y": scatter_view,
    "what matters": importance_view,
    "run detail": detail_view,
}[shown_view]()

# --- delete --------------------------------------------------------------------------------


PENDING = "runs_pending_delete"  # the ids the open dialog asks about, kept across reruns


def _forget_pending() -> None:
    st.session_state.pop(PENDING, None)


@st.dialog("Delete runs", on_dismiss=_forget_pending)
def _confirm_delete(run_ids: list[str]) -> None:
    st.write(
        f"Delete {len(run_ids)} saved run(s)? Their files are removed from "
        f"`{store.root}`; this cannot be undone."
    )
    doomed = runs[runs["run_id"].isin(run_ids)]
    lines = [f"{r.experiment} · {r.label} · seed {r.seed}" for r in doomed.head(12).itertuples()]
    more = f"\n… and {len(doomed) - 12} more" if len(doomed) > 12 else ""
    st.text("\n".join(lines) + more)  # which runs, by name: labels are data, not markdown
    yes, no = st.columns(2)
    if yes.button("Delete", type="primary", key="runs_delete_confirm"):
        delete(run_ids)
        _forget_pending()
        # A new table key: the old selection named rows by position, now other runs.
        st.session_state["runs_deleted"] = st.session_state.get("runs_deleted", 0) + 1
        url.write({"runs": None})  # else the next run warns that the link names unsaved runs
        st.rerun()
    if no.button("Cancel", key="runs_delete_cancel"):
        _forget_pending()
        st.rerun()


if (
    not selected.empty
    and access.can_delete()
    and st.button(
        f"Delete {len(selected)} selected run(s)", icon=":material/delete:", key="runs_delete"
    )
):
    st.session_state[PENDING] = list(selected["run_id"])
if st.session_state.get(PENDING) and access.can_delete():
    _confirm_delete(st.session_state[PENDING])
