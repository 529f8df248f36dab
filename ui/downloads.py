"""Charts with their downloads, and the data behind a page.

PNG and SVG are drawn only when a download button is clicked (kaleido launches a browser,
~2 s), never on a rerun; where no browser is installed the popover says what to install.
That drawing is work done for a visitor, so it is bounded by the server's caps
(cnnexp/policy.py): points in the chart, pixels of the image, images per person per minute
and images drawn at once. The interactive HTML carries plotly.js (~5 MB, so that it opens
offline: policy.py says why not a CDN or a shared copy), and is bounded by its own rate per
person. The caps are checked when the popover is drawn, so a visitor sees the limit in
words, and again where the file is made, whatever the browser sends.
"""

from __future__ import annotations

import functools
import threading
import time

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from cnnexp import export, policy
from ui import access

SLOT_WAIT_S = 20.0  # how long an image waits for the server's drawing slot before refusing


@functools.cache
def _browser() -> str | None:
    return export.browser()


# --- images drawn for visitors ----------------------------------------------------------------
# When each person's images (and HTML charts) started, across every session and tab of the
# process.
_drawn: dict[str, list[float]] = {}
_html: dict[str, list[float]] = {}
_drawn_lock = threading.Lock()
_RATES = {  # kind of export: (when each person's started, the policy's rate)
    "image": (_drawn, policy.image_rate_problem),
    "html": (_html, policy.html_rate_problem),
}


@functools.cache
def _slots(n: int | None) -> threading.BoundedSemaphore | None:
    """The server's drawing slots for a cap of n images at once (None or 0: no slots to hand
    out; a cap of 0 is refused before this by policy.chart_export_problem)."""
    return threading.BoundedSemaphore(n) if n else None


def rate_problem(caps: policy.Caps, who: str, kind: str = "image") -> str | None:
    """Whether `who` may start one more image (or HTML chart) now (nothing recorded)."""
    made, problem = _RATES[kind]
    with _drawn_lock:
        return problem(caps, made.get(who, []), time.time())


def _claim(caps: policy.Caps, who: str, kind: str = "image") -> None:
    """Record one export of `kind` for `who`, or raise Refused when their rate is spent."""
    made, rate = _RATES[kind]
    now = time.time()
    with _drawn_lock:
        times = policy.recent(made.get(who, []), now)
        problem = rate(caps, times, now)
        if problem:
            raise access.Refused(problem)
        made.pop(who, None)  # re-inserted last: the oldest person is forgotten first
        made[who] = [*times, now]
        if len(made) > 10_000:  # bounded, as the wrong-token counts are
            made.pop(next(iter(made)))


def draw_image(
    fig: go.Figure, fmt: str, who: str, caps: policy.Caps, wait_s: float = SLOT_WAIT_S
) -> bytes:
    """A PNG or SVG of `fig` for `who`, within the caps, or Refused naming the limit.

    Runs on a download button's click (in a thread of the server, outside any script run):
    the checks here are the ones a forged request meets."""
    width, height = export.image_size(fig)
    problem = policy.chart_export_problem(caps, export.figure_points(fig), width, height)
    if problem:
        raise access.Refused(problem)
    _claim(caps, who)
    slots = _slots(caps.max_images_at_once)
    if slots and not slots.acquire(timeout=wait_s):
        raise access.Refused(
            f"This server draws at most {caps.max_images_at_once} image(s) at a time and is "
            "busy; try again in a minute."
        )
    try:
        return export.figure_bytes(fig, fmt, scale=policy.image_scale(caps, width, height))
    finally:
        if slots:
            slots.release()


def html_file(fig: go.Figure, who: str, caps: policy.Caps) -> bytes:
    """The chart as one interactive HTML file for `who`, within their rate, or Refused naming
    the limit. Runs on the button's click: the checks a forged request meets."""
    problem = policy.chart_export_problem(caps, export.figure_points(fig))
    if problem:
        raise access.Refused(problem)
    _claim(caps, who, "html")
    return export.figure_bytes(fig, "html")


def _html_button(fig: go.Figure, name: str, caps: policy.Caps) -> None:
    """The HTML button, or the sentence saying why not now."""
    who = access.owner()
    problem = rate_problem(caps, who, "html")
    if problem:
        st.caption(problem)
        return
    cap = caps.max_html_per_minute
    st.download_button(
        "HTML (interactive)",
        data=functools.partial(html_file, fig, who, caps),
        file_name=f"{name}.html",
        mime="text/html",
        key=f"export-{name}-html",
        on_click="ignore",
        width="stretch",
        help="One file that opens offline in any browser (~5 MB: plotly.js is inside)"
        + ("." if cap is None else f"; this server gives {cap} per person per minute."),
    )


def _image_buttons(fig: go.Figure, name: str, caps: policy.Caps) -> None:
    """PNG and SVG buttons, or the sentence saying why this chart is not drawn here."""
    if _browser() is None:
        st.caption(export.NO_BROWSER)
        return
    width, height = export.image_size(fig)
    who = access.owner()
    problem = policy.chart_export_problem(
        caps, export.figure_points(fig), width, height
    ) or rate_problem(caps, who)
    if problem:
        st.caption(problem)
        return
    for fmt in export.IMAGE_FORMATS:
        st.download_button(
            fmt.upper(),
            data=functools.partial(draw_image, fig, fmt, who, caps),
            file_name=f"{name}.{fmt}",
            mime=f"image/{'svg+xml' if fmt == 'svg' else fmt}",
            key=f"export-{name}-{fmt}",
            on_click="ignore",
            width="stretch",
            help=policy.image_limits_help(caps),
        )


class _Sent(go.Figure):
    """What st.plotly_chart is handed in place of a figure: the figure's dict, made once.

    st.plotly_chart calls to_dict() on every view, a deep copy that re-encodes every array as
    base64: two thirds of its time, although a shared figure (ui/page.py) never changes. It
    only reads that dict (plotly drops the traces' uids from it, once), so one dict serves
    every view."""

    def __init__(self, fig: go.Figure) -> None:
        super().__init__()  # empty: only to_dict is ever asked of it
        self._as_dict = fig.to_dict()

    def to_dict(self) -> dict:
        return self._as_dict


def sendable(fig: go.Figure) -> go.Figure:
    """The figure's _Sent stand-in, made once and kept on it: ui/page.py makes it for every
    figure it shares (they never change). chart() sends a figure's stand-in when it has one,
    else the figure itself (a figure built for one view needs no second copy)."""
    sent = getattr(fig, "_cnnexp_sent", None)
    if sent is None:
        sent = fig._cnnexp_sent = _Sent(fig)
    return sent


def chart(fig: go.Figure, name: str, container=None) -> None:
    """A chart, and under it a small Download popover (PNG, SVG, HTML).

    The popover's content is built only while it is open (opening it reruns the page): the
    caps' checks and three buttons for every chart on every page view were a tenth of a
    page's server time under load (bench/wire.py)."""
    where = container or st
    if not export.draws_anything(fig):  # part of a plan saved: say so, not empty axes
        title = fig.layout.title.text
        where.caption(f"{title}: nothing to draw yet." if title else "Nothing to draw yet.")
        return
    where.plotly_chart(getattr(fig, "_cnnexp_sent", fig), key=f"chart-{name}")
    with where.popover(
        "Download",
        icon=":material/download:",
        type="tertiary",
        key=f"export-{name}",
        on_change="rerun",
    ) as menu:
        if not menu.open:
            return
        caps = access.caps()
        too_big = policy.chart_export_problem(caps, export.figure_points(fig))
        if too_big:  # the same words would only repeat for each format
            st.caption(too_big)
            return
        _image_buttons(fig, name, caps)
        _html_button(fig, name, caps)


def data_downloads(tables: dict[str, pd.DataFrame], prefix: str) -> None:
    """CSV and parquet of every tidy table behind the page."""
    tables = {k: v for k, v in tables.items() if v is not None and len(v)}
    if not tables:
        return
    with st.expander(
        "Download the data behind these charts",
        icon=":material/table_view:",
        key=f"data-{prefix}",
        on_change="rerun",  # built only while open, like a chart's Download popover
    ) as box:
        if not box.open:
            return
        for name, df in tables.items():
            left, mid, right = st.columns([3, 1, 1], vertical_alignment="center")
            left.markdown(f"**{name}** · {len(df):,} rows × {df.shape[1]} columns")
            too_big = access.export_problem(len(df))  # the server's export limit
            if too_big:
                mid.caption(too_big)
                continue
            for col, fmt in ((mid, "csv"), (right, "parquet")):
                col.download_button(
                    fmt.upper(),
                    data=lambda df=df, fmt=fmt: export.table_bytes(df, fmt),
                    file_name=f"{prefix}-{name}.{fmt}",
                    key=f"data-{prefix}-{name}-{fmt}",
                    on_click="ignore",
                    width="stretch",
                )
