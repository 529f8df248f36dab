"""The saved plan nearest to a page's settings: where a page with nothing saved for its
settings, or a tab whose sweep has not run, links to.

Candidates are the plans shipped in the bundle (cnnexp/bundle.py SETTINGS) and the plan whose
headline was saved last (what Home shows); a candidate counts when every run of its plan is
saved here. Nearest: the fewest settings changed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from cnnexp import bundle
from cnnexp.config import Config
from cnnexp.results import Results
from cnnexp.store import Store


@dataclass(frozen=True)
class Saved:
    """A saved plan a page can link to: its settings, where they come from, and what differs
    from the page's (setting name → the saved plan's value)."""

    cfg: Config
    source: str  # "shipped" (the bundle's) or "saved" (the last headline saved here)
    changes: dict[str, Any]


def candidates(exp: ModuleType, store: Store) -> list[tuple[Config, str]]:
    """The bundle's plans of this experiment, then the one whose headline was saved last."""
    out = []
    for name, values in bundle.SETTINGS:
        if name == exp.NAME:
            out.append((exp.Config.model_validate(values), "shipped"))
    last = store.headlines().get(exp.NAME, {}).get("config")
    if isinstance(last, dict):
        # a headline of settings this version no longer accepts is no candidate
        with contextlib.suppress(ValueError):
            out.append((exp.Config.model_validate(last), "saved"))
    return out


def changes(cfg: Config, other: Config) -> dict[str, Any]:
    """The settings whose values differ between two configs of one experiment: other's."""
    mine, theirs = cfg.model_dump(), other.model_dump()
    return {k: v for k, v in theirs.items() if mine.get(k) != v}


def nearest(
    exp: ModuleType,
    cfg: Config,
    store: Store,
    where: Callable[[Config], bool] = lambda c: True,
) -> Saved | None:
    """The saved plan (`where` it qualifies) that differs from cfg in the fewest settings;
    None when none is saved here, or cfg's own plan is the nearest."""
    found = []
    for i, (c, source) in enumerate(candidates(exp, store)):
        if not where(c):
            continue
        diff = changes(cfg, c)
        if not diff:
            continue
        found.append((len(diff), i, Saved(c, source, diff)))
    for _, _, saved in sorted(found, key=lambda f: f[:2]):
        if Results(exp.plan(saved.cfg), store).complete:
            return saved
    return None


def link_values(cfg: Config, target: Config) -> dict[str, Any]:
    """The settings a link must carry to open `target` from a page showing `cfg`: every one
    that differs from cfg or from its default (a setting a link leaves out is read either
    from the visitor's widgets or as its default)."""
    default = type(target).model_construct().model_dump()
    mine, theirs = cfg.model_dump(), target.model_dump()
    return {k: v for k, v in theirs.items() if v != mine.get(k) or v != default.get(k)}


def said(values: dict[str, Any]) -> str:
    """Settings in the page's words: "depth 2, seeds 3"."""
    from cnnexp.run_labels import label

    def value(v: Any) -> str:
        if isinstance(v, (list, tuple)):
            return ", ".join(value(x) for x in v) or "none"
        return f"{v:g}" if isinstance(v, float) else str(v)

    return ", ".join(f"{label(k)} {value(v)}" for k, v in values.items())
