"""What the runner's core (cnnexp/runner.py) and its executors share.

An executor runs jobs somewhere: worker processes on this machine (cnnexp/local_executor.py)
or Ray actors on a cluster (cnnexp/ray_backend.py). The core hands a `Worker` a `Job` and
reads back `Event`s; everything else (the queue, states, which run goes where, when a
stuck run is killed) is the core's. The half of the rules that runs beside the training is
here, written once for both kinds of worker: the time limit (`run_job`), the end of a run
(`conclude`: out of memory beside others, alone, or saved) and how a worker process sets
itself up (`prepare_worker`, `warm_up`).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cnnexp import data
from cnnexp.execution import perform, save
from cnnexp.runspec import RunContext, RunOutput, RunSpec
from cnnexp.store import Store

# Workers train at a lower CPU priority than the dashboard: on a shared machine a visitor's page
# is drawn first and training takes the cycles left over (alone, it still gets every core).
WORKER_NICENESS = 10


@dataclass(frozen=True)
class Job:
    """One run handed to a worker."""

    spec: RunSpec
    limit: float | None = None  # wall-time cap in seconds: stopped at the next batch past it
    alone: bool = False  # a retry after running out of memory: nothing else is in flight


# --- what a worker reports about its job ------------------------------------------------------
@dataclass(frozen=True)
class Epoch:
    row: dict  # the engine's per-epoch row: epoch, losses, accuracies


@dataclass(frozen=True)
class Ended:
    """The run ended and was saved (or, cancelled before its first epoch, was not)."""

    status: str
    error: str | None


@dataclass(frozen=True)
class OutOfMemory:
    """Out of memory beside other runs: nothing saved; the core queues it again, alone."""

    error: str


@dataclass(frozen=True)
class Died:
    """The worker died during the run (killed, crashed): the run failed, nothing saved."""

    error: str


@dataclass(frozen=True)
class Lost:
    """The worker was lost with its machine (a Ray node): the run is recorded interrupted."""

    why: str


Event = Epoch | Ended | OutOfMemory | Died | Lost


class Worker(Protocol):
    """One place runs execute, one at a time: a local process or a Ray actor."""

    device: str
    state: str  # off, starting (not ready for a job yet), warm (takes a job at once)
    pid: int | None  # its process (on its node), while it runs

    def boot(self, warm_for: RunSpec | None = None) -> None:
        """Start the worker with no job; returns at once (state: starting, then warm, once
        it could train `warm_for` at full speed: see warm_up)."""

    def start(self, job: Job) -> None:
        """Begin a job (booting the worker first if it is off); returns at once."""

    def stop(self) -> None:
        """Ask the job to stop at its next batch."""

    def events(self) -> list[Event]:
        """What happened since the last call, never blocking; the job's last event is
        Ended, OutOfMemory, Died or Lost. Died with no job: it died while starting."""

    def kill(self) -> None:
        """End the worker now, and its job with it; nothing of the job is saved."""


class Executor(Protocol):
    notice: str | None  # why fewer workers than asked for (a GPU's free memory); None if all

    def devices(self, wanted: int) -> list[str]:
        """The device of each worker to have, at most `wanted` of them."""

    def worker(self, device: str, threads: int) -> Worker:
        """A worker (not started yet) on `device`, training with `threads` CPU threads."""

    def wait(self, heard: list[Worker], timeout: float) -> None:
        """Sleep until one of these workers may have news, `timeout` seconds at most."""

    def close(self) -> None:
        """Let every idle worker go (a few seconds at most; then it is killed)."""


# --- the worker's side of the rules -------------------------------------------------------------
def time_limit_reason(limit: float) -> str:
    return f"stopped at the time limit of {limit:g} s per run"


def run_job(
    job: Job,
    device: str,
    data_dir: str | None,
    on_epoch: Callable[[dict], None],
    cancelled: Callable[[], bool],
) -> tuple[dict, RunOutput]:
    """Perform a job: it stops at its next batch once `cancelled()` says so or once past its
    time limit (saying why). Nothing saved: the caller saves where the store is."""
    deadline = time.monotonic() + job.limit if job.limit else None
    ctx = RunContext(device=device, data_dir=data_dir, on_epoch=on_epoch)

    def should_stop() -> bool:
        if cancelled():
            return True
        if deadline is not None and time.monotonic() > deadline:
            ctx.stop_reason = time_limit_reason(job.limit)
            return True
        return False

    ctx.should_stop = should_stop
    return perform(job.spec, ctx)


def conclude(store: Store, record: dict, out: RunOutput, alone: bool) -> Ended | OutOfMemory:
    """The end of a run. Out of memory beside other runs: not saved, to be retried alone;
    out of memory alone: saved failed with the reason; anything else: saved as it ended."""
    if out.out_of_memory and not alone:
        return OutOfMemory(out.error)
    if out.out_of_memory:
        record = alone_failure(record)
    saved = save(store, record, out)
    return Ended(saved["status"], saved.get("error"))


def alone_failure(record: dict) -> dict:
    """The record of a run out of memory a second time, trained alone: failed, saying why."""
    return {
        **record,
        "status": "failed",
        "error": "out of memory, also when retried alone with no other run in flight: "
        f"{record['error']}. Try a smaller width or batch size.",
    }


def prepare_worker(threads: int, memory_limit_mb: int | None, lower: bool = True) -> None:
    """Set up a worker process before its first run: its share of the cores (the pool never
    oversubscribes them), a lower priority than the server (`lower`: not when its parent
    lowered it at birth), what every run's first step imports, and its memory cap."""
    import torch

    torch.set_num_threads(threads)
    if lower:
        lower_priority()
    # An optimizer's first construction imports torch._dynamo: 4 s of a first run's 4.5 s on
    # the loaded 2-core VM (cProfile), paid here, while the worker is not yet warm.
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    if memory_limit_mb:
        limit_memory(memory_limit_mb)


def warm_up(spec: RunSpec | None, data_dir: str | None) -> None:
    """Load what a run needs before its first batch: its dataset (cached per process, read
    by the engine's very call), and the libraries that read it, seconds on a new worker
    (scikit-learn for digits). A worker warmed so trains its first run as fast as the next;
    a failure is left for the run itself to report."""
    name = spec.config.get("dataset") if spec is not None else None
    if isinstance(name, str):
        with contextlib.suppress(Exception):
            data.load(name, data_dir, False)


def lower_priority(pid: int = 0) -> None:
    """Give a process (0: this one) WORKER_NICENESS more than this one's CPU niceness (where
    the OS allows it)."""
    with contextlib.suppress(AttributeError, OSError):  # no setpriority on Windows
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        os.setpriority(os.PRIO_PROCESS, pid, min(19, mine + WORKER_NICENESS))


def limit_memory(mb: int) -> None:
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
