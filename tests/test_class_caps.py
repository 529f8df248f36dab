"""Every experiment page's defaults can launch under the README's class caps (issue 25):
a guarded server, a student holding the access token, and the [caps] table of README's "A GPU
server for a class". Before the plans fitted themselves to the caps, three of six pages
offered no Launch at all (Scaling and Permuted: a step budget that asks 250 and 50 epochs of
a 20-epoch cap; Equivariance, Permuted and Scaling: an MLP's hidden units counted as conv
channels against max_width)."""

import pytest
from streamlit.testing.v1 import AppTest

from cnnexp import catalog, experiments
from tests.conftest import ROOT
from ui import access

# README.md, "A GPU server for a class": its [caps] table, as the environment gives it.
CLASS_CAPS = {
    "max_epochs": 20,
    "max_width": 64,
    "max_seeds": 5,
    "max_train_images": 10000,
    "max_queued_runs": 30,
}
# The tab that holds a page's Launch, where it is not the first (as tests/test_app.py).
RUN_TAB = {e.name: (e.tabs_key, e.runs_tab) for e in catalog.ENTRIES.values() if e.runs_tab}


@pytest.fixture
def class_server(results, monkeypatch):
    monkeypatch.setenv("CNNEXP_MODE", "guarded")
    monkeypatch.setenv("CNNEXP_ACCESS_TOKEN", "student token")
    for name, value in CLASS_CAPS.items():
        monkeypatch.setenv(f"CNNEXP_{name.upper()}", str(value))
    return results


def student_opens(name: str) -> AppTest:
    """The page as a student who entered the class's access token sees it, on the tab that
    holds its run panel."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state[access.TOKEN_OK] = True
    at.switch_page(f"pages/{name}.py")
    at.run()
    if name in RUN_TAB:
        key, label = RUN_TAB[name]
        at.session_state[f"tabs-{key}"] = label
        at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("name", experiments.names())
def test_every_pages_defaults_can_launch_under_the_class_caps(class_server, name):
    at = student_opens(name)
    refusals = [e.value for e in at.error]
    assert not refusals, refusals
    assert [b for b in at.button if b.label == "Launch"], [i.value for i in at.info]


def test_the_step_budget_line_says_where_the_epochs_cap_shortens_it(class_server):
    at = student_opens("permuted")
    said = " ".join(c.value for c in at.caption)
    assert "this server's cap of 20 epochs" in said, said
    at = student_opens("scaling")
    said = " ".join(c.value for c in at.caption)
    assert "this server's cap of 20 epochs" in said, said


def test_a_refusal_names_a_setting_the_page_shows(class_server, monkeypatch):
    """Over a cap no plan can fit (Permuted's Epochs setting above max_epochs), the refusal
    names the epochs the page shows, not a hidden sweep's."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state[access.TOKEN_OK] = True
    at.query_params["epochs"] = "30"
    at.switch_page("pages/permuted.py")
    at.run()
    refusals = " ".join(e.value for e in at.error)
    assert "at most 20 epochs per run; these settings ask for 30" in refusals, refusals
    assert not [b for b in at.button if b.label == "Launch"]


def test_a_plan_longer_than_the_queue_cap_launches_in_parts(class_server):
    """Scaling's 63 runs under max_queued_runs = 30: Launch queues 30, every configuration's
    first seed first, and says so."""
    at = student_opens("scaling")
    said = " ".join(c.value for c in at.caption)
    assert "Launch queues **30 of the 63**" in said, said
