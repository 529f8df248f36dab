"""bench.wire's visitors (Streamlit's websocket protocol, no browser) against a real server in
the load test's setting, without the training run: they receive the pages themselves, not only
the end of each run; the slider change reaches the server; visitors at once all finish. Times
are the benchmark's, never asserted here."""

import asyncio

import pytest

from bench import wire
from bench.load import VISIT


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(url, pid, the first page a fresh server sent: a link to the cached Baseline)."""
    results = tmp_path_factory.mktemp("wire") / "results"
    with wire.loaded_server(results, train=False) as (url, pid):
        yield url, pid, asyncio.run(_open(url, VISIT[1][1]))


async def _open(url: str, path: str) -> wire.Page:
    async with wire.session(url) as s:
        return await s.open(path)


def test_a_link_on_a_fresh_server_is_waited_for_past_its_rerun(server):
    # A fresh server runs the linked page alone, which calls st.rerun() to run inside the
    # app's navigation (ui/page.require_app): the page is the second run's.
    first = server[2]
    assert first.name == "baseline"
    assert " reaches " in first.text()


def test_a_visitor_receives_every_page_it_asks_for(server):
    url = server[0]
    visitor = asyncio.run(wire.visit(url))
    assert visitor["errors"] == []
    home, baseline, *_ = visitor["pages"]
    assert [p.name for p in visitor["pages"]] == [path.split("?")[0] for _, path in VISIT]
    headings = [e.heading.body for e in home.in_order() if e.HasField("heading")]
    assert headings[0] == "cnnexp"  # the app's title, then its introduction
    assert "Convolutional networks are said to suit images" in home.text()
    # the seeded plan's headline ("… reaches 80% [..] test accuracy"), not "No saved runs"
    assert " reaches " in baseline.text() and "test accuracy" in baseline.text()
    rerun = visitor["rerun"]
    assert rerun.name == "equivariance"
    assert rerun.query_string != visitor["pages"][-1].query_string  # the slider's new value


async def _slider_change(url: str) -> tuple[wire.Page, wire.Page, wire.Page]:
    """The cached Baseline page before and after its first sidebar slider moves one step up,
    and the page a fresh visitor gets from a link that names the new value."""
    async with wire.session(url) as s:
        before = await s.open(VISIT[1][1])
        slider = wire.first_slider(before)
        change = wire.step_up(slider)
        after = await s.change(change)  # the widget state alone: the query keeps the old value
    link = wire.bound_query(before.query_string, slider.query_param_key, change)
    assert link != before.query_string
    async with wire.session(url) as s:
        linked = await s.open(f"{before.name}?{link}")
    return before, after, linked


def test_the_slider_change_reaches_the_server(server):
    before, after, linked = asyncio.run(_slider_change(server[0]))
    # Streamlit does not echo a value the browser sent, so the page is the evidence: the
    # rerun shows what the link with the new value shows (here settings nobody has run, where
    # the cached plan's results were), and not what it showed before.
    assert after.text() == linked.text()
    assert after.text() != before.text()
    assert after.exceptions() == []


def test_visitors_at_once_all_finish(server):
    row = wire.round_of(*server[:2], 2)
    assert row["errors"] == []
    assert row["rerun_p50"] > 0  # both reruns were waited for
    assert row["peak_mb"] > 50  # the server's tree was found and sampled
    table = wire.report([row])
    assert "page p95 s" in table and table.count("\n| ") == 1
