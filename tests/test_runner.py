"""cnnexp/runner.py: the worker process trains off the script thread, deduplicates, cancels,
and survives being killed."""

import os
import signal
import time

import pytest

from cnnexp import experiments
from cnnexp.config import parse
from cnnexp.runner import LocalRunner
from cnnexp.store import Store
from tests.conftest import TINY


def specs(**kw):
    mod = experiments.get("baseline")
    return mod.plan(parse(mod.Config, {**TINY, **kw}))


def wait_for(runner, ids, statuses, timeout=180):  # generous: CI boxes are loaded
    end = time.time() + timeout
    while time.time() < end:
        snap = runner.snapshot()
        if all(snap[i].status in statuses for i in ids):
            return snap
        time.sleep(0.1)
    raise AssertionError(f"timed out: {[(i, runner.snapshot()[i].status) for i in ids]}")


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    r = LocalRunner(tmp_path_factory.mktemp("runner") / "results", device="cpu")
    yield r
    r.close()


def test_runs_in_the_worker_with_live_history_and_dedup(runner):
    batch = specs(seeds=2, epochs=3)
    ids = runner.submit(batch)
    assert runner.submit(batch) == []  # identical runs queued twice are trained once
    snap = wait_for(runner, ids, {"done"})
    assert [h["epoch"] for h in snap[ids[0]].history] == [1, 2, 3]
    saved = Store(runner.store.root).records(ids)
    assert {r["status"] for r in saved.values()} == {"done"}
    assert runner.submit(batch) == []  # saved: nothing to do


def start_long_run(runner, seed: int) -> str:
    """A 40-epoch run, returned once its first epoch is done."""
    (spec,) = specs(dataset="mnist5k", epochs=40, width=8, seed=seed)
    (rid,) = runner.submit([spec])
    wait_for(runner, [rid], {"running"})
    while runner.snapshot()[rid].epoch < 1:
        time.sleep(0.05)
    return rid


def test_cancel_a_running_run(runner):
    rid = start_long_run(runner, seed=100)
    runner.cancel([rid])
    snap = wait_for(runner, [rid], {"cancelled"}, timeout=30)
    assert snap[rid].epoch < 40
    assert Store(runner.store.root).records([rid])[rid]["status"] == "cancelled"


def test_a_killed_worker_is_noticed_and_replaced(runner):
    rid = start_long_run(runner, seed=200)
    os.kill(runner.worker_pid, signal.SIGKILL)
    snap = wait_for(runner, [rid], {"failed"}, timeout=30)
    assert "died" in snap[rid].error
    assert rid not in Store(runner.store.root).records([rid])  # nothing half-written
    (again,) = specs(seed=300)
    ids = runner.submit([again])
    wait_for(runner, ids, {"done"})


def test_precision_follows_the_device(monkeypatch):
    from cnnexp.runspec import precision_for

    assert precision_for("cpu") == "fp32" and precision_for("cuda:1") == "bf16"
    monkeypatch.setenv("CNNEXP_PRECISION", "fp32")
    assert precision_for("cuda") == "fp32"
    monkeypatch.setenv("CNNEXP_PRECISION", "half")
    with pytest.raises(ValueError, match="CNNEXP_PRECISION"):
        precision_for("cpu")


def test_a_run_out_of_memory_is_retried_alone_then_recorded_failed(tmp_path):
    """A real out-of-memory: the workers may take 400 MB beyond what they hold idle
    (memory_limit_mb, a real RLIMIT_DATA), and a 4096-wide CNN needs over 1 GB for its
    weights. It fails beside a small run, waits for it to end, fails again alone, and is
    saved failed with the reason; the small run is untouched."""
    (small,) = specs(dataset="mnist5k", epochs=4, width=8, seed=1)
    (big,) = specs(width=4096, seed=2)
    r = LocalRunner(tmp_path / "r", device="cpu", workers=2, memory_limit_mb=400)
    try:
        st, seen_waiting = out_of_memory_beside(r, small, big)
        assert seen_waiting  # out of memory beside the small run: queued again, alone
        assert st.status == "failed", st
        assert "also when retried alone" in st.error and "can't allocate memory" in st.error
        saved = Store(r.store.root).records([small.run_id, big.run_id])
        assert saved[big.run_id]["status"] == "failed" and "alone" in saved[big.run_id]["error"]
        assert saved[small.run_id]["status"] == "done"
        assert saved[big.run_id]["started_at"] >= saved[small.run_id]["ended_at"]  # alone
        assert r.queue.rows() == []
    finally:
        r.close()


def out_of_memory_beside(r, small, big, timeout=240):
    """Submit a small run and a big one that runs out of memory; wait for both to end.
    Returns the big run's last state and whether it was seen waiting to run alone while the
    small one trained."""
    r.submit([small, big])
    seen_waiting = False
    end = time.time() + timeout
    while time.time() < end:
        snap = r.snapshot()
        st = snap[big.run_id]
        if st.status == "queued" and "to run alone" in (st.error or ""):
            seen_waiting |= snap[small.run_id].status == "running"
        if st.status == "failed" and snap[small.run_id].status == "done":
            break
        time.sleep(0.05)
    return st, seen_waiting


def test_memory_stays_flat_over_many_runs(tmp_path):
    """Runs through the pool (each fails at once on a bad width, so only the runner's own
    work is timed): the states kept stay at keep_finished, and the memory the runner holds
    does not grow from the 100th run to the 300th."""
    import tracemalloc
    from dataclasses import replace

    (spec,) = specs()
    bad = [replace(spec, config={**spec.config, "width": -1}, seed=i) for i in range(300)]
    assert len({s.run_id for s in bad}) == 300  # ids are cached on the specs: not measured
    r = LocalRunner(tmp_path / "r", device="cpu", workers=1, keep_finished=20)
    tracemalloc.start()
    try:
        t0 = time.time()
        run_all(r, bad[:100])
        before = tracemalloc.get_traced_memory()[0]
        run_all(r, bad[100:])
        grown = tracemalloc.get_traced_memory()[0] - before
        print(f"{len(bad)} runs in {time.time() - t0:.1f} s")
        assert len(r.snapshot()) == 20
        assert grown < 256 * 1024, f"the runner's memory grew by {grown} bytes over 200 runs"
        assert Store(r.store.root).records([bad[-1].run_id])[bad[-1].run_id]["status"] == "failed"
    finally:
        tracemalloc.stop()
        r.close()


def test_states_stay_bounded_over_thousands_of_cancelled_runs(tmp_path):
    """5,000 runs queued and cancelled before they start (the quickest way thousands of runs
    end): their states are forgotten but keep_finished, and the queue is empty."""
    import tracemalloc
    from dataclasses import replace

    (spec,) = specs()
    many = [replace(spec, seed=i) for i in range(5000)]
    assert len({s.run_id for s in many}) == 5000  # ids are cached on the specs: not measured
    r = LocalRunner(tmp_path / "r", device="cpu", workers=1, keep_finished=100)
    tracemalloc.start()
    try:
        r.submit(many[:1000])
        r.cancel()
        wait_quiet(r)
        before = tracemalloc.get_traced_memory()[0]
        for i in range(1000, 5000, 1000):
            r.submit(many[i : i + 1000])
            r.cancel()
            wait_quiet(r)
        grown = tracemalloc.get_traced_memory()[0] - before
        assert len(r.snapshot()) == 100 and r.queue.rows() == []
        assert grown < 256 * 1024, f"the runner's memory grew by {grown} bytes over 4,000 runs"
    finally:
        tracemalloc.stop()
        r.close()


def run_all(r, batch, timeout=120):
    assert len(r.submit(batch)) == len(batch)
    wait_quiet(r, timeout)


def wait_quiet(r, timeout=120):
    end = time.time() + timeout
    while r.busy() and time.time() < end:
        time.sleep(0.05)
    assert not r.busy()
