"""How long planned runs will take: each run's work, and what that work costs on this machine.

A run's work (`Work`, in cnnexp/runspec.py beside the RunSpec it describes) is its optimisation
steps and its passes over the test set. What a step and a pass cost for the run's model shape
and batch is measured once on this machine (cnnexp/timing.py) and remembered; a run's time is
steps × step + passes × pass, scaled by how past runs of its experiment here compared with
the same sum (what the steps leave out: data loading, an experiment's own measurements). A
plan adds worker start-up and shares its runs among the workers.

Where nothing is measured yet, the rate of comparable past runs per unit of work (forward
FLOPs × images × epochs) gives a rougher estimate (`estimate_seconds`), shown with a wider
range. The run panel, the preview of a launch, the progress bar and `python -m bench.estimates`
all read `plan_estimate`.
"""

from __future__ import annotations

import functools
import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from cnnexp import experiments
from cnnexp.results import FINISHED
from cnnexp.runspec import RunSpec, Work

if TYPE_CHECKING:
    import pandas as pd

# The engine's test passes per run at most (engine.MAX_EVALS; the engine imports torch, which
# a page estimating a plan must not wait for; tests/test_estimate.py holds them equal).
MAX_EVALS = 16
EVAL_BATCH = 1000  # images of the pass a StepCost times (engine.EVAL_BATCH)
# Ranges around an estimate, as (low, high) multiples. Measured steps with no past run of the
# experiment on this machine: what the steps leave out is not known yet (bench.estimates:
# ratios 0.8-1.2 on the quiet 2-core CPU). Past runs' rate per FLOP alone: families and
# sizes differ by 2-5x per FLOP, so wide.
MEASURED_SPAN = (0.8, 1.3)
CALIBRATED_SPAN = (0.9, 1.15)  # at least this wide, however alike the past runs were
PAST_RATE_SPAN = (0.5, 2.0)


# --- work --------------------------------------------------------------------------------
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
    info = data.info(setup.dataset)
    layers = setup.layers()
    return Work(
        architecture.count_flops(layers),
        setup.n_train or info.n_train,
        setup.epochs,
        setup.model,
        batch=setup.batch_size,
        params=architecture.count_params(layers),
        test_images=info.n_test,
        test_passes=min(setup.epochs, int(config.get("evals", MAX_EVALS))),
    )


def work_of(experiment: str, config: dict) -> Work | None:
    """A run's work: its experiment's own `work(config)` where it defines one (a model the
    blueprint cannot describe, generated data), else `setup_work`, plus the test passes the
    experiment makes after training (`extra_test_passes(config)`, where it defines one);
    None when neither can say."""
    mod = experiments.REGISTRY.get(experiment)
    own = getattr(mod, "work", None)
    work = own(config) if own is not None else setup_work(config)
    extra = getattr(mod, "extra_test_passes", None)
    if work is not None and extra is not None:
        work = replace(work, test_passes=work.test_passes + extra(config))
    return work


@functools.lru_cache(maxsize=4096)
def _work_json(experiment: str, config_json: str) -> Work | None:
    """work_of, remembered: a run's work follows from its settings alone, and the run panel
    asks for every planned and past run on each page view (building their models to count
    FLOPs was a third of a viewer's CPU on a page offering a launch)."""
    return work_of(experiment, json.loads(config_json))


def work_of_spec(spec: RunSpec) -> Work | None:
    return _work_json(spec.experiment, json.dumps(spec.config, sort_keys=True))


# --- the model of a run's time (pure) ------------------------------------------------------
@dataclass(frozen=True)
class StepCost:
    """What a model shape's work costs on one machine (measured by cnnexp.timing)."""

    step_s: float  # one optimisation step at the run's batch size
    eval_s: float  # one forward pass over EVAL_BATCH test images


def run_seconds(work: Work, cost: StepCost) -> float:
    """A run's time from its work: steps × a step + its test passes × a pass."""
    passes = work.test_passes * work.test_images / EVAL_BATCH
    return work.steps * cost.step_s + passes * cost.eval_s


@dataclass(frozen=True)
class Span:
    """An estimate in seconds: the best guess and a range around it."""

    seconds: float
    low: float
    high: float

    def __add__(self, other: Span) -> Span:
        return Span(self.seconds + other.seconds, self.low + other.low, self.high + other.high)

    def scaled(self, k: float) -> Span:
        return Span(self.seconds * k, self.low * k, self.high * k)


def span(seconds: float, band: tuple[float, float]) -> Span:
    return Span(seconds, seconds * band[0], seconds * band[1])


def calibration(ratios: list[float]) -> tuple[float, tuple[float, float]]:
    """From past runs' actual / predicted times: the factor to apply and the range around the
    result. No past run: 1 and MEASURED_SPAN. Otherwise the median, and the spread of the
    ratios around it, at least CALIBRATED_SPAN."""
    ratios = [r for r in ratios if r > 0]
    if not ratios:
        return 1.0, MEASURED_SPAN
    k = statistics.median(ratios)
    low = min(CALIBRATED_SPAN[0], min(ratios) / k)
    high = max(CALIBRATED_SPAN[1], max(ratios) / k)
    return k, (low, high)


def plan_seconds(runs: list[Span], workers: int, startup: float) -> Span:
    """A plan's wall time: its runs shared among `workers` (none shorter than its longest
    run), after `startup` seconds of starting the workers (0 when they are already up)."""
    workers = max(1, workers)

    def share(values: list[float]) -> float:
        return max(max(values, default=0.0), sum(values) / workers) + startup

    return Span(
        share([r.seconds for r in runs]),
        share([r.low for r in runs]),
        share([r.high for r in runs]),
    )


def done_fraction(runs: list[tuple[Span, float]]) -> float:
    """How much of a plan's work is done: each run's estimated seconds weighted by the part
    of it done (0 to 1), so that a run of 50 tiny epochs counts for what it costs."""
    total = sum(s.seconds for s, _ in runs)
    if total <= 0:
        return sum(f for _, f in runs) / max(1, len(runs))
    return sum(s.seconds * min(1.0, max(0.0, f)) for s, f in runs) / total


def seconds_left(runs: list[tuple[Span, float]], workers: int) -> float:
    """The estimated seconds of work still to do, shared among the workers."""
    left = [s.seconds * (1 - min(1.0, max(0.0, f))) for s, f in runs]
    return max(max(left, default=0.0), sum(left) / max(1, workers))


# --- a plan's estimate -----------------------------------------------------------------------
@dataclass(frozen=True)
class PlanEstimate:
    """Each run's estimate (by run id; a run whose work cannot be told has none) and the
    plan's wall time; `measured`: every run's step cost was measured here; `unmeasured`: the
    runs whose model shape has not been timed yet (cnnexp.timing can measure them)."""

    runs: dict[str, Span]
    total: Span | None
    measured: bool
    unmeasured: list[RunSpec]


Lookup = Callable[[RunSpec], "StepCost | None"]


def plan_estimate(
    specs: list[RunSpec],
    past: pd.DataFrame,
    cost_of: Lookup,
    device: str = "cpu",
    workers: int = 1,
    startup: float = 0.0,
) -> PlanEstimate:
    """The estimate of `specs` on this machine. cost_of(spec): the measured StepCost of the
    spec's model shape (cnnexp.timing.Timings.cost), None where not measured; device: the
    kind of device they were measured on (cpu, cuda, mps). past: the store's runs, for the
    calibration and for the rough estimate of unmeasured runs."""
    ratios = _past_ratios(past, cost_of, device, {s.experiment for s in specs})
    runs: dict[str, Span] = {}
    unmeasured = []
    for s in specs:
        work, cost = work_of_spec(s), cost_of(s)
        if work is None:
            continue
        if cost is None or work.steps == 0:
            unmeasured.append(s)
            rough = estimate_seconds([s], past)
            if rough is not None:
                runs[s.run_id] = span(rough, PAST_RATE_SPAN)
            continue
        k, band = calibration(ratios.get(s.experiment, []))
        runs[s.run_id] = span(k * run_seconds(work, cost), band)
    total = None
    if specs and len(runs) == len(specs):
        total = plan_seconds([runs[s.run_id] for s in specs], workers, startup)
    return PlanEstimate(runs, total, not unmeasured, unmeasured)


def _past_ratios(
    past: pd.DataFrame, cost_of: Lookup, device: str, names: set[str]
) -> dict[str, list[float]]:
    """Actual / predicted time of past finished runs of these experiments on this kind of
    device whose model shape is measured, by experiment (the most recent 50 of each)."""
    from cnnexp.runspec import spec_of_record

    need = {"experiment", "status", "duration_s", "config_json", "version", "seed"}
    if past.empty or not need <= set(past.columns):
        return {}
    mine = past[past["experiment"].isin(names) & past["status"].isin(FINISHED)]
    if "device" in mine:  # a GPU's runs say nothing about the CPU's speed, and back
        mine = mine[mine["device"].astype(str).str.split(":").str[0] == device]
    if "ended_at" in mine:
        mine = mine.sort_values("ended_at")
    out: dict[str, list[float]] = {}
    for name, rows in mine.groupby("experiment"):
        for rec in rows.tail(50).to_dict("records"):
            spec = spec_of_record(rec)
            work, cost = work_of_spec(spec), cost_of(spec)
            if work is None or cost is None or not work.steps:
                continue
            predicted = run_seconds(work, cost)
            epochs = rec.get("epochs_run") or work.epochs
            if predicted > 0 and rec["duration_s"] > 0 and epochs == work.epochs:
                out.setdefault(str(name), []).append(float(rec["duration_s"]) / predicted)
    return out


# --- the rough estimate: past runs' rate per unit of work ------------------------------------
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
    """Expected wall time of `specs`, from how fast comparable past runs went: the rough
    estimate, for runs whose step cost is not measured yet.

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
        work = work_of_spec(s)
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
