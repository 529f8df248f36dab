"""Settings as a link's query parameters: what a shared link, Home's cards and the Runs
page's run detail use to open an experiment page with given settings. Light on purpose:
Home imports it, and must not load the config classes (pydantic) to paint."""

from __future__ import annotations

from typing import Any


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def query_for(values: dict[str, Any]) -> dict[str, str | list[str]]:
    """Settings as URL query parameters, encoded the way the bound widgets read them back:
    the displayed option text, and repeated parameters for multiple choices."""
    return {k: _values(v) if isinstance(v, tuple | list) else fmt(v) for k, v in values.items()}


def _values(v: tuple | list) -> list[str]:
    # An empty choice is `?key=`, as Streamlit writes a cleared multiselect: with no value
    # at all the page would fall back to the field's default.
    return [fmt(x) for x in v] or [""]


INSIDE_PAGE = "pages/inside.py"


def inside_query(run_id: str, image: int | None = None) -> dict[str, str]:
    """The query that opens the Inside page on a saved run (and a test image): the Runs
    page's run detail links there with st.page_link(INSIDE_PAGE, query_params=...)."""
    return {"run": run_id} | ({"image": str(image)} if image is not None else {})
