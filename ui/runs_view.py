"""The Runs page's link state: every choice on the page lives in the URL and is read back
from it, checked against what is allowed here, with a warning naming what was ignored.

URL values are data: they are only compared with known names, never rendered as markup.
"""

from __future__ import annotations

import re

import streamlit as st

RUN_ID = re.compile(r"[0-9a-f]{16}")
MAX_LINKED = 500  # ids read from one link; more is not a link someone shares
RANGE = re.compile(r"(?P<col>[A-Za-z_][A-Za-z0-9_]*):(?P<lo>-?[0-9.eE+-]+):(?P<hi>-?[0-9.eE+-]+)")


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


def ranges(allowed: list[str], problems: list[str]) -> dict[str, tuple[float, float]]:
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
