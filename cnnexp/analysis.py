"""Comparing saved runs: group over seeds, find the settings that vary, rank what matters.

Pure pandas and scikit-learn over the store's runs table (one row per run, the settings as
columns and as `config_json`); the Runs page is a thin view over these functions.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import numpy as np
import pandas as pd

SEED_COLUMNS = ("seed", "seeds")  # what "group over seeds" leaves out of the grouping
TARGET = "test_acc"


class Bounds(NamedTuple):
    """A numeric setting's lowest and highest value, and whether all its values are whole."""

    lo: float
    hi: float
    whole: bool


def filtered(
    runs: pd.DataFrame, exps: tuple[str, ...], statuses: tuple[str, ...], text: str
) -> pd.DataFrame:
    """The runs of these experiments and statuses (none given: all) whose label, run id,
    settings, or name, tags and note (cnnexp/run_notes.py) contain `text` (any case), newest
    first."""
    view = runs
    if exps:
        view = view[view["experiment"].isin(exps)]
    if statuses:
        view = view[view["status"].isin(statuses)]
    if text:
        hay = view["label"].astype(str) + " " + view["run_id"] + " " + view["config_json"]
        for c in ("name", "tags", "note"):  # what people call a run, where some run has it
            if c in view:
                hay = hay + " " + view[c].fillna("").astype(str)
        view = view[hay.str.contains(text, case=False, regex=False)]
    if "ended_at" not in view:  # records written by hand or by other tools may lack it
        return view.reset_index(drop=True)
    return view.sort_values("ended_at", ascending=False).reset_index(drop=True)


def bounds(col: pd.Series) -> Bounds:
    """The bounds of a numeric setting's values (text of numbers counts, other text not)."""
    col = pd.to_numeric(col, errors="coerce").dropna()
    whole = bool((col == col.round()).all())  # integer settings slide in whole steps
    lo, hi = float(col.min()), float(col.max())
    return Bounds(int(lo), int(hi), whole) if whole else Bounds(lo, hi, whole)


def as_shown(rows: pd.DataFrame, fractions: tuple[str, ...], shown: list[str]) -> pd.DataFrame:
    """A table as shown: these columns, in this order, fractions as percentages."""
    table = rows[[c for c in dict.fromkeys(shown) if c in rows.columns]]
    return table.assign(**{c: table[c] * 100 for c in fractions if c in table})


def settings(runs: pd.DataFrame) -> list[str]:
    """The experiment and every setting key any run has, in first-seen order, seeds excluded."""
    keys: dict[str, None] = {"experiment": None} if "experiment" in runs else {}
    for text in runs["config_json"].drop_duplicates() if "config_json" in runs else ():
        keys.update(dict.fromkeys(json.loads(text)))
    return [k for k in keys if k in runs and k not in SEED_COLUMNS]


def varying(runs: pd.DataFrame, columns: list[str]) -> list[str]:
    """The columns that take more than one value among these runs (missing counts as a value)."""
    return [c for c in columns if c in runs and as_key(runs[c]).nunique() > 1]


def most_varied(runs: pd.DataFrame, columns: list[str], k: int) -> list[str]:
    """The k columns with the most distinct values among these runs (ties: the earlier
    column), in their given order."""
    counts = {c: as_key(runs[c]).nunique() if c in runs else 0 for c in columns}
    ranked = sorted(columns, key=lambda c: -counts[c])  # sorted is stable: ties keep order
    keep = set(ranked[:k])
    return [c for c in columns if c in keep]


def numeric(runs: pd.DataFrame, columns: list[str]) -> list[str]:
    """The columns holding at least one number (or numeric text). Text columns are tested on
    their distinct values: parsing all 10,000 runs' text cost 0.07 s a column."""
    out = []
    for c in columns:
        col = runs[c] if c in runs else pd.Series(dtype=float)
        if not pd.api.types.is_numeric_dtype(col):
            col = pd.to_numeric(pd.Series(col.dropna().astype(str).unique()), errors="coerce")
        if col.notna().any():
            out.append(c)
    return out


def as_key(col: pd.Series) -> pd.Series:
    """A hashable, comparable stand-in for a column (lists and None become text). Vectorised:
    a Python function per value cost the Runs page 0.1 s a rerun with 10,000 runs."""
    return col.astype(str).mask(col.isna().to_numpy(), "—")


def group(runs: pd.DataFrame, by: list[str], value: str = TARGET) -> pd.DataFrame:
    """One row per distinct `by` combination: n (the runs with a `value`: a failed or
    running one is not a seed of the mean), mean `value` with its 95% t-interval (as
    cnnexp.stats.mean_ci: none for one finished run), mean duration and every run's id.
    With no `by`, every run is its own group. Vectorised: 10,000 runs take milliseconds."""
    cols = [*by, "n", "mean", "lo", "hi", "duration_s", "run_ids"]
    if runs.empty:
        return pd.DataFrame(columns=cols)
    missing = pd.Series(np.nan, index=runs.index)  # a store with no such column: no values
    vals = pd.to_numeric(runs[value], errors="coerce") if value in runs else missing
    dur = runs.get("duration_s", missing)
    if not by:  # one run per row: no grouping needed (a groupby of 10,000 groups takes 0.3 s)
        return (
            pd.DataFrame({"n": vals.notna().astype(int), "mean": vals, "lo": np.nan, "hi": np.nan})
            .assign(duration_s=dur)
            .assign(run_ids=[[r] for r in runs["run_id"]])[cols]
            .reset_index(drop=True)
        )
    keys = [as_key(runs[c]).rename(c) for c in by]
    frame = pd.DataFrame(
        {"v": vals, "d": dur, "run_id": runs["run_id"], "at": runs.index}, index=runs.index
    )
    g = frame.groupby(keys, sort=True, dropna=False)
    out = pd.DataFrame(
        {
            "k": g["v"].count(),
            "mean": g["v"].mean(),
            "sd": g["v"].std(ddof=1),
            "duration_s": g["d"].mean(),
            "run_ids": g["run_id"].agg(list),
            "first": g["at"].first(),
        }
    )
    half = pd.Series(np.nan, index=out.index)
    many = out["k"] > 1
    if many.any():
        from scipy.special import stdtrit  # as in cnnexp.stats: only when an interval is due

        k = out.loc[many, "k"]
        half[many] = stdtrit(k - 1, 0.975) * out.loc[many, "sd"] / np.sqrt(k)
    out["lo"], out["hi"] = out["mean"] - half, out["mean"] + half
    out["n"] = out["k"]
    if value.endswith("acc"):  # as the figures do: an accuracy's interval stops at 0 and 100%
        out["lo"], out["hi"] = out["lo"].clip(lower=0.0), out["hi"].clip(upper=1.0)
    first = runs.loc[out["first"], by].reset_index(drop=True)  # the settings' own values
    table = pd.concat([first, out.reset_index(drop=True)], axis=1)[cols]
    # Rows in each setting's own order (epochs 8, 31, 100, not "100", "31", "8" as text).
    rank = {c: {v: i for i, v in enumerate(levels(runs[c]))} for c in by}
    order = table.sort_values(by, key=lambda s: as_key(s).map(rank[s.name]), kind="stable")
    return order.reset_index(drop=True)


def encode(runs: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Each setting as a number: numeric settings as they are, others as their sorted rank."""
    out = {}
    for c in columns:
        num = pd.to_numeric(runs[c], errors="coerce")
        if num.notna().all():
            out[c] = num.astype(float)
        else:
            key = as_key(runs[c])
            out[c] = key.map({v: i for i, v in enumerate(levels(runs[c]))}).astype(float)
    return pd.DataFrame(out, index=runs.index)


def levels(col: pd.Series) -> list[str]:
    """A text setting's distinct values in axis order: missing first, then numbers by value
    (9 before 16, which as text it would not be), then other text alphabetically."""

    def order(v: str) -> tuple:
        if v == "—":
            return (0, 0.0, "")
        try:
            number = float(v)
        except ValueError:
            number = float("nan")
        return (1, number, "") if number == number else (2, 0.0, v)  # "nan" text is text

    return sorted(as_key(col).unique(), key=order)


def importance(
    runs: pd.DataFrame, columns: list[str], target: str = TARGET, seed: int = 0
) -> pd.DataFrame:
    """How much each setting explains `target`: permutation importance of a random forest
    (the drop in R² when the setting's values are shuffled, mean and spread over 10 shuffles)
    beside the Spearman rank correlation. Sorted by importance, most first."""
    from sklearn.ensemble import RandomForestRegressor  # 0.5 s to import: only when asked
    from sklearn.inspection import permutation_importance

    done = runs[runs[target].notna()] if target in runs else runs.iloc[:0]
    cols = varying(done, columns)
    if len(done) < 4 or not cols:
        return pd.DataFrame(columns=["setting", "importance", "spread", "spearman"])
    x, y = encode(done, cols), done[target].astype(float)
    model = RandomForestRegressor(n_estimators=100, min_samples_leaf=2, random_state=seed)
    model.fit(x.to_numpy(), y.to_numpy())
    perm = permutation_importance(
        model, x.to_numpy(), y.to_numpy(), n_repeats=10, random_state=seed
    )
    # Spearman = Pearson on ranks; computed here so it needs no scipy at page load. Only for
    # settings with an order: a named one (a model) is encoded alphabetically, and the sign of
    # a correlation with the alphabet means nothing.
    ry = y.rank()
    ordered = [pd.to_numeric(done[c], errors="coerce").notna().all() for c in cols]
    rho = [
        float(x[c].rank().corr(ry)) if o and x[c].nunique() > 1 else np.nan
        for c, o in zip(cols, ordered, strict=True)
    ]
    out = pd.DataFrame(
        {
            "setting": cols,
            "importance": perm.importances_mean,
            "spread": perm.importances_std,
            "spearman": rho,
        }
    )
    return out.sort_values("importance", ascending=False, ignore_index=True)


def downsample(df: pd.DataFrame, limit: int, seed: int = 0) -> tuple[pd.DataFrame, int]:
    """At most `limit` rows, drawn evenly at random (same draw for the same input), and the
    number there were."""
    n = len(df)
    return (df if n <= limit else df.sample(limit, random_state=seed).sort_index()), n


def in_ranges(runs: pd.DataFrame, ranges: dict[str, tuple[float, float]]) -> pd.Series:
    """Which runs fall inside every [lo, hi] range given by column (missing values do not)."""
    keep = pd.Series(True, index=runs.index)
    for c, (lo, hi) in ranges.items():
        if c in runs:
            num = pd.to_numeric(runs[c], errors="coerce")
            keep &= num.between(lo, hi)
    return keep
