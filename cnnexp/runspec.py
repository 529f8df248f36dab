"""What a run is and what it returns.

A run is one (experiment, fully resolved config, seed). Its id is a hash of the canonical
JSON of those plus the experiment's version and the engine's, so a code change that alters
results (and bumps a version) never serves stale results, and the same settings asked for
twice, from the CLI or any browser, are trained once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

ENGINE_VERSION = 2  # bump when a change to data, models or engine alters every experiment's numbers


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class RunSpec:
    experiment: str
    version: int
    config: dict[str, Any]  # JSON values only: everything that decides the result but the seed
    seed: int
    label: str = field(default="", compare=False)  # for people ("cnn, width 16"); not identity

    @cached_property
    def run_id(self) -> str:
        key = {
            "experiment": self.experiment,
            "version": self.version,
            "engine": ENGINE_VERSION,
            "config": self.config,
            "seed": self.seed,
        }
        return hashlib.sha256(canonical_json(key).encode()).hexdigest()[:16]

    @property
    def epochs(self) -> int:
        return int(self.config.get("epochs", 1))


@dataclass
class RunContext:
    """How to execute a run (not what it is): device, data folder, progress and cancel hooks."""

    device: str = "auto"
    data_dir: str | None = None
    download: bool = False
    on_epoch: Callable[[dict], None] | None = None
    should_stop: Callable[[], bool] | None = None


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
