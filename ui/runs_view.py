"""The Runs page's view state, in one place: what the link asks for (read and checked once, at
the top of the page), the record the page's widgets settle on, and the link written back from
that record.

URL values are data: they are only compared with known names, never rendered as markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    import pandas as pd

RUN_ID = re.compile(r"[0-9a-f]{16}")
MAX_LINKED = 500  # ids read from one link; more is not a link someone shares
RANGE = re.compile(r"(?P<col>[A-Za-z_][A-Za-z0-9_]*):(?P<lo>-?[0-9.eE+-]+):(?P<hi>-?[0-9.eE+-]+)")
VIEWS = ("curves", "parallel coordinates", "x against y", "what matters", "run detail")

Ranges = dict[str, tuple[float, float]]


@dataclass(frozen=True)
class Filters:
    """Which runs the table keeps: by experiment, by status, by text in a run's label, id,
    settings, name, tags or note, and by tags (a run with any of them). Hashable: the page
    remembers what it computes per filter."""

    exps: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    text: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Grouping:
    """One row per configuration (runs that differ only in seed) or one per run."""

    on: bool = True
    by: tuple[str, ...] = ()
    default: tuple[str, ...] = ()  # what `by` is unless the visitor picks: not in the link


@dataclass(frozen=True)
class State:
    """Everything the Runs page shows, as the link carries it."""

    filters: Filters = Filters()
    ranges: Ranges = field(default_factory=dict)  # set ranges only; a full range is no filter
    grouping: Grouping = Grouping()
    selected: tuple[str, ...] = ()  # run ids
    view: str = VIEWS[0]


def read(
    runs: pd.DataFrame, settings: list[str], problems: list[str], tags: list[str] = ()
) -> State:
    """What the link asks for, checked against the saved `runs`, their `settings` (what rows
    may be grouped by) and `tags`; what cannot be used is named in `problems`. Ranges are
    checked where the filtered runs are known (`ranges`); an empty `by` means the page's
    default grouping. A tag is people's text: only ever compared with the runs' tags."""
    linked_view = one("view", [v.replace(" ", "-") for v in VIEWS], None, problems)
    return State(
        filters=Filters(
            tuple(choose("exp", sorted(runs["experiment"].unique()), problems)),
            tuple(choose("status", sorted(runs["status"].unique()), problems)),
            (values("q") or [""])[0],
            tuple(choose("tag", list(tags), problems)),
        ),
        grouping=Grouping(
            on=values("group") != ["off"], by=tuple(choose("by", settings, problems))
        ),
        selected=tuple(run_ids(set(runs["run_id"]), problems)),
        view=linked_view.replace("-", " ") if linked_view else VIEWS[0],
    )


# The link's values that belong to one view, which it reads (and checks exactly) when shown.
VIEW_PARAMS = ("series", "lines", "axes", "x", "y", "colour", "facet")


def drop_refused(allowed: dict[str, list[str]], problems: list[str]) -> None:
    """Check the link's values of every view's parameters against what is `allowed` for each
    whatever the filters, name the others in `problems` and take them out of the link now:
    a view not shown (or shown with nothing to draw) does not read its own, and would leave
    them there unsaid."""
    for name in VIEW_PARAMS:
        given = values(name)
        usable = choose(name, allowed[name], problems)
        if len(usable) < len(given):
            write({name: usable})


def link(state: State) -> dict[str, str | list[str] | None]:
    """The link of this state: the defaults leave it short."""
    g = state.grouping
    return {
        "exp": list(state.filters.exps),
        "status": list(state.filters.statuses),
        "q": state.filters.text,
        "tag": list(state.filters.tags),
        "group": None if g.on else "off",
        "by": list(g.by) if g.on and g.by != g.default else None,
        "range": [f"{c}:{lo:g}:{hi:g}" for c, (lo, hi) in state.ranges.items()],
        "runs": list(state.selected)[:MAX_LINKED],
        "view": None if state.view == VIEWS[0] else state.view.replace(" ", "-"),
    }


def values(name: str) -> list[str]:
    """Every comma-separated value of ?name=..., repeated or not, in order."""
    return [x for v in st.query_params.get_all(name) for x in v.split(",") if x]


def choose(name: str, allowed: list[str], problems: list[str]) -> list[str]:
    """The link's values for `name` that are allowed; the others are reported in problems."""
    got = values(name)
    bad = [x for x in got if x not in allowed]
    if bad:
        problems.append(
            f"{name}: {', '.join(map(repr, bad[:5]))} ignored; allowed: "
            f"{', '.join(allowed[:12])}{' …' if len(allowed) > 12 else ''}"
        )
    return [x for x in got if x in allowed]


def one(name: str, allowed: list[str], default: str | None, problems: list[str]) -> str | None:
    got = choose(name, allowed, problems)
    return got[0] if got else default


def ranges(allowed: list[str], problems: list[str]) -> Ranges:
    """?range=width:4:16 (repeatable): numeric ranges on the page's range filters."""
    out = {}
    for raw in values("range"):
        m = RANGE.fullmatch(raw)
        try:
            lo, hi = (float(m["lo"]), float(m["hi"])) if m else (None, None)
        except ValueError:
            lo = hi = None
        if m is None or lo is None or m["col"] not in allowed or lo > hi:
            problems.append(
                f"range: {raw!r} ignored; allowed: COLUMN:LOW:HIGH with LOW ≤ HIGH and "
                f"COLUMN one of {', '.join(allowed) or '(no numeric setting varies)'}"
            )
            continue
        out[m["col"]] = (lo, hi)
    return out


def run_ids(known: set[str], problems: list[str]) -> list[str]:
    """?runs=<id>,<id>: ids are checked against saved runs, never used as paths."""
    given = values("runs")
    linked = given[:MAX_LINKED]
    ok = [x for x in linked if RUN_ID.fullmatch(x) and x in known]
    if len(ok) < len(linked):
        problems.append(
            f"runs: {len(linked) - len(ok)} run id(s) are not saved runs here and were ignored"
        )
    if len(given) > MAX_LINKED:
        problems.append(f"runs: {len(given):,} given, the first {MAX_LINKED} read")
    return ok


def write(state: dict[str, str | list[str] | None]) -> None:
    """Put the page's state in the URL, touching only keys whose value changed."""
    for name, value in state.items():
        text = ",".join(value) if isinstance(value, list) else value
        if not text:
            if name in st.query_params:
                del st.query_params[name]
        elif st.query_params.get(name) != text:
            st.query_params[name] = text
