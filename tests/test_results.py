"""cnnexp/results.py: a plan's saved results."""

from cnnexp import experiments
from cnnexp.config import parse
from cnnexp.results import Results
from cnnexp.runner import execute
from cnnexp.runspec import RunContext
from tests.conftest import TINY


def test_missing_and_complete_follow_the_store(store):
    mod = experiments.get("baseline")
    specs = mod.plan(parse(mod.Config, {**TINY, "seeds": 2}))
    assert [s.run_id for s in Results(specs, store).missing] == [s.run_id for s in specs]
    execute(specs[0], store, RunContext(device="cpu"))
    r = Results(specs, store)
    assert [s.run_id for s in r.missing] == [specs[1].run_id] and not r.complete
    assert len(r.runs) == 1 and "_file" not in r.runs.columns
    assert set(r.metrics()["width"]) == {4}  # joined with the run's settings


def test_exported_runs_carry_their_own_settings_as_written(store):
    """Found: a baseline export's runs.csv had every other experiment's empty columns
    (variant, max_shift, …) and its whole-number settings as 3.0, 4.0."""
    mod = experiments.get("baseline")
    specs = mod.plan(parse(mod.Config, {**TINY, "weight_decay": 0.0}))
    execute(specs[0], store, RunContext(device="cpu"))
    other = {"run_id": "e" * 16, "experiment": "equivariance", "seed": 0, "label": "mlp"}
    store.save({**other, "status": "done", "config": {"variant": "mlp", "max_shift": 6}}, [])
    assert store.runs()["kernel"].dtype == float  # the shared table: NaN for the other run
    runs = Results(specs, store).tidy()["runs"]
    assert "variant" not in runs and "max_shift" not in runs
    assert str(runs["kernel"].dtype) == "Int64" and runs["kernel"].iloc[0] == 3
    assert runs["lr"].dtype == float  # a fraction stays a fraction
    assert runs["weight_decay"].dtype == float  # and so does a float setting at 0.0
