"""Executing runs: inline (the CLI) or in a worker process (the dashboard).

`execute(spec, store, ctx)` is the one function that does a run: call the experiment's
work, stamp the record, save it atomically. The CLI calls it directly; `LocalRunner` calls
it in a worker process so training never runs on Streamlit's script thread, survives
reruns and page switches, and can be cancelled or killed without hurting the app.

Runner is the interface a page uses (submit, snapshot, cancel). LocalRunner is the embedded
backend: one worker per device fed from one queue that every browser session shares. A
backend for a cluster (Ray) would implement the same three methods around the same
`execute`, writing to the same store on shared storage.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from cnnexp import experiments
from cnnexp.results import FINISHED
from cnnexp.runspec import RunContext, RunOutput, RunSpec
from cnnexp.store import Store, versions

CANCEL_GRACE_S = 10.0  # a run that ignores its cancel flag this long is killed with its worker


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def execute(spec: RunSpec, store: Store, ctx: RunContext) -> dict:
    """Run one spec and save it; returns the saved record. Never raises for a failed run."""
    started, t0 = _now(), time.perf_counter()
    try:
        out = experiments.get(spec.experiment).execute(spec, ctx)
    except Exception as e:  # the run failed; the record says why and the caller goes on
        out = RunOutput(status="failed", error=f"{type(e).__name__}: {e}", device=ctx.device)
    record = {
        "run_id": spec.run_id,
        "experiment": spec.experiment,
        "version": spec.version,
        "seed": spec.seed,
        "label": spec.label,
        "status": out.status,
        "error": out.error,
        "device": out.device,
        "started_at": started,
        "ended_at": _now(),
        "duration_s": time.perf_counter() - t0,
        "config": spec.config,
        **out.summary,
        **versions(),
    }
    store.save(record, out.metrics, out.tables, out.blobs)
    return record


@dataclass
class RunState:
    """What a page shows about one submitted run."""

    run_id: str
    experiment: str
    label: str
    seed: int
    epochs: int
    status: str = "queued"  # queued, running, done, diverged, failed, cancelled, cached
    epoch: int = 0
    history: list[dict] = field(default_factory=list)
    error: str | None = None
    submitted: float = field(default_factory=time.time)
    owner: str = ""  # who launched it (hosted caps count runs per person)


class Runner(Protocol):
    def submit(self, specs: list[RunSpec], owner: str = "") -> list[str]: ...
    def snapshot(self) -> dict[str, RunState]: ...
    def cancel(self, run_ids: list[str] | None = None) -> None: ...


def _worker_main(
    root: str, device: str, data_dir: str | None, tasks, events, cancel, parent: int
) -> None:
    """The worker process: take a (seq, spec), run it, report epochs and the end."""
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
        seq, spec = item
        ctx = RunContext(
            device=device,
            data_dir=data_dir,
            on_epoch=lambda row, seq=seq: events.put(("epoch", seq, row)),
            should_stop=lambda seq=seq: cancel.value == seq,
        )
        record = execute(spec, store, ctx)
        events.put(("end", seq, record["status"], record.get("error")))


class LocalRunner:
    """One worker process fed from one queue; runs are deduplicated by id."""

    def __init__(self, root: str | os.PathLike, device: str = "auto", data_dir: str | None = None):
        self.store = Store(root)
        self.device, self.data_dir = device, data_dir
        self._mp = mp.get_context("spawn")  # a clean interpreter: no inherited threads or CUDA
        self._lock = threading.Lock()
        self._pending: deque[RunSpec] = deque()
        self._states: dict[str, RunState] = {}
        self._proc = None
        self._tasks = self._events = None
        self._cancel = self._mp.Value("q", -1, lock=False)  # seq of the run to stop
        self._seq = 0
        self._current: tuple[int, RunSpec] | None = None
        self._cancel_asked: float | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="cnnexp-runner", daemon=True)
        self._thread.start()

    # --- the interface ----------------------------------------------------------------------
    def submit(self, specs: list[RunSpec], owner: str = "") -> list[str]:
        """Queue runs that are neither saved as finished nor already queued; returns their ids."""
        saved = self.store.records(s.run_id for s in specs)
        queued = []
        with self._lock:
            for s in specs:
                st = self._states.get(s.run_id)
                if st is not None and st.status in ("queued", "running"):
                    continue
                if saved.get(s.run_id, {}).get("status") in FINISHED:
                    continue
                self._states[s.run_id] = RunState(
                    s.run_id, s.experiment, s.label, s.seed, s.epochs, owner=owner
                )
                self._pending.append(s)
                queued.append(s.run_id)
        return queued

    def snapshot(self) -> dict[str, RunState]:
        with self._lock:
            return {
                k: RunState(**{**v.__dict__, "history": list(v.history)})
                for k, v in self._states.items()
            }

    def cancel(self, run_ids: list[str] | None = None) -> None:
        """Cancel queued or running runs (all of them when run_ids is None)."""
        with self._lock:
            ids = set(run_ids) if run_ids is not None else set(self._states)
            for s in [s for s in self._pending if s.run_id in ids]:
                self._pending.remove(s)
                self._states[s.run_id].status = "cancelled"
            if self._current and self._current[1].run_id in ids:
                self._cancel.value = self._current[0]
                self._cancel_asked = time.time()

    def active_runs(self, owner: str) -> int:
        """Runs this owner has queued or running."""
        with self._lock:
            return sum(
                1
                for st in self._states.values()
                if st.owner == owner and st.status in ("queued", "running")
            )

    def busy(self) -> bool:
        with self._lock:
            return bool(self._pending) or self._current is not None

    def close(self) -> None:
        self._closed = True
        if self._proc is not None and self._proc.is_alive():
            self._tasks.put(None)
            self._proc.join(timeout=5)
            if self._proc.is_alive():
                self._proc.kill()

    @property
    def worker_pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    # --- the loop that feeds the worker -----------------------------------------------------
    def _ensure_worker(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            return
        self._tasks, self._events = self._mp.Queue(), self._mp.Queue()
        self._proc = self._mp.Process(
            target=_worker_main,
            name="cnnexp-worker",
            daemon=True,
            args=(
                str(self.store.root),
                self.device,
                self.data_dir,
                self._tasks,
                self._events,
                self._cancel,
                os.getpid(),
            ),
        )
        self._proc.start()

    def _dispatch(self) -> None:
        with self._lock:
            if self._current is not None or not self._pending:
                return
            spec = self._pending.popleft()
            self._seq += 1
            self._current = (self._seq, spec)
            self._states[spec.run_id].status = "running"
        self._ensure_worker()
        self._tasks.put((self._seq, spec))

    def _finish(self, status: str, error: str | None) -> None:
        with self._lock:
            if self._current is None:
                return
            st = self._states[self._current[1].run_id]
            st.status, st.error = status, error
            self._current, self._cancel_asked = None, None

    def _loop(self) -> None:
        while not self._closed:
            self._dispatch()
            if self._current is None:
                time.sleep(0.05)
                continue
            try:
                kind, seq, *rest = self._events.get(timeout=0.2)
            except queue.Empty:
                self._check_worker()
                continue
            if self._current is None or seq != self._current[0]:
                continue
            if kind == "epoch":
                with self._lock:
                    st = self._states[self._current[1].run_id]
                    st.history.append(rest[0])
                    st.epoch = rest[0]["epoch"]
            elif kind == "end":
                self._finish(*rest)

    def _check_worker(self) -> None:
        """Notice a dead worker, or one that ignores a cancel, and recover."""
        if self._proc is not None and not self._proc.is_alive():
            code = self._proc.exitcode
            self._proc = None
            self._finish(
                "failed",
                f"the worker process died (exit code {code}) during this run; "
                "nothing was saved for it",
            )
        elif self._cancel_asked and time.time() - self._cancel_asked > CANCEL_GRACE_S:
            self._proc.kill()
            self._proc.join()
            self._proc = None
            self._finish("cancelled", None)
