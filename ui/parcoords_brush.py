"""Brushing a parallel-coordinates axis, reported to Python.

st.plotly_chart reports point, box and lasso selections, but not the range a visitor drags on a
parallel-coordinates axis (Plotly sends that as a restyle of the trace, which Streamlit 1.67
does not pass on). This invisible st.components.v2 component listens to the chart's own
plotly.js events (`graphDiv.on("plotly_restyle")`, plotly.js's documented event API) and sends
each axis's brushed range back as component state. It draws nothing and loads no library: the
chart stays an ordinary st.plotly_chart, found by its key's CSS class.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection

import streamlit as st

# Polls for the chart's div (it is redrawn on every rerun) and hooks each new one once. Ranges
# are read from the trace itself, so one message carries every axis, whichever was dragged.
_JS = """
export default function (component) {
  const { data, setStateValue } = component;
  const selector = `.st-key-${data.chart_key} .js-plotly-plot`;
  const hook = () => {
    const gd = document.querySelector(selector);
    if (!gd || gd.__cnnexpBrush || typeof gd.on !== "function") return;
    gd.__cnnexpBrush = true;
    gd.on("plotly_restyle", () => {
      const dims = ((gd.data || [])[0] || {}).dimensions || [];
      const ranges = {};
      dims.forEach((d) => {
        if (d.constraintrange) ranges[d.label] = d.constraintrange;
      });
      setStateValue("ranges", ranges);
    });
  };
  hook();
  const timer = setInterval(hook, 250);
  return () => clearInterval(timer);
}
"""

_brush = st.components.v2.component("cnnexp_parcoords_brush", js=_JS)


def ranges_of(
    raw: object, labels: dict[str, str], log: Collection[str] = ()
) -> dict[str, tuple[float, float]]:
    """Brushed ranges from the browser, by column. `labels` maps an axis label to its column;
    the axes of the columns in `log` are drawn at their values' logarithms, so their ranges
    come back as powers of ten. Anything else (unknown axes, a multi-range, text, NaN) is
    dropped: the value is data from a visitor's browser, not to be trusted."""
    out: dict[str, tuple[float, float]] = {}
    if not isinstance(raw, dict):
        return out
    for label, rng in raw.items():
        col = labels.get(label) if isinstance(label, str) else None
        if col is None or not isinstance(rng, list | tuple) or len(rng) != 2:
            continue
        if isinstance(rng[0], list | tuple):  # several ranges on one axis (our charts allow one)
            continue
        try:
            lo, hi = sorted(float(v) for v in rng)
        except (TypeError, ValueError):
            continue
        if not (math.isfinite(lo) and math.isfinite(hi)):
            continue
        if col in log:
            try:  # 12 digits: 10 ** log10(16) is 15.999999999999998, not 16
                lo, hi = (float(f"{math.pow(10, v):.12g}") for v in (lo, hi))
            except OverflowError:
                continue
        out[col] = (lo, hi)
    return out


def listen(chart_key: str, key: str, on_change: Callable[[], None] | None = None) -> object:
    """Mount the listener for the st.plotly_chart with key `chart_key`; returns the raw ranges
    last brushed there (pass them through `ranges_of`)."""
    result = _brush(
        key=key,
        data={"chart_key": chart_key},
        default={"ranges": {}},
        height=0,
        on_ranges_change=on_change or (lambda: None),
    )
    return result.ranges


def merged(
    ranges: dict[str, tuple[float, float]],
    brushed: dict[str, tuple[float, float]],
    drawn: list[str],
    limits: dict,
) -> dict[str, tuple[float, float]]:
    """The ranges set after a brush: the browser reports every brush on the chart at once
    (those drawn from `ranges` too), so each axis the chart `drew` that has a range slider
    (`limits`: its bounds (lo, hi, whole)) takes its brush, or loses its range where it has
    none (cleared). Ranges on axes the chart did not draw stay as they were."""
    out = dict(ranges)
    for c in drawn:
        if c not in limits:
            continue
        lo, hi, whole = limits[c]
        if c in brushed:
            out[c] = slider_value(brushed[c], lo, hi, whole)
        else:
            out.pop(c, None)
    return out


def slider_value(rng: tuple[float, float] | None, lo: float, hi: float, whole: bool):
    """A brushed range as the value of a range slider over [lo, hi]: clipped to it, whole
    numbers inward for an integer setting; the full range when the brush was cleared."""
    if rng is None:
        return (lo, hi)
    a, b = max(lo, rng[0]), min(hi, rng[1])
    if whole:
        a, b = math.ceil(a), math.floor(b)
        b = max(a, b)  # a brush between two whole numbers keeps the one above
        return (int(min(a, hi)), int(min(b, hi)))
    return (a, max(a, b))
