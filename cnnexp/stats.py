"""Uncertainty over seeds: the mean with a 95% t-interval.

With n seeds the interval is mean ± t(0.975, n-1)·s/√n. With one seed there is no
interval (`ci95` is None): a single run says nothing about its spread, and the figures
say so rather than draw a band of zero width.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np


def mean_ci(values: Iterable[float]) -> dict:
    """{"mean", "ci95": [lo, hi] or None, "n"} over the finite values given."""
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


def describe_ci(ci: dict, scale: float = 100.0, unit: str = "%", digits: int = 1) -> str:
    """'97.4% (95% CI 97.0–97.8%, 3 seeds)' for explanations that quote the numbers."""
    if ci["mean"] is None:
        return "no finished runs"
    m = f"{ci['mean'] * scale:.{digits}f}{unit}"
    if ci["ci95"] is None:
        return f"{m} (1 seed, no interval)"
    lo, hi = (x * scale for x in ci["ci95"])
    return f"{m} (95% CI {lo:.{digits}f}–{hi:.{digits}f}{unit}, {ci['n']} seeds)"
