"""Worker processes on this machine: the local backend's executor.

Each worker is a spawned process (a clean interpreter: no inherited threads or CUDA) that
takes jobs one after another from its task queue, saves each run itself (the results folder
is on this machine) and reports epochs and the end on a pipe the runner's loop can wait on.
A worker never outlives its parent by more than a second or two.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import multiprocessing.connection as mp_connection
import os
import queue
import signal
import subprocess
import sys
import time

from cnnexp.executor import (
    Died,
    Ended,
    Epoch,
    Event,
    Job,
    OutOfMemory,
    conclude,
    limit_memory,
    lower_priority,
    prepare_worker,
    run_job,
    warm_up,
)
from cnnexp.runspec import RunSpec
from cnnexp.store import Store

# What one GPU worker needs: its CUDA context (~0.5 GiB) and room for a small model, its
# batches and a dataset held on the device. A guess on the safe side: a run that needs more
# fails out of memory and is retried alone.
GPU_WORKER_BYTES = 2 * 2**30
WARM_UP = 0  # the sequence number of a worker's first task: warm up, then say READY
READY = "ready"  # what a worker says once warm (imports done, the first run's data loaded)


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
    """A worker process: warm up (its first task), then take a (seq, job), run it, report
    (seq, event) for its epochs and its end; the run is saved here, before the end is
    reported."""
    # Ctrl-C in a terminal reaches the whole process group: the parent stops the pool (and
    # kills a busy worker, recording its run as interrupted); each worker printing its own
    # KeyboardInterrupt traceback said nothing more. Until this line SIGINT is blocked (see
    # LocalWorker.boot); one sent while the worker imported is dropped here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    prepare_worker(threads, None, lower=False)  # lowered at birth (boot); capped once warm
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
        seq, job = item
        if seq == WARM_UP:  # the first item: job is the RunSpec to warm up for, or None
            warm_up(job, data_dir)
            if memory_limit_mb:  # beyond what a warm worker holds: its data readers too
                limit_memory(memory_limit_mb)
            events.send((0, READY))  # the runner may give this worker runs now
            continue

        def cancelled(seq=seq) -> bool:
            if os.getppid() != parent:  # the app died mid-run: stop now, save nothing
                os._exit(0)
            return cancel.value == seq

        record, out = run_job(
            job, device, data_dir, lambda row, seq=seq: events.send((seq, Epoch(row))), cancelled
        )
        events.send((seq, conclude(store, record, out, job.alone)))


class LocalWorker:
    """One worker process (started when first needed, again after it died) and its pipes."""

    def __init__(self, pool: LocalExecutor, device: str, threads: int):
        self.device, self._pool, self._threads = device, pool, threads
        self.proc = None
        self.state = "off"  # off, starting (importing), warm (ready for a job at once)
        self._seq = 0  # numbers the jobs, so a stop asked for one never stops the next
        self._busy = False

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.is_alive() else None

    def boot(self, warm_for: RunSpec | None = None) -> None:
        ctx = self._pool.mp
        # Events come back on a pipe, which the loop can wait on: a run's end is seen at once.
        self._tasks, (self.pipe, sender) = ctx.Queue(), ctx.Pipe(duplex=False)
        self._cancel = ctx.Value("q", -1, lock=False)  # seq of the job to stop
        self.proc = ctx.Process(
            target=_worker_main,
            name="cnnexp-worker",
            daemon=True,
            args=(
                self._pool.root,
                self.device,
                self._pool.data_dir,
                self._threads,
                self._pool.memory_limit_mb,
                self._tasks,
                sender,
                self._cancel,
                os.getpid(),
            ),
        )
        # Born with SIGINT blocked (a child keeps its parent thread's mask): a Ctrl-C in the
        # seconds it spends importing stays pending, and is dropped when it ignores SIGINT.
        # The queue and pipe above started multiprocessing's resource tracker already, which
        # would unblock the mask when it starts.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self.proc.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        # Lowered now, not once it has imported torch: those seconds of CPU took it from the
        # dashboard and from the workers already training (which run lowered).
        lower_priority(self.proc.pid)
        sender.close()  # the worker holds the only sending end: its death reads as the end
        self._tasks.put((WARM_UP, warm_for))
        self.state = "starting"

    def start(self, job: Job) -> None:
        if self.state == "off":
            self.boot(job.spec)
        self._seq += 1
        self._busy = True
        self._tasks.put((self._seq, job))

    def stop(self) -> None:
        self._cancel.value = self._seq

    def events(self) -> list[Event]:
        if self.proc is None:
            return []
        found = self._read()
        if self.proc.is_alive():
            return found
        found += self._read()  # its last words may still be in the pipe
        code, starting = self.proc.exitcode, self.state == "starting"
        if self._busy:
            found.append(
                Died(
                    f"the worker process died (exit code {code}) during this run; "
                    "nothing was saved for it"
                )
            )
        elif starting:
            found.append(Died(f"a worker process died while starting (exit code {code})"))
        self.proc, self.state, self._busy = None, "off", False  # a warm one idle: started again
        return found

    def _read(self) -> list[Event]:
        found = []
        while True:
            try:
                if not self.pipe.poll():
                    return found
                seq, event = self.pipe.recv()
            except (EOFError, OSError):  # the worker is gone; events() says so
                return found
            if event == READY:
                self.state = "warm"
            elif seq == self._seq and self._busy:
                found.append(event)
                self._busy = not isinstance(event, Ended | OutOfMemory)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.join()
        self.proc, self.state, self._busy = None, "off", False

    def retire(self) -> None:
        """Ask an idle worker to leave (it ends after its current get)."""
        if self.proc is not None and self.proc.is_alive():
            self._tasks.put(None)


class LocalExecutor:
    """Worker processes on this machine, spread over its GPUs (as many as their memory holds)."""

    def __init__(
        self, root: str, device: str, data_dir: str | None, memory_limit_mb: int | None = None
    ):
        """memory_limit_mb caps what each worker's runs may allocate (Linux; CPU memory)."""
        self.root, self.device, self.data_dir = root, device, data_dir
        self.memory_limit_mb = memory_limit_mb
        self.notice: str | None = None
        self.mp = mp.get_context("spawn")  # a clean interpreter: no inherited threads or CUDA
        self._workers: list[LocalWorker] = []

    def devices(self, wanted: int) -> list[str]:
        """Each worker's device: spread over the GPUs, but only as many on a GPU as its free
        memory holds (self.notice says why fewer)."""
        gpus = _gpu_count() if self.device in ("auto", "cuda") else 0
        devices = [f"cuda:{i % gpus}" if gpus else self.device for i in range(wanted)]
        free = gpu_free_bytes() if any(d.startswith("cuda") for d in devices) else None
        if free is None:
            return devices
        allowed, notes = {}, []
        for d in dict.fromkeys(devices):
            index, n = int(d.partition(":")[2] or 0), devices.count(d)
            if index >= len(free):  # not a GPU the child saw: torch will say what is wrong
                allowed[d] = n
                continue
            allowed[d], why = fit_gpu_workers(free[index], GPU_WORKER_BYTES, n, d)
            notes += [why] if why else []
        self.notice = "; ".join(notes) or None
        kept = []
        for d in devices:
            if allowed[d] > 0:
                allowed[d] -= 1
                kept.append(d)
        return kept

    def worker(self, device: str, threads: int) -> LocalWorker:
        w = LocalWorker(self, device, threads)
        self._workers.append(w)
        return w

    def wait(self, heard: list[LocalWorker], timeout: float) -> None:
        pipes = [w.pipe for w in heard if w.proc is not None]
        if pipes:
            mp_connection.wait(pipes, timeout=timeout)
        else:
            time.sleep(timeout)

    def close(self) -> None:
        for w in self._workers:  # all asked first: they leave side by side
            w.retire()
        for w in self._workers:
            if w.proc is None:
                continue
            w.proc.join(timeout=5)
            w.kill()  # a no-op for one that left
