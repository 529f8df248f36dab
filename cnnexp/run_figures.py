"""Figures of the Runs page: parallel coordinates, any x against any y, what matters.

Pure functions from the runs table (and cnnexp.analysis frames) to Plotly figures, in the
style of cnnexp.figures: seeds are shown, means carry their 95% interval and their n.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnexp import analysis, run_labels
from cnnexp.figures import PALETTE, _error_y, layout

MAX_FACETS = 6  # more small panels than this are unreadable; the page says which were kept
MAX_VALUE_TICKS = 12  # a parallel-coordinates axis with more values gets an even scale
TICK_GAP = 0.06  # of an axis's span: about one label's height on the chart's axes
LOG_RATIO = 8  # a positive setting whose largest value is this many times its smallest
# (widths 1 to 64, learning rates, image counts) reads on a log axis: on an even one its
# small values pile up at the bottom with their labels on top of one another


def axis_label(column: str) -> str:
    """A parallel-coordinates axis's title: a setting in its page's words; the accuracy short,
    as the table heads it (eight titles share the chart's width)."""
    return "test acc" if column == analysis.TARGET else run_labels.label(column)


def log_axes(runs: pd.DataFrame, columns: list[str]) -> set[str]:
    """The numeric columns that read on a log scale: all positive, and declared so by their
    config.param (a learning rate) or spanning a ratio of LOG_RATIO or more."""
    out = set()
    for c in columns:
        values = pd.to_numeric(runs[c], errors="coerce") if c in runs else None
        if values is None or values.isna().any() or values.dtype == bool or values.empty:
            continue
        lo, hi = float(values.min()), float(values.max())
        if lo > 0 and hi > lo and (run_labels.declared_log(c) or hi / lo >= LOG_RATIO):
            out.add(c)
    return out


def parallel(
    runs: pd.DataFrame,
    columns: list[str],
    target: str = analysis.TARGET,
    ranges: dict[str, tuple[float, float]] | None = None,
    log: set[str] | None = None,
) -> go.Figure:
    """One line per run through every column and the target, coloured by the target.
    Text settings get an axis with their values in sorted order; numeric ones in `log`
    (by default: log_axes) an axis of their values' logarithms, ticked at the values;
    `ranges` (by column, in the columns' own values) are drawn as brushes on their numeric
    axes, one brush per axis."""
    codes = analysis.encode(runs, columns)
    ranges = ranges or {}
    log = log_axes(runs, columns) if log is None else log
    dims = []
    for c in columns:
        dim = {"label": axis_label(c), "values": codes[c], "multiselect": False}
        if not pd.to_numeric(runs[c], errors="coerce").notna().all():
            labels = analysis.levels(runs[c])
            dim.update(tickvals=list(range(len(labels))), ticktext=labels)
            dims.append(dim)
            continue
        scale = np.log10 if c in log else np.asarray  # Parcoords has no log axis type
        dim.update(values=scale(codes[c]), **_value_ticks(runs[c], log=c in log))
        if c in ranges:
            dim["constraintrange"] = [float(scale(v)) for v in ranges[c]]
        dims.append(dim)
    acc = runs[target].astype(float)
    dim = {"label": axis_label(target), "values": acc, "multiselect": False}
    percent = target == analysis.TARGET  # an accuracy reads as the table shows it: 97.5%
    if percent:
        dim["tickformat"] = ".1%"
    if target in ranges:
        dim["constraintrange"] = list(ranges[target])
    dims.append(dim)
    # The colour bar stands clear of the last axis's tick labels, and the first axis's
    # labels (drawn to its left) get the room their longest text needs.
    bar = {"thickness": 12, "x": 1.0, "xanchor": "left", "xpad": 40}
    if percent:
        bar["tickformat"] = ".0%"
    fig = go.Figure(
        go.Parcoords(
            line={"color": acc, "colorscale": "Viridis", "showscale": True, "colorbar": bar},
            dimensions=dims,
        )
    )
    first = max((len(str(t)) for t in dims[0].get("ticktext", [])), default=4)
    fig = layout(fig, "", height=360)
    fig.update_layout(margin={"l": min(220, max(60, 7 * first + 16)), "r": 90, "t": 40, "b": 20})
    return fig


def _value_ticks(col: pd.Series, log: bool = False) -> dict:
    """Ticks at a numeric setting's own values when it has few (widths 8 to 128, a flag's
    false and true) instead of an even scale's 0, 0.2, … 1 that no run has; on a `log` axis
    with many values, at 1, 2 and 5 times each power of ten between them. A log axis is
    ticked at its values' logarithms, labelled with the values."""
    given = pd.Series(col.dropna().unique())
    if given.map(lambda v: isinstance(v, bool | np.bool_)).all():
        values = sorted(given.tolist())
        return {
            "tickvals": [float(v) for v in values],
            "ticktext": [str(v).lower() for v in values],
        }
    # Numbers as numbers: a setting kept as text in the store ("3") reads as 3.
    values = sorted(set(pd.to_numeric(given).tolist()))
    if len(values) > MAX_VALUE_TICKS:
        if not log:
            return {}
        values = _round_numbers(values[0], values[-1])
    at = [float(np.log10(v)) if log else float(v) for v in values]
    kept = set(_apart(at))
    return {
        "tickvals": [p for p in at if p in kept],
        "ticktext": [f"{v:g}" for v, p in zip(values, at, strict=True) if p in kept],
    }


def _round_numbers(lo: float, hi: float) -> list[float]:
    """1, 2 and 5 times each power of ten within [lo, hi], and the ends."""
    inside = [
        m * 10.0**e
        for e in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1)
        for m in (1, 2, 5)
        if lo < m * 10.0**e < hi
    ]
    return [lo, *inside, hi]


def _apart(values: list[float]) -> list[float]:
    """The values whose labels do not overlap on an axis that spans them evenly: the ends,
    and each value at least TICK_GAP of the span from the last one kept (learning rates
    0.0003, 0.001, 0.003 beside 0.1 would print on top of one another on an even axis)."""
    if len(values) < 3:
        return values
    gap = TICK_GAP * (values[-1] - values[0])
    kept = [values[0]]
    for v in values[1:-1]:
        if v - kept[-1] >= gap and values[-1] - v >= gap:
            kept.append(v)
    return [*kept, values[-1]]


def scatter(
    runs: pd.DataFrame,
    x: str,
    y: str,
    *,
    colour: str | None = None,
    facet: str | None = None,
    group_by: list[str] | None = None,
) -> go.Figure:
    """Every run as a ring (its run id in customdata, for selections) over, for the runs that
    share `group_by` (all settings but the seed), a diamond at the mean of x and y with y's
    95% interval as error bars; one colour per `colour` value and one panel per `facet`
    value. Axes are titled in the pages' words, an accuracy in percent, a setting that
    spans a wide ratio (log_axes) on a log axis."""
    numbers = _as_numbers(runs[x])
    left_out = 0
    if numbers is not None:  # a setting several experiments share is an object column
        left_out = int(numbers.isna().sum())  # runs of experiments without it: no x to draw
        numbers = numbers.dropna()
        whole = bool((numbers == numbers.round()).all())  # a facet or colour reads 4, not 4.0
        runs = runs.loc[numbers.index].assign(**{x: numbers.astype(int) if whole else numbers})
    # Values in their own order (100 after 31), as analysis.levels gives them.
    facets = (analysis.levels(runs[facet])[:MAX_FACETS] if facet else []) or [None]
    fig = make_subplots(
        rows=1,
        cols=len(facets),
        shared_yaxes=True,
        shared_xaxes="all",  # panels compare: the same x range and categories in each
        subplot_titles=facets if facet else None,
        horizontal_spacing=0.03,
    )
    colours = analysis.levels(runs[colour]) if colour else [None]
    fmt = ".1%" if _is_accuracy(y) else ".4g"
    group_by = [c for c in (group_by or []) if c in runs]
    # Each run's panel and colour as text, once (not once per panel and colour: 5,000 dots).
    panel_of = analysis.as_key(runs[facet]) if facet else None
    colour_of = analysis.as_key(runs[colour]) if colour else None
    in_legend: set[str] = set()  # a colour enters the legend in the first panel it is in
    for j, f in enumerate(facets, start=1):
        in_panel = panel_of == f if facet else pd.Series(True, index=runs.index)
        for i, c in enumerate(colours):
            sub = runs[in_panel & (colour_of == c)] if colour else runs[in_panel]
            if sub.empty:
                continue
            col = PALETTE[i % len(PALETTE)]
            name = f"{run_labels.label(colour)} {c}" if colour else "mean over seeds, 95% CI"
            means = _means(sub, x, y, group_by, numbers is not None)
            fig.add_trace(
                go.Scatter(
                    x=means["x"],
                    y=means["mean"],
                    mode="markers",
                    marker={"size": 11, "color": col, "symbol": "diamond", "opacity": 0.85},
                    error_y=_error_y(means, thickness=1.4, width=4),
                    name=name,
                    legendgroup=name,
                    showlegend=name not in in_legend,
                    customdata=means[["n"]].to_numpy(),
                    hovertemplate=f"mean %{{y:{fmt}}} over %{{customdata[0]}} seeds<extra>%{{x}}</extra>",
                ),
                row=1,
                col=j,
            )
            # Each run over the means, hollow: a mean's diamond shows through its seeds' rings.
            fig.add_trace(
                go.Scatter(
                    x=sub[x] if numbers is not None else analysis.as_key(sub[x]),  # lists, None
                    y=sub[y],
                    mode="markers",
                    marker={
                        "size": 7,
                        "color": col,
                        "symbol": "circle-open",
                        "line": {"width": 1.5},
                    },
                    name=name if colour else "one run (seed)",
                    legendgroup=name,
                    showlegend=not colour and j == 1,
                    customdata=sub[["run_id"]].to_numpy(),
                    hovertemplate=f"%{{x}} · %{{y:{fmt}}}<extra>%{{customdata[0]}}</extra>",
                ),
                row=1,
                col=j,
            )
            in_legend.add(name)
    title = f"One panel per {run_labels.label(facet)}" if facet and facets != [None] else ""
    if left_out:
        runs_ = "run" if left_out == 1 else "runs"
        title += (
            f"{' · ' if title else ''}{left_out:,} {runs_} without {run_labels.label(x)} left out"
        )
    fig = layout(fig, title, run_labels.label(x), run_labels.label(y), height=400)
    fig.update_layout(hovermode="closest", dragmode="select", legend_title_text="")
    fig.update_annotations(font_size=11)
    if numbers is None:  # text in its own order, not as first seen
        fig.update_xaxes(categoryorder="array", categoryarray=analysis.levels(runs[x]))
    elif x in log_axes(runs, [x]):
        fig.update_xaxes(type="log", **_log_ticks(runs[x]))
    for axis, col in ((fig.update_xaxes, x), (fig.update_yaxes, y)):
        if _is_accuracy(col):  # an accuracy reads as the table shows it: 97.5%
            axis(tickformat=".0%")
    if not _is_accuracy(y) and y in log_axes(runs, [y]):
        fig.update_yaxes(type="log", **_log_ticks(runs[y]))
    return fig


def _log_ticks(col: pd.Series) -> dict:
    """A log axis ticked at its setting's own values when they are few (100, 300, 1,000,
    4,000 images), else at each power of ten: Plotly's default labels every digit between."""
    values = sorted(set(pd.to_numeric(col, errors="coerce").dropna().tolist()))
    if len(values) > MAX_VALUE_TICKS:
        return {"dtick": 1}
    return {"tickvals": values, "ticktext": [f"{v:,g}" for v in values]}


def _is_accuracy(column: str) -> bool:
    return column.endswith("_acc")


def _as_numbers(col: pd.Series) -> pd.Series | None:
    """The column as numbers where every value present is a number (not a bool, not text of
    digits), else None."""
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        return col
    present = col.dropna()
    kind = pd.api.types.infer_dtype(present, skipna=True)
    if present.empty or kind not in ("integer", "floating", "mixed-integer-float"):
        return None
    return pd.to_numeric(col, errors="coerce")


def _means(
    runs: pd.DataFrame, x: str, y: str, group_by: list[str], numeric_x: bool
) -> pd.DataFrame:
    """analysis.group over `group_by` (or over x where nothing else groups), with mean x.
    A text x (a model's name) is one of the groups' settings: it has no mean."""
    if numeric_x:
        g = analysis.group(runs, group_by or [x], value=y)
        g["x"] = [runs.loc[runs["run_id"].isin(ids), x].mean() for ids in g["run_ids"]]
    else:
        g = analysis.group(runs, list(dict.fromkeys([*group_by, x])), value=y)
        g["x"] = analysis.as_key(g[x])  # as the dots show it
    return g


def importance_bars(imp: pd.DataFrame) -> go.Figure:
    """Permutation importance (with its spread over shuffles) beside |Spearman ρ|, each
    setting in its page's words."""
    imp = imp.assign(setting=imp["setting"].map(run_labels.label))
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=imp["setting"],
            x=imp["importance"],
            error_x={"type": "data", "array": imp["spread"]},
            orientation="h",
            name="permutation importance (drop in R²)",
            marker_color=PALETTE[0],
        )
    )
    fig.add_trace(
        go.Bar(
            y=imp["setting"],
            x=imp["spearman"].abs(),
            orientation="h",
            name="|Spearman ρ| with accuracy",
            marker_color=PALETTE[8],
            customdata=imp["spearman"],
            hovertemplate="ρ = %{customdata:.2f}<extra></extra>",
        )
    )
    fig = layout(fig, "", "", "", height=120 + 40 * len(imp))
    fig.update_layout(barmode="group", hovermode="closest")
    fig.update_yaxes(autorange="reversed")
    return fig
