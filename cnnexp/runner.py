"""Running many runs: the runner's core, one for every backend, and the local backend.

Runner is the interface a page uses (submit, snapshot, cancel, close). PoolRunner is the
backend-neutral core: the durable queue every browser session and the CLI share
(cnnexp/runqueue.py), the runs' states, which run goes to which worker, and the rules for
how a run ends: out of memory beside others → queued again to run alone; a stop asked for
and ignored past the grace, or a run past its time limit and the grace → killed with its
worker; a worker that dies or is lost. Its workers come from an executor
(cnnexp/executor.py): LocalRunner's are worker processes on this machine
(cnnexp/local_executor.py), so training never runs on Streamlit's script thread, survives
reruns and page switches, and can be cancelled or killed without hurting the app;
RayRunner's are Ray actors (cnnexp/ray_backend.py).

The run itself is `execute` (cnnexp/execution.py), which the CLI also calls in line.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Protocol

# execute, perform, save and lower_priority: the CLI, the bundle, the benchmarks and the tests
# import them from here.
from cnnexp.execution import execute, identity, now, perform, save
from cnnexp.executor import (
    Died,
    Ended,
    Epoch,
    Event,
    Executor,
    Job,
    Lost,
    OutOfMemory,
    Worker,
    lower_priority,
    time_limit_reason,
)
from cnnexp.local_executor import LocalExecutor, default_workers
from cnnexp.results import FINISHED
from cnnexp.runqueue import ACTIVE, RunQueue, runner_id, spec_from_json
from cnnexp.runspec import RunSpec
from cnnexp.store import Store, versions

__all__ = [
    "LocalRunner",
    "PoolRunner",
    "RunState",
    "Runner",
    "default_workers",
    "execute",
    "lower_priority",
    "perform",
    "save",
    "state_for",
]

CANCEL_GRACE_S = 10.0  # a run that ignores its cancel flag this long is killed with its worker
KEEP_FINISHED = 500  # finished run states kept in memory; older ones live only in the store


@dataclass
class RunState:
    """What a page shows about one submitted run."""

    run_id: str
    experiment: str
    label: str
    seed: int
    epochs: int
    status: str = "queued"  # queued, running, done, diverged, failed, cancelled, interrupted
    epoch: int = 0
    history: list[dict] = field(default_factory=list)
    error: str | None = None
    submitted: float = field(default_factory=time.time)
    owner: str = ""  # who launched it (hosted caps count runs per person)


def state_for(spec: RunSpec, owner: str = "", **kw) -> RunState:
    return RunState(
        spec.run_id, spec.experiment, spec.label, spec.seed, spec.epochs, owner=owner, **kw
    )


class Runner(Protocol):
    def submit(
        self, specs: list[RunSpec], owner: str = "", time_limit_s: float | None = None
    ) -> list[str]: ...
    def snapshot(self) -> dict[str, RunState]: ...
    def cancel(self, run_ids: list[str] | None = None) -> None: ...
    def close(self) -> None: ...


def worth_another(
    waiting: int, up: int, startup_s: float, run_s: float | None, training_s: float
) -> bool:
    """Whether one more worker would end a queue sooner. With `up` workers started, the
    `waiting` runs take about waiting * run_s / up more (run_s: recent runs' median). One
    more worker trains nothing while it starts (startup_s, measured here), and takes CPU
    from the others then where no core is free: it pays when that work outlasts two starts
    (e.g. 15 tiny runs of 0.06 s on 1 worker: 0.9 s against 2 * 3.5 s: no). Before a run
    has ended, a run that has trained longer than two starts (training_s, the longest) says
    the runs are long: yes."""
    if not waiting:
        return False
    work = waiting * run_s / up if run_s is not None else 0.0
    return max(work, training_s) > 2 * startup_s


@dataclass
class _Slot:
    """One worker and the run it is doing (run_id None: idle)."""

    worker: Worker
    run_id: str | None = None
    started: float = 0.0
    limit: float | None = None
    cancel_asked: float | None = None
    spec: RunSpec | None = None
    owner: str = ""
    alone: bool = False  # a retry after running out of memory: nothing else may run meanwhile
    retired: bool = False  # its worker died while starting with no run: not started again
    booted: float = 0.0  # when its worker was started
    warm_at: float | None = None  # when it was first seen warm (None: not yet)

    @property
    def device(self) -> str:
        return self.worker.device


def worker_threads(workers: int) -> int:
    """Each worker's share of the cores, so the pool never oversubscribes them; a host's
    OMP_NUM_THREADS caps it (the box runs other work: two threads per process on a busy
    2-core machine made tiny runs ten times slower, measured)."""
    share = max(1, (os.cpu_count() or 1) // workers)
    cap = os.environ.get("OMP_NUM_THREADS", "")
    return min(share, int(cap)) if cap.isdigit() and int(cap) > 0 else share


class PoolRunner:
    """Workers fed from the durable queue; runs are deduplicated by id. The backend-neutral
    core: its workers come from `executor`."""

    def __init__(
        self,
        root: str | os.PathLike,
        executor: Executor,
        workers: int,
        device: str = "auto",
        cancel_grace_s: float = CANCEL_GRACE_S,
        keep_queued_on_close: bool = True,
        keep_finished: int = KEEP_FINISHED,
    ):
        self.store = Store(root)
        self.queue = RunQueue(self.store.root)
        self.id = runner_id()
        self.device = device
        self.executor = executor
        self.cancel_grace_s = cancel_grace_s
        self.keep_queued_on_close = keep_queued_on_close
        self.keep_finished = keep_finished
        devices = executor.devices(workers)
        self.notice: str | None = executor.notice  # why fewer workers started than asked for
        self.workers = len(devices)
        self._slots = [_Slot(executor.worker(d, worker_threads(self.workers))) for d in devices]
        self._lock = threading.Lock()
        self._states: OrderedDict[str, RunState] = OrderedDict()
        self._closed = False
        self._last_sync = 0.0
        self._wake = threading.Event()  # set by submit and close: an idle loop looks at once
        # Measured here, to decide whether one more worker pays for its start:
        self._startup_s: float | None = None  # a worker's start, until it is warm
        self._run_s: deque[float] = deque(maxlen=8)  # how long the last runs trained
        self.idle_look_s = 0.5  # with every worker idle, how often to look for others' runs
        self._sync()  # pick up runs a previous server left behind, before the first page asks
        self._thread = threading.Thread(target=self._loop, name="cnnexp-runner", daemon=True)
        self._thread.start()

    # --- the interface ----------------------------------------------------------------------
    def submit(
        self,
        specs: list[RunSpec],
        owner: str = "",
        time_limit_s: float | None = None,
        again: bool = False,
    ) -> list[str]:
        """Queue runs that are neither saved as finished nor queued/running anywhere; returns
        their ids. time_limit_s caps each run's wall time: it is stopped and says why.
        again: also runs saved as finished, trained anew and saved over (a run saved before
        runs kept their weights)."""
        if time_limit_s is not None and not time_limit_s > 0:
            raise ValueError(f"time_limit_s={time_limit_s!r} must be a positive number of seconds")
        saved = self.store.records(s.run_id for s in specs)
        todo = [s for s in specs if again or saved.get(s.run_id, {}).get("status") not in FINISHED]
        # Runs queued or running already (here, in another tab or in the CLI) are not added.
        queued = set(self.queue.add_many(todo, owner, self.id, time_limit_s))
        with self._lock:
            for s in todo:
                if s.run_id in queued:
                    self._fresh_state(s, owner)
        self._wake.set()
        return [s.run_id for s in todo if s.run_id in queued]

    def snapshot(self) -> dict[str, RunState]:
        with self._lock:
            return {
                k: RunState(**{**v.__dict__, "history": list(v.history)})
                for k, v in self._states.items()
            }

    def cancel(self, run_ids: list[str] | None = None) -> None:
        """Cancel queued or running runs (all of this runner's when run_ids is None)."""
        with self._lock:
            ids = set(run_ids) if run_ids is not None else set(self._states)
        dropped, _ = self.queue.cancel([i for i in ids if i not in self._running_ids()])
        with self._lock:
            for rid in dropped:
                if rid in self._states:
                    self._set(rid, "cancelled", None)
            for slot in self._slots:
                if slot.run_id in ids:
                    self._ask_stop(slot)

    def active_runs(self, owner: str) -> int:
        """Runs this owner has queued or running."""
        with self._lock:
            return sum(
                1 for st in self._states.values() if st.owner == owner and st.status in ACTIVE
            )

    @property
    def worker_pid(self) -> int | None:
        """The pid of a worker that is running a run (else of any live worker)."""
        live = [s for s in self._slots if s.worker.pid is not None]
        busy = [s for s in live if s.run_id is not None]
        return (busy or live)[0].worker.pid if live else None

    def worker_pids(self) -> dict[str, int]:
        """run id -> pid of the worker process training it (a Ray actor's on its node)."""
        return {s.run_id: s.worker.pid for s in self._slots if s.run_id and s.worker.pid}

    def worker_states(self) -> list[str]:
        """Each worker's state: off (not started), starting (importing), warm."""
        return [s.worker.state for s in self._slots]

    def busy(self) -> bool:
        with self._lock:
            return any(st.status in ACTIVE for st in self._states.values())

    def close(self) -> None:
        """Stop the workers. Queued runs stay in the durable queue for the next runner (the
        dashboard) or are dropped (the CLI); running ones are killed and recorded as
        interrupted, nothing of them saved."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=5)
        for slot in self._slots:
            if slot.run_id is not None:
                slot.worker.kill()
                self._interrupt(slot.run_id, "the server shut down while this run was training")
                self._free(slot)
        self.executor.close()
        self.queue.release(self.id, drop_queued=not self.keep_queued_on_close)

    # --- the loop that feeds the workers ----------------------------------------------------
    def _running_ids(self) -> set[str]:
        return {s.run_id for s in self._slots if s.run_id is not None}

    def _set(self, run_id: str, status: str, error: str | None) -> None:
        """Record a state's end (lock held) and evict the oldest finished states."""
        st = self._states.get(run_id)
        if st is not None:
            st.status, st.error = status, error
        self._evict()

    def _fresh_state(self, spec: RunSpec, owner: str) -> RunState:
        """The state of a run just queued or claimed (lock held): a new one, unless it is
        queued or running already. The loop may claim a run between submit adding it to the
        queue and writing its state: whichever comes second keeps what the first wrote (it
        was set back to 'queued' for all of its training). An ended state is an earlier
        attempt's: replaced, its epochs with it."""
        st = self._states.get(spec.run_id)
        if st is None or st.status not in ACTIVE:
            st = self._states[spec.run_id] = state_for(spec, owner)
            self._states.move_to_end(spec.run_id)
        return st

    def _evict(self) -> None:
        """Forget the oldest finished states beyond keep_finished (lock held): the saved
        records are the truth, so memory stays flat over thousands of runs."""
        finished = [k for k, v in self._states.items() if v.status not in ACTIVE]
        for k in finished[: max(0, len(finished) - self.keep_finished)]:
            del self._states[k]

    def _feed(self) -> None:
        """Give queued runs to warm idle workers, and start a worker when runs wait for one
        and it pays for its start (worth_another).

        A worker spends seconds importing torch: a run given to it then waited for that while
        a warm worker could have trained it, and a second worker for 16 tiny runs made them
        slower (issue 25). So workers start one at a time, runs go only to warm workers once
        one is warm, and another starts only when the waiting runs would outlast its start.
        Started workers stay warm until close."""
        now = time.time()
        for slot in self._slots:
            if slot.worker.state == "warm" and slot.warm_at is None:
                slot.warm_at = now
                self._startup_s = now - slot.booted
            if slot.run_id is None and slot.worker.state == "warm":
                self._dispatch(slot)
        states = [s.worker.state for s in self._slots if not s.retired]
        if "starting" in states or "off" not in states:
            return
        if any(s.run_id is None and s.worker.state == "warm" for s in self._slots):
            return  # a warm worker is idle: it had nothing to take
        off = next(s for s in self._slots if not s.retired and s.worker.state == "off")
        if "warm" not in states:
            # The first worker starts with a run: if it dies starting, that run says why.
            self._booting(off)
            self._dispatch(off)
        elif self._worth_another():
            self._booting(off)
            off.worker.boot(self.queue.next(self.id))

    def _booting(self, slot: _Slot) -> None:
        slot.booted, slot.warm_at = time.time(), None

    def _worth_another(self) -> bool:
        waiting = self.queue.waiting(self.id)
        if not waiting or self._startup_s is None:
            return False
        now = time.time()  # a run trains from when it started or its worker was warm
        training = [now - max(s.started, s.warm_at or now) for s in self._slots if s.run_id]
        up = sum(s.worker.state != "off" for s in self._slots)
        run_s = statistics.median(self._run_s) if self._run_s else None
        return worth_another(waiting, up, self._startup_s, run_s, max(training, default=0))

    def _dispatch(self, slot: _Slot) -> None:
        busy = [s for s in self._slots if s.run_id is not None]
        if any(s.alone for s in busy):
            return  # a retry after running out of memory has the pool to itself
        row = self.queue.claim(self.id, idle=not busy)
        if row is None:
            return
        spec = spec_from_json(row["spec"])
        job = Job(spec, row["time_limit_s"], bool(row["alone"]))
        with self._lock:
            self._fresh_state(spec, row["owner"]).status = "running"
            slot.run_id, slot.spec, slot.owner = spec.run_id, spec, row["owner"]
            slot.started, slot.limit, slot.alone = time.time(), job.limit, job.alone
            # Under the lock: a cancel between the claim and the start found a run on a
            # worker not yet started, with nothing to stop (found by a test on a busy box).
            slot.worker.start(job)

    def _apply(self, slot: _Slot, events: list[Event]) -> None:
        """What a worker said about its run: epochs, then how it ended."""
        for event in events:
            match event:
                case Epoch(row):
                    with self._lock:
                        st = self._states.get(slot.run_id)
                        if st is not None:
                            st.history.append(row)
                            st.epoch = row["epoch"]
                case Ended(status, error):
                    if status in FINISHED and slot.warm_at:  # a measure of the runs queued
                        self._run_s.append(time.time() - max(slot.started, slot.warm_at))
                    self._finish(slot, status, error)
                case OutOfMemory(error):
                    self._retry_alone(slot, error)
                case Died(error) if slot.run_id is None:  # started with no run, died starting
                    slot.retired = True  # not started again: it might die the same way
                    self.notice = f"{error}; the pool goes on without it"
                    print(f"cnnexp runner: {self.notice}", file=sys.stderr)
                case Died(error):
                    self._finish(slot, "failed", error)
                case Lost(why):
                    spec, owner = slot.spec, slot.owner
                    self._free(slot)
                    self._record_interrupted(spec, owner, why)

    def _retry_alone(self, slot: _Slot, error: str) -> None:
        """A run out of memory beside others: queue it again, to run with nothing else."""
        with self._lock:
            st = self._states.get(slot.run_id)
            if st is not None:
                st.status, st.epoch, st.history = "queued", 0, []
                st.error = f"{error}; queued again, to run alone when the runs in flight end"
        self.queue.requeue_alone(slot.run_id)
        slot.run_id, slot.cancel_asked = None, None

    def _ask_stop(self, slot: _Slot) -> None:
        """Ask a slot's run to stop at its next batch (lock held); killed after the grace."""
        if slot.cancel_asked is None:
            slot.worker.stop()
            slot.cancel_asked = time.time()

    def _check_overdue(self, slot: _Slot) -> None:
        """Kill a run that ignores its stop past the grace, or its time limit and the grace
        (stopped at its next batch past the limit, it would have ended by now)."""
        now_s = time.time()
        if slot.cancel_asked and now_s - slot.cancel_asked > self.cancel_grace_s:
            self._kill(slot, None)
        elif slot.limit and now_s - slot.started > slot.limit + self.cancel_grace_s:
            self._kill(slot, time_limit_reason(slot.limit))

    def _kill(self, slot: _Slot, error: str | None) -> None:
        slot.worker.kill()  # nothing of the run is saved
        self._finish(slot, "cancelled", error)

    def _free(self, slot: _Slot) -> None:
        self.queue.remove(slot.run_id)
        slot.run_id, slot.cancel_asked, slot.alone = None, None, False

    def _finish(self, slot: _Slot, status: str, error: str | None) -> None:
        with self._lock:
            self._set(slot.run_id, status, error)
        self._free(slot)

    def _interrupt(self, run_id: str, why: str) -> None:
        """Record a run that was training when its runner went away; it can be launched again."""
        reason = f"interrupted: {why}; nothing of it was saved. Launch it again to train it."
        with self._lock:
            self._set(run_id, "interrupted", reason)

    def _sync(self) -> None:
        """Adopt what dead runners left, and honour cancels asked from elsewhere (the CLI)."""
        queued, running = self.queue.adopt(self.id)
        for row in running:
            spec = spec_from_json(row["spec"])
            saved = self.store.records([spec.run_id]).get(spec.run_id)
            if saved is not None and saved.get("status") in FINISHED:
                continue  # it was saved just before its runner died
            self._record_interrupted(spec, row["owner"])
        with self._lock:
            for row in queued:
                spec = spec_from_json(row["spec"])
                self._states.setdefault(spec.run_id, state_for(spec, row["owner"]))
        rows = {r["run_id"]: r for r in self.queue.rows()}
        with self._lock:
            for rid, st in self._states.items():
                if st.status == "queued" and rid not in rows:  # cancelled by the CLI
                    st.status = "cancelled"
            self._evict()
            for slot in self._slots:
                r = rows.get(slot.run_id)
                if r is not None and r["cancel"]:
                    self._ask_stop(slot)

    def _record_interrupted(
        self, spec: RunSpec, owner: str, why: str = "the server stopped while this run was training"
    ) -> None:
        """Save an `interrupted` record for a run whose worker or runner is gone."""
        error = f"interrupted: {why}; launch it again to train it"
        record = {**identity(spec), "status": "interrupted", "error": error, "ended_at": now()}
        with contextlib.suppress(OSError):  # read-only store: the state below still says it
            self.store.save({**record, **versions()}, [])
        with self._lock:
            self._states[spec.run_id] = state_for(spec, owner, status="interrupted", error=error)
            self._states.move_to_end(spec.run_id)
            self._evict()

    def _loop(self) -> None:
        last_said = 0.0
        while not self._closed:
            try:
                self._turn()
            except Exception as e:  # a dead loop would leave every run "running" for good
                if time.time() - last_said > 10:  # one line per 10 s, not one per turn
                    last_said = time.time()
                    print(f"cnnexp runner: {type(e).__name__}: {e} (going on)", file=sys.stderr)
                time.sleep(0.5)

    def _turn(self) -> None:
        """One look at the queue and the workers."""
        if time.time() - self._last_sync > 1.0:
            self._last_sync = time.time()
            self._sync()
        self._feed()
        moved = False
        for slot in self._slots:
            events = slot.worker.events()
            self._apply(slot, events)
            moved |= bool(events)
            if slot.run_id is not None:
                self._check_overdue(slot)
        if not moved:
            self._wait()

    def _wait(self) -> None:
        """Sleep until a worker says something or is warm (50 ms at most) or, with every
        worker idle, until a run is submitted here (idle_look_s at most: runs queued by other
        processes are claimed on the next look). An idle server then asks the queue twice a
        second, not twenty times."""
        heard = [
            s.worker for s in self._slots if s.run_id is not None or s.worker.state == "starting"
        ]
        if heard:
            self.executor.wait(heard, 0.05)
        elif self._wake.wait(self.idle_look_s):
            self._wake.clear()


class LocalRunner(PoolRunner):
    """The embedded backend: the core with worker processes on this machine."""

    def __init__(
        self,
        root: str | os.PathLike,
        device: str = "auto",
        data_dir: str | None = None,
        workers: int | None = None,
        memory_limit_mb: int | None = None,
        **kw,
    ):
        """memory_limit_mb caps what each worker's runs may allocate (Linux; CPU memory):
        a run past it fails out of memory, is retried alone once, then recorded failed.
        kw: PoolRunner's (cancel_grace_s, keep_queued_on_close, keep_finished)."""
        executor = LocalExecutor(str(Store(root).root), device, data_dir, memory_limit_mb)
        super().__init__(root, executor, workers or default_workers(device), device=device, **kw)
