"""The Ray backend: the same runner, its workers long-lived Ray actors on a cluster.

RayRunner is LocalRunner (durable queue, states, dedup, cancel, time limits) whose slots
are Ray actors instead of local processes. An actor takes many runs (Ray does not reuse
GPU worker processes between tasks, so one task per run would pay a start-up each time);
small runs share a GPU by a fractional `num_gpus`. Each run returns its record, metrics
and tables to this driver, which saves them: no shared file system. Epoch progress and
cancel flags travel through one small board actor. Ray is imported only here, only when
this backend is chosen.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from cnnexp.runner import (
    LocalRunner,
    _limit_memory,
    _Slot,
    alone_failure,
    lower_priority,
    perform,
    save,
)
from cnnexp.runspec import RunContext, RunSpec

INSTALL_HINT = (
    "the Ray backend needs Ray: `pip install 'ray[default]'` here and on every node of the "
    "cluster (with cnnexp's requirements), or use the local backend"
)


HEAD = "node:__internal_head__"


def _ray():
    try:
        import ray
    except ImportError as e:
        raise RuntimeError(INSTALL_HINT) from e
    return ray


class _Board:
    """Epoch rows going to the driver, stop requests going to the runs."""

    def __init__(self):
        self.rows: list[tuple[str, dict]] = []
        self.stops: set[str] = set()

    def epoch(self, run_id: str, row: dict) -> None:
        self.rows.append((run_id, row))

    def take(self) -> list[tuple[str, dict]]:
        rows, self.rows = self.rows, []
        return rows

    def stop(self, run_id: str) -> None:
        self.stops.add(run_id)

    def stopped(self, run_id: str) -> bool:
        return run_id in self.stops


class _Trainer:
    """One slot: performs runs one after another, returns what the driver saves."""

    def __init__(self, threads: int, memory_limit_mb: int | None):
        import torch

        torch.set_num_threads(threads)
        lower_priority()  # as a local worker: a dashboard on the same machine draws first
        if memory_limit_mb:  # as in a local worker: past it, a run fails out of memory
            _limit_memory(memory_limit_mb)

    def run(self, spec: RunSpec, device: str, data_dir, board, limit: float | None):
        ray = _ray()
        deadline = time.monotonic() + limit if limit else None
        ctx = RunContext(device=device, data_dir=data_dir)
        sent = []  # waited for before returning: the driver sees every epoch before the end
        ctx.on_epoch = lambda row: sent.append(board.epoch.remote(spec.run_id, row))
        asked = {"at": 0.0, "stop": False}

        def should_stop() -> bool:
            if deadline is not None and time.monotonic() > deadline:
                ctx.stop_reason = f"stopped at the time limit of {limit:g} s per run"
                return True
            if time.monotonic() - asked["at"] > 0.5:  # ask the board twice a second, not per batch
                asked["at"] = time.monotonic()
                asked["stop"] = ray.get(board.stopped.remote(spec.run_id))
            return asked["stop"]

        ctx.should_stop = should_stop
        result = perform(spec, ctx)
        ray.get(sent)
        return result


class RayRunner(LocalRunner):
    """LocalRunner's interface and queue; runs execute on Ray actors."""

    def __init__(
        self, root: str | os.PathLike, device: str = "auto", address: str | None = None, **kw
    ):
        """kw: LocalRunner's (data_dir, workers, cancel_grace_s, ...)."""
        ray = self._ray = _ray()
        if not ray.is_initialized():
            address = address or os.environ.get("RAY_ADDRESS")
            # A local cluster's workers import cnnexp from this checkout; a remote one's
            # nodes must have it installed (README).
            env = {"env_vars": {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}}
            # No address means a fresh local cluster ("local"), never a stale one some
            # earlier process left running on this machine (ray.init()'s own default).
            ray.init(address=address or "local", runtime_env=None if address else env)
        res = ray.cluster_resources()
        gpus = int(res.get("GPU", 0))
        slots = int(os.environ.get("CNNEXP_SLOTS_PER_GPU", "4"))
        self._num_gpus = 1 / slots if gpus and device != "cpu" else 0
        workers = kw.pop("workers", None)
        workers = workers or (gpus * slots if self._num_gpus else int(res.get("CPU", 1)))
        # The board lives on the head node: needing no CPU, Ray could place it on any node,
        # and losing that node would take every run's progress with it (the node-loss test
        # saw it: the runner's thread died on the board's ActorDiedError). A cluster does not
        # outlive its head anyway. "node:__internal_head__" is Ray's resource of the head.
        self._board = ray.remote(num_cpus=0, resources={HEAD: 0.001})(_Board).remote()
        self._trainer = ray.remote(num_cpus=1, num_gpus=self._num_gpus)(_Trainer)
        self._taken: dict[str, list[dict]] = {}
        self._last_take = 0.0
        super().__init__(root, device, workers=workers, **kw)

    def _slot_devices(self, workers: int) -> list[str]:
        return [self.device] * workers  # Ray places the actors and sets their visible GPU

    def cluster(self) -> dict:
        """CPUs and GPUs of the cluster, and runs in flight (the sidebar's line)."""
        res = self._ray.cluster_resources()
        return {
            "cpus": res.get("CPU", 0),
            "gpus": res.get("GPU", 0),
            "in_flight": sum(s.ref is not None for s in self._slots),
        }

    # --- slots are actors -------------------------------------------------------------------
    def _ensure_worker(self, slot: _Slot) -> None:
        if slot.proc is None:
            threads = self._threads if not self._num_gpus else 1
            slot.proc = self._trainer.remote(threads, self.memory_limit_mb)

    def _start(self, slot: _Slot, spec: RunSpec) -> None:
        slot.ref = slot.proc.run.remote(spec, slot.device, self.data_dir, self._board, slot.limit)

    def _ask_stop(self, slot: _Slot) -> None:
        if slot.cancel_asked is None:
            self._board.stop.remote(slot.run_id)
            slot.cancel_asked = time.time()

    def _wait(self) -> None:
        time.sleep(0.05)

    def _take(self) -> None:
        self._last_take = time.time()
        for run_id, row in self._ray.get(self._board.take.remote()):
            self._taken.setdefault(run_id, []).append(row)

    def _drain(self, slot: _Slot) -> bool:
        ray = self._ray
        ready, _ = ray.wait([slot.ref], timeout=0)
        if ready or time.time() - self._last_take > 0.3:
            self._take()  # when it ended: its last epochs are on the board by now
        moved = False
        rows = self._taken.pop(slot.run_id, [])
        with self._lock:
            st = self._states.get(slot.run_id)
            for row in rows if st is not None else []:
                st.history.append(row)
                st.epoch = row["epoch"]
                moved = True
        if not ready:
            return moved
        try:
            record, out = ray.get(slot.ref)
        except ray.exceptions.RayError as e:  # the actor or its node died mid-run
            slot.proc = slot.ref = None
            spec, owner = slot.spec, slot.owner
            self._free(slot)
            self._record_interrupted(spec, owner, f"its Ray worker was lost ({type(e).__name__})")
            return True
        slot.ref = None
        if out.out_of_memory and not slot.alone:  # beside other runs: once more, alone
            self._retry_alone(slot, out.error)
            return True
        if out.out_of_memory:
            record = alone_failure(record)
        rec = save(self.store, record, out)  # the driver writes: no shared file system
        self._finish(slot, rec["status"], rec.get("error"))
        return True

    def _check_worker(self, slot: _Slot) -> None:
        now = time.time()
        if slot.cancel_asked and now - slot.cancel_asked > self.cancel_grace_s:
            self._kill(slot, "cancelled", None)
        elif slot.limit and now - slot.started > slot.limit + self.cancel_grace_s:
            self._kill(slot, "cancelled", f"stopped at the time limit of {slot.limit:g} s per run")

    def _kill(self, slot: _Slot, status: str, error: str | None) -> None:
        self._ray.kill(slot.proc)  # its task ends with it; nothing was saved for the run
        slot.proc = slot.ref = None
        self._finish(slot, status, error)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._thread.join(timeout=5)
        for slot in self._slots:
            if slot.ref is not None:
                spec, owner = slot.spec, slot.owner
                self._free(slot)
                self._record_interrupted(spec, owner, "the server shut down while it trained")
            if slot.proc is not None:
                self._ray.kill(slot.proc)
                slot.proc = slot.ref = None
        self.queue.release(self.id, drop_queued=not self.keep_queued_on_close)
