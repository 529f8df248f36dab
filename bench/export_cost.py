"""python -m bench.export_cost: what one PNG or SVG export costs, against the size of the chart.

Kaleido starts a headless Chromium for each export; the time grows with the points drawn.
Each chart is exported in each format and timed against a reference measured the same way in
the same run: a 2-point chart (the floor the browser's start sets on this machine). Scatter
markers and heatmap cells are timed separately because a heatmap is drawn as one raster:
this is the evidence for the export caps in cnnexp/policy.py and for counting 16 heatmap
cells as one point (cnnexp.export.figure_points). Record results with the machine in
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import plotly.graph_objects as go

from cnnexp import export


def scatter(n: int) -> go.Figure:
    rng = np.random.default_rng(0)
    return go.Figure(go.Scatter(x=np.arange(n), y=rng.random(n), mode="markers"))


def heatmap(cells: int) -> go.Figure:
    side = int(cells**0.5)
    return go.Figure(go.Heatmap(z=np.random.default_rng(0).random((side, side))))


def timed(fig: go.Figure, fmt: str, repeats: int) -> tuple[float, int]:
    """Median seconds of `repeats` exports, and the size of the file in bytes."""
    times, size = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        size = len(export.figure_bytes(fig, fmt))
        times.append(time.perf_counter() - t0)
    return statistics.median(times), size


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--markers", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    ap.add_argument("--cells", type=int, nargs="*", default=[65_536, 393_216, 1_048_576])
    ap.add_argument("--formats", nargs="*", default=["png", "svg"], choices=export.IMAGE_FORMATS)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    if export.browser() is None:
        raise SystemExit(export.NO_BROWSER)
    charts = [("reference: 2 points", go.Figure(go.Scatter(x=[0, 1], y=[0, 1])))]
    charts += [(f"{n:,} scatter markers", scatter(n)) for n in args.markers]
    charts += [(f"{n:,} heatmap cells", heatmap(n)) for n in args.cells]
    print(f"{'chart':<26}{'fmt':<5}{'points':>10}{'seconds':>9}{'× ref':>7}{'KB':>9}")
    for fmt in args.formats:
        ref = None
        for name, fig in charts:
            seconds, size = timed(fig, fmt, args.repeats)
            ref = ref or seconds
            print(
                f"{name:<26}{fmt:<5}{export.figure_points(fig):>10,}{seconds:>9.2f}"
                f"{seconds / ref:>7.1f}{size / 1024:>9,.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
