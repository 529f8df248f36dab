"""The Runs page's range filters. A range on a numeric setting is set by its slider, by the link,
or by dragging along its axis of the parallel-coordinates chart (ui/parcoords_brush.py); all
three write one record in the session, the ranges set, which the sliders and the chart only
show. Each is written when it changes (a widget's callback), so nothing is compared across
reruns."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from cnnexp.analysis import Bounds
from ui import parcoords_brush

Ranges = dict[str, tuple[float, float]]
SET = "runs_ranges_set"  # {setting: (lo, hi)}: the ranges set, whoever set them
BRUSH = "runs_brush"


def ranges_ui(
    limits: dict[str, Bounds], linked: Callable[[], Ranges], label: Callable[[str], str] = str
) -> Ranges:
    """A range slider for each setting whose values differ (`limits`: their bounds), in a
    folded panel, each titled `label(setting)`; the ranges set, each within its bounds. A
    range that covers its bounds filters nothing and is not returned. `linked` gives the
    link's ranges, read on the page's first run."""
    if SET not in st.session_state:
        st.session_state[SET] = linked()
    sliding = {c: b for c, b in limits.items() if b.lo != b.hi}
    chosen = within(st.session_state[SET], sliding)
    # Keyed, the panel stays open as its label changes.
    with st.expander(f"Ranges ({len(chosen)} set)", icon=":material/tune:", key="runs_ranges"):
        for c, b in sliding.items():
            st.session_state[f"runs_range_{c}"] = chosen.get(c, (b.lo, b.hi))
            # A fraction (a learning rate, 0.001 to 0.05) in a hundred steps, shown to 3 digits:
            # Streamlit's default step of 0.01 and two decimals left such a slider no stops.
            fine = (
                {}
                if b.whole or b.hi - b.lo >= 1
                else {"step": (b.hi - b.lo) / 100, "format": "%.3g"}
            )
            st.slider(
                label(c), b.lo, b.hi, key=f"runs_range_{c}", on_change=_slid, args=(c, b), **fine
            )
    return chosen


def within(ranges: Ranges, limits: dict[str, Bounds]) -> Ranges:
    """The ranges on these settings, each held within its bounds (whole numbers for a whole
    setting), less those that cover their bounds. Bounds move with the filters: a link's or
    an earlier filter's range beyond them is narrowed, not refused."""
    out = {}
    for c, (lo, hi) in ranges.items():
        if c not in limits:
            continue
        b = limits[c]
        if b.whole:
            lo, hi = int(lo), int(hi)
        lo, hi = (min(max(v, b.lo), b.hi) for v in (lo, hi))
        if (lo, hi) != (b.lo, b.hi):
            out[c] = (lo, hi)
    return out


def _slid(column: str, bounds: Bounds) -> None:
    value = tuple(st.session_state[f"runs_range_{column}"])
    ranges = dict(st.session_state.get(SET, {}))
    if value == (bounds.lo, bounds.hi):
        ranges.pop(column, None)
    else:
        ranges[column] = value
    st.session_state[SET] = ranges


def listen_for_brush(
    chart_key: str, drawn: list[str], labels: dict[str, str], limits, log: set[str]
) -> None:
    """Listen to brushes on the parallel-coordinates chart with key `chart_key`, which drew the
    axes `drawn` (by column; `labels` maps an axis's label to its column; the columns in `log`
    on log axes): a brush sets the range of its setting, as its slider would."""

    def brushed() -> None:
        raw = st.session_state.get(BRUSH)
        got = parcoords_brush.ranges_of(raw.get("ranges") if raw else None, labels, log)
        st.session_state[SET] = parcoords_brush.merged(
            st.session_state.get(SET, {}), got, drawn, limits
        )

    parcoords_brush.listen(chart_key, key=BRUSH, on_change=brushed)
