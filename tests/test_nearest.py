"""cnnexp/nearest.py: the saved plan a page with nothing saved for its settings links to.
Found (issue 25): Scaling at ?depth=3 showed "63 of 63 runs to train" and no chart, with
nothing to say that the shipped settings were one change away."""

from cnnexp import nearest
from cnnexp.config import parse
from cnnexp.experiments import baseline
from cnnexp.runner import execute
from cnnexp.runspec import RunContext
from cnnexp.store import Store
from tests.conftest import TINY


def _train(store: Store, values: dict) -> baseline.Config:
    cfg = parse(baseline.Config, values)
    for spec in baseline.plan(cfg):
        execute(spec, store, RunContext(device="cpu"))
    return cfg


def test_the_last_saved_plan_is_the_nearest_when_the_bundles_are_not_saved(store):
    done = _train(store, {**TINY, "seeds": 1})
    store.save_headline("baseline", done.model_dump(mode="json"), {"accuracy": 0.9})
    asked = parse(baseline.Config, {**TINY, "seeds": 1, "width": 8})  # nothing saved for it
    found = nearest.nearest(baseline, asked, store)
    assert found is not None and found.source == "saved"
    assert found.changes == {"width": 4}
    assert nearest.said(found.changes) == "width 4"  # in the page's words
    # the link carries what differs from the page and from the defaults: it opens `done`
    link = nearest.link_values(asked, found.cfg)
    assert parse(baseline.Config, link) == done


def test_nothing_saved_or_only_the_pages_own_plan_links_nowhere(store):
    asked = parse(baseline.Config, {**TINY, "seeds": 1})
    assert nearest.nearest(baseline, asked, store) is None  # nothing saved at all
    _train(store, {**TINY, "seeds": 1})
    store.save_headline("baseline", asked.model_dump(mode="json"), {"accuracy": 0.9})
    assert nearest.nearest(baseline, asked, store) is None  # its own plan: no link


def test_a_candidate_counts_only_when_its_whole_plan_is_saved(store):
    half = parse(baseline.Config, {**TINY, "seeds": 2})
    execute(baseline.plan(half)[0], store, RunContext(device="cpu"))  # one seed of two
    store.save_headline("baseline", half.model_dump(mode="json"), {"accuracy": 0.9})
    asked = parse(baseline.Config, {**TINY, "seeds": 2, "width": 8})
    assert nearest.nearest(baseline, asked, store) is None
