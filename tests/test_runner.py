"""cnnexp/runner.py: the worker process trains off the script thread, deduplicates, cancels,
and survives being killed."""

import os
import queue
import signal
import threading
import time

import pytest

from cnnexp import experiments
from cnnexp.config import parse
from cnnexp.executor import Epoch, conclude, run_job
from cnnexp.runner import LocalRunner, PoolRunner, worker_threads, worth_another
from cnnexp.store import Store
from tests.conftest import TINY


def specs(**kw):
    mod = experiments.get("baseline")
    return mod.plan(parse(mod.Config, {**TINY, "seeds": 1, **kw}))


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
    """A run of minutes (500 epochs: the test ends it), returned once its first epoch is done."""
    (spec,) = specs(dataset="mnist5k", epochs=500, width=8, seed=seed)
    (rid,) = runner.submit([spec])
    wait_for(runner, [rid], {"running"})
    while runner.snapshot()[rid].epoch < 1:
        time.sleep(0.05)
    return rid


def test_a_run_claimed_while_it_is_submitted_reads_running(runner, monkeypatch):
    """Found: the sidebar said '0 running, 12 queued' while a run trained. submit wrote each
    run's 'queued' state after adding it to the queue; when the loop claimed the run in
    between, it set it running, and submit set it back to 'queued' for all of its training.
    Here the loop claims and starts the run before submit writes its states."""
    (spec,) = specs(dataset="mnist5k", epochs=500, width=8, seed=400)
    add_many = runner.queue.add_many

    def add_then_wait_for_the_loop(*a, **kw):
        added = add_many(*a, **kw)
        end = time.time() + 60
        while spec.run_id not in runner.worker_pids() and time.time() < end:
            time.sleep(0.05)  # the loop claims it on its next look, sets it running, starts it
        assert spec.run_id in runner.worker_pids()
        return added

    monkeypatch.setattr(runner.queue, "add_many", add_then_wait_for_the_loop)
    (rid,) = runner.submit([spec])
    while runner.snapshot()[rid].epoch < 1:
        time.sleep(0.05)
    assert runner.snapshot()[rid].status == "running"
    runner.cancel([rid])
    wait_for(runner, [rid], {"cancelled"}, timeout=60)


def test_cancel_a_running_run(runner):
    rid = start_long_run(runner, seed=100)
    runner.cancel([rid])
    snap = wait_for(runner, [rid], {"cancelled"}, timeout=30)
    assert snap[rid].epoch < 500
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
    saved failed with the reason; the small run is untouched. Both train on the same data:
    a worker's first load of a dataset imports its reader under the cap (the retry alone may
    go to the small run's worker, and digits' scikit-learn then failed to map a library)."""
    (small,) = specs(dataset="mnist5k", epochs=20, width=8, seed=1)
    (big,) = specs(dataset="mnist5k", width=4096, seed=2)
    r = LocalRunner(tmp_path / "r", device="cpu", workers=2, memory_limit_mb=400)
    try:
        st, seen_waiting = out_of_memory_beside(r, small, big, hold=True)
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


def out_of_memory_beside(r, small, big, timeout=240, hold=False):
    """Submit a small run and a big one that runs out of memory; wait for both to end.
    Returns the big run's last state and whether it was seen waiting to run alone while the
    small one trained. hold: the small run's worker process (a Ray actor's, on this machine)
    is stopped (SIGSTOP) from its first epoch until then, so the big run always fails beside
    it, however long the big run's worker takes to start."""
    r.submit([small, big])
    seen_waiting, held = False, None
    end = time.time() + timeout
    while time.time() < end:
        snap = r.snapshot()
        st = snap[big.run_id]
        if hold and held is None and snap[small.run_id].epoch >= 1:
            held = r.worker_pids()[small.run_id]
            os.kill(held, signal.SIGSTOP)
        if st.status == "queued" and "to run alone" in (st.error or ""):
            seen_waiting |= snap[small.run_id].status == "running"
            if held:
                os.kill(held, signal.SIGCONT)
                held = 0
        if st.status == "failed" and snap[small.run_id].status == "done":
            break
        time.sleep(0.05)
    if held:
        os.kill(held, signal.SIGCONT)
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


class GatedWorker:
    """A worker this test drives: warm once `warm` is set; a job it is given trains for real
    (in a thread of this process) once `go` is set."""

    def __init__(self, store: Store, device: str):
        self.store, self.device, self.state = store, device, "off"
        self.warm, self.go = threading.Event(), threading.Event()
        self._said = queue.SimpleQueue()

    def boot(self, warm_for=None) -> None:
        self.state = "starting"

    def start(self, job) -> None:
        if self.state == "off":
            self.boot()
        threading.Thread(target=self._train, args=(job,), daemon=True).start()

    def _train(self, job) -> None:
        self.warm.wait()
        self.go.wait()
        record, out = run_job(job, "cpu", None, lambda row: self._said.put(Epoch(row)), bool)
        self._said.put(conclude(self.store, record, out, job.alone))

    def events(self) -> list:
        if self.state == "starting" and self.warm.is_set():
            self.state = "warm"
        return [self._said.get() for _ in range(self._said.qsize())]

    def stop(self) -> None: ...
    def kill(self) -> None: ...


class GatedExecutor:
    notice = None

    def __init__(self, store: Store):
        self.store, self.made = store, []

    def devices(self, wanted: int) -> list[str]:
        return ["cpu"] * wanted

    def worker(self, device: str, threads: int) -> GatedWorker:
        self.made.append(GatedWorker(self.store, device))
        return self.made[-1]

    def wait(self, heard, timeout: float) -> None:
        time.sleep(timeout)

    def close(self) -> None: ...


def wait_until(check, timeout=60):
    end = time.time() + timeout
    while not check():
        assert time.time() < end, "timed out"
        time.sleep(0.02)


def test_workers_start_as_runs_wait_and_a_run_goes_to_a_warm_worker(tmp_path):
    """Found: 16 tiny runs took longer on 2 workers than on 1: every worker took a run at
    once and held it for the seconds it spent importing torch. Now a worker starts only when
    a run waits for one (and it pays: worth_another), one start at a time, and a run goes
    only to a warm worker once one is warm. The core runs here with workers the test drives
    (GatedWorker); the run it holds trains longer than the first worker took to start."""
    root = tmp_path / "r"
    pool = GatedExecutor(Store(root))
    r = PoolRunner(root, pool, workers=2, device="cpu")
    first, second = pool.made
    try:
        a, b, c = specs(seeds=3)
        r.submit([a])
        wait_until(lambda: first.state == "starting")
        assert r.snapshot()[a.run_id].status == "running"  # the first worker starts with a run
        first.warm.set()
        first.go.set()
        wait_for(r, [a.run_id], {"done"})
        assert second.state == "off"  # one run needed one worker
        first.go.clear()  # b will train only when the test says
        r.submit([b, c])
        wait_until(lambda: second.state == "starting")  # c waits: a second worker starts
        snap = r.snapshot()
        assert snap[b.run_id].status == "running" and snap[c.run_id].status == "queued"
        first.go.set()
        wait_for(r, [b.run_id, c.run_id], {"done"})  # both on the warm worker
        assert second.state == "starting"
    finally:
        second.warm.set()
        r.close()


def test_another_worker_starts_only_when_the_waiting_runs_outlast_its_start():
    start = 3.5  # s: a worker's imports on the 2-core machine
    assert not worth_another(15, 1, start, run_s=0.06, training_s=0.05)  # 16 tiny runs
    assert worth_another(15, 1, start, run_s=2.0, training_s=0.5)  # 30 s of runs
    assert not worth_another(15, 2, start, run_s=0.8, training_s=0.1)  # 6 s each on two
    assert not worth_another(15, 1, start, run_s=None, training_s=1.0)  # no measure yet
    assert worth_another(1, 1, start, run_s=None, training_s=8.0)  # a long run is training
    assert not worth_another(0, 1, start, run_s=9.0, training_s=9.0)  # nothing waits


def test_one_run_on_a_pool_of_two_starts_one_worker_process(tmp_path):
    r = LocalRunner(tmp_path / "r", device="cpu", workers=2)
    try:
        ids = r.submit(specs(seed=600))
        wait_for(r, ids, {"done"})
        assert r.worker_states() == ["warm", "off"]
    finally:
        r.close()


def test_each_worker_gets_its_share_of_the_cores_and_a_hosts_thread_cap(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert [worker_threads(n) for n in (1, 2, 4, 32)] == [16, 8, 4, 1]
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # the host keeps cores for other work
    assert [worker_threads(n) for n in (1, 4, 16)] == [2, 2, 1]
    monkeypatch.setenv("OMP_NUM_THREADS", "lots")  # not a count: ignored
    assert worker_threads(4) == 4


def test_a_run_is_handed_to_its_worker_under_the_lock_a_cancel_takes(tmp_path):
    """Found on a busy box: a cancel between the claim of a run and its worker's start found
    the run on a worker not yet started (AttributeError, nothing to stop). The hand-over now
    happens under the runner's lock, so a cancel sees the run either queued or started."""
    r = LocalRunner(tmp_path / "results", device="cpu", workers=1, cancel_grace_s=1)
    try:
        worker = r._slots[0].worker
        original, held = worker.start, []
        worker.start = lambda job: (held.append(r._lock.locked()), original(job))
        (spec,) = specs(dataset="mnist5k", epochs=500, width=8, seed=700)
        r.submit([spec])
        wait_for(r, [spec.run_id], {"running"})
        r.cancel([spec.run_id])
        wait_for(r, [spec.run_id], {"cancelled"})
        assert held == [True]
    finally:
        r.close()
