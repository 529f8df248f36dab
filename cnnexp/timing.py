"""What a training step costs on this machine: measured once per model shape, batch size,
device, precision and thread count, and remembered in the results folder.

A timing run trains the run's model for a few steps on random images of its size with the
engine's own loop (engine.train: the same batching, optimiser and layout as a real run), on
the device, precision and threads a worker trains with, and times a pass over 1,000 test
images. The fastest of a few timed epochs counts (a busy machine slows some of them). What
the estimate makes of the costs is cnnexp/estimate.py.

The measurements live in `timings.json` in the results folder (written whole to a temporary
name and renamed, under a lock, as the store writes). The dashboard measures in a background
process (`start_measuring`: the page's thread never waits for torch); the CLI and the
benchmark in their own (`measure_missing`). `python -m cnnexp.timing` is that background
process: it reads the runs to time as JSON lines on stdin.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import functools
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from cnnexp import experiments
from cnnexp.estimate import StepCost
from cnnexp.runspec import RunSpec, StepModel, canonical_json, cuda_available, precision_for

FILE = "timings.json"
LOCK = ".timings.lock"  # held while a timing process measures, and while the file is written
STEPS = 8  # steps per timed epoch (fewer for big batches: see _steps)
EPOCHS = 3  # the first warms up (allocation, mkldnn's choice of kernels); the fastest of the rest
BUDGET_S = 60.0  # seconds one timing process measures before it stops (the rest: next time)
MAX_SHAPES = 64  # model shapes one page may ask to measure at once
MAX_ENTRIES = 5_000  # measurements kept (the oldest go first)
# Settings of a training setup that change what a step costs; the rest (dataset name, images,
# epochs, learning rate, schedule, seed) do not. The image's shape stands for the dataset.
STEP_FIELDS = (
    "model",
    "width",
    "depth",
    "kernel",
    "padding",
    "pool",
    "pool_every",
    "head",
    "norm",
    "groups",
    "optimizer",
    "augment_flip",
    "batch_size",
)


@dataclass(frozen=True)
class Machine:
    """Where a worker trains: what a step's cost depends on besides the model."""

    host: str
    device: str  # cpu or cuda
    precision: str  # fp32 or bf16
    threads: int  # torch threads of one worker
    torch: str = ""  # its version

    @classmethod
    def here(cls, device: str = "auto", workers: int = 1, threads: int | None = None) -> Machine:
        """This machine as a pool of `workers` workers on `device` sees it (each worker gets
        its share of the cores, as runner.LocalRunner gives them, unless `threads` says),
        without importing torch."""
        on_cuda = device.startswith("cuda") or (device == "auto" and cuda_available())
        kind = "cuda" if on_cuda else "cpu"
        try:
            version = metadata.version("torch")
        except metadata.PackageNotFoundError:
            version = ""
        threads = threads or max(1, (os.cpu_count() or 1) // max(1, workers))
        return cls(socket.gethostname(), kind, precision_for(kind), threads, version)

    @property
    def key(self) -> str:
        return canonical_json(asdict(self))


def step_model(experiment: str, config: dict) -> StepModel | None:
    """The StepModel of a run: its experiment's own `step_model(config)` where it defines one,
    else from the TrainSetup its config holds; None when neither can say."""
    from cnnexp import data
    from cnnexp.config import TrainSetup

    own = getattr(experiments.REGISTRY.get(experiment), "step_model", None)
    if own is not None:
        return own(config)
    if not {"model", "dataset"} <= config.keys():
        return None
    try:
        setup = TrainSetup(**{k: v for k, v in config.items() if k in TrainSetup.model_fields})
    except Exception:
        return None
    info = data.info(setup.dataset)
    key = {k: getattr(setup, k) for k in STEP_FIELDS}
    key |= {"augment_shift": setup.augment_shift > 0, "image": list(info.shape)}
    key |= {"classes": info.n_classes}
    return StepModel(key, setup, info.shape, info.n_classes)


@functools.lru_cache(maxsize=4096)
def _shape_key(experiment: str, config_json: str) -> str | None:
    model = step_model(experiment, json.loads(config_json))
    return None if model is None else canonical_json(model.key)


def shape_key(spec: RunSpec) -> str | None:
    """What identifies the cost of a spec's step, remembered (a page asks for every run)."""
    return _shape_key(spec.experiment, json.dumps(spec.config, sort_keys=True))


# --- the remembered measurements ---------------------------------------------------------------
class Timings:
    """The measurements in one results folder, for one machine. Callable: `timings(spec)` is
    the StepCost of the spec's model on this machine, or None (estimate.plan_estimate's
    lookup)."""

    def __init__(self, root: str | os.PathLike, machine: Machine):
        self.root, self.machine = Path(root), machine
        self.path = self.root / FILE
        self._read: tuple[int, dict] = (-1, {})

    def _data(self) -> dict:
        try:
            mtime = self.path.stat().st_mtime_ns
        except OSError:
            return {}
        if mtime != self._read[0]:
            try:
                self._read = (mtime, json.loads(self.path.read_text()))
            except (OSError, ValueError):  # never half-written; unreadable: measure again
                self._read = (mtime, {})
        return self._read[1]

    def _key(self, shape: str) -> str:
        return f"{self.machine.key} {shape}"

    def __call__(self, spec: RunSpec) -> StepCost | None:
        shape = shape_key(spec)
        entry = self._data().get("steps", {}).get(self._key(shape)) if shape else None
        return StepCost(entry["step_s"], entry["eval_s"]) if entry else None

    def startup(self) -> float | None:
        """Seconds a worker takes to start (importing torch and the library), if measured."""
        entry = self._data().get("startup", {}).get(self.machine.key)
        return entry["s"] if entry else None

    def unmeasured(self, specs: list[RunSpec]) -> list[RunSpec]:
        """One spec of each model shape among `specs` that has no measurement here."""
        out: dict[str, RunSpec] = {}
        for s in specs:
            shape = shape_key(s)
            if shape is not None and shape not in out and self(s) is None:
                out[shape] = s
        return list(out.values())

    def record(self, costs: dict[str, StepCost], startup: float | None = None) -> None:
        """Add measurements (by shape key) to the file: read, merged and replaced whole under
        the lock, so that the CLI and the dashboard measuring at once lose nothing."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with _locked(self.root / f"{LOCK}.write"):
            self._read = (-1, {})
            data = dict(self._data())
            steps = dict(data.get("steps", {}))
            for shape, c in costs.items():
                steps[self._key(shape)] = {"step_s": c.step_s, "eval_s": c.eval_s, "at": now}
            if len(steps) > MAX_ENTRIES:
                keep = sorted(steps, key=lambda k: steps[k]["at"])[-MAX_ENTRIES:]
                steps = {k: steps[k] for k in keep}
            data = {"version": 1, "steps": steps, "startup": dict(data.get("startup", {}))}
            if startup is not None:
                data["startup"][self.machine.key] = {"s": startup, "at": now}
            _write_whole(self.path, json.dumps(data, indent=1).encode())


def _write_whole(path: Path, payload: bytes) -> None:
    """`payload` at `path`, whole or not at all (a temporary name, fsynced, renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(payload)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@contextlib.contextmanager
def _locked(path: Path, wait: bool = True) -> Iterator[bool]:
    """An exclusive lock on `path` across processes; without `wait`, yields False at once
    when another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# --- measuring (torch) ---------------------------------------------------------------------------
def _steps(batch: int) -> int:
    """Steps per timed epoch: fewer for big batches, so a timing run's images stay few."""
    return max(3, min(STEPS, 32_768 // max(1, batch)))


def measure(model: StepModel, machine: Machine) -> StepCost:
    """Time `model`'s training step and test pass on this machine (random data of its shape)."""
    import torch

    from cnnexp import engine

    device = engine.pick_device(machine.device)
    batch = int(model.key.get("batch_size") or model.training.batch_size)
    n = batch * _steps(batch)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand((n, *model.image), generator=gen).to(device)
    y = torch.randint(0, model.classes, (n,), generator=gen).to(device)
    x_test = torch.rand((engine.EVAL_BATCH, *model.image), generator=gen).to(device)
    y_test = torch.randint(0, model.classes, (engine.EVAL_BATCH,), generator=gen).to(device)
    channels = model.image[0]
    dd = engine.DeviceData(
        x, y, x_test[:2], y_test[:2], [0.5] * channels, [0.25] * channels, machine.precision
    )
    training = model.training.model_copy(update={"epochs": EPOCHS})
    ends: list[float] = []
    result = engine.train(
        training,
        dd,
        0,
        on_epoch=lambda row: ends.append(row["seconds"]),
        build=model.build,
        evals=1,
    )
    epochs = [b - a for a, b in zip([0.0, *ends], ends, strict=False)][1:]  # the first warms up
    step = min(epochs) / _steps(batch)
    net = result.model
    engine.evaluate(net, x_test, y_test, machine.precision)[1].item()  # warm up
    t0 = time.perf_counter()
    engine.evaluate(net, x_test, y_test, machine.precision)[1].item()  # .item(): wait for it
    return StepCost(step, time.perf_counter() - t0)


def measure_missing(
    root: str | os.PathLike, machine: Machine, specs: list[RunSpec], budget_s: float = BUDGET_S
) -> int:
    """Measure, in this process, the model shapes among `specs` not measured yet, for at most
    about `budget_s` seconds; returns how many were measured. Each is saved as it is done."""
    timings = Timings(root, machine)
    deadline, done = time.monotonic() + budget_s, 0
    for spec in timings.unmeasured(specs):
        if time.monotonic() > deadline:
            break
        model = step_model(spec.experiment, spec.config)
        shape = shape_key(spec)
        if model is None or shape is None:
            continue
        timings.record({shape: measure(model, machine)})
        done += 1
    if timings.startup() is None:
        timings.record({}, measure_startup())
    return done


def measure_startup() -> float:
    """Seconds a fresh Python takes to import what a worker imports before its first run."""
    code = "import torch, cnnexp.engine, cnnexp.experiments, cnnexp.runner"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=_env(), check=True, capture_output=True)
    return time.perf_counter() - t0


def _env() -> dict[str, str]:
    """This environment, with this library importable from a fresh Python."""
    here = str(Path(__file__).resolve().parents[1])
    return dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))
    )


# --- in the background, for the dashboard ----------------------------------------------------------
def measuring(root: str | os.PathLike) -> bool:
    """Whether a timing process is measuring for this results folder now."""
    try:
        with _locked(Path(root) / LOCK, wait=False) as free:
            return not free
    except OSError:  # a folder this process cannot write: nobody measures into it
        return False


def start_measuring(root: str | os.PathLike, machine: Machine, specs: list[RunSpec]) -> bool:
    """Start a background process that measures the model shapes among `specs` not measured
    yet (at most MAX_SHAPES), unless one is measuring for this folder already or there is
    nothing to measure. Returns whether one is measuring now."""
    if measuring(root):
        return True
    todo = Timings(root, machine).unmeasured(specs)[:MAX_SHAPES]
    if not todo:
        return False
    lines = "".join(
        json.dumps({"experiment": s.experiment, "version": s.version, "config": s.config}) + "\n"
        for s in todo
    )
    cmd = [sys.executable, "-m", "cnnexp.timing", "--results", str(root), "--device"]
    cmd += [machine.device, "--threads", str(machine.threads)]
    child = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # the server's log is for real problems
        env=_env(),
        start_new_session=True,  # a Ctrl-C for the server is not for it: it ends on its own
    )
    threading.Thread(target=_feed_and_wait, args=(child, lines), daemon=True).start()
    return True


def _feed_and_wait(child: subprocess.Popen, lines: str) -> None:
    """Hand the child its runs and reap it when it ends (no zombie left behind)."""
    with contextlib.suppress(OSError):
        child.communicate(lines.encode(), timeout=BUDGET_S * 3)
    if child.poll() is None:
        child.kill()
        child.wait()


def main(argv: list[str] | None = None) -> int:
    """The background timing process: measure the runs given on stdin, then stop."""
    t0 = time.perf_counter()
    p = argparse.ArgumentParser(description="Measure training steps for cnnexp's estimates.")
    p.add_argument("--results", required=True, help="results folder (timings.json goes there)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, default=1, help="torch threads of one worker")
    a = p.parse_args(argv)
    with contextlib.suppress(OSError):
        os.nice(10)  # like a worker: pages are drawn first
    with _locked(Path(a.results) / LOCK, wait=False) as free:
        if not free:
            return 0  # another is measuring
        import torch

        import cnnexp.engine  # noqa: F401 - part of what a worker imports before its first run

        torch.set_num_threads(a.threads)
        startup = time.perf_counter() - t0
        machine = Machine.here(a.device, threads=a.threads)
        specs = [
            RunSpec(d["experiment"], d["version"], d["config"], 0, precision=machine.precision)
            for d in map(json.loads, sys.stdin.read().splitlines()[:MAX_SHAPES])
        ]
        timings = Timings(a.results, machine)
        if timings.startup() is None:
            timings.record({}, startup)
        measure_missing(a.results, machine, specs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
