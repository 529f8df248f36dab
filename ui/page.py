"""What every experiment page shares: its header and remembering its latest headline."""

from __future__ import annotations

from types import ModuleType

import streamlit as st

from cnnexp.config import Config
from cnnexp.results import Results
from ui import resources


def require_app() -> None:
    """Make sure this page runs inside app.py's navigation.

    With a pages/ folder beside app.py, a fresh Streamlit server starts in its legacy mode,
    where a first request for /scaling runs pages/scaling.py alone, skipping app.py (no
    layout, no navigation), until some session has run app.py. Switching the process to
    st.navigation and rerunning makes a shared link work on a fresh server too; the URL,
    and with it the page and its settings, is kept.
    """
    from streamlit import config
    from streamlit.runtime.pages_manager import PagesManager

    # AppTest puts every run back into legacy mode, so a rerun here would repeat on every
    # run and swallow button clicks; under AppTest the page runs alone, as it always did.
    if PagesManager.uses_pages_directory and not config.get_option("global.appTest"):
        PagesManager.uses_pages_directory = False
        st.rerun()


def header(exp: ModuleType, explanation: str) -> None:
    st.title(exp.TITLE)
    st.caption(exp.SUMMARY)
    with st.expander("What this measures and how to read it", icon=":material/menu_book:"):
        st.markdown(explanation)


def remember(exp: ModuleType, cfg: Config, headline: dict, results: Results) -> None:
    """Keep the headline of a finished plan so Home can show it."""
    if results.complete and results.specs:
        resources.store().save_headline(exp.NAME, cfg.canonical(), headline)
