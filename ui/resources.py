"""Objects every session shares, held by st.cache_resource: the store and the runner."""

from __future__ import annotations

import os

import streamlit as st

from cnnexp.runner import LocalRunner
from cnnexp.store import Store, default_root


def results_root() -> str:
    return str(default_root().resolve())


@st.cache_resource(show_spinner=False)
def _store(root: str) -> Store:
    return Store(root)


@st.cache_resource(show_spinner=False)
def _runner(root: str, device: str) -> LocalRunner:
    # One worker per device for the whole server: every browser session shares its queue.
    return LocalRunner(root, device=device, data_dir=os.environ.get("CNNEXP_DATA"))


def store() -> Store:
    return _store(results_root())


def runner() -> LocalRunner:
    return _runner(results_root(), os.environ.get("CNNEXP_DEVICE", "auto"))
