"""The Baseline page's headline: an accuracy's 95% interval stops at 0 and 100%."""

from cnnexp.config import parse
from cnnexp.experiments import baseline
from cnnexp.runner import perform, save
from cnnexp.runspec import RunContext
from cnnexp.store import Store
from tests.conftest import TINY
from tests.test_app import open_page
from ui.links import query_for


def test_two_seeds_far_apart_show_an_interval_within_0_and_100_percent(results):
    store = Store(results)
    for spec, acc in zip(
        baseline.plan(parse(baseline.Config, {**TINY, "seeds": 2})), (0.2, 0.95), strict=True
    ):
        record, out = perform(spec, RunContext(device="cpu"))
        # the seeds' accuracies set far apart (as two seeds of a fragile setting can be), so
        # the raw t-interval, ±12.7·s/√2, runs far past both ends
        save(store, {**record, "test_acc": acc}, out)
    at = open_page("pages/baseline.py", {**query_for(TINY), "seeds": "2"})
    assert not at.exception, at.exception
    # The interval on the tile's second line: as its value it was cut off ("76.4% – 100.…").
    metric = next(m for m in at.metric if m.label == "Test accuracy")
    assert (metric.value, metric.delta) == ("57.5%", "95% CI 0.0–100.0%")
    said = " ".join(m.value for m in at.markdown)
    assert "57.5% (95% CI 0.0–100.0%, 2 seeds)" in said
