"""cnnexp/execution.py: one run, performed and saved; a failed run or a failed save is a
record, never an exception."""

import pytest

from cnnexp.execution import execute, out_of_memory
from cnnexp.runspec import RunContext
from cnnexp.store import Store
from tests.test_runner import specs


def test_execute_inline_saves_a_record(store):
    (spec,) = specs()
    rec = execute(spec, store, RunContext(device="cpu"))
    assert rec["status"] == "done" and rec["params"] > 0 and rec["torch_version"]
    assert store.records([spec.run_id])[spec.run_id]["status"] == "done"


def test_a_failing_run_is_recorded_not_raised(store):
    (spec,) = specs()
    bad = type(spec)(spec.experiment, spec.version, {**spec.config, "width": -1}, 0)
    rec = execute(bad, store, RunContext(device="cpu"))
    assert rec["status"] == "failed" and "width" in rec["error"]


def test_precision_is_part_of_the_run_id_and_the_record(store):
    from dataclasses import replace

    (spec,) = specs()
    bf16 = replace(spec, precision="bf16")
    assert spec.precision == "fp32" and bf16.run_id != spec.run_id  # no GPU in the suite
    with pytest.raises(ValueError, match="allowed: fp32, bf16"):
        replace(spec, precision="fp8")
    rec = execute(spec, store, RunContext(device="cpu"))
    assert rec["precision"] == "fp32" and rec["device"] == "cpu"


def test_out_of_memory_errors_are_told_apart():
    assert out_of_memory(MemoryError())
    assert out_of_memory(RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried"))
    assert out_of_memory(RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert not out_of_memory(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
    assert not out_of_memory(ValueError("width must be at least 1"))


def test_a_failed_save_is_reported_and_the_next_run_proceeds(tmp_path):
    """execute never raises for a save that fails, so the worker that calls it lives on."""
    import shutil

    root = tmp_path / "results"
    store = Store(root)
    a, b = specs(seeds=2)
    shutil.rmtree(root, ignore_errors=True)
    root.write_text("not a folder")  # every write under it fails with a real OSError
    rec = execute(a, store, RunContext(device="cpu"))
    assert rec["status"] == "failed" and "could not be saved" in rec["error"]
    assert rec["saved"] is False
    root.unlink()
    root.mkdir()
    assert execute(b, store, RunContext(device="cpu"))["saved"] is True
    assert store.records([b.run_id])[b.run_id]["status"] == "done"
