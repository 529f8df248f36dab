"""Doing one run: `perform` it (nothing saved), `save` what it produced, or both (`execute`).

`execute(spec, store, ctx)` is the one function that does a run: call the experiment's work,
stamp the record, save it atomically. The CLI calls it in line; the runner's workers call
`perform` and save the result where the store is (a local worker in its own process, the
Ray driver for a Ray actor), so the same settings give the same record on every backend.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from cnnexp import experiments
from cnnexp.results import FINISHED
from cnnexp.runspec import RunContext, RunOutput, RunSpec
from cnnexp.store import Store, versions


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def execute(spec: RunSpec, store: Store, ctx: RunContext) -> dict:
    """Run one spec and save it; returns the record. Never raises for a failed run.

    A run cancelled before its first epoch ended leaves nothing saved (there is nothing to
    show); the returned record says `cancelled` and has `saved: False`."""
    return save(store, *perform(spec, ctx))


def perform(spec: RunSpec, ctx: RunContext) -> tuple[dict, RunOutput]:
    """The run itself, nothing saved: its record and output. A remote worker (Ray) returns
    these to the driver, which saves them with `save`, so no shared file system is needed."""
    started, t0 = now(), time.perf_counter()
    ctx.precision = spec.precision  # the id promises this precision; the engine honours it
    try:
        out = experiments.get(spec.experiment).execute(spec, ctx)
    except Exception as e:  # the run failed; the record says why and the caller goes on
        out = RunOutput(status="failed", error=f"{type(e).__name__}: {e}", device=ctx.device)
        out.out_of_memory = out_of_memory(e)
    if out.out_of_memory:  # the failed run's tensors are gone now: give their memory back
        _release_gpu_cache()
    if not out.precision:
        out.precision = spec.precision
    if out.status == "cancelled" and ctx.stop_reason and not out.error:
        out.error = ctx.stop_reason
    record = {
        **identity(spec),
        "status": out.status,
        "error": out.error,
        "device": out.device,
        "precision": out.precision,
        "started_at": started,
        "ended_at": now(),
        "duration_s": time.perf_counter() - t0,
        **out.summary,
        **versions(),
    }
    return record, out


def identity(spec: RunSpec) -> dict:
    """The fields of a run's record that say which run it is."""
    return {
        "run_id": spec.run_id,
        "experiment": spec.experiment,
        "version": spec.version,
        "seed": spec.seed,
        "label": spec.label,
        "precision": spec.precision,
        "config": spec.config,
    }


def out_of_memory(e: BaseException) -> bool:
    """Whether a run failed for want of memory: a GPU's (torch.OutOfMemoryError), Python's
    (MemoryError, e.g. numpy) or torch's CPU allocator (a RuntimeError that says so)."""
    if isinstance(e, MemoryError) or type(e).__name__ == "OutOfMemoryError":
        return True
    text = str(e).lower()
    return isinstance(e, RuntimeError) and any(
        s in text for s in ("out of memory", "can't allocate memory", "cannot allocate memory")
    )


def _release_gpu_cache() -> None:
    torch = sys.modules.get("torch")  # a run that touched a GPU has imported torch
    if torch is not None and torch.cuda.is_initialized():
        torch.cuda.empty_cache()


def save(store: Store, record: dict, out: RunOutput) -> dict:
    """Save a performed run; returns its record with `saved` (and why not, if it failed).
    A cancelled run never replaces a finished one (trained again for its weights, then
    cancelled: the finished run stays)."""
    if out.status == "cancelled" and not out.metrics:
        return {**record, "saved": False}
    if out.status == "cancelled":
        rid = record["run_id"]
        if store.records([rid]).get(rid, {}).get("status") in FINISHED:
            return {**record, "saved": False}
    try:
        store.save(record, out.metrics, out.tables, out.blobs)
    except OSError as e:  # disk full, read-only folder: say so; the worker goes on
        return {
            **record,
            "status": "failed",
            "error": f"the result could not be saved in {store.root}: {e}",
            "saved": False,
        }
    return {**record, "saved": True}
