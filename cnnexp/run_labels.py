"""The words the experiment pages use for runs' settings, for the Runs page that shows them
all: each setting's label (from its `config.param`), the values an experiment names in words
(permuted's tile side 1 is "original", 0 "permuted"), the number of images behind "all"
(n_train 0), and a run's name made of what tells it apart from the runs beside it.

Pure functions over the store's runs table; the store keeps the settings exactly as set.
"""

from __future__ import annotations

import functools
import math

import pandas as pd

from cnnexp import data, experiments
from cnnexp.config import TrainSetup, describe
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
def labels() -> dict[str, str]:
    """Each setting's label, as its page's widget shows it: the training setup's first (every
    experiment trains one), then each experiment's own settings."""
    out: dict[str, str] = {}
    for cls in (TrainSetup, *(m.Config for m in experiments.REGISTRY.values())):
        for spec in describe(cls):
            out.setdefault(spec.name, _in_text(spec.label))
    return {**out, **OWN_WORDS}


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
