"""The Ray backend: the runner's core (cnnexp/runner.py) with long-lived Ray actors as workers.

An actor takes many runs (Ray does not reuse GPU worker processes between tasks, so one task
per run would pay a start-up each time); small runs share a GPU by a fractional `num_gpus`.
Each run returns its record, metrics and tables to this driver, which saves them: no shared
file system. Epoch progress and stop requests travel through one small board actor. Ray is
imported only here, only when this backend is chosen.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from cnnexp.executor import Epoch, Event, Job, Lost, conclude, prepare_worker, run_job
from cnnexp.runner import PoolRunner
from cnnexp.store import Store

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
    """The actor: performs runs one after another, returns what the driver saves."""

    def __init__(self, threads: int, memory_limit_mb: int | None):
        prepare_worker(threads, memory_limit_mb)  # as a local worker

    def pid(self) -> int:
        return os.getpid()

    def run(self, job: Job, device: str, data_dir: str | None, board):
        ray = _ray()
        run_id = job.spec.run_id
        sent = []  # waited for before returning: the driver sees every epoch before the end
        asked = {"at": 0.0, "stop": False}

        def cancelled() -> bool:
            if time.monotonic() - asked["at"] > 0.5:  # ask the board twice a second, not per batch
                asked["at"] = time.monotonic()
                asked["stop"] = ray.get(board.stopped.remote(run_id))
            return asked["stop"]

        def on_epoch(row: dict) -> None:
            sent.append(board.epoch.remote(run_id, row))

        result = run_job(job, device, data_dir, on_epoch, cancelled)
        ray.get(sent)
        return result


class RayWorker:
    """One actor (created on its first job, again after it was lost) and its job in flight."""

    def __init__(self, pool: RayExecutor, device: str, threads: int):
        self.device, self._pool, self._threads = device, pool, threads
        self.actor = None
        self._pid: int | None = None
        self._pid_ref = None  # the actor's answer to pid(), asked when it was created
        self.ref = None  # the job in flight
        self._job: Job | None = None

    @property
    def pid(self) -> int | None:
        """The actor's process id on its node (asked when it was created, so the answer does
        not wait behind a run: an actor does one thing at a time)."""
        if self.actor is None:
            return None
        ray = self._pool.ray
        if self._pid is None:
            try:
                self._pid = ray.get(self._pid_ref)
            except ray.exceptions.RayError:  # lost with its node: events() says so
                return None
        return self._pid

    @property
    def state(self) -> str:
        # Ray queues a job on an actor still starting; it counts as warm once created.
        return "off" if self.actor is None else "warm"

    def boot(self, warm_for=None) -> None:  # an actor is warm once created (state)
        self.actor = self._pool.trainer.remote(self._threads, self._pool.memory_limit_mb)
        self._pid, self._pid_ref = None, self.actor.pid.remote()

    def start(self, job: Job) -> None:
        pool = self._pool
        if self.actor is None:
            self.boot()
        self._job = job
        self.ref = self.actor.run.remote(job, self.device, pool.data_dir, pool.board)

    def stop(self) -> None:
        self._pool.board.stop.remote(self._job.spec.run_id)

    def events(self) -> list[Event]:
        if self.ref is None:
            return []
        ray = self._pool.ray
        ready, _ = ray.wait([self.ref], timeout=0)
        found: list[Event] = [Epoch(row) for row in self._pool.rows(self._job.spec.run_id, ready)]
        if not ready:
            return found
        ref, self.ref = self.ref, None
        try:
            record, out = ray.get(ref)
        except ray.exceptions.RayError as e:  # the actor or its node died mid-run
            self.actor = None
            return [*found, Lost(f"its Ray worker was lost ({type(e).__name__})")]
        # The driver saves: no shared file system.
        return [*found, conclude(self._pool.store, record, out, self._job.alone)]

    def kill(self) -> None:
        if self.actor is not None:
            self._pool.ray.kill(self.actor)  # its task ends with it; nothing is saved for the run
        self.actor = self.ref = None


class RayExecutor:
    """Actors on a Ray cluster (placed by Ray, which also sets their visible GPU)."""

    def __init__(
        self, root, device: str, data_dir: str | None, memory_limit_mb: int | None, num_gpus: float
    ):
        ray = self.ray = _ray()
        self.store = Store(root)
        self.device, self.data_dir, self.memory_limit_mb = device, data_dir, memory_limit_mb
        self.num_gpus = num_gpus
        self.notice: str | None = None
        # The board lives on the head node: needing no CPU, Ray could place it on any node,
        # and losing that node would take every run's progress with it (the node-loss test
        # saw it: the runner's thread died on the board's ActorDiedError). A cluster does not
        # outlive its head anyway. "node:__internal_head__" is Ray's resource of the head.
        self.board = ray.remote(num_cpus=0, resources={HEAD: 0.001})(_Board).remote()
        self.trainer = ray.remote(num_cpus=1, num_gpus=num_gpus)(_Trainer)
        self._rows: dict[str, list[dict]] = {}
        self._last_take = 0.0
        self._workers: list[RayWorker] = []

    def devices(self, wanted: int) -> list[str]:
        return [self.device] * wanted

    def worker(self, device: str, threads: int) -> RayWorker:
        w = RayWorker(self, device, threads if not self.num_gpus else 1)
        self._workers.append(w)
        return w

    def rows(self, run_id: str, fresh: bool) -> list[dict]:
        """A run's epoch rows come from the board; it is asked ~3 times a second, or now
        (`fresh`) when the run has ended: its last epochs are on the board by then."""
        if fresh or time.time() - self._last_take > 0.3:
            self._last_take = time.time()
            for rid, row in self.ray.get(self.board.take.remote()):
                self._rows.setdefault(rid, []).append(row)
        return self._rows.pop(run_id, [])

    def wait(self, heard: list[RayWorker], timeout: float) -> None:
        time.sleep(timeout)

    def close(self) -> None:
        for w in self._workers:
            w.kill()


class RayRunner(PoolRunner):
    """The runner's queue, states and rules; runs execute on Ray actors."""

    def __init__(
        self,
        root: str | os.PathLike,
        device: str = "auto",
        address: str | None = None,
        data_dir: str | None = None,
        workers: int | None = None,
        memory_limit_mb: int | None = None,
        **kw,
    ):
        """kw: PoolRunner's (cancel_grace_s, keep_queued_on_close, keep_finished)."""
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
        num_gpus = 1 / slots if gpus and device != "cpu" else 0
        workers = workers or (gpus * slots if num_gpus else int(res.get("CPU", 1)))
        executor = RayExecutor(root, device, data_dir, memory_limit_mb, num_gpus)
        super().__init__(root, executor, workers, device=device, **kw)

    def cluster(self) -> dict:
        """CPUs and GPUs of the cluster, and runs in flight (the sidebar's line)."""
        res = self._ray.cluster_resources()
        return {
            "cpus": res.get("CPU", 0),
            "gpus": res.get("GPU", 0),
            "in_flight": sum(s.run_id is not None for s in self._slots),
        }
