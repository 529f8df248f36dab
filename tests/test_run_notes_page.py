"""ui/run_notes.py through AppTest: a launch names, tags and notes its runs (also from a link),
hostile words are refused before anything is queued or shown literally, and a saved run's
words are edited by its owner or an admin only, decided again on the server at Save."""

import time

import pytest
from streamlit.testing.v1 import AppTest

from cnnexp import experiments
from cnnexp.config import parse
from cnnexp.export import table_bytes
from cnnexp.results import Results
from cnnexp.run_notes import RunNotes
from cnnexp.runqueue import RunQueue
from cnnexp.store import Store
from tests.conftest import ROOT, TINY
from tests.test_analysis import write_runs
from ui import access
from ui.links import query_for

ME = "token:local"  # a token holder in AppTest (no client address)
OTHER = "email:other@school.edu"
HTML = '<b>wide</b> <img src=x onerror="alert(1)"> [link](https://example.org)'


def open_page(page: str, query: dict | None = None, flag: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update(query or {})
    if flag:
        at.session_state[flag] = True  # a token entered earlier in this session
    at.switch_page(page)
    return at.run()


def launch_button(at: AppTest):
    return next(b for b in at.button if b.label == "Launch")


def markup(at: AppTest) -> str:
    """Everything the page drew as markdown: where people's words must never be."""
    return " ".join(m.value for m in [*at.markdown, *at.info, *at.caption, *at.error])


def test_a_launch_names_its_runs_and_the_words_travel_to_exports_and_a_restart(results):
    """The name and tags come from a shared link (as a teacher's link names a class's runs),
    the note is typed; all three are saved beside the run, not in it."""
    at = open_page(
        "pages/baseline.py",
        {**query_for(TINY), "seeds": "1", "run-name": HTML, "run-tags": "wk3, hw"},
    )
    assert not at.exception, at.exception
    at.text_area(key="run-note").input("why: to compare\nwith the MLP").run()
    launch_button(at).click().run()
    deadline = time.time() + 180
    while not any(m.label == "Test accuracy" for m in at.metric):
        assert time.time() < deadline, "the launched run never showed its result"
        assert not at.exception, at.exception
        time.sleep(0.3)
        at.run()
    assert HTML not in markup(at)
    # A restart: another Store on the same folder reads the sidecar again.
    store = Store(results)
    run = store.runs().iloc[0]
    assert run["status"] == "done"
    assert (run["name"], run["tags"], run["note"]) == (
        HTML,
        "wk3, hw",
        "why: to compare\nwith the MLP",
    )
    assert store.notes("baseline", run["run_id"]).owner == "client:local"  # who launched it
    # The run is the one its settings name: its id and results are the plan's, words aside.
    mod = experiments.get("baseline")
    cfg = parse(mod.Config, {**TINY, "seeds": 1})
    assert [s.run_id for s in mod.plan(cfg)] == [run["run_id"]]
    # Exports (the page's download and `python -m cnnexp export` both write Results.tidy).
    exported = mod.tables(cfg, Results(mod.plan(cfg), store))["runs"]
    assert exported[["name", "tags"]].iloc[0].tolist() == [HTML, "wk3, hw"]
    assert HTML.replace('"', '""').encode() in table_bytes(exported, "csv")


@pytest.mark.parametrize(
    "field, value, says",
    [
        ("run-tags", "x" * 10_000, "has 10000 characters; allowed: at most 32."),
        ("run-name", "red \x1b[31malert", "allowed: one line of text"),
        ("run-tags", "a\u202eb", "allowed: short words, separated by commas"),
        ("run-tags", ",".join(f"t{i}" for i in range(20)), "20 tags given; allowed: at most 8"),
    ],
)
def test_hostile_words_are_refused_before_anything_is_queued(results, field, value, says):
    """Set as a crafted message would, past what a browser's field lets anyone type."""
    at = open_page("pages/baseline.py", query_for(TINY))
    at.text_input(key=field).set_value(value).run()
    assert any(says in e.value for e in at.error), [e.value for e in at.error]
    launch_button(at).click().run()
    assert not at.exception, at.exception
    assert any("not allowed" in e.value for e in at.error), [e.value for e in at.error]
    assert RunQueue(results).rows() == [] and Store(results).runs().empty


def test_an_overlong_name_or_note_is_cut_to_its_bound_on_the_server(results):
    """From a link (16 kB) or a crafted message (10 kB): Streamlit keeps max_chars on the
    server too, so what reaches run_notes.parse is already bounded; markup stays text."""
    at = open_page("pages/baseline.py", {**query_for(TINY), "run-name": "<i>y</i>" * 2_000})
    assert not at.exception, at.exception
    assert at.text_input(key="run-name").value == ("<i>y</i>" * 10)[:80]
    at.text_area(key="run-note").set_value("z" * 10_000).run()
    assert len(at.text_area(key="run-note").value) == 1_000
    assert not at.error and "<i>" not in markup(at)


# --- editing a saved run's words later (the Runs page's run detail) -----------------------------
@pytest.fixture
def named(store, monkeypatch):
    """Guarded mode; two saved runs, one launched by the token holder (ME), one by OTHER."""
    monkeypatch.setenv("CNNEXP_MODE", "guarded")
    monkeypatch.setenv("CNNEXP_ACCESS_TOKEN", "student token")
    monkeypatch.setenv("CNNEXP_ADMIN_TOKEN", "teacher token")
    write_runs(store, n_seeds=1)
    mine, theirs = store.runs()["run_id"].iloc[:2]
    store.write_notes("baseline", mine, RunNotes("mine", owner=ME))
    store.write_notes("baseline", theirs, RunNotes("theirs", tags=("hw",), owner=OTHER))
    return store, mine, theirs


def open_detail(run_id: str, flag: str | None) -> AppTest:
    query = {"group": "off", "runs": run_id, "view": "run-detail"}
    return open_page("pages/runs.py", query, flag)


def edit(at: AppTest, run_id: str, name: str, tags: str) -> AppTest:
    at.text_input(key=f"notes-{run_id}-name").input(name)
    at.text_input(key=f"notes-{run_id}-tags").input(tags)
    return at.button(key=f"notes-{run_id}-save").click().run()


def test_the_owner_edits_their_runs_words_and_not_anyone_elses(named):
    store, mine, theirs = named
    at = open_detail(mine, access.TOKEN_OK)
    assert not at.exception, at.exception
    edit(at, mine, "renamed", "wk4")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert store.notes("baseline", mine) == RunNotes("renamed", tags=("wk4",), owner=ME)
    assert at.dataframe[1].value.loc["name"].iloc[0] == "renamed"  # shown at once
    at = open_detail(theirs, access.TOKEN_OK)
    assert not [t for t in at.text_input if t.key == f"notes-{theirs}-name"]
    at = open_detail(mine, None)  # a viewer: nothing to edit
    assert not [t for t in at.text_input if t.key == f"notes-{mine}-name"]


def test_an_admin_edits_any_run_and_save_is_decided_on_the_server(named):
    store, mine, theirs = named
    at = open_detail(theirs, access.ADMIN_TOKEN_OK)
    edit(at, theirs, "by the teacher", "hw")
    assert store.notes("baseline", theirs) == RunNotes("by the teacher", tags=("hw",), owner=OTHER)
    # The form was drawn for the owner; by Save the session no longer holds the token (it
    # signed out in another tab): the server decides again, whatever the page showed, and
    # nothing is written (a crafted Save for a run not one's own is the same message).
    at = open_detail(mine, access.TOKEN_OK)
    at.session_state[access.TOKEN_OK] = False
    edit(at, mine, "forged", "")
    assert not at.exception, at.exception
    assert store.notes("baseline", mine) == RunNotes("mine", owner=ME)
    assert not [t for t in at.text_input if t.key == f"notes-{mine}-name"]
    # Hostile words are refused with what is allowed, and nothing is written.
    at = open_detail(mine, access.TOKEN_OK)
    edit(at, mine, "fine", "ok, bad\x00tag")
    assert any("allowed: short words, separated by commas" in e.value for e in at.error)
    assert store.notes("baseline", mine) == RunNotes("mine", owner=ME)
