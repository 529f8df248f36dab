"""cnnexp/runqueue.py and the pool around it: runs survive a restart, a run that was training
when its runner died becomes `interrupted`, nothing is trained twice, the CLI and the
dashboard can share the queue, and a stuck run is killed after the cancel grace."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cnnexp import experiments
from cnnexp.config import parse
from cnnexp.runner import LocalRunner
from cnnexp.runqueue import RunQueue, runner_id, spec_to_json
from cnnexp.store import Store
from tests.conftest import TINY
from tests.test_runner import wait_for


def specs(**kw):
    mod = experiments.get("baseline")
    return mod.plan(parse(mod.Config, {**TINY, "seeds": 1, **kw}))


def test_queue_deduplicates_and_claims_in_order(tmp_path):
    q = RunQueue(tmp_path)
    me = runner_id()
    a, b = specs(seeds=2)
    assert q.add(a, "ann", me) and q.add(b, "bob", me)
    assert not q.add(a, "bob", runner_id())  # queued already: never twice
    assert q.claim(me)["run_id"] == a.run_id
    assert q.claim(runner_id()) is None  # another runner does not take my runs
    dropped, flagged = q.cancel(None)
    assert dropped == [b.run_id] and flagged == [a.run_id]
    assert [r["cancel"] for r in q.rows()] == [1]


def test_a_run_requeued_alone_goes_first_and_only_to_an_idle_runner(tmp_path):
    q = RunQueue(tmp_path)
    me = runner_id()
    a, b, c = specs(seeds=3)
    q.add_many([a, b, c], "ann", me)
    assert q.claim(me)["run_id"] == a.run_id
    q.requeue_alone(a.run_id)  # out of memory beside others
    assert q.claim(me, idle=False) is None  # b waits too: the retry is never starved
    row = q.claim(me, idle=True)
    assert (row["run_id"], row["alone"]) == (a.run_id, 1)
    assert q.claim(me, idle=False)["run_id"] == b.run_id


def test_a_queue_from_before_the_alone_column_is_upgraded(tmp_path):
    import sqlite3

    db = sqlite3.connect(tmp_path / "queue.sqlite")
    old = "CREATE TABLE runs (run_id TEXT PRIMARY KEY, spec TEXT NOT NULL, owner TEXT NOT NULL"
    old += " DEFAULT '', status TEXT NOT NULL, runner TEXT, submitted REAL NOT NULL, started REAL,"
    old += " time_limit_s REAL, cancel INTEGER NOT NULL DEFAULT 0)"
    db.execute(old)
    (a,) = specs()
    db.execute(
        "INSERT INTO runs (run_id, spec, status, runner, submitted) VALUES (?, ?, 'queued', 'x', 0)",
        (a.run_id, spec_to_json(a)),
    )
    db.commit()
    db.close()
    q = RunQueue(tmp_path)
    RunQueue(tmp_path)  # a second opener finds it upgraded already
    assert [(r["run_id"], r["alone"]) for r in q.rows()] == [(a.run_id, 0)]


def test_rows_of_a_dead_runner_are_adopted_or_interrupted(tmp_path):
    q = RunQueue(tmp_path)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    gone = f"{os.uname().nodename}:{dead}:x"
    a, b = specs(seeds=2)
    q.add(a, "ann", gone)
    q.add(b, "ann", gone)
    q.claim(gone)  # a was training when its runner died
    me = runner_id()
    queued, running = q.adopt(me)
    assert [r["run_id"] for r in queued] == [b.run_id]
    assert [r["run_id"] for r in running] == [a.run_id]
    assert [(r["run_id"], r["runner"]) for r in q.rows()] == [(b.run_id, me)]


def test_a_restarted_runner_resumes_queued_runs_and_reports_the_interrupted(tmp_path):
    """A server killed mid-run: its queued run is trained by the next server, the run it
    was training is recorded `interrupted` (launchable again), nothing is half-written."""
    root = tmp_path / "results"
    a, b = specs(seeds=2, dataset="mnist5k", epochs=500, width=8)
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {os.getcwd()!r})
        from cnnexp import experiments
        from cnnexp.config import parse
        from cnnexp.runner import LocalRunner
        mod = experiments.get("baseline")
        specs = mod.plan(parse(mod.Config, {{**{TINY!r}, "seeds": 2, "dataset": "mnist5k",
                                            "epochs": 500, "width": 8}}))
        r = LocalRunner({str(root)!r}, device="cpu", workers=1)
        r.submit(specs, owner="ann")
        while r.snapshot()[specs[0].run_id].epoch < 1:
            time.sleep(0.05)
        print("training", r.worker_pids()[specs[0].run_id], flush=True)
        time.sleep(600)
    """)
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        said, worker = server.stdout.readline().split()
        assert said == "training"
    finally:
        server.kill()
        server.wait()
    end = time.time() + 60
    while not gone(int(worker)):  # the orphaned worker notices at its next batch and stops
        assert time.time() < end, "the orphaned worker is still alive"
        time.sleep(0.05)
    r = LocalRunner(root, device="cpu", workers=1, cancel_grace_s=1)
    try:
        snap = r.snapshot()
        assert snap[a.run_id].status == "interrupted" and "launch it again" in snap[a.run_id].error
        assert Store(root).records([a.run_id])[a.run_id]["status"] == "interrupted"
        assert snap[b.run_id].owner == "ann" and snap[b.run_id].status in ("queued", "running")
        r.cancel([b.run_id])
        wait_for(r, [b.run_id], {"cancelled"}, timeout=60)
        assert r.submit([a]) == [a.run_id]  # interrupted runs can be launched again
        r.cancel([a.run_id])
        wait_for(r, [a.run_id], {"cancelled"}, timeout=60)
    finally:
        r.close()


def gone(pid: int) -> bool:
    """Whether a process has ended (a zombie waiting for its new parent counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_pool_trains_with_the_same_numbers_as_inline(tmp_path):
    from cnnexp.runner import execute
    from cnnexp.runspec import RunContext

    batch = specs(seeds=2, epochs=2)
    r = LocalRunner(tmp_path / "pool", device="cpu", workers=2)
    try:
        ids = r.submit(batch)
        wait_for(r, ids, {"done"}, timeout=120)
        assert r.queue.rows() == []  # ended runs leave the durable queue
    finally:
        r.close()
    inline = Store(tmp_path / "inline")
    for s in batch:
        execute(s, inline, RunContext(device="cpu"))
    pooled = Store(tmp_path / "pool").records(ids)
    for s in batch:
        assert pooled[s.run_id]["test_acc"] == inline.records([s.run_id])[s.run_id]["test_acc"]


def test_a_pool_of_two_trains_two_long_runs_at_once(tmp_path):
    """Runs long enough that the second worker is warm while the first still trains (a
    worker starts only once the first is warm, and tiny runs all go to the first)."""
    r = LocalRunner(tmp_path / "pool", device="cpu", workers=2)
    try:
        ids = r.submit(specs(seeds=2, dataset="mnist5k", epochs=200, width=8))
        end = time.time() + 240
        while not all(st.epoch >= 1 for st in r.snapshot().values()):
            assert time.time() < end, r.snapshot()
            time.sleep(0.05)
        assert len(set(r.worker_pids().values())) == 2  # two runs, two worker processes
        r.cancel(ids)
        wait_for(r, ids, {"cancelled"}, timeout=60)
    finally:
        r.close()


def test_a_run_that_ignores_cancel_is_killed_after_the_grace(tmp_path):
    r = LocalRunner(tmp_path / "r", device="cpu", workers=1, cancel_grace_s=1.0)
    try:
        (spec,) = specs(dataset="mnist5k", epochs=500, width=8)
        (rid,) = r.submit([spec])
        while r.snapshot()[rid].epoch < 1:
            time.sleep(0.05)
        pid = r.worker_pids()[rid]
        os.kill(pid, signal.SIGSTOP)  # frozen: it cannot see its cancel flag
        t0 = time.time()
        r.cancel([rid])
        wait_for(r, [rid], {"cancelled"}, timeout=30)
        assert time.time() - t0 < 10
        with pytest.raises(ProcessLookupError):
            for _ in range(50):
                os.kill(pid, 0)
                time.sleep(0.1)
        assert rid not in Store(r.store.root).records([rid])  # killed: nothing half-written
    finally:
        r.close()


def test_time_limit_stops_a_run_and_says_why(tmp_path):
    r = LocalRunner(tmp_path / "r", device="cpu", workers=1, cancel_grace_s=30)
    try:
        (spec,) = specs(dataset="mnist5k", epochs=500, width=8)
        with pytest.raises(ValueError, match="time_limit_s"):
            r.submit([spec], time_limit_s=0)
        (rid,) = r.submit([spec], time_limit_s=8)
        snap = wait_for(r, [rid], {"cancelled"}, timeout=90)
        assert "time limit of 8 s" in snap[rid].error
        assert snap[rid].epoch < 500
    finally:
        r.close()


def test_cancelled_before_the_first_epoch_leaves_nothing(tmp_path):
    r = LocalRunner(tmp_path / "r", device="cpu", workers=1)
    try:
        (spec,) = specs(dataset="mnist5k", epochs=500, width=8, seed=7)
        (rid,) = r.submit([spec])
        wait_for(r, [rid], {"running"})
        r.cancel([rid])
        snap = wait_for(r, [rid], {"cancelled"}, timeout=60)
        saved = Store(r.store.root).records([rid])
        if snap[rid].epoch == 0:  # stopped inside its first epoch: nothing worth keeping
            assert rid not in saved
        else:  # a loaded machine may finish an epoch before the cancel: that epoch is kept
            assert saved[rid]["status"] == "cancelled" and saved[rid]["epochs_run"] >= 1
    finally:
        r.close()


def test_cli_queue_lists_and_cancels(tmp_path, capsys):
    import json

    from cnnexp.cli import main

    root = tmp_path / "results"
    q = RunQueue(root)
    a, b = specs(seeds=2)
    me = runner_id()
    q.add(a, "ann", me)
    q.add(b, "bob", me)
    q.claim(me)
    assert main(["queue", "--results", str(root), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["run_id"], r["status"], r["owner"]) for r in rows] == [
        (a.run_id, "running", "ann"),
        (b.run_id, "queued", "bob"),
    ]
    assert main(["queue", "--results", str(root), "--cancel", "nope"]) == 2
    assert "not queued or running" in capsys.readouterr().err
    assert main(["queue", "--results", str(root), "--cancel", "all", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"dropped": [b.run_id], "stopping": [a.run_id]}


def test_cli_run_with_workers_matches_inline(tmp_path, capsys):
    import json

    from cnnexp.cli import main

    flags = ["run", "baseline", "--dataset", "digits", "--epochs", "1", "--width", "4", "--json"]
    assert main([*flags, "--seeds", "2", "--workers", "2", "--results", str(tmp_path / "p")]) == 0
    pooled = json.loads(capsys.readouterr().out)["runs"]
    assert main([*flags, "--seeds", "2", "--results", str(tmp_path / "i")]) == 0
    inline = json.loads(capsys.readouterr().out)["runs"]
    assert [(r["run_id"], r["test_acc"]) for r in pooled] == [
        (r["run_id"], r["test_acc"]) for r in inline
    ]
    assert main([*flags, "--workers", "0", "--results", str(tmp_path / "p")]) == 2
    assert "--workers 0" in capsys.readouterr().err


def test_sidebar_line_names_the_backend_and_counts(tmp_path):
    from ui.resources import backend_line

    r = LocalRunner(tmp_path / "r", device="cpu", workers=3)
    try:
        assert backend_line(r) == "Backend: local pool, 3 workers (cpu) · 0 running, 0 queued"
    finally:
        r.close()


def test_cli_pool_warns_when_the_gpu_holds_fewer_workers(tmp_path, capsys, monkeypatch):
    # No GPU here: the two functions that ask the hardware answer as a GPU with 3 GiB free
    # would. The plan is saved first, so the pool starts, warns and has nothing to train.
    from cnnexp import local_executor
    from cnnexp.cli import main

    flags = ["run", "baseline", "--dataset", "digits", "--epochs", "1", "--width", "4"]
    flags += ["--results", str(tmp_path), "--json"]
    assert main(flags) == 0
    monkeypatch.setattr(local_executor, "_gpu_count", lambda: 1)
    monkeypatch.setattr(local_executor, "gpu_free_bytes", lambda: [3 * 2**30])
    capsys.readouterr()
    assert main([*flags, "--workers", "4"]) == 0
    err = capsys.readouterr().err
    assert "warning: cuda:0 has 3.0 GiB free" in err and "starting 1 of 4 workers" in err
