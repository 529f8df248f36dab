"""ui/runpanel.py: the preview of what Launch trains, the link to the nearest saved settings,
and the progress bar counting work (issue 25)."""

from streamlit.testing.v1 import AppTest

from cnnexp import data, estimate
from cnnexp.config import parse
from cnnexp.experiments import baseline
from cnnexp.results import Results
from cnnexp.runner import execute
from cnnexp.runspec import RunContext
from tests.conftest import ROOT, TINY
from ui import runpanel
from ui.links import query_for


def _open(page: str, query: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update(query_for(query))
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_preview_lists_each_configuration_its_work_and_what_is_cached(store):
    specs = baseline.plan(parse(baseline.Config, {**TINY, "seeds": 2}))
    execute(specs[0], store, RunContext(device="cpu"))  # one seed saved, one to train
    results = Results(specs, store)
    spans = {s.run_id: estimate.Span(40, 32, 52) for s in specs}
    planned = estimate.PlanEstimate(spans, None, True, [])
    rows = runpanel.preview_rows(results, planned, {specs[1].run_id})
    assert len(rows) == 1  # the two seeds of one configuration fold into one row
    row = rows.iloc[0]
    batches = len(data.batch_slices(data.info("digits").n_train, TINY["batch_size"]))
    assert (row["epochs"], row["steps"]) == (1, batches)  # TINY: one epoch
    assert row["each"] == "32–52 s"  # uncertain: shown as a range
    assert row["runs"] == "1 to train, 1 cached"


def test_a_launch_of_part_of_a_plan_marks_the_rest_for_later(store):
    specs = baseline.plan(parse(baseline.Config, {**TINY, "seeds": 3}))
    results = Results(specs, store)
    planned = estimate.PlanEstimate({}, None, False, specs)
    rows = runpanel.preview_rows(results, planned, {specs[0].run_id})
    assert rows.iloc[0]["runs"] == "1 to train, 2 later"
    assert rows.iloc[0]["each"] == "no estimate yet"


def test_the_page_previews_the_launch_and_who_may_launch(results):
    at = _open("pages/baseline.py", {**TINY, "seeds": 2})
    previews = [e for e in at.expander if e.label.startswith("What Launch trains")]
    assert previews and previews[0].label == "What Launch trains: 2 runs in 1 configurations"
    said = " ".join(c.value for c in at.caption)
    assert "Anyone using this dashboard may launch" in said, said


def test_nothing_saved_for_these_settings_links_to_the_nearest_saved(store):
    done = parse(baseline.Config, {**TINY, "seeds": 1})
    for spec in baseline.plan(done):
        execute(spec, store, RunContext(device="cpu"))
    store.save_headline("baseline", done.model_dump(mode="json"), {"accuracy": 0.9})
    at = _open("pages/baseline.py", {**TINY, "seeds": 1, "width": 8})
    links = [e for e in at.get("page_link") if "Nothing is saved" in str(e.proto.label)]
    assert links, [str(e.proto) for e in at.get("page_link")]
    assert "width 4" in links[0].proto.label
    # on the saved settings themselves: their results, no link
    at = _open("pages/baseline.py", {**TINY, "seeds": 1})
    assert not [e for e in at.get("page_link") if "Nothing is saved" in str(e.proto.label)]
