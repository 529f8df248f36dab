"""The durable run queue: one small SQLite database in the results folder.

Every submitted run is a row until it ends, so a restarted dashboard finds its queued runs
again and can tell which runs were training when it died. SQLite in WAL mode lets the CLI
and the dashboard use the queue at once; every change is one short transaction.

A row belongs to the runner that claimed it (host:pid:token). Rows whose runner is gone
(its process died, or it closed and let go of them) are adopted by the next runner that
looks: queued rows are trained by it, running rows become `interrupted` records.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import time
import uuid
from pathlib import Path

from cnnexp.runspec import RunSpec

FILENAME = "queue.sqlite"
ACTIVE = ("queued", "running")  # a run in either state has not ended: it may still be cancelled

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,          -- JSON: experiment, version, config, seed, label, precision
    owner TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,        -- queued or running
    runner TEXT,                 -- host:pid:token of the runner that holds it; NULL: nobody
    submitted REAL NOT NULL,
    started REAL,
    time_limit_s REAL,
    cancel INTEGER NOT NULL DEFAULT 0,  -- asked to stop by someone else (the CLI)
    alone INTEGER NOT NULL DEFAULT 0    -- out of memory once: run it with no other in flight
)
"""


def spec_to_json(spec: RunSpec) -> str:
    return json.dumps(
        {
            "experiment": spec.experiment,
            "version": spec.version,
            "config": spec.config,
            "seed": spec.seed,
            "label": spec.label,
            "precision": spec.precision,
        }
    )


def spec_from_json(text: str) -> RunSpec:
    return RunSpec(**json.loads(text))


def runner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _alive(runner: str | None) -> bool:
    """Whether the runner that holds a row may still be working on it."""
    if not runner:
        return False
    host, pid, _ = runner.split(":", 2)
    if host != socket.gethostname():
        return True  # another machine's runner: not ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunQueue:
    def __init__(self, root: str | os.PathLike):
        self.path = Path(root) / FILENAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:  # WAL: readers never block the writer (the CLI and the dashboard at once)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)
        finally:
            db.close()
        with self._db() as db:  # a queue written before the `alone` column existed
            if "alone" not in {r["name"] for r in db.execute("PRAGMA table_info(runs)")}:
                db.execute("ALTER TABLE runs ADD COLUMN alone INTEGER NOT NULL DEFAULT 0")

    def _db(self):
        return transaction(self.path)

    def add(
        self, spec: RunSpec, owner: str, runner: str, time_limit_s: float | None = None
    ) -> bool:
        """Queue a run unless it is already queued or running anywhere; True if added."""
        return bool(self.add_many([spec], owner, runner, time_limit_s))

    def add_many(
        self, specs: list[RunSpec], owner: str, runner: str, time_limit_s: float | None = None
    ) -> list[str]:
        """Queue runs, in one transaction, unless queued or running anywhere; the added ids."""
        added = []
        with self._db() as db:
            for spec in specs:
                cur = db.execute(
                    "INSERT OR IGNORE INTO runs (run_id, spec, owner, status, runner, submitted,"
                    " time_limit_s) VALUES (?, ?, ?, 'queued', ?, ?, ?)",
                    (spec.run_id, spec_to_json(spec), owner, runner, time.time(), time_limit_s),
                )
                if cur.rowcount == 1:
                    added.append(spec.run_id)
        return added

    def claim(self, runner: str, idle: bool = True) -> sqlite3.Row | None:
        """The runner's next queued run, now marked running; None if it has none.

        A run queued to go alone (it ran out of memory beside others) comes first, and only
        to an idle runner: until the runner is idle, it gets nothing, so the retry is never
        starved by newer runs."""
        with self._db() as db:
            row = db.execute(
                "SELECT run_id, alone FROM runs WHERE status = 'queued' AND runner = ?"
                " ORDER BY alone DESC, submitted, rowid LIMIT 1",
                (runner,),
            ).fetchone()
            if row is None or (row["alone"] and not idle):
                return None
            return db.execute(
                "UPDATE runs SET status = 'running', started = ? WHERE run_id = ? RETURNING *",
                (time.time(), row["run_id"]),
            ).fetchone()

    def waiting(self, runner: str) -> int:
        """How many of the runner's queued runs wait for a worker; 0 while one waits to run
        alone (the runs in flight end first: another worker would not help it)."""
        with self._db() as db:
            n, alone = db.execute(
                "SELECT COUNT(*), COALESCE(MAX(alone), 0) FROM runs"
                " WHERE status = 'queued' AND runner = ?",
                (runner,),
            ).fetchone()
        return 0 if alone else n

    def next(self, runner: str) -> RunSpec | None:
        """The run the runner's next claim would take (None: nothing queued)."""
        with self._db() as db:
            row = db.execute(
                "SELECT spec FROM runs WHERE status = 'queued' AND runner = ?"
                " ORDER BY alone DESC, submitted, rowid LIMIT 1",
                (runner,),
            ).fetchone()
        return spec_from_json(row["spec"]) if row else None

    def requeue_alone(self, run_id: str) -> None:
        """Queue a run that ran out of memory again, to run with no other run in flight."""
        with self._db() as db:
            db.execute(
                "UPDATE runs SET status = 'queued', started = NULL, alone = 1 WHERE run_id = ?",
                (run_id,),
            )

    def remove(self, run_id: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))

    def rows(self) -> list[sqlite3.Row]:
        with self._db() as db:
            return db.execute("SELECT * FROM runs ORDER BY submitted, rowid").fetchall()

    def cancel(self, run_ids: list[str] | None = None) -> tuple[list[str], list[str]]:
        """Drop queued runs and flag running ones to stop; returns (dropped, flagged) ids."""
        with self._db() as db:
            rows = db.execute("SELECT run_id, status FROM runs").fetchall()
            picked = [r for r in rows if run_ids is None or r["run_id"] in run_ids]
            dropped = [r["run_id"] for r in picked if r["status"] == "queued"]
            flagged = [r["run_id"] for r in picked if r["status"] == "running"]
            db.executemany("DELETE FROM runs WHERE run_id = ?", [(i,) for i in dropped])
            db.executemany("UPDATE runs SET cancel = 1 WHERE run_id = ?", [(i,) for i in flagged])
        return dropped, flagged

    def release(self, runner: str, drop_queued: bool = False) -> None:
        """A closing runner lets go of its queued runs (another runner adopts them) or drops them."""
        with self._db() as db:
            if drop_queued:
                db.execute("DELETE FROM runs WHERE runner = ? AND status = 'queued'", (runner,))
            else:
                db.execute(
                    "UPDATE runs SET runner = NULL WHERE runner = ? AND status = 'queued'",
                    (runner,),
                )

    def adopt(self, runner: str) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
        """Take over the rows of runners that are gone: returns (queued now ours, were running).

        The running rows are deleted here; the caller records them as interrupted."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM runs WHERE runner IS NOT ?", (runner,)).fetchall()
            orphans = [r for r in rows if not _alive(r["runner"])]
            queued = [r for r in orphans if r["status"] == "queued"]
            running = [r for r in orphans if r["status"] == "running"]
            db.executemany(
                "UPDATE runs SET runner = ? WHERE run_id = ?",
                [(runner, r["run_id"]) for r in queued],
            )
            db.executemany("DELETE FROM runs WHERE run_id = ?", [(r["run_id"],) for r in running])
        return queued, running


@contextlib.contextmanager
def transaction(path):
    """One SQLite connection and write transaction per use: safe across threads and
    processes; the timeout waits out a concurrent writer instead of failing with
    "database is locked". The queue and the exercise attempts both use it."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.row_factory = sqlite3.Row
    try:
        db.execute("BEGIN IMMEDIATE")
        yield db
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    finally:
        db.close()
