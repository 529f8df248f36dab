"""What every experiment page shares: its header and remembering its latest headline."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

import streamlit as st

from cnnexp import catalog
from ui import resources

if TYPE_CHECKING:  # Home imports this module: its first paint loads no config machinery
    from cnnexp.config import Config
    from cnnexp.results import Results


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
    from ui import access

    access.access_panel()  # the pages that can launch say who may
    st.title(exp.TITLE)
    st.caption(exp.SUMMARY)
    with st.expander("What this measures and how to read it", icon=":material/menu_book:"):
        st.markdown(explanation)


def start(exp: ModuleType, explanation: str, exclude: tuple[str, ...] = ()) -> Config:
    """The opening of every experiment page: inside the app, its header, then the settings.

    Returns the validated settings; a page whose settings are invalid stops here (the
    settings panel has already said what is wrong)."""
    from ui.settings import settings_panel

    require_app()
    header(exp, explanation)
    cfg = settings_panel(exp.Config, page=catalog.ENTRIES[exp.NAME].page, exclude=exclude)
    if cfg is None:
        st.stop()
    return cfg


def remember(exp: ModuleType, cfg: Config, headline: dict, results: Results) -> None:
    """Keep the headline of a finished plan so Home can show it. Only a visitor who may
    launch writes it: a viewer's browsing would change the Home page every visitor sees (and
    a read-only host writes nothing)."""
    from ui import access

    if results.complete and results.specs and access.can_launch():
        resources.store().save_headline(exp.NAME, cfg.canonical(), headline, results.saved_at())


def nothing_saved(results: Results) -> None:
    """What a page says before any run of its plan is saved: that they are training (its
    progress is shown above), or how to get some."""
    from ui.runpanel import in_flight

    if in_flight(results.specs):
        st.info(
            "Training: the charts appear here as the first runs are saved.",
            icon=":material/hourglass_top:",
        )
        return
    from ui import access

    st.info(
        "No saved runs for these settings yet. Launch them, or change a setting to one that "
        "has been run before."
        if access.can_launch()
        else "No saved runs for these settings on this server. Change a setting to one that "
        "has been run: Home's links open the saved ones.",
        icon=":material/info:",
    )


def tabs(labels: list[str], key: str) -> list:
    """Tabs whose content is built only while shown (`if tab.open:`): switching tabs reruns
    the page. Every tab's charts and tables built on every view were a third of an experiment
    page's server time under load (bench/wire.py). The first tab opens first; another open
    tab is in the link (`?tabs-<key>=<label>`), so a shared link opens it."""
    return st.tabs(labels, key=f"tabs-{key}", on_change="rerun", bind="query-params")


def saved_results(exp: ModuleType, cfg: Config, key: str = "run") -> tuple[Results, dict | None]:
    """The run panel for cfg's plan, then what is saved of it and its headline (None when
    nothing is saved yet). A finished plan's headline is remembered for Home."""
    from ui import access
    from ui.runpanel import nearest_link, run_panel

    specs = access.plan(exp, cfg).specs  # fitted to the server's caps where it must be
    too_many = access.caps().plan_problem(len(specs))
    if too_many:  # before the run panel looks each run up and estimates the missing ones
        st.error(too_many, icon=":material/block:")
        st.stop()
    results = run_panel(specs, key=key)
    nearest_link(exp, cfg, results)
    # The Results (with the tables it reads) and the headline, once per saved state for every
    # session: turning the records into a table and summarising it on every view was a fifth
    # of an experiment page's server time (bench/wire.py).
    got = shared(
        f"{exp.NAME}-results", _plan_key(cfg, results), lambda: _summarised(exp, cfg, results)
    )
    results, headline = got["results"], got["headline"]
    if headline is not None:
        remember(exp, cfg, headline, results)
        if results.complete and results.specs:  # an admin may pin it to Home (ui/pins.py)
            from ui.pins import pin_control

            pin_control(exp.NAME, cfg.canonical(), headline)
    return results, headline


def _summarised(exp: ModuleType, cfg: Config, results: Results) -> dict[str, Any]:
    headline = None if results.runs.empty else exp.summarize(cfg, results)
    return {"results": results, "headline": headline}


# Bounded: the probe's figures are kept per layer and channel shown, up to a few MB each at
# the probe's caps (twice: each figure keeps the dict it is sent as); 64 sets stay within a
# small server's memory.
@st.cache_resource(max_entries=64, ttl=3600, show_spinner=False)
def _shared(kind: str, digest: str, _build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    import plotly.graph_objects as go  # not at the top: Home imports this module

    from ui import downloads

    built = _build()
    for value in built.values():  # each figure's dict for st.plotly_chart, made once
        if isinstance(value, go.Figure):
            downloads.sendable(value)
    return built


def _digest(key: tuple) -> str:
    # Streamlit's cache hashes a tuple item by item, ~0.1 ms for a small plan's key (a saved
    # state names every run); its text hashed here, ~3 µs. Keys hold text, numbers, None and
    # tuples of them, whose repr is exact.
    _check_key(key)
    return hashlib.blake2b(repr(key).encode(), digest_size=16).hexdigest()


def _check_key(key: Any) -> None:
    # An array's or a frame's repr is abridged and an object's names its address: as a key,
    # either would make two different values share a cache entry.
    if isinstance(key, tuple):
        for item in key:
            _check_key(item)
    elif key is not None and not isinstance(key, (str, int, float)):
        raise TypeError(
            f"shared() key item {type(key).__name__}; allowed: str, int, float, None, tuple"
        )


def shared(kind: str, key: tuple, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """What `build` makes (figures, tables), built once per `key` and shared by every session,
    not copied.

    Building Plotly figures (plotly validates every property it is given) and the tables
    behind a page's downloads was most of the server's CPU for a visitor's page view
    (BENCHMARKS.md, "Load test"), although every visitor of the same settings gets the same.
    `key` must name everything they show; whoever gets them must not change them
    (st.plotly_chart only reads a figure; the downloads copy a table before converting it)."""
    return _shared(kind, _digest(key), build)


def saved_state(results: Results) -> tuple:
    """What identifies the saved state of a plan's runs: each run's id, status and file
    signature. A run saved anew changes its file, and with it the key."""
    return tuple(
        sorted(
            (rid, r.get("status"), r.get("_mtime_ns"), r.get("_size"))
            for rid, r in results.records.items()
        )
    )


def _plan_key(cfg: Config, results: Results) -> tuple:
    """What a plan's shared results, figures and tables follow from: its settings and the
    saved state of its runs."""
    return (cfg.model_dump_json(), saved_state(results))


def _of_plan(exp: ModuleType, what: str, cfg: Config, results: Results) -> dict[str, Any]:
    key = _plan_key(cfg, results)
    return shared(f"{exp.NAME}-{what}", key, lambda: getattr(exp, what)(cfg, results))


def charts(exp: ModuleType, cfg: Config, results: Results) -> dict[str, Any]:
    """exp.charts(cfg, results), shared by every session that shows the same saved runs."""
    return _of_plan(exp, "charts", cfg, results)


def tables(exp: ModuleType, cfg: Config, results: Results) -> dict[str, Any]:
    """exp.tables(cfg, results) (the data behind the page's downloads), shared likewise."""
    return _of_plan(exp, "tables", cfg, results)
