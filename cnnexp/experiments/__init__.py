"""Experiments, one module each, registered by name.

Every experiment module provides:
    NAME, TITLE, VERSION, SUMMARY   identity, page title, result version, one-line purpose
    Config                          a config.Config subclass: the page's settings, the CLI's flags
    plan(cfg) -> list[RunSpec]      the runs the settings expand to (none for instant modes)
    execute(spec, ctx) -> RunOutput the work of one run (imports torch inside, so that
                                    pages showing saved results never pay for it)
    Headline                        the headline's shape: a TypedDict (plain JSON when saved),
                                    declared above summarize; bump catalog's headline_version
                                    when it changes
    summarize(cfg, results) -> Headline  the headline figures, shared by the CLI's --json, the
                                    page and the tests
    headline_text(h) -> str         a headline in one line (Home, the README)

TITLE, SUMMARY and headline_text are the experiment's entry in cnnexp/catalog.py, which Home and
the navigation read without importing these modules.

Bump VERSION when a change alters the numbers a run produces: old results then stop being
served as cached.
"""

from __future__ import annotations

from types import ModuleType

from cnnexp.config import ConfigError
from cnnexp.experiments import (
    baseline,
    equivariance,
    learned,
    normalization,
    permuted,
    receptive_field,
    scaling,
)

REGISTRY: dict[str, ModuleType] = {
    m.NAME: m
    for m in (scaling, equivariance, permuted, normalization, receptive_field, learned, baseline)
}


def get(name: str) -> ModuleType:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown experiment '{name}'; known: {', '.join(REGISTRY)}") from None


def names() -> list[str]:
    return list(REGISTRY)
