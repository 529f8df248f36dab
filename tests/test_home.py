"""pages/home.py through AppTest: Home's cards show curated headlines (the bundle's, or what an
admin pinned from an experiment page); what finished last is listed apart, as recent, so a test
run from the command line never changes the card everyone sees."""

import inspect

from streamlit.testing.v1 import AppTest

from cnnexp import experiments
from cnnexp.config import parse
from cnnexp.runner import execute
from cnnexp.runspec import RunContext
from cnnexp.store import Store
from tests.conftest import ROOT, TINY
from tests.test_app import open_page
from tests.test_cli import cli
from ui import access
from ui.links import query_for


def texts(at: AppTest) -> list[str]:
    """Home's markdown, subheaders and captions, in page order."""
    kinds = ("markdown", "subheader", "caption")
    return [e.value for e in at.main if getattr(e, "type", "") in kinds]


def baseline_card(at: AppTest) -> list[str]:
    """The Baseline card's lines, from its heading to the next, without the count of saved
    runs (which a new run rightly changes)."""
    said = texts(at)
    start = said.index("Baseline")
    end = next((i for i in range(start + 1, len(said)) if said[i].startswith("Recently")), None)
    return [t.split(" · ")[0] if "saved run" in t else t for t in said[start:end]]


def test_a_cli_run_into_the_same_folder_does_not_change_homes_card(results, monkeypatch):
    """Found: a 1-epoch `python -m cnnexp run baseline --dataset digits` replaced Home's
    Baseline card (the bundle's 97.9%, 3 seeds) with its own 92% for every visitor."""
    monkeypatch.setenv("CNNEXP_BUNDLE", str(ROOT / "bundle"))  # a real server's default
    before = baseline_card(open_page("pages/home.py"))  # seeds the folder from the bundle
    assert any("cnn on mnist5k: test accuracy 97.9%" in t for t in before), before
    assert not any(t.startswith("Recently") for t in texts(open_page("pages/home.py")))
    cli(results, "run", "baseline", "--dataset", "digits", "--epochs", "1")
    at = open_page("pages/home.py")
    assert not at.exception, at.exception
    assert baseline_card(at) == before
    said = texts(at)
    recent = said[said.index("Recently finished here") :]
    assert "**Baseline**" in recent
    assert any("cnn on digits: test accuracy" in t for t in recent), recent
    assert any(":material/history: recent · finished" in t for t in recent), recent


def tiny_baseline(results) -> dict:
    """The Baseline page's tiny settings at two seeds, trained into `results`; their query."""
    mod = experiments.get("baseline")
    values = {**TINY, "seeds": 2}
    for spec in mod.plan(parse(mod.Config, values)):
        execute(spec, Store(results), RunContext(device="cpu"))
    return query_for(values)


def test_an_admin_pins_a_plan_from_its_page_and_unpins_it(results):
    query = tiny_baseline(results)
    at = open_page("pages/baseline.py", query)  # a laptop: its single user is admin
    assert not at.exception, at.exception
    at.button(key="pin-baseline").click().run()
    pinned = Store(results).pins()["baseline"]
    assert pinned["config"]["width"] == TINY["width"] and pinned["headline"]["test_acc"]
    assert [b.label for b in at.button if b.key == "pin-baseline"] == ["Unpin"]
    card = baseline_card(open_page("pages/home.py"))
    assert any("cnn on digits: test accuracy" in t for t in card), card
    assert any("pinned by this server's admin" in t for t in card), card
    at.button(key="pin-baseline").click().run()  # Unpin: the bundle's again (none here)
    assert Store(results).pins() == {}
    home = open_page("pages/home.py")
    assert any("Nothing pinned yet" in t for t in baseline_card(home))
    said = texts(home)  # the page view saved the plan's headline as the recent one
    assert any("cnn on digits" in t for t in said[said.index("Recently finished here") :])


def forged_pin():
    """A forged request: the pin's server-side function called directly."""
    import streamlit as st

    from ui import access, pins

    try:
        pins.pin("baseline", {"width": 4}, {"test_acc": {"mean": 1.0}})
        st.write("pinned")
    except access.Refused as e:
        st.error(str(e))


def test_only_an_admin_is_offered_the_pin_or_may_use_it(results, monkeypatch):
    query = tiny_baseline(results)
    monkeypatch.setenv("CNNEXP_MODE", "guarded")
    monkeypatch.setenv("CNNEXP_ACCESS_TOKEN", "student token")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[access.TOKEN_OK] = True  # a launcher
    at.query_params.update(query)
    at.switch_page("pages/baseline.py")
    at.run()
    assert not at.exception and any("Cached" in c.value for c in at.caption)
    assert not [b for b in at.button if b.key == "pin-baseline"]
    at = AppTest.from_string(inspect.getsource(forged_pin) + "\nforged_pin()\n")
    at.session_state[access.TOKEN_OK] = True
    at.run(timeout=60)
    assert [e.value for e in at.error] == ["Only an admin of this server chooses what Home shows."]
    assert Store(results).pins() == {}
