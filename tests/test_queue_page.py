"""pages/queue.py through AppTest: what a viewer, a launcher and an admin see of the queue,
and Cancel decided on the server by who asks (also for a forged request)."""

import pytest
from streamlit.testing.v1 import AppTest

from cnnexp.queue_view import queue_rows
from cnnexp.runqueue import RunQueue, runner_id
from tests.conftest import ROOT
from tests.test_queue_view import specs
from ui import access
from ui.queue_panel import CANCEL

OTHER = "email:other@school.edu"
ME = "token:local"  # a token holder in AppTest (no client address)


def open_queue(flag: str | None = None, forged: list[str] | None = None) -> AppTest:
    """The queue page in a session with this token flag; `forged`: the cancel selection as a
    crafted message would set it."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if flag:
        at.session_state[flag] = True  # a token entered earlier in this session
    if forged is not None:
        at.session_state[CANCEL] = forged
    at.switch_page("pages/queue.py")
    return at.run()


@pytest.fixture
def queue(results, monkeypatch):
    """Guarded mode; the queue holds one running run of someone else's and two queued runs,
    one of theirs and one of the token holder's. Their runner is this test process, alive, so
    the dashboard's runner neither adopts nor trains them: nothing changes while we look."""
    monkeypatch.setenv("CNNEXP_MODE", "guarded")
    monkeypatch.setenv("CNNEXP_ACCESS_TOKEN", "student token")
    monkeypatch.setenv("CNNEXP_ADMIN_TOKEN", "teacher token")
    q, holder = RunQueue(results), runner_id()
    runs = specs(seeds=3, width=32)
    for spec, owner in zip(runs, [OTHER, OTHER, ME], strict=True):
        q.add(spec, owner, holder)
    q.claim(holder)
    return runs


def shown(at: AppTest) -> list[dict]:
    return at.dataframe[0].value.to_dict("records") if at.dataframe else []


def metrics(at: AppTest) -> dict:
    return {m.label: m.value for m in at.metric}


def test_a_viewer_sees_only_counts(queue):
    at = open_queue()
    assert not at.exception, at.exception
    assert metrics(at) == {"Running": "1", "Queued": "2"}
    assert shown(at) == [] and not at.multiselect
    assert any("enter the access token" in c.value for c in at.caption)


def test_a_launcher_sees_their_runs_named_and_others_without_who(queue):
    at = open_queue(access.TOKEN_OK)
    assert not at.exception, at.exception
    rows = shown(at)
    assert [(r["#"], r["launched by"]) for r in rows] == [
        ("running", "someone else"),
        ("1", "someone else"),
        ("2", "you"),
    ]
    assert rows[1]["settings"] == "dataset digits · width 32 · epochs 1"
    assert rows[0]["status"] == "epoch 0 of 1" and rows[2]["starts"].startswith("no estimate")
    assert "other@school.edu" not in at.dataframe[0].value.to_string()
    assert metrics(at)["Yours"] == "1"
    assert at.multiselect(key=CANCEL).options == [f"#2 · baseline · {queue[2].label} · seed 2"]


def test_an_admin_sees_who_launched_every_run_and_may_cancel_any(queue):
    at = open_queue(access.ADMIN_TOKEN_OK)
    assert not at.exception, at.exception
    assert [r["launched by"] for r in shown(at)] == ["other@school.edu"] * 2 + ["you"]
    assert len(at.multiselect(key=CANCEL).options) == 3
    at.multiselect(key=CANCEL).set_value([queue[1].run_id]).run()
    at.button(key="queue-cancel-go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    left = [r["run_id"] for r in queue_rows(access.resources.results_root())]
    assert left == [queue[0].run_id, queue[2].run_id]


def test_a_launcher_cancels_their_own_run(queue):
    at = open_queue(access.TOKEN_OK)
    at.multiselect(key=CANCEL).set_value([queue[2].run_id]).run()
    at.button(key="queue-cancel-go").click().run()
    assert not at.error, [e.value for e in at.error]
    assert [r["launched by"] for r in shown(at)] == ["someone else"] * 2


def forged_cancel():
    """A forged request: the panel's server-side cancel called directly with a run the page
    never offered, as a crafted message would. (Streamlit itself drops a multiselect value
    that is not an option, so the widget cannot carry one.)"""
    import streamlit as st

    from ui import access, queue_panel

    try:
        queue_panel.cancel(st.session_state["ids"])
        st.write("cancelled")
    except access.Refused as e:
        st.error(str(e))


@pytest.mark.parametrize(
    "flag, words",
    [
        (access.TOKEN_OK, "launched by someone else"),
        (None, "Cancelling runs is not open to you"),
    ],
)
def test_a_forged_cancel_of_someone_elses_run_is_refused_on_the_server(queue, flag, words):
    import inspect

    at = AppTest.from_string(inspect.getsource(forged_cancel) + "\nforged_cancel()\n")
    at.session_state["ids"] = [queue[1].run_id]
    if flag:
        at.session_state[flag] = True
    at.run(timeout=60)
    assert any(words in e.value for e in at.error), [e.value for e in at.error]
    assert len(queue_rows(access.resources.results_root())) == 3
    # A value that is not an option never reaches the server as the widget's value.
    at = open_queue(access.TOKEN_OK, forged=[queue[1].run_id])
    assert at.multiselect(key=CANCEL).value == []
