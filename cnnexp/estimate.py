"""How long planned runs will take: each run's work, and seconds per unit of work from past runs.

A run's work is forward FLOPs of its real model × training images × epochs (`Work`, in
cnnexp/runspec.py beside the RunSpec it describes); the rate is the median seconds per unit of
comparable finished runs. The run panel asks for it before offering a launch.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING

from cnnexp import experiments
from cnnexp.results import FINISHED
from cnnexp.runspec import RunSpec, Work

if TYPE_CHECKING:
    import pandas as pd


def setup_work(config: dict) -> Work | None:
    """The Work of a run whose config holds a TrainSetup's model and dataset fields (the
    experiments built on engine.run_training); None for any other config."""
    from cnnexp import architecture, data
    from cnnexp.config import TrainSetup

    if not {"model", "dataset"} <= config.keys():
        return None
    try:
        setup = TrainSetup(**{k: v for k, v in config.items() if k in TrainSetup.model_fields})
    except Exception:
        return None
    images = setup.n_train or data.info(setup.dataset).n_train
    return Work(architecture.count_flops(setup.layers()), images, setup.epochs, setup.model)


def work_of(experiment: str, config: dict) -> Work | None:
    """A run's work: its experiment's own `work(config)` where it defines one (a model the
    blueprint cannot describe, generated data), else `setup_work`; None when neither can say."""
    own = getattr(experiments.REGISTRY.get(experiment), "work", None)
    return own(config) if own is not None else setup_work(config)


@functools.lru_cache(maxsize=4096)
def _work_json(experiment: str, config_json: str) -> Work | None:
    """work_of, remembered: a run's work follows from its settings alone, and the run panel
    asks for every planned and past run on each page view (building their models to count
    FLOPs was a third of a viewer's CPU on a page offering a launch)."""
    return work_of(experiment, json.loads(config_json))


def _past_flops(past: pd.DataFrame) -> pd.Series:
    """Forward FLOPs per image of each past run: as recorded, else, for runs of an
    experiment with its own `work` saved before they recorded it, from the saved config."""
    flops = past["flops"].astype(float) if "flops" in past else past["duration_s"] * float("nan")
    own = {n for n, m in experiments.REGISTRY.items() if hasattr(m, "work")}
    if "experiment" not in past or "config_json" not in past:
        return flops
    flops = flops.copy()
    for i in past.index[flops.isna() & past["experiment"].isin(own)]:
        w = _work_json(past.at[i, "experiment"], past.at[i, "config_json"])
        flops.at[i] = w.flops if w is not None else float("nan")
    return flops


def estimate_seconds(specs: list[RunSpec], past: pd.DataFrame) -> float | None:
    """Expected wall time of `specs`, from how fast comparable past runs went.

    The rate is seconds per unit of work (forward FLOPs of the run's real model × training
    images × epochs), the median over finished past runs, taken from the most alike that
    exist: the same experiment, model family and batch size (small batches cost more per
    image), then the same experiment and family, the same experiment, the same family and
    batch size elsewhere, the same family, any. None when a run's work cannot be told (see
    `work_of`) or nothing has run yet: a first run of its kind has no honest estimate.
    """
    need = {"status", "duration_s", "n_train_images", "epochs_run"}
    if past.empty or not need <= set(past.columns):
        return None
    flops = _past_flops(past)
    ok = past["status"].isin(FINISHED) & (past["epochs_run"] > 0) & (flops > 0)
    rate = past["duration_s"] / (flops * past["n_train_images"] * past["epochs_run"])
    ok &= rate.notna()
    past, rate = past[ok], rate[ok]
    total = 0.0
    for s in specs:
        work = _work_json(s.experiment, json.dumps(s.config, sort_keys=True))
        if work is None:
            return None
        pool = next((p for p in _pools(past, rate, s, work) if len(p)), None)
        if pool is None:
            return None
        total += float(pool.median()) * work.units
    return total


def _pools(past: pd.DataFrame, rate: pd.Series, spec: RunSpec, work: Work):
    """Rates of past runs from the most alike to any, in the order `estimate_seconds` takes."""
    every = rate.notna()  # all True (unusable rates were dropped): "any past run"
    experiment = past["experiment"] == spec.experiment if "experiment" in past else ~every
    family = past["model"] == work.model if "model" in past else ~every
    batch = past["batch_size"] == spec.config.get("batch_size") if "batch_size" in past else every
    here = experiment & family
    for mask in (here & batch, here, experiment, family & batch, family, every):
        yield rate[mask]
