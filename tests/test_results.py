"""cnnexp/results.py: a plan's saved results, and the time estimate for what is missing."""

import pandas as pd

from cnnexp import experiments
from cnnexp.config import parse
from cnnexp.results import Results, estimate_seconds
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


def test_estimate_scales_with_work_and_prefers_the_same_batch_size():
    mod = experiments.get("baseline")
    spec = mod.plan(parse(mod.Config, {"epochs": 4, "batch_size": 8}))[0]
    assert estimate_seconds([spec], pd.DataFrame()) is None  # nothing comparable: no guess
    work = spec.config["epochs"] * 4000 * 2063488  # epochs × images × forward FLOPs
    past = pd.DataFrame(
        [
            {
                "status": "done",
                "model": "cnn",
                "batch_size": 64,
                "duration_s": 10.0,
                "flops": 2063488,
                "n_train_images": 4000,
                "epochs_run": 8,
            },
            {
                "status": "done",
                "model": "cnn",
                "batch_size": 8,
                "duration_s": 40.0,
                "flops": 2063488,
                "n_train_images": 4000,
                "epochs_run": 8,
            },
        ]
    )
    assert estimate_seconds([spec], past) == 40.0 / 8 * 4 == 40.0 * work / (8 * 4000 * 2063488)
    assert estimate_seconds([spec, spec], past) == 2 * estimate_seconds([spec], past)
