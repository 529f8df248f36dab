"""What every experiment page shares: its header and remembering its latest headline."""

from __future__ import annotations

from types import ModuleType

import streamlit as st

from cnnexp.config import Config
from cnnexp.results import Results
from ui import resources


def header(exp: ModuleType, explanation: str) -> None:
    st.title(exp.TITLE)
    st.caption(exp.SUMMARY)
    with st.expander("What this measures and how to read it", icon=":material/menu_book:"):
        st.markdown(explanation)


def remember(exp: ModuleType, cfg: Config, headline: dict, results: Results) -> None:
    """Keep the headline of a finished plan so Home can show it."""
    if results.complete and results.specs:
        resources.store().save_headline(exp.NAME, cfg.canonical(), headline)
