"""Shared fixtures: a fresh results folder per test and tiny, fast training settings."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Two test processes (pytest-xdist) share the 2 cores of CI: each trains on one thread, as
# the runner gives each worker its share. Set before torch is imported; the CLI's
# subprocesses inherit it. (Two threads each made tiny runs ten times slower on a busy box.)
os.environ.setdefault("OMP_NUM_THREADS", "1")

# Tests start from empty results folders: the dashboard must not seed them from the bundle.
os.environ["CNNEXP_BUNDLE"] = ""
# Nor measure training steps in a background process per page (cnnexp/timing.py): the tests
# that need measurements make them, or turn it on.
os.environ["CNNEXP_TIMING"] = "off"

# Tiny settings: scikit-learn's 8×8 digits, one epoch, four channels. A run takes ~0.1 s.
TINY = {"dataset": "digits", "epochs": 1, "width": 4, "batch_size": 64}


@pytest.fixture
def results(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "results"
    monkeypatch.setenv("CNNEXP_RESULTS", str(path))
    return path


@pytest.fixture
def store(results):
    from cnnexp.store import Store

    return Store(results)


def cli_env(results: Path) -> dict:
    env = dict(os.environ, CNNEXP_RESULTS=str(results), PYTHONPATH=str(ROOT))
    env.pop("CUDA_VISIBLE_DEVICES", None)
    return env


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock on `path` across processes (pytest-xdist's workers)."""
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def tiny_saved(tmp_path_factory):
    """trained(*names) -> a results folder holding each named experiment's TINY plan (all of
    them by default) trained at two seeds. Each plan is trained once for the whole test run,
    the first time a test asks for it: tests/test_experiments.py checks these runs end to end
    and the pages (tests/test_app.py) show them as saved results. Once even under
    pytest-xdist: its workers share the folder above their own temporary folders and take
    turns on a lock per experiment. Tests read it; none adds or deletes runs in it."""
    from cnnexp import experiments
    from cnnexp.config import parse
    from cnnexp.runner import execute
    from cnnexp.runspec import RunContext
    from cnnexp.store import Store

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's folder, above each worker's own
    root = shared / "tiny-saved" / "results"
    root.mkdir(parents=True, exist_ok=True)

    def trained(*names: str) -> Path:
        for name in names or experiments.names():
            with _locked(root.parent / f"{name}.lock"):
                if (root.parent / f"{name}.done").exists():
                    continue
                mod = experiments.get(name)
                for spec in mod.plan(parse(mod.Config, {**mod.TINY, "seeds": 2})):
                    execute(spec, Store(root), RunContext(device="cpu"))
                (root.parent / f"{name}.done").touch()
        return root

    return trained
