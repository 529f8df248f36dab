"""cnnexp/runner.py: the worker process trains off the script thread, deduplicates, cancels,
and survives being killed."""

import os
import signal
import time

import pytest

from cnnexp import experiments
from cnnexp.config import parse
from cnnexp.runner import LocalRunner, execute
from cnnexp.runspec import RunContext
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


def test_execute_inline_saves_a_record(store):
    (spec,) = specs()
    rec = execute(spec, store, RunContext(device="cpu"))
    assert rec["status"] == "done" and rec["params"] > 0 and rec["torch_version"]
    assert store.records([spec.run_id])[spec.run_id]["status"] == "done"


def test_a_failing_run_is_recorded_not_raised(store):
    (spec,) = specs()
    bad = type(spec)(spec.experiment, spec.version, {**spec.config, "width": -1}, 0)
    rec = execute(bad, store, RunContext(device="cpu"))
    assert rec["status"] == "failed" and "width" in rec["error"]


def test_runs_in_the_worker_with_live_history_and_dedup(runner):
    batch = specs(seeds=2, epochs=3)
    ids = runner.submit(batch)
    assert runner.submit(batch) == []  # identical runs queued twice are trained once
    snap = wait_for(runner, ids, {"done"})
    assert [h["epoch"] for h in snap[ids[0]].history] == [1, 2, 3]
    saved = Store(runner.store.root).records(ids)
    assert {r["status"] for r in saved.values()} == {"done"}
    assert runner.submit(batch) == []  # saved: nothing to do


def test_cancel_a_running_run(runner):
    (spec,) = specs(dataset="mnist5k", epochs=40, width=8, seed=100)
    (rid,) = runner.submit([spec])
    wait_for(runner, [rid], {"running"})
    while runner.snapshot()[rid].epoch < 1:
        time.sleep(0.05)
    runner.cancel([rid])
    snap = wait_for(runner, [rid], {"cancelled"}, timeout=30)
    assert snap[rid].epoch < 40
    assert Store(runner.store.root).records([rid])[rid]["status"] == "cancelled"


def test_a_killed_worker_is_noticed_and_replaced(runner):
    (spec,) = specs(dataset="mnist5k", epochs=40, width=8, seed=200)
    (rid,) = runner.submit([spec])
    wait_for(runner, [rid], {"running"})
    while runner.snapshot()[rid].epoch < 1:
        time.sleep(0.05)
    os.kill(runner.worker_pid, signal.SIGKILL)
    snap = wait_for(runner, [rid], {"failed"}, timeout=30)
    assert "died" in snap[rid].error
    assert rid not in Store(runner.store.root).records([rid])  # nothing half-written
    (again,) = specs(seed=300)
    ids = runner.submit([again])
    wait_for(runner, ids, {"done"})


def test_precision_is_part_of_the_run_id_and_the_record(store):
    from dataclasses import replace

    (spec,) = specs()
    bf16 = replace(spec, precision="bf16")
    assert spec.precision == "fp32" and bf16.run_id != spec.run_id  # no GPU in the suite
    with pytest.raises(ValueError, match="allowed: fp32, bf16"):
        replace(spec, precision="fp8")
    rec = execute(spec, store, RunContext(device="cpu"))
    assert rec["precision"] == "fp32" and rec["device"] == "cpu"


def test_precision_follows_the_device(monkeypatch):
    from cnnexp.runspec import precision_for

    assert precision_for("cpu") == "fp32" and precision_for("cuda:1") == "bf16"
    monkeypatch.setenv("CNNEXP_PRECISION", "fp32")
    assert precision_for("cuda") == "fp32"
    monkeypatch.setenv("CNNEXP_PRECISION", "half")
    with pytest.raises(ValueError, match="CNNEXP_PRECISION"):
        precision_for("cpu")
