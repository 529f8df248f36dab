"""Runs: every saved run, grouped over seeds or one per row; filter them, select them, and see
their curves, parallel coordinates, any x against any y, what matters, and one run in detail.
Runs people named, tagged or noted (cnnexp/run_notes.py) show those words, are found by them
and can be grouped by name or tag.

Read top to bottom: main() draws the page from the link's state (ui/runs_view.py); each `_ui`
function draws widgets and returns what was chosen; each view takes what it shows. Every
choice is in the URL. Logic lives in cnnexp.analysis, cnnexp.run_figures and, for the words
the experiment pages use for settings, cnnexp.run_labels."""

import hashlib
import json
from collections.abc import Callable
from dataclasses import astuple, dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from cnnexp import analysis, experiments, figures, run_figures, run_labels, run_notes
from cnnexp.analysis import Bounds
from cnnexp.results import own_columns
from cnnexp.run_labels import label
from cnnexp.store import Store
from ui import access, downloads, page, resources
from ui import run_notes as notes_ui
from ui import runs_view as url
from ui.links import INSIDE_PAGE, inside_query, query_for
from ui.runs_ranges import listen_for_brush, ranges_ui
from ui.runs_view import VIEWS, Filters, Grouping, Ranges, State

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
RUN_COLUMNS = ["label", "seed", "status", "test_acc", "device", "precision", "duration_s"]
PENDING = "runs_pending_delete"  # the ids the open Delete dialog asks about, across reruns


@dataclass(frozen=True)
class Saved:
    """One saved state of the results folder: its runs and the settings they have."""

    store: Store
    runs: pd.DataFrame  # in the pages' words (run_labels.in_words)
    raw: pd.DataFrame  # as saved: what a download carries
    version: int  # changes whenever a run is saved or deleted
    settings: list[str]

    def remember(self, what: str, key: tuple, build: Callable[[], Any]) -> Any:
        """build(), once per saved state and `key`, shared by every session (so it must not
        be changed): the pandas work over the runs table was most of this page's server time
        per view (bench/wire.py)."""
        return _remembered(what, (self.version, *key), build)


@dataclass(frozen=True)
class Shown:
    """The runs the filters and ranges keep, and what is known of them."""

    runs: pd.DataFrame
    varies: list[str]  # the settings that take more than one value among the filtered runs
    numeric: list[str]  # of those and the accuracy, the numeric ones
    limits: dict[str, Bounds]  # their bounds among the filtered runs
    ranges: Ranges  # the ranges set on them
    key: tuple  # what decides these rows: the filters and the ranges


def main() -> None:
    page.require_app()
    access.access_panel()
    st.title("Runs")
    saved = saved_runs()
    if saved.runs.empty:
        st.info(
            "No saved runs yet. Launch one from an experiment page, or run "
            "`python -m cnnexp run baseline` in a terminal.",
            icon=":material/info:",
        )
        return
    problems: list[str] = []
    tags = saved.remember("tags", (), lambda: run_notes.all_tags(saved.runs))
    named = saved.remember("named", (), lambda: run_notes.named_columns(saved.runs))
    asked = url.read(saved.runs, [*saved.settings, *named], problems, tags)
    filters = filters_ui(saved.runs, asked.filters, tags)
    shown = shown_ui(saved, filters, problems)
    grouping = grouping_ui(shown.varies or ["experiment"], asked.grouping, named)
    url.drop_refused(link_allowed(saved), problems)
    say_ignored(problems)
    selected = table_ui(saved, shown, grouping, asked.selected)
    view = view_ui(asked.view)
    state = State(filters, shown.ranges, grouping, tuple(selected["run_id"]), view)
    view_link = VIEW_OF[view](saved, shown, selected)
    url.write({**url.link(state), **view_link})
    delete_ui(saved, selected)


# --- the state of the saved runs --------------------------------------------------------------


def saved_runs() -> Saved:
    """The saved runs, their settings in the words of the experiment pages (run_labels)."""
    store = resources.store()
    raw, version = store.runs_and_version()
    runs = _remembered("in-words", (version,), lambda: run_labels.in_words(raw))
    settings = _remembered("settings", (version,), lambda: analysis.settings(runs))
    return Saved(store, runs, raw, version, settings)


# Bounded: some entries are copies of the runs table (in words, the filtered view, the table as
# shown), so a few filter states' worth (~8 entries each), whatever text visitors search for.
@st.cache_resource(max_entries=24, ttl=3600, show_spinner=False)
def _remembered(what: str, key: tuple, _build: Callable[[], Any]) -> Any:
    return _build()


@st.cache_data(max_entries=16, show_spinner=False)
def read_metrics(root: str, files: tuple[tuple[str, int], ...]) -> pd.DataFrame:
    """The per-epoch metrics of these (run id, file time) pairs in the results folder `root`.
    Cached: changing the series or the colouring reads no file again; a run saved anew has
    another file time, so it is read afresh."""
    return resources.store().metrics([rid for rid, _ in files])


def metrics_of(saved: Saved, runs: pd.DataFrame) -> pd.DataFrame:
    times = runs["_mtime_ns"].astype(int).tolist()
    files = tuple(zip(runs["run_id"].tolist(), times, strict=True))
    return read_metrics(str(saved.store.root), files)


# --- widgets: each returns what was chosen ----------------------------------------------------


def seed(key: str, value: Any) -> None:
    """Seed a widget from the link on the first run only (later the widget is the truth)."""
    if key not in st.session_state:
        st.session_state[key] = value


def say_ignored(problems: list[str]) -> None:
    """What of the link was ignored, as literal text: a stranger's values are never markdown."""
    if problems:
        st.warning("**Some values in this link were ignored.**", icon=":material/link_off:")
        st.text("\n".join(problems))


def link_allowed(saved: Saved) -> dict[str, list[str]]:
    """What a link may give each view's parameters, whatever the filters (a view checks its
    own exactly when it is shown)."""
    columns = [c for c in [analysis.TARGET, "duration_s", *saved.settings] if c in saved.runs]
    return {
        "series": list(SERIES),
        "lines": ["configuration", "run", *saved.settings],
        "axes": saved.settings,
        **dict.fromkeys(("x", "y", "colour", "facet"), columns),
    }


def filters_ui(runs: pd.DataFrame, asked: Filters, tags: list[str]) -> Filters:
    """Experiment, status and search; and tags, once some run has them."""
    f1, f2, f3, *f4 = st.columns([2, 2, 3, 2] if tags else [2, 2, 3])
    seed("runs_exp", list(asked.exps))
    seed("runs_status", list(asked.statuses))
    seed("runs_search", asked.text)
    exps = f1.multiselect("Experiment", sorted(runs["experiment"].unique()), key="runs_exp")
    statuses = f2.multiselect("Status", sorted(runs["status"].unique()), key="runs_status")
    text = f3.text_input(
        "Search", placeholder="label, run id, setting, name or note", key="runs_search"
    )
    picked: list[str] = []
    if tags:
        seed("runs_tags", list(asked.tags))
        picked = f4[0].multiselect(
            "Tags", tags, key="runs_tags", help="Runs with any of these tags"
        )
    return Filters(tuple(exps), tuple(statuses), text, tuple(picked))


def shown_ui(saved: Saved, filters: Filters, problems: list[str]) -> Shown:
    """The runs the filters keep, narrowed by the ranges set under *Ranges* (drawn here)."""
    key = astuple(filters)
    runs = saved.remember("view", key, lambda: filtered(saved.runs, filters))
    varies = list(saved.remember("varying", key, lambda: analysis.varying(runs, saved.settings)))
    numeric = list(
        saved.remember("numeric", key, lambda: analysis.numeric(runs, [*varies, analysis.TARGET]))
    )
    limits = saved.remember("bounds", key, lambda: {c: analysis.bounds(runs[c]) for c in numeric})
    ranges = ranges_ui(limits, lambda: url.ranges(numeric, problems), label)
    if ranges:
        runs = runs[analysis.in_ranges(runs, ranges)].reset_index(drop=True)
    return Shown(runs, varies, numeric, limits, ranges, (*key, tuple(sorted(ranges.items()))))


def filtered(runs: pd.DataFrame, f: Filters) -> pd.DataFrame:
    """The runs the filters keep (cnnexp.analysis, then the tags: cnnexp.run_notes)."""
    return run_notes.with_tags(analysis.filtered(runs, f.exps, f.statuses, f.text), f.tags)


def grouping_ui(varies: list[str], asked: Grouping, named: list[str]) -> Grouping:
    """Whether rows are configurations, and which settings tell them apart: by default every
    setting that varies among the filtered runs, following the filters until the visitor
    picks (or a link's ?by= did). People's names and tags (`named`) may be picked too: one
    row per name pools every run of that name, whatever its settings."""
    g1, g2 = st.columns([1, 3], vertical_alignment="bottom")
    seed("runs_group", asked.on)
    grouped = g1.toggle(
        "Group over seeds",
        key="runs_group",
        help="One row per configuration: runs that differ only in seed, averaged",
    )
    by, _ = following_ui(
        g2,
        "Group by",
        [*varies, *(c for c in named if c not in varies)],
        varies,
        key="runs_by",
        linked=list(asked.by),
        disabled=not grouped,
        help="By default every setting that varies here; pick fewer to pool more runs",
    )
    return Grouping(grouped, tuple(by), default=tuple(varies))


def following_ui(
    where, title: str, options: list[str], default: list[str], key: str, linked: list[str], **kw
) -> tuple[list[str], bool]:
    """A multiselect of settings (in the pages' words) whose value is `default`, which moves
    with the filters, until the visitor picks (or the link did: `linked`, read on the first
    run); then their pick, less what the filters took away. Returns the value and whether it
    was picked."""
    flag = f"{key}_picked"
    if key not in st.session_state and linked:
        st.session_state[flag] = True
        st.session_state[key] = linked
    picked = st.session_state.get(flag, False)
    kept = [c for c in st.session_state.get(key, []) if c in options] if picked else []
    st.session_state[key] = kept or default
    value = where.multiselect(
        title, options, key=key, format_func=label, on_change=_picked, args=(flag,), **kw
    )
    return value or default, picked


def _picked(flag: str) -> None:
    st.session_state[flag] = True


def table_columns(settings: list[str]) -> dict:
    """The table's headings: settings in the pages' words, results with their units."""
    return {
        **{c: label(c) for c in settings},
        "test_acc": st.column_config.NumberColumn("test acc", format="%.1f%%"),
        "mean": st.column_config.NumberColumn("mean test acc", format="%.1f%%"),
        "lo": st.column_config.NumberColumn("95% CI low", format="%.1f%%"),
        "hi": st.column_config.NumberColumn("95% CI high", format="%.1f%%"),
        "n": st.column_config.NumberColumn(
            "seeds", help="runs in this group with a test accuracy (failed or running: not counted)"
        ),
        "duration_s": st.column_config.NumberColumn("duration", format="%.1f s"),
        "ended_at": st.column_config.DatetimeColumn("ended", format="YYYY-MM-DD HH:mm"),
        "name": st.column_config.TextColumn("name", help="What its launcher called the run"),
        "tags": st.column_config.TextColumn("tags"),
    }


def table_ui(
    saved: Saved, shown: Shown, grouping: Grouping, linked: tuple[str, ...]
) -> pd.DataFrame:
    """The table of runs or configurations; returns the runs of the rows selected. A link's
    runs are selected where they are shown (a selection follows its runs through a filter)."""
    view, linked_shown = shown.runs, set(linked) & set(shown.runs["run_id"])
    if grouping.on:
        by = list(grouping.by)
        key = (*shown.key, tuple(by))
        rows = saved.remember("group", key, lambda: analysis.group(view, by))
        cols = ["mean", "lo", "hi", "n", *by, "duration_s"]  # the result first: by may be long
        table = saved.remember(
            "grouped-table", key, lambda: analysis.as_shown(rows, ("mean", "lo", "hi"), cols)
        )
        default_rows = [
            i for i, ids in enumerate(rows["run_ids"]) if not linked_shown.isdisjoint(ids)
        ]
        noun = "configurations"
    else:
        rows, key = view, shown.key
        # the columns of every run, not of the filtered ones: they stay put while filtering
        anywhere = saved.remember(
            "varying", ((), (), ""), lambda: analysis.varying(saved.runs, saved.settings)
        )
        # The run and its accuracy first: past a dozen settings they were off the screen.
        first = ["experiment", "name", "label", "test_acc"]  # name: where some run has one
        rest = [c for c in RUN_COLUMNS if c not in first]
        cols = [*first, *anywhere, *rest, "tags", "ended_at"]
        table = saved.remember(
            "runs-table", key, lambda: analysis.as_shown(view, ("test_acc",), cols)
        )
        default_rows = np.flatnonzero(view["run_id"].isin(linked_shown)).tolist()
        noun = "runs"
    st.caption(
        f"{len(rows):,} {noun} · {len(view):,} of {len(saved.runs):,} saved runs · "
        "select rows to compare"
    )
    # What decides the table's rows (the saved state, the filters, the grouping): no pass over them.
    rows_key = hashlib.blake2b(repr((saved.version, key)).encode(), digest_size=6).hexdigest()
    event = st.dataframe(
        table,
        hide_index=True,
        # A new key whenever the rows change: Streamlit keeps a selection by row position, which
        # after a filter named other runs (and Delete would have removed those); the new table's
        # selection is the linked runs that are still shown.
        key=f"runs_table_{grouping.on}_{st.session_state.get('runs_deleted', 0)}_{rows_key}",
        on_select="rerun",
        selection_mode="multi-row",
        # At most ten rows (Streamlit's "auto"), and its empty row: with no rows, a height
        # for the header alone drew the next label over the table's border.
        height=min(400, 35 * (max(len(table), 1) + 1) + 3),
        selection_default={"selection": {"rows": default_rows}} if default_rows else None,
        column_config=table_columns(saved.settings),
        placeholder="—",
    )
    picked = rows.iloc[[i for i in event.selection.rows if i < len(rows)]]
    ids = [i for ids in picked["run_ids"] for i in ids] if grouping.on else list(picked["run_id"])
    return view[view["run_id"].isin(set(ids))] if ids else view.iloc[:0]


def view_ui(asked: str) -> str:
    """One view at a time: only what is shown is computed."""
    seed("runs_view", asked)
    if st.session_state["runs_view"] not in VIEWS:  # unselected: the first again
        st.session_state["runs_view"] = VIEWS[0]
    return st.segmented_control("View", VIEWS, key="runs_view") or VIEWS[0]


# --- the views: each takes what it shows and returns its own link values ----------------------


def curves_view(saved: Saved, shown: Shown, selected: pd.DataFrame) -> dict:
    if selected.empty:
        st.info(
            "Select runs or configurations in the table to overlay their learning curves.",
            icon=":material/touch_app:",
        )
        return {}
    few, n = analysis.downsample(selected, MAX_CURVES)
    if n > len(few):
        st.caption(f"Showing the curves of {len(few)} of the {n:,} selected runs, drawn at random.")
    # Seeds of one configuration share its name: its mean line and band; each run has its own.
    few, differs = saved.remember("curves", tuple(few["run_id"]), lambda: curve_names(saved, few))
    series, colour = curves_ui(["configuration", "run", *differs])
    link = {  # the defaults leave the link short
        "series": None if series == "test accuracy" else series,
        "lines": None if colour == "configuration" else colour,
    }
    metrics = metrics_of(saved, few)
    split, metric = SERIES[series]
    curves = metrics[(metrics["split"] == split) & (metrics["metric"] == metric)].merge(
        few[["run_id", "configuration", "run", *differs]], on="run_id"
    )
    if curves.empty:
        st.warning(
            "The selected runs have no per-epoch metrics (they failed before an epoch ended)."
        )
        return link
    fig = figures.lines_ci(
        curves,
        "epoch",
        colour,
        title=series.capitalize(),
        x_title="epoch",
        y_title=series,
        percent=metric == "acc",
    )
    downloads.chart(fig, "runs-curves")
    chosen = tuple(selected["run_id"])
    runs = saved.remember("export", chosen, lambda: exported(saved, selected))
    downloads.data_downloads({"runs": runs, "metrics": metrics}, "selected")
    return link


def curve_names(saved: Saved, runs: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The runs with the names their curves go by (run_labels.names): `configuration`, which
    its seeds share, and `run`; and the settings that differ among them, to colour by."""
    named = runs.assign(
        configuration=run_labels.names(runs, saved.settings, seed=False).to_numpy(),
        run=run_labels.names(runs, saved.settings).to_numpy(),
    )
    return named, analysis.varying(runs, saved.settings)


def exported(saved: Saved, selected: pd.DataFrame) -> pd.DataFrame:
    """The selected runs as a download carries them: as saved (not in words), with their own
    settings only, as an experiment page's download does."""
    raw = saved.raw[saved.raw["run_id"].isin(selected["run_id"])]
    return own_columns(raw, [json.loads(c) for c in raw["config_json"]])


def curves_ui(lines: list[str]) -> tuple[str, str]:
    """The series drawn and what colours its lines."""
    problems: list[str] = []  # the table's warning is drawn already: this view says its own
    seed("runs_series", url.one("series", list(SERIES), "test accuracy", problems))
    seed("runs_colour", url.one("lines", lines, "configuration", problems))
    say_ignored(problems)
    c1, c2 = st.columns(2)
    series = c1.selectbox("Series", list(SERIES), key="runs_series")
    colour = c2.selectbox(
        "Colour by",
        lines,
        key="runs_colour",
        format_func=lambda c: c if c in ("configuration", "run") else label(c),
        help="configuration groups seeds of identical settings into a mean line and a 95% band",
    )
    return series, colour


def parallel_view(saved: Saved, shown: Shown, selected: pd.DataFrame) -> dict:
    view = shown.runs
    done = view[view["test_acc"].notna()] if "test_acc" in view else view.iloc[:0]
    if done.empty:
        st.info("No finished runs with a test accuracy in this filter.", icon=":material/info:")
        return {}
    candidates = shown.varies or ["experiment"]
    cols, picked = axes_ui(done, candidates)
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
    log = run_figures.log_axes(few, cols)  # the brush reads these axes' ranges back
    fig = run_figures.parallel(few, cols, ranges=shown.ranges, log=log)
    downloads.chart(fig, "runs-parallel")
    labels = {run_figures.axis_label(c): c for c in shown.numeric}
    listen_for_brush("chart-runs-parallel", [*cols, analysis.TARGET], labels, shown.limits, log)
    return {"axes": picked}


def axes_ui(runs: pd.DataFrame, candidates: list[str]) -> tuple[list[str], list[str] | None]:
    """The settings drawn as axes, at most MAX_AXES, and the visitor's pick for the link (None:
    the default). By default those with the most distinct values here, following the filters;
    once the visitor picks (or a link's ?axes= does), their pick, less what the filters took
    away."""
    default = analysis.most_varied(runs, candidates, MAX_AXES)
    linked = []
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
    cols, picked = following_ui(
        st,
        "Axes",
        candidates,
        default,
        key="runs_axes",
        linked=linked,
        max_selections=MAX_AXES,
        help=f"Settings drawn as axes, at most {MAX_AXES}; test accuracy is always the last",
    )
    return cols, (cols if picked and cols != default else None)


def scatter_view(saved: Saved, shown: Shown, selected: pd.DataFrame) -> dict:
    view = shown.runs
    cols = [c for c in ["test_acc", "duration_s", *shown.numeric, *saved.settings] if c in view]
    x, y, colour, facet = scatter_ui(list(dict.fromkeys(cols)), shown.varies)
    few, n = analysis.downsample(view, MAX_DOTS)
    if n > len(few):
        st.caption(f"{len(few):,} of {n:,} runs drawn, at random.")
    group_by = [c for c in saved.settings if c in shown.varies]
    fig = run_figures.scatter(few, x, y, colour=colour, facet=facet, group_by=group_by)
    st.caption(
        "Rings are runs (one per seed); diamonds are the mean of each configuration with its "
        "95% interval. Drag a box or lasso over rings to select those runs."
    )
    picked = st.plotly_chart(
        fig, key="runs_scatter", on_select="rerun", selection_mode=("box", "lasso", "points")
    )
    hit = [p["customdata"][0] for p in picked.selection.points if p.get("customdata")]
    if hit:
        st.caption(f"{len(set(hit))} runs in your selection:")
        st.dataframe(
            view[view["run_id"].isin(hit)][["run_id", x, y]], hide_index=True, placeholder="—"
        )
    return {"x": x, "y": y, "colour": colour, "facet": facet}


def scatter_ui(cols: list[str], varies: list[str]) -> tuple[str, str, str | None, str | None]:
    """x, y, and what colours the dots and splits them into panels (None: nothing)."""
    problems: list[str] = []  # the table's warning is drawn already: this view says its own
    seed("runs_x", url.one("x", cols, varies[0] if varies else cols[-1], problems))
    seed("runs_y", url.one("y", cols, "test_acc", problems))
    seed("runs_c", url.one("colour", cols, None, problems))
    seed("runs_f", url.one("facet", cols, None, problems))
    say_ignored(problems)
    c1, c2, c3, c4 = st.columns(4)
    words = {"format_func": label}
    x = c1.selectbox("x", cols, key="runs_x", **words)
    y = c2.selectbox("y", cols, key="runs_y", **words)
    colour = c3.selectbox("Colour by", cols, key="runs_c", index=None, placeholder="none", **words)
    facet = c4.selectbox("Facet by", cols, key="runs_f", index=None, placeholder="none", **words)
    return x, y, colour, facet


def importance_view(saved: Saved, shown: Shown, selected: pd.DataFrame) -> dict:
    few, n = analysis.downsample(shown.runs, MAX_IMPORTANCE)
    with st.spinner(f"Fitting a random forest to {len(few):,} runs…"):  # seconds, not instant
        imp = analysis.importance(few, shown.varies)
    if imp.empty:
        st.info(
            "Needs at least four finished runs and one setting that varies in this filter.",
            icon=":material/info:",
        )
        return {}
    st.caption(
        f"Fitted on {len(few):,} of {n:,} runs. **Permutation importance**: how much a random "
        "forest's fit of test accuracy (R²) drops when one setting's values are shuffled; "
        "**Spearman ρ**: the plain rank correlation (its sign says the direction; none for a "
        "setting whose values have no order, such as the model, or that some runs lack). "
        "Limits: with "
        "few runs both are noisy; settings that change together (correlated) share or swap "
        "credit; a setting that never varies here cannot show up."
    )
    downloads.chart(run_figures.importance_bars(imp), "runs-importance")
    st.dataframe(imp.assign(setting=imp["setting"].map(label)), hide_index=True, placeholder="—")
    return {}


def detail_view(saved: Saved, shown: Shown, selected: pd.DataFrame) -> dict:
    if selected.empty:
        st.info("Select one run in the table to see it in detail.", icon=":material/touch_app:")
        return {}
    # By what tells them apart among the runs in the table, not by id.
    names = saved.remember("names", shown.key, lambda: run_labels.names(shown.runs, saved.settings))
    rid = st.selectbox("Run", list(selected["run_id"]), key="runs_detail", format_func=names.get)
    run = selected[selected["run_id"] == rid].iloc[0]
    config = json.loads(run["config_json"])
    facts = [  # its name and tags first, where people gave some (as text: never markup)
        *["name", "tags", "experiment", "status", "device", "precision", "duration_s"],
        *["test_acc", "ended_at"],
    ]
    shown_facts = {k: run.get(k) for k in facts if k in run}
    if pd.notna(shown_facts.get("test_acc")):
        shown_facts["test_acc"] = f"{shown_facts['test_acc']:.2%}"
    if pd.notna(shown_facts.get("duration_s")):
        shown_facts["duration_s"] = f"{shown_facts['duration_s']:.1f} s"
    shown_facts = {
        k: f"{v:.4g}" if isinstance(v, float) else str(v)
        for k, v in shown_facts.items()
        if k not in run_notes.COLUMNS or isinstance(v, str)  # nothing said: no row
    }
    values = {**shown_facts, **{k: str(v) for k, v in config.items()}}  # settings exactly as set
    st.dataframe(pd.Series(values, name=rid), width="stretch", placeholder="—")
    versions = {k: run[k] for k in run.index if "version" in k and pd.notna(run[k])}
    if versions:
        st.caption(" · ".join(f"{k} {v}" for k, v in versions.items()))
    if isinstance(run.get("note"), str):  # a few sentences: literal text, not a table cell
        st.caption("Note")
        st.text(run["note"])
    notes_ui.editor(run["experiment"], rid)  # for an admin or the run's owner
    if run["experiment"] in experiments.REGISTRY:
        st.page_link(
            f"pages/{run['experiment']}.py",
            label=f"Open {run['experiment']} with these settings",
            icon=":material/open_in_new:",
            query_params=query_for({k: v for k, v in config.items() if k != "seed"}),
        )
    if run.get("status") in ("done", "diverged"):  # a run that never finished has no model
        st.page_link(
            INSIDE_PAGE,
            label="Look inside this run: predictions, filters, feature maps, saliency",
            icon=":material/visibility:",
            query_params=inside_query(rid),
        )
    metrics = metrics_of(saved, selected[selected["run_id"] == rid])
    if len(metrics):
        metrics = metrics.assign(series=metrics["split"] + " " + metrics["metric"])
        acc = metrics[metrics["metric"] == "acc"]
        st.plotly_chart(
            figures.lines_ci(
                acc,
                "epoch",
                "series",
                title="Accuracy",
                x_title="epoch",
                y_title="accuracy",
                percent=True,  # as every other chart and the table read it
            )
        )
    return {}


VIEW_OF: dict[str, Callable[[Saved, Shown, pd.DataFrame], dict]] = {
    "curves": curves_view,
    "parallel coordinates": parallel_view,
    "x against y": scatter_view,
    "what matters": importance_view,
    "run detail": detail_view,
}


# --- delete -----------------------------------------------------------------------------------


def delete_ui(saved: Saved, selected: pd.DataFrame) -> None:
    """Delete, for those who may: a button, then a dialog naming the runs it deletes."""
    if not access.can_delete():
        return
    if not selected.empty and st.button(
        f"Delete {len(selected)} selected run(s)", icon=":material/delete:", key="runs_delete"
    ):
        st.session_state[PENDING] = list(selected["run_id"])
    if st.session_state.get(PENDING):
        _confirm_delete(saved, st.session_state[PENDING])


def _forget_pending() -> None:
    st.session_state.pop(PENDING, None)


@st.dialog("Delete runs", on_dismiss=_forget_pending)
def _confirm_delete(saved: Saved, run_ids: list[str]) -> None:
    st.write(
        f"Delete {len(run_ids)} saved run(s)? Their files are removed from "
        f"`{saved.store.root}`; this cannot be undone."
    )
    doomed = saved.runs[saved.runs["run_id"].isin(run_ids)]
    lines = [f"{r.experiment} · {r.label} · seed {r.seed}" for r in doomed.head(12).itertuples()]
    more = f"\n… and {len(doomed) - 12} more" if len(doomed) > 12 else ""
    st.text("\n".join(lines) + more)  # which runs, by name: labels are data, not markdown
    yes, no = st.columns(2)
    if yes.button("Delete", type="primary", key="runs_delete_confirm"):
        access.delete_runs(saved.store, run_ids)  # the access module checks the role
        _forget_pending()
        # A new table key: the old selection named rows by position, now other runs.
        st.session_state["runs_deleted"] = st.session_state.get("runs_deleted", 0) + 1
        url.write({"runs": None})  # else the next run warns that the link names unsaved runs
        st.rerun()
    if no.button("Cancel", key="runs_delete_cancel"):
        _forget_pending()
        st.rerun()


main()
