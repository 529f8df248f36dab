"""What a run is and what it returns.

A run is one (experiment, fully resolved config, seed). Its id is a hash of the canonical
JSON of those plus the experiment's version and the engine's, so a code change that alters
results (and bumps a version) never serves stale results, and the same settings asked for
twice, from the CLI or any browser, are trained once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

# Bump when a change to data, models or engine alters every experiment's numbers.
# 3: the numeric precision (fp32/bf16) is part of every run id; augmentation draws on the device.
ENGINE_VERSION = 3
PRECISIONS = ("fp32", "bf16")
RUN_ID = re.compile(r"[0-9a-f]{16}")  # what RunSpec.run_id looks like (a link's is checked)


@cache
def cuda_available() -> bool:
    """Whether torch would find a GPU, answered without importing torch where possible:
    planning runs happens on pages that only show saved results, which must paint before
    torch's import (seconds) would finish."""
    if "torch" in sys.modules:
        return sys.modules["torch"].cuda.is_available()
    if os.environ.get("CUDA_VISIBLE_DEVICES", "x").strip() in ("", "-1"):
        return False
    if not Path("/proc/driver/nvidia/version").exists():  # no NVIDIA driver loaded
        return False
    import torch  # a driver is there: let torch decide (its build may be CPU-only)

    return torch.cuda.is_available()


def precision_for(device: str = "auto") -> str:
    """The numeric precision runs get on `device`: bf16 autocast on CUDA, fp32 elsewhere;
    CNNEXP_PRECISION overrides it (e.g. fp32 on a GPU to match CPU results)."""
    forced = os.environ.get("CNNEXP_PRECISION")
    if forced:
        if forced not in PRECISIONS:
            raise ValueError(
                f"CNNEXP_PRECISION={forced!r} unknown; allowed: {', '.join(PRECISIONS)}"
            )
        return forced
    on_cuda = device.startswith("cuda") or (device == "auto" and cuda_available())
    return "bf16" if on_cuda else "fp32"


def default_precision() -> str:
    """The precision for this process's device (CNNEXP_DEVICE, default auto)."""
    return precision_for(os.environ.get("CNNEXP_DEVICE", "auto"))


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class RunSpec:
    experiment: str
    version: int
    config: dict[str, Any]  # JSON values only: everything that decides the result but the seed
    seed: int
    label: str = field(default="", compare=False)  # for people ("cnn, width 16"); not identity
    # Part of the identity: a bf16 GPU result must never be served for an fp32 request.
    # The device is not: fp32 on any device is the same experiment.
    precision: str = field(default_factory=default_precision)

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(
                f"precision {self.precision!r} unknown; allowed: {', '.join(PRECISIONS)}"
            )

    @cached_property
    def run_id(self) -> str:
        key = {
            "experiment": self.experiment,
            "version": self.version,
            "engine": ENGINE_VERSION,
            "config": self.config,
            "seed": self.seed,
            "precision": self.precision,
        }
        return hashlib.sha256(canonical_json(key).encode()).hexdigest()[:16]

    @property
    def epochs(self) -> int:
        return int(self.config.get("epochs", 1))


def spec_of_record(record: dict) -> RunSpec:
    """The RunSpec a saved record (the store's runs table row, or its file's record) names."""
    config = record.get("config")
    if not isinstance(config, dict):
        config = json.loads(record["config_json"])
    return RunSpec(
        record["experiment"],
        int(record["version"]),
        config,
        int(record["seed"]),
        record.get("label") or "",
        record.get("precision") or "fp32",
    )


@dataclass
class RunContext:
    """How to execute a run (not what it is): device, data folder, progress and cancel hooks."""

    device: str = "auto"
    precision: str = "fp32"  # execute() sets it from the spec
    data_dir: str | None = None
    download: bool = False
    on_epoch: Callable[[dict], None] | None = None
    should_stop: Callable[[], bool] | None = None
    stop_reason: str | None = None  # set by should_stop when it stops a run for a reason


@dataclass
class RunOutput:
    """What an experiment's per-run work returns; the runner stamps and stores it."""

    status: str = "done"  # done, diverged, cancelled, failed
    metrics: list[dict] = field(default_factory=list)  # tidy: epoch, split, metric, value
    tables: dict[str, list[dict]] = field(default_factory=dict)  # experiment-specific long tables
    summary: dict[str, float | int | str | None] = field(default_factory=dict)  # scalar results
    blobs: dict[str, bytes] = field(default_factory=dict)  # binary files beside the run's
    error: str | None = None
    device: str = ""
    precision: str = ""
    out_of_memory: bool = False  # failed for want of memory: the runner may retry it alone


@dataclass(frozen=True)
class Work:
    """What one run trains: the unit of the time estimate is flops × images × epochs, and the
    measured one (cnnexp.timing) steps × a step's cost plus test passes × a pass's cost."""

    flops: int  # forward FLOPs of one image through the run's real model
    images: int  # training images
    epochs: int
    model: str  # the family whose past speed is comparable (cnn, mlp, local)
    batch: int = 0  # images per step (0: not known)
    params: int | None = None  # parameters of the model (None: not counted)
    test_images: int = 0  # images of one pass over the test set
    test_passes: int = 0  # passes over the test set: the engine's and the experiment's own

    @property
    def units(self) -> float:
        return float(self.flops) * self.images * self.epochs

    @property
    def steps(self) -> int:
        """Optimisation steps (0 when the batch is not known)."""
        if self.batch <= 0:
            return 0
        per_epoch = -(-self.images // self.batch)
        if per_epoch > 1 and self.images % self.batch == 1:  # data.batch_slices joins a last 1
            per_epoch -= 1
        return self.epochs * per_epoch

    @property
    def train_flop(self) -> float:
        """Training compute: a backward pass costs about twice a forward one."""
        return 3 * self.units


@dataclass(frozen=True)
class StepModel:
    """A run's model as a timing run needs it (cnnexp/timing.py): what decides a step's cost
    (`key`: JSON values, with the batch size), what engine.train reads (`training`: batch
    size, optimiser, augmentation, and the model for a blueprint), on inputs of `image`
    (C, H, W) with `classes` classes. `build` makes a model the blueprint cannot describe
    (an experiment's own `step_model(config)` gives it)."""

    key: dict[str, Any]
    training: Any
    image: tuple[int, int, int]
    classes: int
    build: Callable[[], Any] | None = field(default=None, compare=False)
