"""The saved results of one plan: what summaries, figures and pages read.

A plan is the list of RunSpecs an experiment config expands to. `Results` looks them up
in the store and hands out tidy tables, each joined with the run's config columns, so a
figure can colour by `model` or facet by `batch_size` without another lookup.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from cnnexp.runspec import RunSpec
from cnnexp.store import Store

if TYPE_CHECKING:  # pandas loads when a table is first built: Home imports the experiments
    import pandas as pd  # (their titles and headline lines) without it

FINISHED = ("done", "diverged")  # outcomes of the config itself, served from the cache


@dataclass
class Results:
    specs: list[RunSpec]
    store: Store
    _tables: dict = field(default_factory=dict, repr=False)

    @cached_property
    def records(self) -> dict[str, dict]:
        return self.store.records(s.run_id for s in self.specs)

    @property
    def missing(self) -> list[RunSpec]:
        """Planned runs with no finished result (never run, failed or cancelled)."""
        return [
            s for s in self.specs if self.records.get(s.run_id, {}).get("status") not in FINISHED
        ]

    @property
    def complete(self) -> bool:
        return not self.missing

    @cached_property
    def runs(self) -> pd.DataFrame:
        """One row per finished planned run, in plan order, with `label` and config columns."""
        import pandas as pd

        rows = []
        for s in self.specs:
            r = self.records.get(s.run_id)
            if r is not None and r.get("status") in FINISHED:
                record = {k: v for k, v in r.items() if not k.startswith("_")}  # index bookkeeping
                rows.append({**s.config, **record, "label": s.label, "seed": s.seed})
        return pd.DataFrame(rows)

    def _joined(self, df: pd.DataFrame) -> pd.DataFrame:
        if df.empty or self.runs.empty:
            return df
        cols = [c for c in self.runs.columns if c not in df.columns or c == "run_id"]
        return df.merge(self.runs[cols], on="run_id", how="inner")

    def metrics(self) -> pd.DataFrame:
        """Tidy per-epoch metrics of the finished runs, with their config columns."""
        if "metrics" not in self._tables:
            ids = list(self.runs["run_id"]) if len(self.runs) else []
            self._tables["metrics"] = self._joined(self.store.metrics(ids))
        return self._tables["metrics"]

    def table(self, name: str) -> pd.DataFrame:
        """An experiment-specific table of the finished runs, with their config columns."""
        if name not in self._tables:
            ids = list(self.runs["run_id"]) if len(self.runs) else []
            self._tables[name] = self._joined(self.store.table(name, ids))
        return self._tables[name]

    def tidy(self, *tables: str) -> dict[str, pd.DataFrame]:
        """The data behind a page, for export: runs, per-epoch metrics and the named tables.
        The runs without the columns no run of theirs has (another experiment's settings, in
        the store's shared table), and whole-number columns as integers (4, not 4.0)."""
        configs = [s.config for s in self.specs]
        out = {"runs": own_columns(self.runs, configs), "metrics": self.metrics()}
        out.update({name: self.table(name) for name in tables})
        return out

    def saved_at(self) -> str | None:
        """When the newest planned run finished (ISO time), for 'cached, saved …' notes."""
        times = [r.get("ended_at") for r in self.records.values() if r.get("ended_at")]
        return max(times) if times else None


def own_columns(runs: pd.DataFrame, configs: Iterable[dict]) -> pd.DataFrame:
    """Runs as an export carries them: without the store's bookkeeping (`_file`, …) and the
    columns none of these runs has, and each setting the runs' own `configs` give as whole
    numbers as integers again (the shared table's NaN made them floats); a float setting
    stays a float even where its value is whole (weight decay 0.0, lr 1.0)."""
    runs = runs.drop(columns=[c for c in runs.columns if c.startswith("_")])
    runs = runs.dropna(axis=1, how="all")
    kinds: dict[str, set[type]] = {}
    for config in configs:
        for k, v in config.items():
            kinds.setdefault(k, set()).add(type(v))
    whole = {
        c: "Int64"
        for c, types in kinds.items()
        if types == {int} and c in runs and runs[c].dtype.kind == "f"
    }
    return runs.astype(whole)


@dataclass(frozen=True)
class Work:
    """What one run trains: the unit of the time estimate is flops × images × epochs."""

    flops: int  # forward FLOPs of one image through the run's real model
    images: int  # training images
    epochs: int
    model: str  # the family whose past speed is comparable (cnn, mlp, local)

    @property
    def units(self) -> float:
        return float(self.flops) * self.images * self.epochs


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
    from cnnexp import experiments

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

    from cnnexp import experiments

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
