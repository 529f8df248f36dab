"""Every registered experiment, automatically: its module has the parts the CLI and pages
use, its tiny settings plan unique runs, run end to end and summarise; bad input is refused
before any work."""

import pytest

from cnnexp import experiments
from cnnexp.config import describe, parse
from cnnexp.results import Results
from cnnexp.runner import execute
from cnnexp.runspec import RunContext

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
def test_tiny_settings_run_end_to_end(name, store):
    mod = experiments.get(name)
    cfg = parse(mod.Config, {**mod.TINY, "seeds": 2})
    specs = mod.plan(cfg)
    assert len({s.run_id for s in specs}) == len(specs)
    assert all(s.experiment == name and s.label for s in specs)
    for spec in specs:
        rec = execute(spec, store, RunContext(device="cpu"))
        assert rec["status"] == "done", rec.get("error")
    results = Results(specs, store)
    assert results.complete
    headline = mod.summarize(cfg, results)
    assert headline and isinstance(mod.headline_text(headline), str)


@pytest.mark.parametrize("name", NAMES)
def test_same_settings_same_run_ids(name):
    mod = experiments.get(name)
    a = [s.run_id for s in mod.plan(parse(mod.Config, mod.TINY))]
    b = [s.run_id for s in mod.plan(parse(mod.Config, dict(mod.TINY)))]
    assert a == b
