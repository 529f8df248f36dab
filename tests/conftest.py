"""Shared fixtures: a fresh results folder per test and tiny, fast training settings."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Tests start from empty results folders: the dashboard must not seed them from the bundle.
os.environ["CNNEXP_BUNDLE"] = ""

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
