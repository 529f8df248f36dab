"""Every registered experiment, automatically: its module has the parts the CLI and pages
use, its tiny settings plan unique runs, run end to end and summarise; bad input is refused
before any work."""

import hashlib

import pytest

from cnnexp import experiments
from cnnexp.config import describe, parse
from cnnexp.results import Results
from cnnexp.store import Store

NAMES = experiments.names()


@pytest.mark.parametrize("name", NAMES)
def test_module_has_the_experiment_interface(name):
    mod = experiments.get(name)
    for attr in (
        "NAME",
        "TITLE",
        "VERSION",
        "SUMMARY",
        "TINY",
        "Config",
        "plan",
        "execute",
        "summarize",
        "headline_text",
    ):
        assert hasattr(mod, attr), attr
    assert mod.NAME == name
    assert all(s.help for s in describe(mod.Config))


@pytest.mark.parametrize("name", NAMES)
def test_tiny_settings_run_end_to_end(name, tiny_saved):
    mod = experiments.get(name)
    cfg = parse(mod.Config, {**mod.TINY, "seeds": 2})
    specs = mod.plan(cfg)
    assert len({s.run_id for s in specs}) == len(specs)
    assert all(s.experiment == name and s.label for s in specs)
    # tiny_saved (tests/conftest.py) trains exactly this plan through runner.execute, once
    # for the test run: the records it saved are what execute returned.
    store = Store(tiny_saved(name))
    saved = store.records(s.run_id for s in specs)
    for spec in specs:
        assert saved[spec.run_id]["status"] == "done", saved[spec.run_id].get("error")
    results = Results(specs, store)
    assert results.complete
    headline = mod.summarize(cfg, results)
    assert headline and isinstance(mod.headline_text(headline), str)


# Run ids of each experiment's TINY plan, recorded once: (VERSION, number of runs, digest of
# the ids). A saved result is found by its id, so an id that moves silently orphans every saved
# run. When a change is meant to move them, bump the experiment's VERSION and re-pin here: the
# failure message prints the new row.
PINNED_RUN_IDS = {
    "baseline": (1, 1, "5235459595129745"),
    "scaling": (1, 18, "9491acf4a491c9a4"),
    "equivariance": (2, 12, "ae64cede3ad2f1d9"),
    "permuted": (2, 30, "c7b9aa0334d26186"),
    "normalization": (2, 27, "08188833aecc0d65"),
    "receptive_field": (1, 12, "26a551830d268ced"),
    "learned": (1, 18, "adce4d488a9d6a90"),
}


def _pin(mod) -> tuple[int, int, str]:
    ids = [s.run_id for s in mod.plan(parse(mod.Config, mod.TINY))]
    return mod.VERSION, len(ids), hashlib.sha256(" ".join(ids).encode()).hexdigest()[:16]


@pytest.mark.parametrize("name", NAMES)
def test_same_settings_same_run_ids(name):
    mod = experiments.get(name)
    assert name in PINNED_RUN_IDS, f"pin {name!r} in PINNED_RUN_IDS: {_pin(mod)}"
    now = _pin(mod)
    assert now == PINNED_RUN_IDS[name], (
        f"the run ids of {name}'s TINY plan changed: saved runs would no longer be found. "
        f"If that is meant, bump a version and re-pin deliberately: {name!r}: {now},"
    )
