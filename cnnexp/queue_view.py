"""The queue as a visitor sees it: the runs queued and running, in the order they will train,
with what tells each apart, when each may start, and only what the visitor may see of who
launched it (cnnexp.policy.queue_visibility).

Pure but for `queue_rows`, which reads the durable queue (cnnexp/runqueue.py's SQLite table)
without writing to it: a viewer's page must not create or lock the queue of a read-only
results folder. The queue page (pages/queue.py) and `python -m cnnexp queue` show the same rows.
"""

from __future__ import annotations

import functools
import heapq
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cnnexp import experiments, policy
from cnnexp.run_labels import label
from cnnexp.runqueue import FILENAME, spec_from_json
from cnnexp.runspec import RunSpec

MAX_SETTINGS = 4  # settings named per run: past a few, a row no longer reads at a glance


@dataclass(frozen=True)
class Waiting:
    """One queued or running run."""

    spec: RunSpec
    status: str  # queued or running
    owner: str  # policy.identity of who launched it ("cli": the command line)
    submitted: float  # time.time() when it was queued
    epoch: int = 0  # epochs finished (a running run; 0 where the runner has not said)

    @property
    def run_id(self) -> str:
        return self.spec.run_id


def queue_rows(root: str | Path) -> list[dict]:
    """The durable queue's rows, oldest first, read only (no queue yet: none). Raises
    sqlite3.Error where the file cannot be read."""
    path = Path(root) / FILENAME
    if not path.exists():
        return []
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    db.row_factory = sqlite3.Row
    try:
        rows = db.execute("SELECT * FROM runs ORDER BY submitted, rowid").fetchall()
    finally:
        db.close()
    return [dict(r) for r in rows]


def waiting(rows: list[Mapping], epochs_done: Mapping[str, int] | None = None) -> list[Waiting]:
    """The queue's rows in the order they train: running first (longest running first), then
    queued, a run to be retried alone first (the queue gives it to the next idle worker), then
    by when each was queued. `epochs_done`: each running run's finished epochs, as the runner's
    snapshot has them."""
    epochs_done = epochs_done or {}
    out = [
        Waiting(
            spec_from_json(r["spec"]),
            r["status"],
            r.get("owner") or "",
            float(r["submitted"]),
            epochs_done.get(r["run_id"], 0),
        )
        for r in rows
    ]
    rank = {r["run_id"]: (r.get("started") or 0.0, -(r.get("alone") or 0)) for r in rows}
    return sorted(
        out,
        key=lambda w: (
            w.status != "running",
            rank[w.run_id][0] if w.status == "running" else rank[w.run_id][1],
            w.submitted,
        ),
    )


def start_times(
    runs: list[Waiting], seconds: Mapping[str, float | None], workers: int
) -> dict[str, float | None]:
    """Seconds from now until each run starts (0: running already), the queue in order,
    each run going to the worker that frees first. A running run holds its worker for the
    rest of its estimate (the epochs not yet run); None from the first run ahead whose time
    cannot be estimated on (a first run of its kind)."""
    out: dict[str, float | None] = {}
    free = []  # when each worker is next free: a running run's, then the idle ones
    for w in (r for r in runs if r.status == "running"):
        out[w.run_id] = 0.0
        total = seconds.get(w.run_id)
        left = None if total is None else total * (1 - min(w.epoch, w.spec.epochs) / w.spec.epochs)
        free.append(left if left is not None else float("inf"))
    free += [0.0] * max(0, max(1, workers) - len(free))  # more running: another's workers
    heapq.heapify(free)
    for w in (r for r in runs if r.status != "running"):
        at = heapq.heappop(free)
        out[w.run_id] = at if at != float("inf") else None
        took = seconds.get(w.run_id)
        heapq.heappush(free, at + took if took is not None else float("inf"))
    return out


@functools.cache
def _default_configs(experiment: str) -> tuple[dict, ...]:
    """The run configs of the experiment page's default settings."""
    from cnnexp.config import parse

    mod = experiments.get(experiment)
    return tuple(s.config for s in mod.plan(parse(mod.Config, {})))


def settings_that_matter(spec: RunSpec) -> list[str]:
    """The run's settings that differ from its page's defaults, in the pages' words
    ("width 64", "epochs 20"): against the default run most like it, at most MAX_SETTINGS."""
    try:
        defaults = _default_configs(spec.experiment)
    except Exception:  # an experiment this version does not know, or no default plan
        defaults = ()
    if not defaults:
        return []
    nearest = min(defaults, key=lambda d: _differences(spec.config, d))
    keys = [k for k in spec.config if spec.config[k] != nearest.get(k)]
    words = [f"{label(k)} {_value(spec.config[k])}" for k in keys]
    more = len(words) - MAX_SETTINGS
    return words[:MAX_SETTINGS] + ([f"{more} more"] if more > 0 else [])


def _differences(config: dict, default: dict) -> int:
    return sum(config.get(k) != default.get(k) for k in config.keys() | default.keys())


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, list | tuple):
        return ", ".join(_value(x) for x in v) or "none"
    return json.dumps(v) if isinstance(v, dict) else str(v)


def who(owner: str, me: str) -> str:
    """Who launched a run, in words, for someone allowed to see it (policy: named)."""
    if me and owner == me:
        return "you"
    kind, _, rest = owner.partition(":")
    return {
        "email": rest,
        "token": f"access token, {rest}",
        "client": f"visitor at {rest}",
    }.get(kind, "the command line" if owner == "cli" else owner or "unknown")


@dataclass(frozen=True)
class QueueView:
    """What one visitor sees of the queue: the rows they may see, and counts of all."""

    rows: list[dict]  # one per run shown: position, experiment, run, settings, who, start
    running: int
    queued: int
    hidden: int  # runs counted but not listed (a viewer's every run)


def view(runs: list[Waiting], starts: Mapping[str, float | None], role: str, me: str) -> QueueView:
    """The queue as `role` and `me` may see it (policy.queue_visibility, run by run)."""
    rows, hidden, place = [], 0, 0
    for w in runs:
        place += w.status != "running"
        seen = policy.queue_visibility(role, me, w.owner)
        if seen == "count":
            hidden += 1
            continue
        rows.append(
            {
                "run_id": w.run_id,
                "position": "running" if w.status == "running" else str(place),
                "experiment": w.spec.experiment,
                "run": f"{w.spec.label} · seed {w.spec.seed}",
                "settings": " · ".join(settings_that_matter(w.spec)) or "the page's defaults",
                "progress": f"epoch {w.epoch} of {w.spec.epochs}"
                if w.status == "running"
                else "queued",
                "starts_in_s": starts.get(w.run_id),
                "launched_by": who(w.owner, me) if seen == "named" else "someone else",
                "yours": bool(me) and w.owner == me,
                "owner": w.owner,  # for the server's own checks; never a shown column
            }
        )
    running = sum(w.status == "running" for w in runs)
    return QueueView(rows, running, len(runs) - running, hidden)
