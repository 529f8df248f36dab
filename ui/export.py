"""Charts with their downloads, and the data behind a page.

PNG and SVG are drawn only when a download button is clicked (kaleido launches a browser,
~2 s), never on a rerun; where no browser is installed the popover says what to install.
"""

from __future__ import annotations

import functools

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from cnnexp import export
from ui import access


@functools.cache
def _browser() -> str | None:
    return export.browser()


def chart(fig: go.Figure, name: str, container=None) -> None:
    """A chart, and under it a small Download popover (PNG, SVG, HTML)."""
    where = container or st
    where.plotly_chart(fig, key=f"chart-{name}")
    with where.popover(
        "Download", icon=":material/download:", type="tertiary", key=f"export-{name}"
    ):
        if _browser() is not None:
            for fmt in export.IMAGE_FORMATS:
                st.download_button(
                    fmt.upper(),
                    data=lambda fmt=fmt: export.figure_bytes(fig, fmt),
                    file_name=f"{name}.{fmt}",
                    mime=f"image/{'svg+xml' if fmt == 'svg' else fmt}",
                    key=f"export-{name}-{fmt}",
                    on_click="ignore",
                    width="stretch",
                )
        else:
            st.caption(export.NO_BROWSER)
        st.download_button(
            "HTML (interactive)",
            data=lambda: export.figure_bytes(fig, "html"),
            file_name=f"{name}.html",
            mime="text/html",
            key=f"export-{name}-html",
            on_click="ignore",
            width="stretch",
        )


def data_downloads(tables: dict[str, pd.DataFrame], prefix: str) -> None:
    """CSV and parquet of every tidy table behind the page."""
    tables = {k: v for k, v in tables.items() if v is not None and len(v)}
    if not tables:
        return
    with st.expander("Download the data behind these charts", icon=":material/table_view:"):
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
