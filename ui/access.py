"""Who may launch runs. Viewer mode (CNNEXP_MODE=viewer) browses and exports only."""

from __future__ import annotations

import os

import streamlit as st


def mode() -> str:
    value = os.environ.get("CNNEXP_MODE")
    if value is None:
        try:
            value = st.secrets.get("CNNEXP_MODE")
        except Exception:  # no secrets file: the embedded default
            value = None
    return "viewer" if (value or "").strip().lower() == "viewer" else "launch"


def can_launch() -> bool:
    return mode() == "launch"
