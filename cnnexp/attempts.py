"""Graded attempts at the Check yourself exercises: one small SQLite table in the results folder.

In graded mode (CNNEXP_EXERCISES=graded) every checked answer that counts (a malformed one
does not) is a row: who (the hosting policy's identity), which exercise at which parameters,
the answer as understood, the verdict and the known mistake it matched. WAL mode and one
short transaction per use, as in cnnexp/runqueue.py, so every session of the dashboard and
a second server process can write at once, and a restarted server reads what was recorded.

Reading is asked of cnnexp.policy here, where the rows are read: a person reads their own
attempts (the tries they have left); only an admin reads another person's or the class
summary, however the call is made.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnnexp import policy
from cnnexp.runqueue import transaction

FILENAME = "exercises.sqlite"
MAX_ANSWER_CHARS = 80  # an answer is stored as understood (a number, option keys), bounded

_SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    person TEXT NOT NULL,       -- policy.identity: email:…, token:…, client:…
    exercise TEXT NOT NULL,     -- an id of cnnexp.exercises.REGISTRY
    params TEXT NOT NULL,       -- canonical JSON: which question of the exercise
    answer TEXT NOT NULL,       -- as understood: "16777216", "fc,local"
    verdict TEXT NOT NULL,      -- correct or incorrect (invalid answers are not recorded)
    mistake TEXT NOT NULL,      -- the known mistake it matched, or ''
    at REAL NOT NULL            -- Unix time
);
CREATE INDEX IF NOT EXISTS attempts_question ON attempts (person, exercise, params);
"""


class Refused(PermissionError):
    """A read this asker may not make; the message says why."""


@dataclass(frozen=True)
class Attempt:
    person: str
    exercise: str
    params: str
    answer: str
    verdict: str
    mistake: str
    at: float


def params_key(params: dict[str, Any]) -> str:
    """The canonical JSON of a question's parameters: the same question, the same text."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


class Attempts:
    def __init__(self, root: str | Path):
        self.path = Path(root) / FILENAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:  # WAL: readers never block the writer (several sessions, a second process)
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
        finally:
            db.close()

    def _db(self):
        return transaction(self.path)

    # --- writing ------------------------------------------------------------------------------
    def record(
        self,
        person: str,
        exercise: str,
        params: dict[str, Any],
        answer: str,
        verdict: str,
        mistake: str = "",
    ) -> str | None:
        """Record one counted attempt; None, or why it was not recorded (past the per-person
        bound of cnnexp.policy)."""
        if verdict not in ("correct", "incorrect"):
            raise ValueError(f"verdict {verdict!r}: only counted attempts are recorded")
        with self._db() as db:
            (n,) = db.execute(
                "SELECT COUNT(*) FROM attempts WHERE person = ?", (person,)
            ).fetchone()
            refused = policy.attempt_problem(n)
            if refused:
                return refused
            db.execute(
                "INSERT INTO attempts (person, exercise, params, answer, verdict, mistake, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    person,
                    exercise,
                    params_key(params),
                    answer[:MAX_ANSWER_CHARS],
                    verdict,
                    mistake[:MAX_ANSWER_CHARS],
                    time.time(),
                ),
            )
        return None

    # --- reading, as the policy allows ------------------------------------------------------
    def attempts(
        self,
        role: str,
        me: str,
        person: str | None = None,
        exercise: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> list[Attempt]:
        """Attempts, oldest first: one person's (person), or everyone's (None, admins only);
        of one exercise, and of one question of it, when given."""
        if not policy.may_read_attempts(role, me, person):
            raise Refused(
                "Only an admin of this server may read the class's answers"
                if person is None
                else "You may read only your own answers; an admin may read anyone's."
            )
        where, args = [], []
        for column, value in (
            ("person", person),
            ("exercise", exercise),
            ("params", None if params is None else params_key(params)),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = "SELECT person, exercise, params, answer, verdict, mistake, at FROM attempts"
        sql += (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        with self._db() as db:
            return [Attempt(**dict(r)) for r in db.execute(sql, args)]

    def summary(self, role: str, me: str, exercises: list[str] | None = None) -> list[dict]:
        """Per exercise: attempts, people, the share of attempts that were right, the share of
        people who got it right at some point, and the commonest known mistakes and wrong
        answers (admins only: it shows what the class answered)."""
        if not policy.may_see_class_summary(role):
            raise Refused("Only an admin of this server may see the class summary.")
        rows = self.attempts(role, me)
        out = []
        for ex in exercises if exercises is not None else sorted({a.exercise for a in rows}):
            mine = [a for a in rows if a.exercise == ex]
            people = {a.person for a in mine}
            right = {a.person for a in mine if a.verdict == "correct"}
            wrong = [a for a in mine if a.verdict == "incorrect"]
            out.append(
                {
                    "exercise": ex,
                    "attempts": len(mine),
                    "people": len(people),
                    "share_correct": _share(sum(a.verdict == "correct" for a in mine), len(mine)),
                    "people_correct": _share(len(right), len(people)),
                    "common_mistakes": _commonest(a.mistake for a in wrong if a.mistake),
                    "common_wrong_answers": _commonest(a.answer for a in wrong),
                }
            )
        return out


def _share(n: int, total: int) -> float | None:
    return n / total if total else None


def _commonest(values, k: int = 3) -> str:
    """'forgot_bias ×5; forgot_input_channels ×2' (the k commonest)."""
    return "; ".join(f"{v} ×{n}" for v, n in Counter(values).most_common(k))


def to_csv(rows: list[dict]) -> str:
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
