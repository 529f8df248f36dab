"""Baseline: train one model family on one dataset and report its test accuracy.

The end-to-end proof of the engine, and the template the other experiments follow.
"""

from __future__ import annotations

from typing import TypedDict

from cnnexp import catalog, stats
from cnnexp.architecture import count_params
from cnnexp.config import SeedFields, TrainSetup, param, setup_fields
from cnnexp.results import Results
from cnnexp.runspec import RunContext, RunOutput, RunSpec

NAME = "baseline"
TITLE, SUMMARY, headline_text = catalog.identity(NAME)  # cnnexp/catalog.py: Home reads it
VERSION = 1
TINY = {"dataset": "digits", "epochs": 1, "width": 4, "seeds": 1}  # for fast tests and smoke runs


class Config(SeedFields, TrainSetup):
    """One model, one dataset, several seeds."""

    # Three, as on every comparison page (config.ExperimentFields): the page's accuracy then
    # comes with an interval, and its defaults are the bundled runs README quotes.
    seeds: int = param(
        3,
        "How many seeds to run (each: new weights, data order and subset)",
        ge=1,
        le=100,
        group="Seeds",
        label="Seeds",
    )


def plan(cfg: Config) -> list[RunSpec]:
    setup = TrainSetup(**setup_fields(cfg)).normalized()
    label = f"{setup.model} · {setup.dataset}"
    return [RunSpec(NAME, VERSION, setup.canonical(), seed, label) for seed in cfg.seed_list()]


def execute(spec: RunSpec, ctx: RunContext) -> RunOutput:
    from cnnexp import engine  # torch: imported where the work happens

    _, _, out = engine.run_training(TrainSetup.model_validate(spec.config), spec.seed, ctx)
    return out


class Seconds(TypedDict):
    mean: float | None  # training time per run, over seeds (None: no finished run)


class Headline(TypedDict):
    """What one model on one dataset reached (cnnexp/catalog.py, readme.py and the page read it)."""

    model: str
    dataset: str
    params: int
    test_acc: stats.CI
    train_seconds: Seconds


def summarize(cfg: Config, results: Results) -> Headline:
    runs = results.runs
    setup = TrainSetup(**setup_fields(cfg))
    return {
        "model": setup.model,
        "dataset": setup.dataset,
        "params": count_params(setup.layers()),
        "test_acc": stats.share_ci(runs["test_acc"] if len(runs) else []),
        "train_seconds": {"mean": float(runs["train_seconds"].mean()) if len(runs) else None},
    }


def charts(cfg: Config, results: Results) -> dict:
    """The page's charts, by name (also what `python -m cnnexp export` writes)."""
    from cnnexp import figures  # plotly: only when drawing

    if results.runs.empty:
        return {}
    m = results.metrics()
    return {
        "accuracy": figures.curves(m, "acc", title="Accuracy per epoch"),
        "loss": figures.curves(m, "loss", title="Cross-entropy loss per epoch"),
    }


def tables(cfg: Config, results: Results) -> dict:
    return results.tidy()
