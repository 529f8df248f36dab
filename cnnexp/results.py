"""The saved results of one plan: what summaries, figures and pages read.

A plan is the list of RunSpecs an experiment config expands to. `Results` looks them up
in the store and hands out tidy tables, each joined with the run's config columns, so a
figure can colour by `model` or facet by `batch_size` without another lookup.
"""

from __future__ import annotations

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
