"""Uncertainty over seeds: the mean with a 95% t-interval.

With n seeds the interval is mean ± t(0.975, n-1)·s/√n. With one seed there is no
interval (`ci95` is None): a single run says nothing about its spread, and the figures
say so rather than draw a band of zero width.

A share (accuracy, consistency) cannot leave [0, 1], but a t-interval over few seeds can:
with two seeds the t quantile is 12.7, so seeds at 60% and 80% give −57% to 197%. A share's
summary is made by `share_ci`, whose interval stops at 0 and 100% as the figures and the
Runs page do, so every headline (the pages, Home, README, the CLI's JSON) holds the same
clipped interval; `share_interval` stops one that was summarised with `mean_ci`, which keeps
the raw interval (a difference of shares, in points, may be negative). The same holds for any
quantity with a bound (a loss, a ratio of norms: never below 0): `bounded_interval` stops its
interval there.

A difference printed beside the two values it is taken from ("95.9% → 8.8%, a drop of
87.1 points") is `shown_points`: the difference of the values as shown, so that a reader who
subtracts them gets the same number.

`CI` is the shape of one such summary, as every headline stores it (plain JSON).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TypedDict


class CI(TypedDict):
    """A mean over seeds with its 95% t-interval: what `mean_ci` returns."""

    mean: float | None  # None: no finite value
    ci95: list[float] | None  # [lo, hi]; None below two values
    n: int  # the finite values (seeds) it summarises


def mean_ci(values: Iterable[float]) -> CI:
    """{"mean", "ci95": [lo, hi] or None, "n"} over the finite values given."""
    import numpy as np  # here, not at the top: Home describes saved intervals without numpy

    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    n = len(v)
    if n == 0:
        return {"mean": None, "ci95": None, "n": 0}
    mean = float(v.mean())
    if n == 1:
        return {"mean": mean, "ci95": None, "n": 1}
    from scipy.special import stdtrit  # the t quantile; imported here: 0.2 s pages may not need

    half = float(stdtrit(n - 1, 0.975) * v.std(ddof=1) / math.sqrt(n))
    return {"mean": mean, "ci95": [mean - half, mean + half], "n": n}


def share_ci(values: Iterable[float]) -> CI:
    """mean_ci of a share (accuracy, consistency): its interval stopped at 0 and 1."""
    ci = mean_ci(values)
    interval = share_interval(ci)
    return ci if interval is None else {**ci, "ci95": list(interval)}


def mean_of(ci: CI) -> float:
    """The mean of a summary known to hold a value (its caller left the empty ones out)."""
    if ci["mean"] is None:
        raise ValueError("no finished runs: this summary has no mean")
    return ci["mean"]


def bounded_interval(
    ci: CI, lower: float | None = 0.0, upper: float | None = None
) -> tuple[float, float] | None:
    """The 95% interval of a quantity that cannot leave [lower, upper], stopped at those ends
    (a t-interval over few seeds can pass them); None without one."""
    if ci["ci95"] is None:
        return None
    lo, hi = ci["ci95"]
    return (
        lo if lower is None else max(lo, lower),
        hi if upper is None else min(hi, upper),
    )


def share_interval(ci: CI) -> tuple[float, float] | None:
    """The 95% interval of a share (a value in [0, 1]) clipped to [0, 1]; None without one."""
    return bounded_interval(ci, 0.0, 1.0)


def describe_ci(ci: CI, scale: float = 100.0, unit: str = "%", digits: int = 1) -> str:
    """'97.4% (95% CI 97.0–97.8%, 3 seeds)' for explanations that quote the numbers.

    A value in % is a share (accuracy, consistency): its interval is clipped to 0–100%.
    Differences of shares are described in points and keep their interval whole."""
    if ci["mean"] is None:
        return "no finished runs"
    return f"{ci['mean'] * scale:.{digits}f}{unit} {interval_note(ci, scale, unit, digits)}"


def interval_note(ci: CI, scale: float = 100.0, unit: str = "%", digits: int = 1) -> str:
    """The bracket describe_ci puts after a mean: its 95% interval and seeds (one value where
    the interval rounds to one; not "all seeds agree": many seeds give a narrow interval)."""
    span = interval_text(ci, scale, unit, digits)
    if span is None:
        return "(1 seed, no interval)"
    return f"({span}, {ci['n']} seeds)"


def interval_text(ci: CI, scale: float = 100.0, unit: str = "%", digits: int = 1) -> str | None:
    """'95% CI 97.7–98.1%' (a share's clipped, as in describe_ci), short enough for a metric
    tile; None without an interval."""
    interval = share_interval(ci) if unit == "%" else bounded_interval(ci, None)
    if interval is None:
        return None
    lo, hi = (x * scale for x in interval)
    if f"{lo:.{digits}f}" == f"{hi:.{digits}f}":  # not "95% CI 5.0–5.0 px"
        return f"95% CI rounds to {lo:.{digits}f}{unit}"
    return f"95% CI {lo:.{digits}f}–{hi:.{digits}f}{unit}"


def shown_points(before: float, after: float, digits: int = 1) -> float:
    """before − after in percentage points, from the two shares as `f"{x:.{digits}%}"` shows
    them: 0.95867 → 0.08825 prints "95.9% → 8.8%" and a drop of 87.1, where the exact
    difference, 87.04, would print 87.0 beside them."""
    return round(float(f"{before:.{digits}%}"[:-1]) - float(f"{after:.{digits}%}"[:-1]), digits)
