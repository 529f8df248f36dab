"""Objects every session shares, held by st.cache_resource: the store and the runner."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import streamlit as st

from cnnexp.runner import LocalRunner
from cnnexp.store import Store, default_root


def results_root() -> str:
    return str(default_root().resolve())


@st.cache_resource(show_spinner=False)
def _store(root: str) -> Store:
    from cnnexp import bundle

    # A fresh results folder starts with the bundled runs, so nobody opens an empty app; a
    # read-only folder keeps what it has.
    with contextlib.suppress(OSError):
        bundle.seed(Path(root), bundle.default_dir())
    store = Store(root)
    # Writers killed mid-save (a cancelled worker past its grace, a crashed server) leave
    # temporary files; the server's start is the moment none of ours can still be writing.
    with contextlib.suppress(OSError):
        store.cleanup()
    return store


@st.cache_resource(show_spinner=False)
def _runner(root: str, device: str) -> LocalRunner:
    # One worker per device for the whole server: every browser session shares its queue.
    return LocalRunner(root, device=device, data_dir=os.environ.get("CNNEXP_DATA"))


def store() -> Store:
    return _store(results_root())


def runner() -> LocalRunner:
    return _runner(results_root(), os.environ.get("CNNEXP_DEVICE", "auto"))
