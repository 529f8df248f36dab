"""ui/exercises.py through AppTest: the Check yourself panel of every experiment page, the
instructor's modes (off, on, graded; predict first), who sees the class summary, and a
screenshot of a panel in headless Chromium after a wrong and a right answer."""

import json
import os

import pytest
from streamlit.testing.v1 import AppTest

from cnnexp import exercises, experiments
from cnnexp.attempts import Attempts
from cnnexp.config import parse
from cnnexp.exercises import Prediction
from cnnexp.store import Store
from tests.conftest import ROOT
from tests.test_app import open_page
from ui.exercises import question_key
from ui.links import query_for

SEED = {  # the seed's exercise: 64×64 grayscale to 64×64, one 5×5 kernel, no biases
    "image_size": "64",
    "in_channels": "1",
    "out_channels": "1",
    "kernel": "5",
    "padding": "2",
    "bias": "false",
}


# The page whose first question is a prediction, compared with saved runs. Every other
# page's panel asks without any (found: Baseline, Normalization and Permuted stopped before
# their panels until runs were saved).
NEEDS_RUNS = ("permuted",)


def open_panel(name: str, query: dict | None = None) -> AppTest:
    at = open_page(f"pages/{name}.py", query)
    assert not at.exception, at.exception
    assert "Check yourself" in [e.label for e in at.expander]
    at.session_state[f"exercises-{name}"] = True  # a click on the expander
    at.run()
    assert not at.exception, at.exception
    return at


def answer(at: AppTest, ex, q, value) -> AppTest:
    """Type (or choose) an answer to question q and press its button, as a student does."""
    key = question_key(ex, q)
    if q.kind == "choices":
        at.button_group(key=f"{key}-input").set_value(sorted(value))
    elif q.kind == "choice":
        at.radio(key=f"{key}-input").set_value(next(iter(value)))
    else:
        at.text_input(key=f"{key}-input").input(str(value))
    at.button(key=f"{key}-submit").click()
    at.run()
    assert not at.exception, at.exception
    return at


def settings_of(name: str, source):
    mod = experiments.get(name)
    if source is mod.Config:
        return parse(mod.Config, {**mod.TINY, "seeds": 2})
    return source()  # a probe's settings: the panel's defaults


@pytest.mark.parametrize("name", experiments.names())
def test_every_pages_panel_checks_an_answer(tiny_saved, results, monkeypatch, name):
    """The first question answered with the library's answer is right, and its derivation
    follows; a prediction is committed and drawn beside the saved result."""
    saved = tiny_saved(name) if name in NEEDS_RUNS else results
    monkeypatch.setenv("CNNEXP_RESULTS", str(saved))
    mod = experiments.get(name)
    at = open_panel(name, {**query_for(mod.TINY), "seeds": "2"})
    shown = [m.value for m in at.markdown if m.value.startswith("**1.**")]
    assert shown, [m.value[:60] for m in at.markdown]
    ex = exercises.for_page(name)[0]
    q = ex.generate(settings_of(name, ex.source))
    assert shown[0] == f"**1.** {q.prompt}"
    if isinstance(ex, Prediction):
        cfg = ex.settings(q.params)
        m = ex.measured(cfg, exercises.headline(ex, cfg, Store(saved)))
        answer(at, ex, q, f"{m['mean'] * ex.scale:.4f}")
        assert any("inside the measured interval" in s.value for s in at.success)
        assert at.get("plotly_chart")  # the prediction beside the measured interval
        return
    a = ex.answer(q.params)
    answer(at, ex, q, a.value)
    assert [s.value for s in at.success][-1].startswith("Right"), [s.value for s in at.success]
    assert a.derivation in [i.value for i in at.info]


def test_a_wrong_answer_then_a_malformed_one_then_the_right_one(results):
    at = open_panel("scaling", SEED)
    ex = exercises.get("scaling.fc_weights")
    q = ex.generate(parse(ex.source, {**SEED, "mode": "analytic"}))
    answer(at, ex, q, "16781312")
    assert "no biases" in at.error[-1].value
    assert "2 of 3 tries left." in [c.value for c in at.caption]
    answer(at, ex, q, "1e999")
    assert "did not count as a try" in at.warning[-1].value
    assert "2 of 3 tries left." in [c.value for c in at.caption]  # still two
    answer(at, ex, q, "16,777,216")
    assert at.success[-1].value == "Right: 16,777,216."
    assert any("4,096 × 4,096 = **16,777,216**" in i.value for i in at.info)
    assert f"{question_key(ex, q)}-input" not in [t.key for t in at.text_input]  # answered


def test_the_answer_is_shown_after_the_last_try(results, monkeypatch):
    monkeypatch.setenv("CNNEXP_EXERCISE_TRIES", "2")
    at = open_panel("scaling", SEED)
    ex = exercises.get("scaling.conv_weights")
    q = ex.generate(parse(ex.source, {**SEED, "mode": "analytic"}))
    key = question_key(ex, q)
    answer(at, ex, q, "102400")  # per position: the locally connected count
    assert "locally connected" in at.error[-1].value
    answer(at, ex, q, "26")
    assert f"{key}-input" not in [t.key for t in at.text_input]  # no third try
    assert any("= **25**" in i.value for i in at.info)


def test_graded_mode_records_per_person_and_survives_a_restart(results, monkeypatch):
    monkeypatch.setenv("CNNEXP_EXERCISES", "graded")
    at = open_panel("scaling", SEED)
    ex = exercises.get("scaling.local_weights")
    q = ex.generate(parse(ex.source, {**SEED, "mode": "analytic"}))
    answer(at, ex, q, "25")
    answer(at, ex, q, "abc")  # not recorded
    answer(at, ex, q, "102400")
    rows = Attempts(results).attempts("admin", "", None)
    assert [(r.person, r.answer, r.verdict, r.mistake) for r in rows] == [
        ("client:local", "25", "incorrect", "shared_weights"),
        ("client:local", "102400", "correct", ""),
    ]
    # On a laptop the single user is admin: the class summary and its downloads.
    assert any("Class summary" in m.value for m in at.markdown)
    assert at.dataframe and "Every attempt (CSV, 2 rows)" in [
        b.label for b in at.get("download_button")
    ]
    again = open_panel("scaling", SEED)  # a new session, as after a restart
    assert "Your last answer, 102400, was correct." in [c.value for c in again.caption]
    assert f"{question_key(ex, q)}-input" not in [t.key for t in again.text_input]


def test_a_viewer_sees_no_class_summary_and_a_forged_call_is_refused(results, monkeypatch):
    monkeypatch.setenv("CNNEXP_EXERCISES", "graded")
    monkeypatch.setenv("CNNEXP_MODE", "viewer")
    Attempts(results).record("email:ana@school.edu", "scaling.fc_weights", {}, "1", "incorrect")
    at = open_panel("scaling", SEED)
    assert not any("Class summary" in m.value for m in at.markdown)
    ex = exercises.get("scaling.conv_weights")
    q = ex.generate(parse(ex.source, {**SEED, "mode": "analytic"}))
    answer(at, ex, q, "25")  # a viewer's answers are recorded all the same
    assert len(Attempts(results).attempts("admin", "", None)) == 2
    # A request no button offers: the panel's own entry points, called from a viewer's session.
    for call in ("class_summary('scaling')", "class_summary()", "class_attempts_csv()"):
        forged = AppTest.from_string(
            f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
            f"from ui import exercises\nexercises.{call}\n",
            default_timeout=60,
        ).run()
        assert forged.exception and "Only an admin" in forged.exception[0].message, call


def test_without_saved_runs_the_panel_is_there_and_a_prediction_waits(results):
    for name in ("baseline", "normalization", "permuted"):  # found: they stopped before it
        mod = experiments.get(name)
        at = open_panel(name, {**query_for(mod.TINY), "seeds": "2"})
        assert any(m.value.startswith("**1.**") for m in at.markdown), name
    said = [i.value for i in at.info]  # permuted's one question predicts a saved result
    assert any("the prediction opens once the runs are" in s for s in said), said


def test_off_has_no_panel_and_a_bad_value_stops_every_page_as_a_bad_cap_does(results, monkeypatch):
    monkeypatch.setenv("CNNEXP_EXERCISES", "off")
    at = open_page("pages/scaling.py")
    assert "Check yourself" not in [e.label for e in at.expander]
    for name, value in (("EXERCISES", "gradded"), ("PREDICT_FIRST", "maybe")):
        monkeypatch.setenv(f"CNNEXP_{name}", value)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
        assert not at.exception, at.exception
        said = " ".join(e.value for e in at.error)  # found: pages opened, the panel erred
        assert "This server is misconfigured; no page is shown." in said, said
        assert f"CNNEXP_{name} must be" in said and repr(value) in said, said
        assert not at.title  # no page ran
        monkeypatch.delenv(f"CNNEXP_{name}")


def test_graded_mode_without_a_writable_table_says_so(results, monkeypatch):
    monkeypatch.setenv("CNNEXP_EXERCISES", "graded")
    (results / "exercises.sqlite").mkdir(parents=True)  # no database can be made there
    at = open_page("pages/scaling.py")
    assert not at.exception
    assert "Check yourself" not in [e.label for e in at.expander]
    assert any("need a results folder they can write to" in e.value for e in at.error)


@pytest.mark.parametrize("first", [False, True])
def test_predict_first_hides_the_result_until_a_prediction_is_committed(
    tiny_saved, monkeypatch, first
):
    monkeypatch.setenv("CNNEXP_RESULTS", str(tiny_saved("permuted")))
    monkeypatch.setenv("CNNEXP_PREDICT_FIRST", str(first).lower())
    mod = experiments.get("permuted")
    at = open_page("pages/permuted.py", {**query_for(mod.TINY), "seeds": "2"})
    gap = "gap (CNN − mlp)"
    # Found: the panel kept its result back while the page showed the gap above it.
    assert (gap in [m.label for m in at.metric]) is not first
    assert any("Predict first" in i.value for i in at.info) is first
    charts = len(at.get("plotly_chart"))
    at.session_state["exercises-permuted"] = True
    at.run()
    assert len(at.get("plotly_chart")) == charts  # nothing shown before a prediction...
    ex = exercises.get("permuted.predict_gap")
    q = ex.generate(parse(mod.Config, {**mod.TINY, "seeds": 2}))
    key = question_key(ex, q)
    skip = [b for b in at.button if b.key == f"{key}-show"]
    assert len(skip) == (0 if first else 1)  # ...which only predict-first makes necessary
    if not first:  # the result alone; it ends the question: no prediction after a look
        skip[0].click()
        at.run()
        assert len(at.get("plotly_chart")) == charts + 1
        assert f"{key}-input" not in [t.key for t in at.text_input]
        return
    answer(at, ex, q, "40")
    assert gap in [m.label for m in at.metric]  # committed: the page shows its figures too
    assert not any("Predict first" in i.value for i in at.info)
    assert len(at.get("plotly_chart")) > charts + 1  # the page's charts and the panel's
    drawn = json.loads(at.get("plotly_chart")[-1].proto.spec)["data"]  # the panel's, last
    assert [t["y"] for t in drawn] == [["measured"], ["your prediction"]]
    assert drawn[1]["x"] == [40.0]
    said = [box.value for box in [*at.info, *at.success]]  # inside the interval or not
    assert any(x.startswith("Your prediction, 40 points, is") for x in said), said


# --- a real browser ------------------------------------------------------------------------------
@pytest.mark.browser
def test_screenshot_of_a_panel_after_a_wrong_and_a_right_answer(tmp_path):
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, launch, settled, streamlit_server
    from tests.test_browser import SHOTS

    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    query = "&".join(f"{k}={v}" for k, v in SEED.items())
    with streamlit_server(tmp_path / "results") as url, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        page.goto(f"{url}/scaling?{query}")
        settled(page)
        page.get_by_text("Check yourself", exact=True).click()
        settled(page)
        panel = page.locator("[data-testid='stExpander']").filter(has_text="Check yourself")
        boxes = panel.get_by_label("Your answer (parameters)")
        boxes.nth(0).fill("16781312")  # the dense layer, with a bias it does not have
        panel.get_by_role("button", name="Check").nth(0).click()
        settled(page)
        boxes.nth(2).fill("25")  # the convolution: right
        panel.get_by_role("button", name="Check").nth(2).click()
        settled(page)
        text = panel.inner_text()
        assert "Not 16,781,312" in text and "Right: 25." in text, text[:2000]
        panel.screenshot(path=SHOTS / "exercises-scaling.png")
        browser.close()
    assert os.path.getsize(SHOTS / "exercises-scaling.png") > 10_000
