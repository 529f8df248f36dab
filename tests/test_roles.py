"""Roles on the server (ui/access.py over cnnexp/policy.py): forged requests to cancel,
delete and launch are decided by who asks, and caps count per person across sessions."""

import inspect

import pytest
from streamlit.testing.v1 import AppTest

from cnnexp.store import Store
from tests.conftest import ROOT
from tests.test_cli import cli
from ui import access

OTHER = "email:other@school.edu"


def act():
    """A forged request: the server-side function called directly, as a crafted message would.
    (Its arguments come through session state: the worker process re-imports this script.)"""
    import streamlit as st

    from cnnexp.config import parse
    from cnnexp.experiments import baseline
    from ui import access, resources

    action, arg = st.session_state.get("action"), st.session_state.get("arg")
    slow = {"dataset": "digits", "epochs": 20, "width": 64, "seeds": 3}
    try:
        if action == "submit_as":
            specs = baseline.plan(parse(baseline.Config, slow))
            st.write(",".join(resources.runner().submit(specs, owner=arg)))
        elif action == "launch":
            access.launch(baseline.plan(parse(baseline.Config, slow)))
            st.write("launched")
        elif action == "cancel":
            access.cancel_runs(arg)
            st.write("cancelled")
        elif action == "delete":
            st.write(f"deleted {access.delete_runs(resources.store(), arg)}")
        elif action == "stop_all":
            resources.runner().cancel()
    except access.Refused as e:
        st.error(str(e))
    st.write(f"owner: {access.owner()} · role: {access.role()}")


def session(action, arg=None, flag=None) -> AppTest:
    at = AppTest.from_string(inspect.getsource(act) + "\nact()\n", default_timeout=60)
    at.session_state["action"], at.session_state["arg"] = action, arg
    if flag:
        at.session_state[flag] = True  # a token entered earlier in this session
    return at.run()


def said(at: AppTest) -> str:
    return " ".join([m.value for m in at.markdown] + [e.value for e in at.error])


@pytest.fixture
def guarded(results, monkeypatch):
    monkeypatch.setenv("CNNEXP_MODE", "guarded")
    monkeypatch.setenv("CNNEXP_ACCESS_TOKEN", "student token")
    monkeypatch.setenv("CNNEXP_ADMIN_TOKEN", "teacher token")
    yield results
    session("stop_all", flag=access.ADMIN_TOKEN_OK)


def test_a_launcher_cannot_cancel_anothers_run_but_an_admin_can(guarded):
    ids = said(session("submit_as", OTHER)).split()[0].split(",")
    at = session("cancel", ids, access.TOKEN_OK)
    assert "role: launcher" in said(at)
    assert "launched by someone else" in at.error[0].value
    from ui import resources

    assert not any(s.status == "cancelled" for s in resources.runner().snapshot().values())
    at = session("cancel", ids, access.ADMIN_TOKEN_OK)
    assert not at.error and "cancelled" in said(at) and "role: admin" in said(at)


def test_a_launcher_can_cancel_their_own_run(guarded):
    mine = said(session("launch", flag=access.TOKEN_OK))
    assert "launched" in mine and "owner: token:" in mine
    from ui import resources

    ids = [i for i, s in resources.runner().snapshot().items() if s.owner.startswith("token:")]
    at = session("cancel", ids, access.TOKEN_OK)
    assert not at.error, (said(at), resources.runner().snapshot())


def test_a_viewer_cannot_cancel_even_unowned_runs(guarded):
    ids = said(session("submit_as", "")).split()[0].split(",")
    assert "launched by someone else" in session("cancel", ids).error[0].value


def test_only_an_admin_deletes(guarded):
    cli(guarded, "run", "baseline", "--dataset", "digits", "--epochs", "1", "--width", "4")
    ids = Store(guarded).runs()["run_id"].tolist()
    for flag in (None, access.TOKEN_OK):
        at = session("delete", ids, flag)
        assert "Only an admin" in at.error[0].value
        assert Store(guarded).runs()["run_id"].tolist() == ids
    at = session("delete", ids, access.ADMIN_TOKEN_OK)
    assert not at.error and "deleted" in said(at)
    assert Store(guarded).runs().empty


def test_caps_per_person_survive_a_new_session(guarded, monkeypatch):
    monkeypatch.setenv("CNNEXP_MAX_QUEUED_RUNS", "3")  # the plan's three seeds
    assert "launched" in said(session("launch", flag=access.TOKEN_OK))
    again = session("launch", flag=access.TOKEN_OK)  # a new tab: a new session
    assert "at most 3 runs per person" in again.error[0].value


def test_the_results_path_is_shown_only_to_an_admin(results, monkeypatch):
    def sidebar() -> str:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        return " ".join(c.value for c in at.sidebar.caption)

    assert str(results.resolve()) in sidebar()  # launch mode: the owner of the laptop
    monkeypatch.setenv("CNNEXP_MODE", "viewer")
    shown = sidebar()
    assert "viewer mode" in shown and str(results.resolve()) not in shown


def test_a_hosted_server_shows_visitors_no_tracebacks(results, monkeypatch):
    import streamlit as st

    for mode, details in (("viewer", "type"), ("launch", "full")):
        monkeypatch.setenv("CNNEXP_MODE", mode)
        AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        assert st.get_option("client.showErrorDetails") == details, mode


def test_a_cap_that_is_not_a_number_shows_every_page_as_a_message(results, monkeypatch):
    monkeypatch.setenv("CNNEXP_MODE", "viewer")
    monkeypatch.setenv("CNNEXP_MAX_EPOCHS", "twenty")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    said = " ".join(e.value for e in at.error)
    assert "misconfigured" in said and "CNNEXP_MAX_EPOCHS" in said and "'twenty'" in said
    assert not at.title  # no page ran
