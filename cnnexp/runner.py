"""Executing runs: inline (the CLI) or in a pool of worker processes (dashboard, CLI --workers).

`execute(spec, store, ctx)` is the one function that does a run: call the experiment's
work, stamp the record, save it atomically. The CLI calls it directly; `LocalRunner` calls
it in worker processes so training never runs on Streamlit's script thread, survives
reruns and page switches, and can be cancelled or killed without hurting the app.

Runner is the interface a page uses (submit, snapshot, cancel, close). LocalRunner is the
embedded backend: N workers fed from one durable queue (cnnexp/runqueue.py) that every
browser session, and the CLI, share.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import multiprocessing.connection as mp_connection
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from cnnexp import experiments
from cnnexp.results import FINISHED
from cnnexp.runqueue import ACTIVE, RunQueue, runner_id, spec_from_json
from cnnexp.runspec import RunContext, RunOutput, RunSpec
from cnnexp.store import Store, versions

CANCEL_GRACE_S = 10.0  # a run that ignores its cancel flag this long is killed with its worker
KEEP_FINISHED = 500  # finished run states kept in memory; older ones live only in the store
# Workers train at a lower CPU priority than the dashboard: on a shared machine a visitor's page
# is drawn first and training takes the cycles left over (alone, it still gets every core).
WORKER_NICENESS = 10
# What one GPU worker needs: its CUDA context (~0.5 GiB) and room for a small model, its
# batches and a dataset held on the device. A guess on the safe side: a run that needs more
# fails out of memory and is retried alone.
GPU_WORKER_BYTES = 2 * 2**30


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def execute(spec: RunSpec, store: Store, ctx: RunContext) -> dict:
    """Run one spec and save it; returns the record. Never raises for a failed run.

    A run cancelled before its first epoch ended leaves nothing saved (there is nothing to
    show); the returned record says `cancelled` and has `saved: False`."""
    return save(store, *perform(spec, ctx))


def perform(spec: RunSpec, ctx: RunContext) -> tuple[dict, RunOutput]:
    """The run itself, nothing saved: its record and output. A remote worker (Ray) returns
    these to the driver, which saves them with `save`, so no shared file system is needed."""
    started, t0 = _now(), time.perf_counter()
    ctx.precision = spec.precision  # the id promises this precision; the engine honours it
    try:
        out = experiments.get(spec.experiment).execute(spec, ctx)
    except Exception as e:  # the run failed; the record says why and the caller goes on
        out = RunOutput(status="failed", error=f"{type(e).__name__}: {e}", device=ctx.device)
        out.out_of_memory = out_of_memory(e)
    if out.out_of_memory:  # the failed run's tensors are gone now: give their memory back
        _release_gpu_cache()
    if not out.precision:
        out.precision = spec.precision
    if out.status == "cancelled" and ctx.stop_reason and not out.error:
        out.error = ctx.stop_reason
    record = {
        **_identity(spec),
        "status": out.status,
        "error": out.error,
        "device": out.device,
        "precision": out.precision,
        "started_at": started,
        "ended_at": _now(),
        "duration_s": time.perf_counter() - t0,
        **out.summary,
        **versions(),
    }
    return record, out


def _identity(spec: RunSpec) -> dict:
    """The fields of a run's record that say which run it is."""
    return {
        "run_id": spec.run_id,
        "experiment": spec.experiment,
        "version": spec.version,
        "seed": spec.seed,
        "label": spec.label,
        "precision": spec.precision,
        "config": spec.config,
    }


def out_of_memory(e: BaseException) -> bool:
    """Whether a run failed for want of memory: a GPU's (torch.OutOfMemoryError), Python's
    (MemoryError, e.g. numpy) or torch's CPU allocator (a RuntimeError that says so)."""
    if isinstance(e, MemoryError) or type(e).__name__ == "OutOfMemoryError":
        return True
    text = str(e).lower()
    return isinstance(e, RuntimeError) and any(
        s in text for s in ("out of memory", "can't allocate memory", "cannot allocate memory")
    )


def _release_gpu_cache() -> None:
    torch = sys.modules.get("torch")  # a run that touched a GPU has imported torch
    if torch is not None and torch.cuda.is_initialized():
        torch.cuda.empty_cache()


def alone_failure(record: dict) -> dict:
    """The record of a run out of memory a second time, trained alone: failed, saying why."""
    return {
        **record,
        "status": "failed",
        "error": "out of memory, also when retried alone with no other run in flight: "
        f"{record['error']}. Try a smaller width or batch size.",
    }


def save(store: Store, record: dict, out: RunOutput) -> dict:
    """Save a performed run; returns its record with `saved` (and why not, if it failed).
    A cancelled run never replaces a finished one (trained again for its weights, then
    cancelled: the finished run stays)."""
    if out.status == "cancelled" and not out.metrics:
        return {**record, "saved": False}
    if out.status == "cancelled":
        rid = record["run_id"]
        if store.records([rid]).get(rid, {}).get("status") in FINISHED:
            return {**record, "saved": False}
    try:
        store.save(record, out.metrics, out.tables, out.blobs)
    except OSError as e:  # disk full, read-only folder: say so; the worker goes on
        return {
            **record,
            "status": "failed",
            "error": f"the result could not be saved in {store.root}: {e}",
            "saved": False,
        }
    return {**record, "saved": True}


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


def default_workers(device: str = "auto") -> int:
    """CNNEXP_WORKERS, else K slots per GPU (CNNEXP_SLOTS_PER_GPU, default 4) on a GPU
    machine, else one worker per pair of CPU cores."""
    if os.environ.get("CNNEXP_WORKERS"):
        n = os.environ["CNNEXP_WORKERS"]
        if not n.isdigit() or int(n) < 1:
            raise ValueError(f"CNNEXP_WORKERS={n!r} must be a whole number of at least 1")
        return int(n)
    gpus = _gpu_count() if device in ("auto", "cuda") or device.startswith("cuda") else 0
    if gpus:
        slots = os.environ.get("CNNEXP_SLOTS_PER_GPU", "4")
        if not slots.isdigit() or int(slots) < 1:
            raise ValueError(f"CNNEXP_SLOTS_PER_GPU={slots!r} must be a whole number of at least 1")
        return int(slots) * (1 if device.startswith("cuda:") else gpus)
    return max(1, (os.cpu_count() or 2) // 2)


def fit_gpu_workers(free: int, need: int, wanted: int, device: str) -> tuple[int, str | None]:
    """How many of `wanted` workers to start on a GPU with `free` bytes when each needs about
    `need`, and why fewer (None when all fit). One always starts, so runs still go; if it
    lacks memory its runs fail out of memory and say so."""
    fits = min(wanted, free // need)
    if fits >= wanted:
        return wanted, None
    gib = 2**30
    have = f"{device} has {free / gib:.1f} GiB free and a worker needs about {need / gib:.1f} GiB"
    if fits < 1:
        return 1, f"{have}: starting 1 worker anyway; its runs may fail out of memory"
    return fits, f"{have}: starting {fits} of {wanted} workers there"


def gpu_free_bytes() -> list[int] | None:
    """Free bytes on each visible GPU; None when there is no GPU or it cannot be asked.

    Asked in a short-lived child process: torch.cuda.mem_get_info creates a CUDA context,
    which would keep ~0.5 GiB of every GPU in the dashboard's own process for good."""
    if not _gpu_count():
        return None
    code = (
        "import torch; "
        "print([torch.cuda.mem_get_info(i)[0] for i in range(torch.cuda.device_count())])"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
        )
        return [int(b) for b in json.loads(done.stdout)]
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def _gpu_count() -> int:
    from cnnexp.runspec import cuda_available

    if not cuda_available():  # answered without importing torch on a machine with no NVIDIA driver
        return 0
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _worker_main(
    root: str,
    device: str,
    data_dir: str | None,
    threads: int,
    memory_limit_mb: int | None,
    tasks,
    events,
    cancel,
    parent: int,
) -> None:
    """A worker process: take a (seq, spec, time limit, alone), run it, report epochs and the
    end. A run out of memory beside others is not saved but reported (`oom`): the runner
    queues it again, alone; out of memory alone, it is saved failed with the reason."""
    # Ctrl-C in a terminal reaches the whole process group: the parent stops the pool (and
    # kills a busy worker, recording its run as interrupted); each worker printing its own
    # KeyboardInterrupt traceback said nothing more. (In the second or two a new worker spends
    # importing, before this line, a Ctrl-C still ends it with a traceback.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import torch

    torch.set_num_threads(threads)  # the pool shares the cores; never oversubscribe them
    lower_priority()
    if memory_limit_mb:
        _limit_memory(memory_limit_mb)
    store = Store(root)
    while True:
        try:
            item = tasks.get(timeout=1.0)
        except queue.Empty:
            if os.getppid() != parent:  # the app died without telling us
                return
            continue
        if item is None:
            return
        seq, spec, limit, alone = item
        deadline = time.monotonic() + limit if limit else None
        ctx = RunContext(
            device=device,
            data_dir=data_dir,
            on_epoch=lambda row, seq=seq: events.send(("epoch", seq, row)),
        )

        def should_stop(seq=seq, deadline=deadline, limit=limit, ctx=ctx) -> bool:
            if os.getppid() != parent:  # the app died mid-run: stop now, save nothing
                os._exit(0)
            if cancel.value == seq:
                return True
            if deadline is not None and time.monotonic() > deadline:
                ctx.stop_reason = f"stopped at the time limit of {limit:g} s per run"
                return True
            return False

        ctx.should_stop = should_stop
        record, out = perform(spec, ctx)
        if out.out_of_memory and not alone:
            events.send(("oom", seq, out.error))
            continue
        if out.out_of_memory:
            record = alone_failure(record)
        record = save(store, record, out)
        events.send(("end", seq, record["status"], record.get("error")))


def lower_priority() -> None:
    """Lower this process's CPU priority by WORKER_NICENESS (where the OS allows it)."""
    with contextlib.suppress(AttributeError, OSError):  # no os.nice on Windows
        os.nice(WORKER_NICENESS)


def _limit_memory(mb: int) -> None:
    """Cap the memory this worker's runs may take, `mb` beyond what it holds now (RLIMIT_DATA:
    its private writable memory, which every tensor and array lives in). A run that asks for
    more fails with a real out-of-memory error instead of pushing the server into swap."""
    import resource

    held = next(
        int(line.split()[1]) * 1024
        for line in Path("/proc/self/status").read_text().splitlines()
        if line.startswith("VmData:")
    )
    resource.setrlimit(resource.RLIMIT_DATA, (held + mb * 2**20, resource.RLIM_INFINITY))


@dataclass
class _Slot:
    """One worker process and the run it is doing."""

    device: str
    proc: object = None
    tasks: object = None
    events: object = None
    cancel: object = None
    run_id: str | None = None
    seq: int = 0
    started: float = 0.0
    limit: float | None = None
    cancel_asked: float | None = None
    spec: RunSpec | None = None
    owner: str = ""
    alone: bool = False  # a retry after running out of memory: nothing else may run meanwhile
    ref: object = None  # the Ray backend's in-flight task


class LocalRunner:
    """A pool of worker processes fed from the durable queue; runs are deduplicated by id."""

    def __init__(
        self,
        root: str | os.PathLike,
        device: str = "auto",
        data_dir: str | None = None,
        workers: int | None = None,
        cancel_grace_s: float = CANCEL_GRACE_S,
        keep_queued_on_close: bool = True,
        keep_finished: int = KEEP_FINISHED,
        memory_limit_mb: int | None = None,
    ):
        """memory_limit_mb caps what each worker's runs may allocate (Linux; CPU memory):
        a run past it fails out of memory, is retried alone once, then recorded failed."""
        self.store = Store(root)
        self.queue = RunQueue(self.store.root)
        self.id = runner_id()
        self.device, self.data_dir = device, data_dir
        self.cancel_grace_s = cancel_grace_s
        self.keep_queued_on_close = keep_queued_on_close
        self.keep_finished = keep_finished
        self.memory_limit_mb = memory_limit_mb
        self.notice: str | None = None  # why fewer workers started than asked for
        self._slots = [_Slot(d) for d in self._slot_devices(workers or default_workers(device))]
        self.workers = len(self._slots)
        self._threads = max(1, (os.cpu_count() or 1) // self.workers)
        self._mp = mp.get_context("spawn")  # a clean interpreter: no inherited threads or CUDA
        self._lock = threading.Lock()
        self._states: OrderedDict[str, RunState] = OrderedDict()
        self._seq = 0
        self._closed = False
        self._last_sync = 0.0
        self._wake = threading.Event()  # set by submit and close: an idle loop looks at once
        self.idle_look_s = 0.5  # with every worker idle, how often to look for others' runs
        self._sync()  # pick up runs a previous server left behind, before the first page asks
        self._thread = threading.Thread(target=self._loop, name="cnnexp-runner", daemon=True)
        self._thread.start()

    def _slot_devices(self, workers: int) -> list[str]:
        """Each worker's device: spread over the GPUs, but only as many on a GPU as its free
        memory holds (self.notice says why fewer)."""
        gpus = _gpu_count() if self.device in ("auto", "cuda") else 0
        devices = [f"cuda:{i % gpus}" if gpus else self.device for i in range(workers)]
        free = gpu_free_bytes() if any(d.startswith("cuda") for d in devices) else None
        if free is None:
            return devices
        allowed, notes = {}, []
        for d in dict.fromkeys(devices):
            index, wanted = int(d.partition(":")[2] or 0), devices.count(d)
            if index >= len(free):  # not a GPU the child saw: torch will say what is wrong
                allowed[d] = wanted
                continue
            allowed[d], why = fit_gpu_workers(free[index], GPU_WORKER_BYTES, wanted, d)
            notes += [why] if why else []
        self.notice = "; ".join(notes) or None
        kept = []
        for d in devices:
            if allowed[d] > 0:
                allowed[d] -= 1
                kept.append(d)
        return kept

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
                    self._states[s.run_id] = state_for(s, owner)
                    self._states.move_to_end(s.run_id)
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

    def busy(self) -> bool:
        with self._lock:
            return any(st.status in ACTIVE for st in self._states.values())

    def close(self) -> None:
        """Stop the workers. Queued runs stay in the durable queue for the next runner (the
        dashboard) or are dropped (the CLI); running ones are recorded as interrupted."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=5)
        for slot in self._slots:
            if slot.proc is not None and slot.proc.is_alive():
                slot.tasks.put(None)
        for slot in self._slots:
            if slot.proc is None:
                continue
            if slot.run_id is not None:
                slot.proc.kill()  # its run is recorded as interrupted just below
            slot.proc.join(timeout=5)
            if slot.proc.is_alive():
                slot.proc.kill()
            if slot.run_id is not None:
                self._interrupt(slot.run_id, "the server shut down while this run was training")
                self._free(slot)
        self.queue.release(self.id, drop_queued=not self.keep_queued_on_close)

    @property
    def worker_pid(self) -> int | None:
        """The pid of a worker that is running a run (else of any live worker)."""
        live = [s for s in self._slots if s.proc is not None and s.proc.is_alive()]
        busy = [s for s in live if s.run_id is not None]
        return (busy or live)[0].proc.pid if live else None

    def worker_pids(self) -> dict[str, int]:
        """run id -> pid of the worker training it."""
        return {s.run_id: s.proc.pid for s in self._slots if s.run_id and s.proc is not None}

    # --- the loop that feeds the workers ----------------------------------------------------
    def _running_ids(self) -> set[str]:
        return {s.run_id for s in self._slots if s.run_id is not None}

    def _set(self, run_id: str, status: str, error: str | None) -> None:
        """Record a state's end (lock held) and evict the oldest finished states."""
        st = self._states.get(run_id)
        if st is not None:
            st.status, st.error = status, error
        self._evict()

    def _evict(self) -> None:
        """Forget the oldest finished states beyond keep_finished (lock held): the saved
        records are the truth, so memory stays flat over thousands of runs."""
        finished = [k for k, v in self._states.items() if v.status not in ACTIVE]
        for k in finished[: max(0, len(finished) - self.keep_finished)]:
            del self._states[k]

    def _ensure_worker(self, slot: _Slot) -> None:
        if slot.proc is not None and slot.proc.is_alive():
            return
        # Events come back on a pipe, which the loop can wait on: a run's end is seen at once.
        slot.tasks, (slot.events, sender) = self._mp.Queue(), self._mp.Pipe(duplex=False)
        slot.cancel = self._mp.Value("q", -1, lock=False)  # seq of the run to stop
        slot.proc = self._mp.Process(
            target=_worker_main,
            name="cnnexp-worker",
            daemon=True,
            args=(
                str(self.store.root),
                slot.device,
                self.data_dir,
                self._threads,
                self.memory_limit_mb,
                slot.tasks,
                sender,
                slot.cancel,
                os.getpid(),
            ),
        )
        slot.proc.start()
        sender.close()  # the worker holds the only sending end: its death reads as the end

    def _dispatch(self, slot: _Slot) -> None:
        busy = [s for s in self._slots if s.run_id is not None]
        if any(s.alone for s in busy):
            return  # a retry after running out of memory has the pool to itself
        row = self.queue.claim(self.id, idle=not busy)
        if row is None:
            return
        spec = spec_from_json(row["spec"])
        self._seq += 1
        self._ensure_worker(slot)
        with self._lock:
            st = self._states.setdefault(spec.run_id, state_for(spec, row["owner"]))  # adopted
            st.status = "running"
            slot.run_id, slot.seq, slot.started = spec.run_id, self._seq, time.time()
            slot.limit, slot.cancel_asked, slot.spec = row["time_limit_s"], None, spec
            slot.owner, slot.alone = row["owner"], bool(row["alone"])
        self._start(slot, spec)

    def _start(self, slot: _Slot, spec: RunSpec) -> None:
        slot.tasks.put((slot.seq, spec, slot.limit, slot.alone))

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
            slot.cancel.value = slot.seq
            slot.cancel_asked = time.time()

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
        error = f"interrupted: {why}; launch it again to train it"
        record = {
            **_identity(spec),
            "status": "interrupted",
            "error": error,
            "ended_at": _now(),
            **versions(),
        }
        with contextlib.suppress(OSError):  # read-only store: the state below still says it
            self.store.save(record, [])
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
        moved = False
        for slot in self._slots:
            if slot.run_id is None:
                self._dispatch(slot)
                continue
            moved |= self._drain(slot)
            if slot.run_id is not None:
                self._check_worker(slot)
        if not moved:
            self._wait()

    def _wait(self) -> None:
        """Sleep until a worker says something (50 ms at most) or, with every worker idle, until
        a run is submitted here (idle_look_s at most: runs queued by other processes are claimed
        on the next look). An idle server then asks the queue twice a second, not twenty times."""
        pipes = [s.events for s in self._slots if s.run_id is not None and s.events is not None]
        if pipes:
            mp_connection.wait(pipes, timeout=0.05)
        elif self._wake.wait(self.idle_look_s):
            self._wake.clear()

    def _drain(self, slot: _Slot) -> bool:
        """Apply the events a worker sent; True if there were any."""
        moved = False
        while slot.run_id is not None:
            try:
                if not slot.events.poll():
                    return moved
                kind, seq, *rest = slot.events.recv()
            except (EOFError, OSError):  # the worker is gone; _check_worker takes it from here
                return moved
            moved = True
            if seq != slot.seq:
                continue
            if kind == "epoch":
                with self._lock:
                    st = self._states.get(slot.run_id)
                    if st is not None:
                        st.history.append(rest[0])
                        st.epoch = rest[0]["epoch"]
            elif kind == "end":
                self._finish(slot, *rest)
            elif kind == "oom":
                self._retry_alone(slot, *rest)
        return moved

    def _check_worker(self, slot: _Slot) -> None:
        """Notice a dead worker, or one that ignores a cancel or its time limit, and recover."""
        now = time.time()
        if not slot.proc.is_alive():
            self._drain(slot)  # its last words may still be in the queue
            if slot.run_id is None:
                return
            code = slot.proc.exitcode
            slot.proc = None
            self._finish(
                slot,
                "failed",
                f"the worker process died (exit code {code}) during this run; "
                "nothing was saved for it",
            )
        elif slot.cancel_asked and now - slot.cancel_asked > self.cancel_grace_s:
            self._kill(slot, "cancelled", None)
        elif slot.limit and now - slot.started > slot.limit + self.cancel_grace_s:
            self._kill(slot, "cancelled", f"stopped at the time limit of {slot.limit:g} s per run")

    def _kill(self, slot: _Slot, status: str, error: str | None) -> None:
        slot.proc.kill()
        slot.proc.join()
        slot.proc = None
        self._finish(slot, status, error)
