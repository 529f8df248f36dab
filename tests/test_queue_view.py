"""cnnexp/queue_view.py: the queue in training order, when each run may start, and what each
role sees of it (the durable queue read without writing)."""

import sqlite3

import pytest

from cnnexp import experiments, queue_view
from cnnexp.config import parse
from cnnexp.queue_view import Waiting
from cnnexp.runqueue import RunQueue, runner_id
from tests.conftest import TINY

ME, OTHER = "token:10.0.0.7", "email:other@school.edu"


def specs(**kw):
    mod = experiments.get("baseline")
    return mod.plan(parse(mod.Config, {**TINY, **kw}))


def queued(root, owners: list[str], running: int = 0):
    """A durable queue with one tiny run per owner, the first `running` of them claimed."""
    q, me = RunQueue(root), runner_id()
    runs = specs(seeds=len(owners))
    for spec, owner in zip(runs, owners, strict=True):
        q.add(spec, owner, me)
    for _ in range(running):
        q.claim(me)
    return runs


def test_the_queue_is_read_without_being_written(tmp_path):
    root = tmp_path / "results"
    assert queue_view.queue_rows(root) == []  # no queue yet: empty, and none made
    assert not root.exists()
    runs = queued(root, [ME, OTHER], running=1)
    db = root / "queue.sqlite"
    before = (db.read_bytes(), db.stat().st_mtime_ns)
    rows = queue_view.queue_rows(root)  # read only: SQLite refuses any write on this connection
    assert (db.read_bytes(), db.stat().st_mtime_ns) == before
    assert [(r["run_id"], r["status"], r["owner"]) for r in rows] == [
        (runs[0].run_id, "running", ME),
        (runs[1].run_id, "queued", OTHER),
    ]


def test_runs_are_listed_in_the_order_they_train(tmp_path):
    runs = queued(tmp_path, [ME, OTHER, ME], running=1)
    with sqlite3.connect(tmp_path / "queue.sqlite") as db:  # the last went out of memory once
        db.execute("UPDATE runs SET alone = 1 WHERE run_id = ?", (runs[2].run_id,))
    got = queue_view.waiting(queue_view.queue_rows(tmp_path), {runs[0].run_id: 1})
    assert [w.run_id for w in got] == [runs[0].run_id, runs[2].run_id, runs[1].run_id]
    assert got[0].status == "running" and got[0].epoch == 1


def _w(run, status="queued", epoch=0):
    return Waiting(run, status, ME, 0.0, epoch)


def test_each_run_starts_when_a_worker_frees_for_it():
    a, b, c, d = specs(seeds=4, epochs=4)
    runs = [_w(a, "running", epoch=1), _w(b), _w(c), _w(d)]
    secs = {a.run_id: 40.0, b.run_id: 10.0, c.run_id: 20.0, d.run_id: 5.0}
    # one worker: a has 30 s left (3 of 4 epochs), then b, then c
    assert queue_view.start_times(runs, secs, workers=1) == {
        a.run_id: 0.0, b.run_id: 30.0, c.run_id: 40.0, d.run_id: 60.0
    }  # fmt: skip
    # two workers: b starts at once on the idle one, c after b, d after c
    assert queue_view.start_times(runs, secs, workers=2) == {
        a.run_id: 0.0, b.run_id: 0.0, c.run_id: 10.0, d.run_id: 30.0
    }  # fmt: skip
    # a run ahead with no estimate: no honest start for those behind it on that worker
    unknown = {**secs, b.run_id: None}
    assert queue_view.start_times(runs, unknown, workers=1)[c.run_id] is None
    assert queue_view.start_times(runs, unknown, workers=1)[b.run_id] == 30.0


@pytest.mark.parametrize(
    "role, listed, named",
    [
        ("viewer", 0, []),
        ("launcher", 3, ["you", "someone else", "you"]),
        ("admin", 3, ["you", "other@school.edu", "you"]),
    ],
)
def test_each_role_sees_what_policy_allows(role, listed, named):
    a, b, c = specs(seeds=3, width=32)
    runs = [_w(a, "running"), Waiting(b, "queued", OTHER, 1.0), _w(c)]
    v = queue_view.view(runs, {}, role, ME)
    assert (v.running, v.queued, v.hidden) == (1, 2, 3 - listed)
    assert [r["launched_by"] for r in v.rows] == named
    if listed:
        assert [r["position"] for r in v.rows] == ["running", "1", "2"]
        assert v.rows[1]["settings"] == "dataset digits · width 32 · epochs 1"
        assert not any(OTHER in str(r["launched_by"]) for r in v.rows if role != "admin")


def test_who_launched_reads_as_words():
    assert queue_view.who(ME, ME) == "you"
    assert queue_view.who("email:a@b.edu", ME) == "a@b.edu"
    assert queue_view.who("cli", ME) == "the command line"
    assert queue_view.who("client:1.2.3.4", "") == "visitor at 1.2.3.4"
    assert queue_view.who("", "") == "unknown"
