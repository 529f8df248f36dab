"""Figures: pure functions from tidy DataFrames to Plotly figures.

Where several seeds ran, a figure shows their mean with a 95% t-interval (a band on
lines, error bars on points) and says how many seeds in the legend; with one seed it
draws the run alone and says so. No figure hides its sample size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go

PALETTE = [
    "#2563eb",
    "#dc2626",
    "#059669",
    "#d97706",
    "#7c3aed",
    "#0891b2",
    "#db2777",
    "#65a30d",
    "#475569",
    "#ea580c",
]
DASH = {"test": "solid", "train": "dot"}
STYLES = ["solid", "dash", "dot", "dashdot"]  # for any other second grouping, in order
METRIC_LABEL = {"acc": "accuracy", "loss": "loss", "seconds": "seconds"}
FLAT_BELOW = 1e-6  # the top of a non-negative heatmap's colour scale when all is about zero


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def layout(
    fig: go.Figure, title: str = "", x: str = "", y: str = "", height: int = 380
) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0, "font": {"size": 15}},
        height=height,
        margin={"l": 10, "r": 10, "t": 48 if title else 16, "b": 10},
        # At the figure's foot, not a fraction of the plot's height below it: a legend of
        # many rows shrank the plot, and with it that fraction, onto the x axis's title.
        legend={"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0, "x": 0},
        hovermode="x unified",
        font={"family": "Inter, Segoe UI, sans-serif", "size": 12},
    )
    fig.update_xaxes(title=x, showgrid=True, gridcolor="#eef0f3", zeroline=False)
    fig.update_yaxes(title=y, showgrid=True, gridcolor="#eef0f3", zeroline=False)
    # Panels sharing the first panel's y axis show no title of their own: it would overlap
    # the panel to their left.
    fig.for_each_yaxis(lambda a: a.update(title=None) if a.matches else None)
    fig.update_layout(height=height + LEGEND_ROW_PX * extra_legend_rows(fig))
    return fig


LEGEND_ROW_PX = 20
HALF_PAGE_PX = 560  # a chart in one of two columns on a laptop: where legends wrap soonest
MAX_EXTRA_ROWS = 16  # past that the legend scrolls (Plotly's own) rather than grow the chart


def extra_legend_rows(fig: go.Figure) -> int:
    """How many more legend rows than the two a chart's height allows for: the legend sits
    at the foot and the plot gives up the room, so ten configurations left it 120 px tall.
    Entries packed in rows of half a page, at ~6.5 px a character (12 px Inter)."""
    names = list(  # traces that can show in a legend (Parcoords has no such property)
        dict.fromkeys(
            t.name for t in fig.data if "showlegend" in t and t.showlegend is not False and t.name
        )
    )
    if len(names) < 2 or fig.layout.showlegend is False:  # no legend: one trace, or hidden
        return 0
    rows, used = 1, 0.0
    for name in names:
        width = 40 + 6.5 * len(name)
        if used and used + width > HALF_PAGE_PX:
            rows, used = rows + 1, 0.0
        used += width
    return min(max(0, rows - 2), MAX_EXTRA_ROWS)


def summarise(df: pd.DataFrame, by: Sequence[str], value: str = "value") -> pd.DataFrame:
    """Mean, 95% interval and seed count of `value` for every group of `by`: what
    cnnexp.stats.mean_ci gives each group (finite values only; no interval for one), computed
    for all groups at once, since a Python loop over them cost the Runs page's curves (hundreds
    of groups) tenths of a second."""
    by = list(by)
    if df.empty:
        return pd.DataFrame(columns=[*by, "mean", "lo", "hi", "n"])
    df = df.reset_index(drop=True)  # keys and values align by position, whatever the index
    v = df[value].astype(float)
    v = v.where(np.isfinite(v))  # inf counts as missing, as in mean_ci
    g = v.groupby([df[c] for c in by], sort=True, dropna=False)
    n, mean = g.count(), g.mean()
    half = (_t975(n) * g.std(ddof=1) / np.sqrt(n)).where(n > 1)
    out = pd.DataFrame({"mean": mean, "lo": mean - half, "hi": mean + half, "n": n})
    return out.reset_index()[[*by, "mean", "lo", "hi", "n"]]


def _t975(n: pd.Series) -> np.ndarray:
    """t(0.975, n − 1) for each count n (NaN below 2), as in cnnexp.stats.mean_ci."""
    from scipy.special import stdtrit  # imported where an interval is due, as in stats

    k = n.to_numpy(dtype=float)
    return np.where(k > 1, stdtrit(np.maximum(k - 1, 1), 0.975), np.nan)


def _seeds(n: int) -> str:
    return f"{n} seeds" if n > 1 else "1 seed"


def _bounded(s: pd.DataFrame, percent: bool, nonnegative: bool = False) -> pd.DataFrame:
    """A summarise() frame whose intervals stop at 0 and 100% when the value is a share (an
    accuracy), at 0 when it cannot be negative (a loss, a ratio of norms): two or three seeds
    give t-intervals wide enough to pass either end (cnnexp.stats.bounded_interval)."""
    if percent:
        return s.assign(lo=s["lo"].clip(0, 1), hi=s["hi"].clip(0, 1))
    return s.assign(lo=s["lo"].clip(lower=0)) if nonnegative else s


def _error_y(sub: pd.DataFrame, **style) -> dict:
    """Asymmetric 95% error bars from a summarise() frame; none where one seed ran."""
    has = sub["hi"].notna()
    return {
        "type": "data",
        "symmetric": False,
        "visible": bool(has.any()),
        "array": (sub["hi"] - sub["mean"]).where(has, 0),
        "arrayminus": (sub["mean"] - sub["lo"]).where(has, 0),
        **style,
    }


def _band(fig: go.Figure, x, lo, hi, colour: str, group: str) -> None:
    fig.add_trace(
        go.Scatter(
            x=list(x) + list(x)[::-1],
            y=list(hi) + list(lo)[::-1],
            fill="toself",
            mode="lines",
            fillcolor=_rgba(colour, 0.15),
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            legendgroup=group,
        )
    )


def lines_ci(
    df: pd.DataFrame,
    x: str,
    colour: str,
    *,
    dash: str | None = None,
    value: str = "value",
    log_x: bool = False,
    markers: bool = False,
    colour_order: Sequence | None = None,
    title: str = "",
    x_title: str = "",
    y_title: str = "",
    percent: bool = False,
    nonnegative: bool = False,
    deterministic: bool = False,
    exact_dashes: tuple = (),
) -> go.Figure:
    """One line per `colour` (and `dash`) group: the mean over seeds against x, 95% band.

    deterministic: the values are exact (a probe, a formula), not samples over seeds; the
    legend then does not count seeds. exact_dashes: the same, for these `dash` values only
    (a theoretical side beside measured ones).
    """
    by = [colour] + ([dash] if dash else [])
    s = summarise(df, [*by, x], value)
    dashes = sorted(s[dash].dropna().unique(), key=str, reverse=True) if dash else []
    style = {d: DASH.get(str(d), STYLES[i % len(STYLES)]) for i, d in enumerate(dashes)}
    fig = go.Figure()
    groups = (
        list(colour_order)
        if colour_order is not None
        else sorted(s[colour].dropna().unique(), key=str)
    )
    for i, c in enumerate(groups):
        col = PALETTE[i % len(PALETTE)]
        sub_c = s[s[colour] == c]
        for d in dashes or [None]:
            sub = sub_c if d is None else sub_c[sub_c[dash] == d]
            if sub.empty:
                continue
            n = int(sub["n"].max())
            name = (
                f"{c}"
                + (f" · {d}" if d is not None else "")
                + ("" if deterministic or d in exact_dashes else f" ({_seeds(n)})")
            )
            if n > 1 and sub["lo"].notna().any():
                lo, hi = sub["lo"], sub["hi"]
                if percent:  # an accuracy cannot leave [0, 1]; few seeds give wide t-intervals
                    lo, hi = lo.clip(0, 1), hi.clip(0, 1)
                elif nonnegative:  # nor can a loss go below zero
                    lo = lo.clip(lower=0)
                _band(fig, sub[x], lo, hi, col, name)
            fig.add_trace(
                go.Scatter(
                    x=sub[x],
                    y=sub["mean"],
                    name=name,
                    legendgroup=name,
                    mode="lines+markers" if markers or len(sub) <= 12 else "lines",
                    line={
                        "color": col,
                        "width": 2.2,
                        "dash": style[d] if dash else "solid",
                    },
                    customdata=sub[["lo", "hi", "n"]].to_numpy(),
                    hovertemplate=("%{y:.2%}" if percent else "%{y:.4g}")
                    + " (95% CI %{customdata[0]:.3g}–%{customdata[1]:.3g}, n=%{customdata[2]})<extra>"
                    + name
                    + "</extra>",
                )
            )
    fig = layout(fig, title, x_title or x, y_title or value)
    if x == "epoch" and s[x].max() - s[x].min() <= 12:  # whole epochs: no tick at 0.5 or 1.2
        fig.update_xaxes(dtick=1)
    if log_x:
        fig.update_xaxes(type="log")
    if percent:
        fig.update_yaxes(tickformat=".0%")
    return fig


def curves(
    metrics: pd.DataFrame,
    metric: str = "acc",
    colour: str = "label",
    splits: Sequence[str] = ("train", "test"),
    title: str = "",
    colour_order: Sequence | None = None,
) -> go.Figure:
    """Learning curves: `metric` per epoch, solid test and dotted train, seeds as bands."""
    df = metrics[(metrics["metric"] == metric) & metrics["split"].isin(splits)]
    return lines_ci(
        df,
        "epoch",
        colour,
        dash="split",
        title=title,
        x_title="epoch",
        y_title=f"{METRIC_LABEL.get(metric, metric)}",
        percent=metric == "acc",
        nonnegative=metric == "loss",
        colour_order=colour_order,
    )


def points_ci(
    df: pd.DataFrame,
    x: str,
    y: str,
    colour: str,
    *,
    log_x: bool = False,
    title: str = "",
    x_title: str = "",
    y_title: str = "",
    percent: bool = True,
    nonnegative: bool = False,
    colour_order: Sequence | None = None,
    ticks_at_x: bool = False,
) -> go.Figure:
    """Mean of y over seeds at each x, one line per colour group, 95% error bars (stopped at
    0 and 100% for a share, at 0 for a value that cannot be negative)."""
    s = _bounded(summarise(df, [colour, x], y), percent, nonnegative)
    fig = go.Figure()
    groups = list(colour_order) if colour_order is not None else sorted(s[colour].unique(), key=str)
    for i, c in enumerate(groups):
        sub = s[s[colour] == c].sort_values(x)
        if sub.empty:
            continue
        col = PALETTE[i % len(PALETTE)]
        n = int(sub["n"].max())
        fig.add_trace(
            go.Scatter(
                x=sub[x],
                y=sub["mean"],
                name=f"{c} ({_seeds(n)})",
                mode="lines+markers",
                line={"color": col, "width": 2.2},
                marker={"size": 8},
                error_y=_error_y(sub, thickness=1.4, width=4),
                customdata=sub[["lo", "hi", "n"]].to_numpy(),
                hovertemplate=("%{y:.2%}" if percent else "%{y:.4g}")
                + " (95% CI %{customdata[0]:.3g}–%{customdata[1]:.3g}, n=%{customdata[2]})<extra>%{x}</extra>",
            )
        )
    fig = layout(fig, title, x_title or x, y_title or y)
    fig.update_layout(hovermode="closest")
    if log_x:
        fig.update_xaxes(type="log")
    if ticks_at_x:  # the swept values (4, 64, 256), not a log scale's 2 3 4 5 … between
        fig.update_xaxes(tickvals=sorted(s[x].dropna().unique()))
    if percent:
        fig.update_yaxes(tickformat=".0%")
    return fig


def dots_ci(
    df: pd.DataFrame,
    x: str,
    y: str,
    colour: str,
    *,
    title: str = "",
    x_title: str = "",
    y_title: str = "",
    percent: bool = True,
    nonnegative: bool = False,
    colour_order: Sequence | None = None,
    x_order: Sequence | None = None,
) -> go.Figure:
    """Mean over seeds per category as a dot with its 95% interval, every seed as a small dot.

    The axis fits the data rather than starting at zero: the differences that matter here
    are a few points of accuracy, which bars on a 0-100% axis would hide. Intervals stop at 0
    and 100% for a share, at 0 for a value that cannot be negative (nonnegative).
    """
    s = _bounded(summarise(df, [colour, x] if colour != x else [x], y), percent, nonnegative)
    if colour == x:
        s[colour] = s[x]
    groups = list(colour_order) if colour_order is not None else sorted(s[colour].unique(), key=str)
    fig = go.Figure()
    for i, c in enumerate(groups):
        sub = s[s[colour] == c]
        if x_order is not None:
            sub = sub.set_index(x).reindex([v for v in x_order if v in set(sub[x])]).reset_index()
        if sub.empty:
            continue
        col = PALETTE[i % len(PALETTE)]
        offset = {"offsetgroup": str(c)} if colour != x else {}
        seeds = df[df[colour] == c]
        fig.add_trace(
            go.Scatter(
                x=seeds[x],
                y=seeds[y],
                mode="markers",
                showlegend=False,
                marker={"color": _rgba(col, 0.45), "size": 6},
                hoverinfo="skip",
                **offset,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=sub[x],
                y=sub["mean"],
                mode="markers",
                name=f"{c} ({_seeds(int(sub['n'].max()))})",
                marker={"color": col, "size": 13, "symbol": "diamond"},
                **offset,
                error_y=_error_y(sub, thickness=2, width=8, color=col),
                customdata=sub[["lo", "hi", "n"]].to_numpy(),
                hovertemplate=("%{y:.2%}" if percent else "%{y:.4g}")
                + " (95% CI %{customdata[0]:.3g}–%{customdata[1]:.3g}, n=%{customdata[2]})<extra></extra>",
            )
        )
    fig.update_layout(showlegend=colour != x)  # before layout: a hidden legend needs no room
    fig = layout(fig, title, x_title or x, y_title or y)
    fig.update_layout(hovermode="closest", scattermode="group" if colour != x else None)
    if x_order is not None:
        fig.update_xaxes(categoryorder="array", categoryarray=list(x_order))
    if percent:
        fig.update_yaxes(tickformat=".1%")
    # Plotly's autorange reaches down to zero for grouped markers; fit the data instead.
    shown = pd.concat([df[y], s["lo"], s["hi"], s["mean"]]).dropna()
    if len(shown):
        lo, hi = float(shown.min()), float(shown.max())
        pad = max((hi - lo) * 0.12, 1e-3)
        fig.update_yaxes(
            range=[
                max(lo - pad, 0.0) if percent or nonnegative else lo - pad,
                min(hi + pad, 1.0) if percent else hi + pad,
            ]
        )
    return fig


class LiveRun(NamedTuple):
    """One submitted run as the live view draws it."""

    label: str  # its configuration ("mlp · width 16"): seeds of one share a colour
    seed: int
    epochs: int  # its length
    history: list[dict]  # a row per finished epoch (engine.train's on_epoch)


def live_progress(runs: Sequence[LiveRun]) -> go.Figure:
    """Runs in progress, each against its own length: x is the share of its epochs done, so a
    5-epoch run and a 50-epoch one both cross the whole axis. Lines: training accuracy after
    each epoch (every run has it); dots: test accuracy where it was measured (a sweep's runs
    test once, at the end). Seeds of one configuration share a colour and a legend entry.
    No intervals: the seeds are still running."""
    fig = go.Figure()
    colours: dict[str, str] = {}
    for run in runs:
        if not run.history:
            continue
        first = run.label not in colours
        colour = colours.setdefault(run.label, PALETTE[len(colours) % len(PALETTE)])
        done = [r["epoch"] / max(1, run.epochs) for r in run.history]
        name = f"{run.label} · seed {run.seed}"
        fig.add_trace(
            go.Scatter(
                x=done,
                y=[r.get("train_acc") for r in run.history],
                name=run.label,
                legendgroup=run.label,
                showlegend=first,
                mode="lines",
                line={"color": colour, "width": 1.6},
                hovertemplate=f"{name}<br>training %{{y:.1%}}<extra></extra>",
            )
        )
        tested = [(x, r["test_acc"]) for x, r in zip(done, run.history, strict=True)]
        tested = [(x, y) for x, y in tested if y is not None]
        if tested:
            fig.add_trace(
                go.Scatter(
                    x=[x for x, _ in tested],
                    y=[y for _, y in tested],
                    name=run.label,
                    legendgroup=run.label,
                    showlegend=False,
                    mode="markers",
                    marker={"color": colour, "size": 7, "line": {"color": "white", "width": 1}},
                    hovertemplate=f"{name}<br>test %{{y:.1%}}<extra></extra>",
                )
            )
    fig = layout(fig, "", "share of each run done", "accuracy (lines: training; dots: test)", 300)
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(range=[0, 1.02], tickformat=".0%")
    fig.update_yaxes(tickformat=".0%")
    return fig


def loglog_families(
    rows: pd.DataFrame,
    quantity: str,
    title: str,
    y_title: str,
    order: Sequence[str] = ("fc", "local", "conv"),
    mark: int | None = None,
) -> go.Figure:
    """Counts against image side on log-log axes, one line per layer family."""
    names = {"fc": "fully connected", "local": "locally connected", "conv": "convolution"}
    fig = go.Figure()
    for i, fam in enumerate(order):
        sub = rows[(rows["family"] == fam) & (rows["quantity"] == quantity)]
        fig.add_trace(
            go.Scatter(
                x=sub["side"],
                y=sub["value"],
                name=names.get(fam, fam),
                mode="lines+markers",
                line={
                    "color": PALETTE[i],
                    "width": 2.2,
                    "dash": "dash" if fam == "conv" else "solid",
                },
                hovertemplate="%{y:,.0f}<extra>" + names.get(fam, fam) + "</extra>",
            )
        )
    fig = layout(fig, title, "image side (pixels)", y_title, height=340)
    fig.update_xaxes(type="log", tickvals=sorted(rows["side"].unique()))
    fig.update_yaxes(type="log", exponentformat="power")
    if mark is not None:
        fig.add_vline(x=mark, line={"dash": "dot", "color": "#9ca3af"})
    return fig


def image_grid(
    images, titles: Sequence[str] = (), cols: int = 8, height: int | None = None, title: str = ""
) -> go.Figure:
    """Images (N, C, H, W) as uint8 or floats in a grid: greyscale or RGB, no axes."""
    from plotly.subplots import make_subplots

    n = len(images)
    rows = -(-n // cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=list(titles) or None,
        horizontal_spacing=0.01,
        vertical_spacing=0.08 if titles else 0.02,
    )
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        if img.shape[0] == 3:
            trace = go.Image(z=img.transpose(1, 2, 0), hoverinfo="skip")
        else:
            trace = go.Heatmap(z=img[0], colorscale="gray", showscale=False, hoverinfo="skip")
        fig.add_trace(trace, row=r + 1, col=c + 1)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    for axis in fig.layout:  # every subplot keeps square pixels
        if axis.startswith("yaxis") and axis != "yaxis":
            fig.layout[axis].scaleanchor = "x" + axis.removeprefix("yaxis")
    fig.update_annotations(font_size=11)
    return layout(fig, title, height=height or 120 * rows + 40)


def facet_lines(
    df: pd.DataFrame,
    facet: str,
    x: str,
    colour: str,
    value: str = "value",
    *,
    facet_order: Sequence | None = None,
    title: str = "",
    x_title: str = "",
    y_title: str = "",
    log_y: bool = False,
    height: int = 320,
) -> go.Figure:
    """Small multiples: one panel per `facet`, one line per `colour` group (mean over seeds,
    95% band), shared y axis so the panels compare."""
    from plotly.subplots import make_subplots

    panels = list(facet_order) if facet_order is not None else sorted(df[facet].unique(), key=str)
    fig = make_subplots(
        rows=1,
        cols=len(panels),
        shared_yaxes=True,
        subplot_titles=[str(p) for p in panels],
        horizontal_spacing=0.02,
    )
    groups = sorted(df[colour].unique(), key=str)
    for j, p in enumerate(panels):
        s = summarise(df[df[facet] == p], [colour, x], value)
        for i, c in enumerate(groups):
            sub = s[s[colour] == c]
            if sub.empty:
                continue
            col = PALETTE[i % len(PALETTE)]
            name = f"{colour} {c:g}" if isinstance(c, float) else f"{colour} {c}"  # not "1.0"
            if int(sub["n"].max()) > 1 and sub["lo"].notna().any():
                band = go.Scatter(
                    x=list(sub[x]) + list(sub[x])[::-1],
                    y=list(sub["hi"]) + list(sub["lo"])[::-1],
                    fill="toself",
                    mode="lines",
                    fillcolor=_rgba(col, 0.15),
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=name,
                )
                fig.add_trace(band, row=1, col=j + 1)
            fig.add_trace(
                go.Scatter(
                    x=sub[x],
                    y=sub["mean"],
                    name=name,
                    legendgroup=name,
                    showlegend=j == 0,
                    mode="lines",
                    line={"color": col, "width": 2},
                ),
                row=1,
                col=j + 1,
            )
    fig = layout(fig, title, "", y_title, height=height)
    fig.update_xaxes(title=x_title)
    if log_y:
        fig.update_yaxes(type="log")
    fig.update_annotations(font_size=12)
    fig.update_layout(hovermode="closest")
    return fig


def heatmap(
    df: pd.DataFrame,
    x: str,
    y: str,
    value: str,
    title: str = "",
    x_title: str = "",
    y_title: str = "",
    colourbar: str = "",
) -> go.Figure:
    """A grid of `value` over (x, y). A value that is never negative (an error) is coloured
    from 0 up, and at least up to FLAT_BELOW: a map of zeros reads as zero, not as the middle
    of a made-up range around it."""
    grid = df.pivot_table(index=y, columns=x, values=value, aggfunc="mean")
    z = grid.to_numpy(dtype=float)
    finite = z[np.isfinite(z)]
    scale = {}
    if finite.size and finite.min() >= 0:
        scale = {"zmin": 0.0, "zmax": max(float(finite.max()), FLAT_BELOW)}
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=grid.columns,
            y=grid.index,
            colorscale="Viridis",
            colorbar={"title": colourbar},
            hovertemplate=f"{x} %{{x}}, {y} %{{y}}: %{{z:.3g}}<extra></extra>",
            **scale,
        )
    )
    fig = layout(fig, title, x_title or x, y_title or y, height=380)
    fig.update_yaxes(autorange="reversed", scaleanchor="x")
    fig.update_layout(hovermode="closest")
    return fig


def panels(images: dict[str, object], title: str = "", height: int = 260) -> go.Figure:
    """Named 2-D arrays side by side, each with its own colour range."""
    from plotly.subplots import make_subplots

    names = list(images)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, horizontal_spacing=0.015)
    for i, name in enumerate(names):
        z = images[name]
        scale = "Reds" if name.startswith("|") else ("gray" if name in ("x", "Sx") else "Viridis")
        fig.add_trace(
            go.Heatmap(
                z=z,
                colorscale=scale,
                showscale=False,
                hovertemplate="%{z:.3g}<extra>" + name + "</extra>",
            ),
            row=1,
            col=i + 1,
        )
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", constrain="domain")
    for axis in fig.layout:
        if axis.startswith("yaxis"):
            fig.layout[axis].scaleanchor = "x" + axis.removeprefix("yaxis")
    fig.update_annotations(font_size=12)
    return layout(fig, title, height=height)
