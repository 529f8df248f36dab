"""Export: charts as PNG, SVG or HTML and tidy data as CSV or parquet, for papers and slides.

PNG and SVG are drawn by kaleido, which drives a Chrome or Chromium browser; where none is
installed, `browser()` is None and callers say what to install instead of failing. HTML,
CSV and parquet need nothing beyond the Python packages.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

IMAGE_FORMATS = ("png", "svg")
FORMATS = ("png", "svg", "html", "csv", "parquet")
NO_BROWSER = (
    "PNG and SVG export draws the chart in a Chrome or Chromium browser (through kaleido), and "
    "none was found on this machine. Install one — on Debian or Ubuntu `apt-get install "
    "chromium` — or point the BROWSER_PATH environment variable at one. HTML, CSV and parquet "
    "downloads need nothing."
)


def browser() -> str | None:
    """The Chrome or Chromium kaleido would use, or None."""
    try:
        from choreographer.browsers.chromium import Chromium

        return Chromium.find_browser(skip_local=False)
    except Exception:  # kaleido's helper moved or failed: fall back to the usual names
        return next(
            (
                p
                for n in ("chromium", "chromium-browser", "google-chrome", "chrome")
                if (p := shutil.which(n))
            ),
            None,
        )


WIDTH = 1000  # pixels of an exported chart, before its scale


def image_size(fig: go.Figure) -> tuple[int, int]:
    """Width and height an exported image of this chart has, before its scale."""
    return WIDTH, int(fig.layout.height or 450)


def _size(values) -> int:
    """How many values an array property holds (nested lists: every leaf)."""
    if values is None or isinstance(values, str):
        return 0
    if hasattr(values, "size"):  # numpy
        return int(values.size)
    if not isinstance(values, list | tuple):
        return 1
    if values and (isinstance(values[0], list | tuple) or hasattr(values[0], "size")):
        return sum(_size(v) for v in values)  # rows of a heatmap
    return len(values)  # a flat array: no need to look at every value


# A heatmap or image is drawn as one raster, so its cells cost far less than markers do. On
# the loaded 2-core machine: a 6-panel map of 393,216 heatmap cells exported in 7.6 s (PNG)
# and 7.1 s (SVG, 964 KB), no slower than a 2-point chart (7.3 s, 5.6 s); 100,000 scatter
# markers took 49 s as SVG (17 MB). `python -m bench.export_cost` measures this.
RASTER_CELLS_PER_POINT = 16
RASTER_TRACES = ("heatmap", "image")


def draws_anything(fig: go.Figure) -> bool:
    """Whether any trace has a point: figure_points, stopping at the first trace that has
    one (it is asked for every chart on every page view)."""
    return any(_trace_points(trace) for trace in fig.data)


def figure_points(fig: go.Figure) -> int:
    """The points a chart's export draws, what its cost grows with: per trace its largest
    array (x, y, z, values; for parallel coordinates every dimension's values), with 16 cells
    of a heatmap or image counting as one point."""
    return sum(_trace_points(trace) for trace in fig.data)


def _trace_points(trace) -> int:
    sizes = [_size(trace[k]) for k in ("x", "y", "z", "values") if k in trace]
    if "dimensions" in trace:
        sizes.append(sum(_size(d["values"]) for d in trace["dimensions"]))
    n = max(sizes, default=0)
    return -(-n // RASTER_CELLS_PER_POINT) if trace.type in RASTER_TRACES else n


def figure_bytes(
    fig: go.Figure, fmt: str, width: int = WIDTH, height: int | None = None, scale: float = 2
) -> bytes:
    """One chart as PNG or SVG bytes (needs a browser), or as standalone HTML."""
    if fmt == "html":  # Plotly's code inside (~5 MB): a shared file opens offline too
        return fig.to_html(include_plotlyjs=True, full_html=True).encode()
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"format '{fmt}' unknown for charts; allowed: png, svg, html")
    if browser() is None:
        raise RuntimeError(NO_BROWSER)
    height = height or image_size(fig)[1]
    return fig.to_image(format=fmt, width=width, height=height, scale=scale)


def table_bytes(df: pd.DataFrame, fmt: str) -> bytes:
    """A tidy table as CSV or parquet bytes; nested values (lists, dicts) become JSON text."""
    df = df.copy()
    for c in df.columns:
        if df[c].dtype == object and df[c].map(lambda v: isinstance(v, list | dict | tuple)).any():
            df[c] = df[c].map(lambda v: json.dumps(v) if isinstance(v, list | dict | tuple) else v)
    if fmt == "csv":
        return df.to_csv(index=False).encode()
    if fmt == "parquet":
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        return buf.getvalue()
    raise ValueError(f"format '{fmt}' unknown for data; allowed: csv, parquet")


def write(
    out: Path,
    charts: dict[str, go.Figure],
    tables: dict[str, pd.DataFrame],
    headline: dict,
    formats: tuple[str, ...],
) -> list[Path]:
    """Write every chart and table in the formats asked for; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    images = [f for f in formats if f in IMAGE_FORMATS]
    if images and charts:
        if browser() is None:
            raise RuntimeError(NO_BROWSER)
        import plotly.io as pio

        for fmt in images:  # one browser session draws every chart of a format
            paths = [out / f"{name}.{fmt}" for name in charts]
            pio.write_images(list(charts.values()), paths, format=fmt, width=1000, scale=2)
            written += paths
    for name, fig in charts.items():
        if "html" in formats:  # one plotly.min.js beside them all, not 5 MB inside each
            fig.write_html(out / f"{name}.html", include_plotlyjs="directory", full_html=True)
            written.append(out / f"{name}.html")
    if "html" in formats and charts:
        written.append(out / "plotly.min.js")
    for name, df in tables.items():
        for fmt in (f for f in formats if f in ("csv", "parquet")):
            (out / f"{name}.{fmt}").write_bytes(table_bytes(df, fmt))
            written.append(out / f"{name}.{fmt}")
    (out / "headline.json").write_text(json.dumps(headline, indent=2, default=str))
    return [*written, out / "headline.json"]
