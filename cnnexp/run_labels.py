"""The words the experiment pages use for runs' settings, for the Runs page that shows them
all: each setting's label (from its `config.param`), the values an experiment names in words
(permuted's tile side 1 is "original", 0 "permuted"), the number of images behind "all"
(n_train 0), which settings read on a log scale, and a run's name made of what tells it apart
from the runs beside it.

Pure functions over the store's runs table; the store keeps the settings exactly as set.
"""

from __future__ import annotations

import functools
import math

import pandas as pd

from cnnexp import analysis, data, experiments
from cnnexp.config import ParamSpec, TrainSetup, describe
from cnnexp.experiments import permuted

# Where a setting's page word is not its config label: the column holds a word a label names
# better (block holds original / permuted / tiles of b), or it is a result, not a setting.
OWN_WORDS = {
    "experiment": "experiment",
    "block": "pixels",
    "evals": "test passes",
    "test_acc": "test accuracy",
    "duration_s": "duration (s)",
    "seed": "seed",
}
NAME = "name"  # a run's own name, where it has one (a sidecar beside the run: issue 25)


@functools.cache
def _specs() -> dict[str, ParamSpec]:
    """Each setting as its page declares it: the training setup's first (every experiment
    trains one), then each experiment's own settings."""
    out: dict[str, ParamSpec] = {}
    for cls in (TrainSetup, *(m.Config for m in experiments.REGISTRY.values())):
        for spec in describe(cls):
            out.setdefault(spec.name, spec)
    return out


@functools.cache
def labels() -> dict[str, str]:
    """Each setting's label, as its page's widget shows it."""
    return {**{k: _in_text(s.label) for k, s in _specs().items()}, **OWN_WORDS}


def declared_log(column: str) -> bool:
    """Whether the setting's config.param says it is best shown on a log scale."""
    spec = _specs().get(column)
    return bool(spec and spec.log)


def label(column: str) -> str:
    """A column's name in the pages' words; a column no page names keeps its own."""
    return labels().get(column, column)


def _in_text(label: str) -> str:
    """A widget's label as it reads inside a sentence or a legend: "Learning rate" is
    "learning rate", but "MLP width" and "GroupNorm groups" keep their capitals."""
    first = label.split(" ")[0]
    return label if first[1:] != first[1:].lower() else label[:1].lower() + label[1:]


def in_words(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs table as the pages speak of it: the permuted experiment's tile side as the
    condition it makes, and n_train 0 ("all images") as the training images of the run's
    dataset, so that a chart or a correlation over it reads the real number, not 0."""
    out = runs
    dataset = runs["dataset"] if "dataset" in runs else pd.Series(None, index=runs.index)
    if "block" in runs:
        rows = zip(runs["experiment"], dataset, runs["block"], strict=True)
        out = out.assign(block=[_condition(*r) for r in rows])
    if "n_train" in runs:
        out = out.assign(n_train=[_images(*r) for r in zip(runs["n_train"], dataset, strict=True)])
    return out


def _condition(experiment: str, dataset: object, block: object) -> object:
    if experiment != permuted.NAME or _missing(block):
        return block
    try:
        return permuted.condition(str(dataset), int(block))
    except data.DataError:  # a dataset this version does not know: the number as saved
        return block


def _images(n_train: object, dataset: object) -> object:
    if _missing(n_train) or n_train != 0 or dataset not in data.DATASETS:
        return n_train
    return data.info(str(dataset)).n_train


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


# Settings whose values name themselves ("mlp", "original"); others read with their label.
SELF_NAMED = ("model", "variant", "block", "stack", "dataset")


def names(runs: pd.DataFrame, settings: list[str], seed: bool = True) -> pd.Series:
    """Each run's name among these runs, by run id: its own name where it has one, its
    experiment, its values of the settings that vary among that experiment's runs here, in
    words, and (with `seed`) its seed: "permuted · mlp · pixels permuted · training images
    100 · seed 1". Without the seed, the seeds of one configuration share a name; with it,
    runs that only their version tells apart get the start of their id too."""
    text = pd.Series("", index=runs.index, dtype=object)
    for experiment, sub in runs.groupby("experiment", sort=False):
        own = sub.dropna(axis=1, how="all")  # another experiment's settings, in a shared table
        parts = [pd.Series(str(experiment), index=sub.index)]
        varies = analysis.varying(own, [s for s in settings if s != "experiment"])
        for c in sorted(varies, key=_first_self_named):  # sorted is stable
            parts.append(_worded(c, sub[c]))
        if seed and "seed" in sub:
            parts.append("seed " + sub["seed"].astype("Int64").astype(str))
        if NAME in sub:
            parts.insert(0, sub[NAME].where(sub[NAME].astype(str).str.strip() != ""))
        rows = zip(*parts, strict=True)
        text[sub.index] = [" · ".join(p for p in row if isinstance(p, str)) for row in rows]
    if seed:
        twice = text.duplicated(keep=False)
        text[twice] = text[twice] + " · " + runs.loc[twice, "run_id"].str[:6]
    return pd.Series(text.to_numpy(), index=runs["run_id"].to_numpy())


def _first_self_named(column: str) -> int:
    return SELF_NAMED.index(column) if column in SELF_NAMED else len(SELF_NAMED)


def _worded(column: str, values: pd.Series) -> pd.Series:
    """A setting's values as they read in a run's name (missing: nothing)."""

    def one(v: object) -> str | None:
        if _missing(v):
            return None
        if isinstance(v, bool):
            return f"{label(column)} {'on' if v else 'off'}"
        if isinstance(v, float) and v.is_integer():
            v = int(v)  # a shared column's NaN made a whole setting a float
        if isinstance(v, int):
            return f"{label(column)} {v:,}"
        if isinstance(v, float):
            return f"{label(column)} {v:g}"
        return str(v) if column in SELF_NAMED else f"{label(column)} {v}"

    return values.map(one, na_action="ignore")
