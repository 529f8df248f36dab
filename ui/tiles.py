"""Metric tiles of a mean over seeds: the mean large, its 95% interval on the line under it.

A tile's value is cut off past its column's width ("76.4% – 100.…" in a quarter of the page);
the interval as the tile's delta line (no arrow, no colour: it is not a change) stays short
enough for a narrow column, and says "1 seed, no interval" where there is none.
"""

from __future__ import annotations

import streamlit as st

from cnnexp import stats


def ci_metric(
    label: str,
    ci: stats.CI,
    *,
    scale: float = 100.0,
    unit: str = "%",
    digits: int = 1,
    help: str | None = None,
    where=None,
) -> None:
    """A tile for `ci` (a share in % by default: its interval stops at 0 and 100%, as
    stats.describe_ci says it)."""
    if ci["mean"] is None:
        return
    (where or st).metric(
        label,
        f"{ci['mean'] * scale:.{digits}f}{unit}",
        delta=stats.interval_text(ci, scale, unit, digits) or "1 seed, no interval",
        delta_color="off",
        delta_arrow="off",
        help=help,
    )
