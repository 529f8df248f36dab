"""python -m bench.wire: the load test with visitors that cost the machine almost nothing.

bench.load drives each visitor through headless Chromium on the server's own 2 cores, and
there the browsers spend some 20 times the server's CPU drawing the pages, so its paint times
measure Chromium as much as the server. Here each visitor is a small asyncio client that
speaks Streamlit's own websocket protocol (`/_stcore/stream`, protobuf BackMsg / ForwardMsg),
as the browser's frontend does: one websocket and one Streamlit session per visitor, a
`rerun_script` request per page with that page's name and query string, then, on the
Equivariance probe, the first sidebar slider one step up sent as a widget state:

    Home → Baseline with cached results → Runs → Equivariance probe → a slider change

A page's time is from sending its request to the server's `script_finished` for the final full
run (past any st.rerun(); fragment runs are ignored): the server's whole work for the page, up
to its last message, and none of the drawing. Nothing else a browser asks for is fetched
(static files, media, the host config). An error is an exception element in the page, a page
not found, a run that does not finish within the timeout, or a closed socket.

The rounds are bench.load's: one cached baseline plan, a training run beside the server, the
server in viewer mode, one unmeasured warm-up visitor, then per N: p50/p95 page and rerun
times with each p95 as a ratio to the first N, errors, the server's CPU seconds per visitor,
this process's CPU seconds per visitor (all N clients), and the server's peak memory and its
memory after the round.

Then the same rounds, in the same process, against a reference: a Streamlit app whose pages
have the same names and draw only a title and one sidebar slider. Its ratios are the floor this
machine and Streamlit set: N requests arriving at once queue for the server's one Python
interpreter, so even pages that cost almost nothing show p95 ratios that grow with N.

    python -m bench.wire --sessions 1 5 10 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.RootContainer_pb2 import RootContainer
from streamlit.proto.Slider_pb2 import Slider
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench import load
from bench.load import (
    VISIT,
    PeakMemory,
    busy_worker,
    pct,
    seed,
    server_pid,
    tree_cpu_s,
    tree_rss_mb,
)
from bench.ui import TUNED
from tests.browser import streamlit_server

TIMEOUT_S = 180.0


class PageError(Exception):
    """The server could not run the page that was asked for."""


@dataclass
class Page:
    """What the final full run of one request drew, and how long the server took."""

    seconds: float
    elements: dict[tuple[int, ...], Element]  # by delta path: root container, then positions
    page_hash: str  # which page ran, by its script hash
    name: str  # and by its URL path ("" for the default page)
    query_string: str  # the URL's query after the run

    def in_order(self, root: int = RootContainer.MAIN) -> list[Element]:
        return [e for path, e in sorted(self.elements.items()) if path[0] == root]

    def text(self) -> str:
        """Every body text drawn (headings, markdown, captions, alerts, plain text), in the
        page's order."""
        bodies = []
        for _, e in sorted(self.elements.items()):
            inner = getattr(e, e.WhichOneof("type") or "empty")
            if "body" in inner.DESCRIPTOR.fields_by_name:
                bodies.append(inner.body)
        return "\n".join(bodies)

    def exceptions(self) -> list[str]:
        return [
            f"{e.exception.type}: {e.exception.message}"[:200]
            for e in self.elements.values()
            if e.HasField("exception")
        ]


@dataclass
class Session:
    """One visitor's Streamlit session, held over one websocket as the browser holds it."""

    ws: ClientConnection
    # Large elements the server may send again as a reference to their hash, as it does for
    # the browser, which tells it what it holds (ClientState.cached_message_hashes).
    cache: dict[str, ForwardMsg] = field(default_factory=dict)
    page: Page | None = None

    async def open(self, path: str, timeout_s: float = TIMEOUT_S) -> Page:
        """Navigate to `path` ("baseline?dataset=digits"): the browser's request on loading
        that URL, the page's name and query string, with no widget state."""
        name, _, query = path.partition("?")
        back = BackMsg()
        back.rerun_script.page_name = name
        back.rerun_script.query_string = query
        return await self._request(back, timeout_s)

    async def change(
        self, widget: WidgetState, query_key: str = "", timeout_s: float = TIMEOUT_S
    ) -> Page:
        """Rerun the current page with one widget's new value, as the frontend does after an
        interaction. The other widgets are left out: the server keeps their values. A widget
        bound to the URL (its element's `query_param_key`, given as `query_key`) also has its
        new value put in the query string, as the frontend does in the address bar."""
        back = BackMsg()
        back.rerun_script.page_script_hash = self.page.page_hash
        back.rerun_script.query_string = self.page.query_string
        if query_key:
            back.rerun_script.query_string = bound_query(self.page.query_string, query_key, widget)
        back.rerun_script.widget_states.widgets.append(widget)
        return await self._request(back, timeout_s)

    async def _request(self, back: BackMsg, timeout_s: float) -> Page:
        back.rerun_script.cached_message_hashes.extend(self.cache)
        t0 = time.perf_counter()
        await self.ws.send(back.SerializeToString())
        async with asyncio.timeout(timeout_s):
            drawn = await self._until_finished(back.rerun_script)
        self.page = Page(time.perf_counter() - t0, *drawn)
        return self.page

    async def _until_finished(self, asked: ClientState) -> tuple[dict, str, str, str]:
        elements: dict[tuple[int, ...], Element] = {}
        page_hash, page_name, query = asked.page_script_hash, asked.page_name, asked.query_string
        while True:
            msg = self._resolve(ForwardMsg.FromString(await self.ws.recv()))
            if msg.metadata.run.fragment_ids:  # a fragment's own run: not the page's
                continue
            match msg.WhichOneof("type"):
                case "new_session":  # a run starts (again, after st.rerun()): a fresh page
                    elements.clear()
                case "navigation":  # st.navigation says which page this run shows
                    page_hash = msg.navigation.page_script_hash
                    page_name = next(
                        p.url_pathname
                        for p in msg.navigation.app_pages
                        if p.page_script_hash == page_hash
                    )
                case "delta" if msg.delta.HasField("new_element"):
                    elements[tuple(msg.metadata.delta_path)] = msg.delta.new_element
                case "page_info_changed":  # the script changed the URL's query
                    query = msg.page_info_changed.query_string
                case "page_not_found":
                    raise PageError(f"page not found: {asked.page_name!r}")
                case "session_event" if msg.session_event.HasField("script_compilation_exception"):
                    raise PageError(msg.session_event.script_compilation_exception.message)
                case "script_finished" if msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                    return elements, page_hash, page_name, query
                case "script_finished" if (
                    msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR
                ):
                    raise PageError("the script did not compile")

    def _resolve(self, msg: ForwardMsg) -> ForwardMsg:
        if msg.HasField("ref_hash"):  # an element sent before, named by its hash
            full = ForwardMsg()
            full.CopyFrom(self.cache[msg.ref_hash])
            full.metadata.CopyFrom(msg.metadata)
            return full
        if msg.metadata.cacheable:
            self.cache[msg.hash] = msg
        return msg


@contextlib.asynccontextmanager
async def session(url: str) -> AsyncIterator[Session]:
    """A new Streamlit session on the server at `url` (http://host:port)."""
    ws_url = url.replace("http", "ws", 1) + "/_stcore/stream"
    async with connect(
        ws_url,
        subprotocols=[Subprotocol("streamlit")],  # what the frontend asks for
        max_size=None,  # a page's chart can be one message of several MB
        open_timeout=TIMEOUT_S,  # a busy server is slow to answer, not broken
        ping_interval=None,  # a browser's page cannot ping: no keepalive to time out on
    ) as ws:
        yield Session(ws)


def step_up(slider: Slider) -> WidgetState:
    """The widget state the frontend sends after a slider is moved one step up (capped at
    its end): a number for st.slider, the option's text for st.select_slider."""
    state = WidgetState(id=slider.id)
    if slider.type == Slider.SELECT_SLIDER:
        now = (
            list(slider.options).index(slider.raw_value[0])
            if slider.set_value
            else slider.default[0]
        )
        state.string_array_value.data.append(
            slider.options[min(int(now) + 1, len(slider.options) - 1)]
        )
    else:
        now = slider.value[0] if slider.set_value else slider.default[0]
        state.double_array_value.data.append(min(now + slider.step, slider.max))
    return state


def bound_query(query: str, key: str, widget: WidgetState) -> str:
    """`query` with the URL parameter `key` set to a slider's widget state (option texts, or
    numbers), as the frontend writes a bound widget's new value into the address bar."""
    if widget.HasField("string_array_value"):
        values = list(widget.string_array_value.data)
    else:
        values = [f"{v:g}" for v in widget.double_array_value.data]
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != key]
    return urlencode(kept + [(key, v) for v in values])


def first_slider(page: Page, root: int = RootContainer.SIDEBAR) -> Slider:
    sliders = [e.slider for e in page.in_order(root) if e.HasField("slider")]
    if not sliders:
        raise PageError("no slider on this page")
    return sliders[0]


# --- one visitor ------------------------------------------------------------------------------
async def visit(url: str, timeout_s: float = TIMEOUT_S) -> dict:
    """One visitor through VISIT, then the slider change: the pages as drawn (each with the
    server's time), the rerun, errors."""
    pages, rerun, errors = [], None, []
    try:
        async with session(url) as s:
            for name, path in VISIT:
                pages.append(await s.open(path, timeout_s))
                errors += [f"{name}: {e}" for e in pages[-1].exceptions()]
            slider = first_slider(s.page)
            rerun = await s.change(step_up(slider), slider.query_param_key, timeout_s)
            errors += [f"slider change: {e}" for e in rerun.exceptions()]
    except Exception as e:  # a timeout, a closed socket, a page that cannot run
        errors.append(f"{type(e).__name__}: {(str(e).splitlines() or [''])[0][:200]}")
    return {"pages": pages, "rerun": rerun, "errors": errors}


async def visitors(url: str, n: int) -> list[dict]:
    return await asyncio.gather(*(visit(url) for _ in range(n)))


# --- rounds -----------------------------------------------------------------------------------
def own_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def round_of(url: str, pid: int, n: int) -> dict:
    """One round of N visitors at once. The row's keys are bench.load's, so that its report
    prints them ("paint" there is the server's page time here)."""
    cpu0, own0 = tree_cpu_s(pid), own_cpu_s()
    with PeakMemory(pid) as mem:
        sessions = asyncio.run(visitors(url, n))
    server, own = tree_cpu_s(pid) - cpu0, own_cpu_s() - own0
    pages = [p.seconds for s in sessions for p in s["pages"]]
    reruns = [s["rerun"].seconds for s in sessions if s["rerun"] is not None]
    return {
        "n": n,
        **{f"paint_p{q}": pct(pages, q / 100) for q in (50, 95)},
        **{f"rerun_p{q}": pct(reruns, q / 100) for q in (50, 95)},
        "errors": [e for s in sessions for e in s["errors"]],
        "cpu_per_session_s": server / n,
        "client_cpu_per_session_s": own / n,  # all N clients: this process
        "peak_mb": mem.peak,
        "after_mb": tree_rss_mb(pid),
    }


# The reference: bench.load.VISIT's page names, each a title and one sidebar slider, on a
# server with the dashboard's socket setting (bench.ui.TUNED).
REFERENCE_APP = (
    TUNED
    + """
import streamlit as st

def page():
    st.title("reference")
    st.sidebar.slider("x", 0, 10, 0)

names = ["baseline", "runs", "equivariance"]
home = st.Page(page, title="home", url_path="home", default=True)
others = [st.Page(page, title=n, url_path=n) for n in names]
st.navigation([home, *others]).run()
"""
)


def reference_rows(sessions: list[int]) -> list[dict]:
    """The rounds against REFERENCE_APP, with nothing else running."""
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp) / "reference_app.py"
        app.write_text(REFERENCE_APP)
        with streamlit_server(Path(tmp) / "results", script=str(app)) as url:
            pid = server_pid(url)
            asyncio.run(visitors(url, 1))
            return [round_of(url, pid, n) for n in sessions]


@contextlib.contextmanager
def loaded_server(results: Path | None, train: bool) -> Iterator[tuple[str, int]]:
    """bench.load's setting: a server in viewer mode over one cached baseline plan, beside a
    training run; yields its URL and process id."""
    with contextlib.ExitStack() as stack:  # undone in reverse: server, trainer, folder
        if results is None:
            results = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "results"
        seed(results)
        if train:
            trainer = busy_worker(results)
            stack.callback(trainer.wait, timeout=30)
            stack.callback(trainer.terminate)
        url = stack.enter_context(streamlit_server(results, env={"CNNEXP_MODE": "viewer"}))
        yield url, server_pid(url)


def run(sessions: list[int], train: bool = True, results: Path | None = None) -> list[dict]:
    """Every round on one server; returns one row per N."""
    with loaded_server(results, train) as (url, pid):
        asyncio.run(visitors(url, 1))  # warm up: imports and caches, not measured
        return [round_of(url, pid, n) for n in sessions]


def report(rows: list[dict]) -> str:
    """bench.load's table, its columns named for what they hold here."""
    header, rest = load.report(rows).split("\n", 1)
    return header.replace("paint", "page").replace("browsers'", "clients'") + "\n" + rest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--sessions", type=int, nargs="+", default=[1, 5, 10, 20], help="N of each round, in order"
    )
    ap.add_argument("--no-train", action="store_true", help="no training run beside the server")
    args = ap.parse_args()
    import torch  # for its version only

    print(f"torch {torch.__version__} · {os.cpu_count()} CPUs · viewer mode · no browser")
    print(report(run(args.sessions, train=not args.no_train)))
    print("\nReference: the same page names, each a title and one slider, nothing beside it")
    print(report(reference_rows(args.sessions)))


if __name__ == "__main__":
    main()
