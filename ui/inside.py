"""The Inside page's Streamlit side: which run a link or the pickers name, and what is
computed for it, cached per (run, image) for every session.

The work is cnnexp/inspection.py (torch, Captum), imported inside the functions that compute:
the page draws its pickers, and says when a run has no weights, without loading torch.
A run's key is its id with its file's signature, so a run trained again is computed anew.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import streamlit as st

from cnnexp import policy
from cnnexp.runspec import RUN_ID
from ui import resources

MAX_COMPARED = 3  # other runs whose attributions are drawn beside the run's


@dataclass(frozen=True)
class RunKey:
    """A saved run as it is on disk now: its id and its file's signature."""

    run_id: str
    mtime_ns: int
    size: int

    @classmethod
    def of(cls, record: dict) -> RunKey:
        return cls(record["run_id"], int(record["_mtime_ns"]), int(record["_size"]))


# --- the link --------------------------------------------------------------------------------
def linked_run(saved: set[str], problems: list[str]) -> str | None:
    """?run=<id>: a saved run's id, or None (what was refused goes to problems, quoted)."""
    raw = st.query_params.get("run")
    if raw is None:
        return None
    if RUN_ID.fullmatch(raw) and raw in saved:
        return raw
    problems.append(
        f"run: {raw[:80]!r} ignored; allowed: the id of a saved run (16 hexadecimal digits)"
    )
    return None


def linked_image(n_test: int, problems: list[str]) -> int:
    """?image=<n>: a test image index, 0 when absent or refused."""
    raw = st.query_params.get("image")
    if raw is None:
        return 0
    if raw.isascii() and raw.isdigit() and len(raw) < 10 and int(raw) < n_test:
        return int(raw)
    problems.append(
        f"image: {raw[:80]!r} ignored; allowed: a test image index from 0 to {n_test - 1}"
    )
    return 0


def linked_compare(allowed: list[str], problems: list[str]) -> list[str]:
    """?compare=<id>,<id>: saved runs tested on the same images, at most MAX_COMPARED."""
    got = [x for v in st.query_params.get_all("compare") for x in v.split(",") if x]
    ok = [x for x in got if x in allowed][:MAX_COMPARED]
    bad = [x for x in got if x not in allowed]
    if bad:
        problems.append(
            f"compare: {', '.join(repr(x[:40]) for x in bad[:3])} ignored; allowed: up to "
            f"{MAX_COMPARED} saved runs tested on the same images as this one"
        )
    return ok


def show_problems(problems: list[str]) -> None:
    """What of the link was ignored, as literal text: a stranger's values are never markdown."""
    if problems:
        st.warning("**Some values in this link were ignored.**", icon=":material/link_off:")
        st.text("\n".join(problems))


# --- cached work -------------------------------------------------------------------------------
class CannotInspect(Exception):
    """A saved run whose weights do not load into its model (the message says so)."""


def can_compute() -> bool:
    """Whether this server has what looking inside needs (a viewer installs no PyTorch)."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("torch", "captum"))


def has_weights(record: dict) -> bool:
    """Whether a saved run kept its weights (a file check: no torch)."""
    return resources.store().blob_path(record["experiment"], record["run_id"], "weights").exists()


@st.cache_resource(max_entries=8, show_spinner=False)
def _loaded(key: RunKey, data_dir: str | None):
    """A run's subject and trained model, shared by every session; the lock keeps two
    sessions' Captum hooks off the one model at once."""
    from cnnexp import inspection

    try:
        subj, model = inspection.load(resources.store(), key.run_id, data_dir)
    except inspection.InspectError as e:
        raise CannotInspect(str(e)) from None
    return subj, model, threading.Lock()


def loaded(key: RunKey):
    import os

    return _loaded(key, os.environ.get("CNNEXP_DATA"))


@st.cache_data(max_entries=32, show_spinner=False)
def run_view(key: RunKey, caps: policy.Caps):
    """Predictions, mistakes and the first layer (trained and at initialisation) of a run."""
    from cnnexp import inspection

    subj, model, lock = loaded(key)
    with lock:
        return inspection.run_view(subj, model, caps)


@st.cache_data(max_entries=256, show_spinner=False)
def image_view(key: RunKey, index: int):
    """One test image's feature maps and attributions: per (run, image)."""
    from cnnexp import inspection

    subj, model, lock = loaded(key)
    with lock:
        return inspection.image_view(subj, model, index)
