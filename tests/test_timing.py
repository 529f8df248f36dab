"""cnnexp/timing.py: a training step's cost measured on this machine, remembered per model
shape, batch, device, precision and threads, written whole."""

import json
import subprocess
import sys
import time

import pytest

from cnnexp import experiments, timing
from cnnexp.config import parse
from cnnexp.estimate import StepCost
from tests.conftest import ROOT, cli_env

TINY_CNN = {"dataset": "digits", "width": 4, "seeds": 1}


def plan(name: str, **values):
    mod = experiments.get(name)
    return mod.plan(parse(mod.Config, values))


def test_what_a_steps_cost_depends_on():
    """The dataset only through its image's shape, never the images, epochs or learning rate;
    the batch size, the model's settings and the machine always."""
    key = timing.shape_key
    (mnist5k,) = plan("baseline", dataset="mnist5k", seeds=1, epochs=3, n_train=500, lr=0.01)
    (mnist,) = plan("baseline", dataset="mnist", seeds=1)
    (digits,) = plan("baseline", dataset="digits", seeds=1)
    (batch,) = plan("baseline", dataset="mnist5k", seeds=1, batch_size=32)
    (wide,) = plan("baseline", dataset="mnist5k", seeds=1, width=32)
    assert key(mnist5k) == key(mnist)  # 1×28×28, ten classes, whatever the files
    assert len({key(mnist5k), key(digits), key(batch), key(wide)}) == 4
    rf = plan("receptive_field", seeds=1)
    assert key(rf[0]) and key(rf[0]) != key(mnist5k)  # its own network, built by step_model
    cpu = timing.Machine("vm", "cpu", "fp32", 2, "2.5")
    assert cpu.key != timing.Machine("vm", "cpu", "fp32", 1, "2.5").key


def test_a_measured_step_is_remembered_and_found_again(tmp_path):
    import torch

    machine = timing.Machine.here("cpu", threads=torch.get_num_threads())
    specs = plan("baseline", **TINY_CNN) + plan("receptive_field", **{"seeds": 1, "n_train": 64})
    t = timing.Timings(tmp_path, machine)
    assert t(specs[0]) is None and len(t.unmeasured(specs)) == 1 + 3  # rf: three stacks
    assert timing.measure_missing(tmp_path, machine, specs) == 4
    cost = t(specs[0])
    assert isinstance(cost, StepCost) and 0 < cost.step_s < 5 and 0 < cost.eval_s < 5
    assert t.unmeasured(specs) == [] and t.startup() > 0
    assert timing.measure_missing(tmp_path, machine, specs) == 0  # once
    other = timing.Timings(tmp_path, timing.Machine(machine.host, "cpu", "fp32", 99, ""))
    assert other(specs[0]) is None  # another thread count is another machine
    assert not list(tmp_path.glob(".*.tmp"))  # written whole: no temporary file left
    data = json.loads((tmp_path / timing.FILE).read_text())
    assert data["version"] == 1 and len(data["steps"]) == 4


def test_records_merge_and_stay_bounded(tmp_path, monkeypatch):
    machine = timing.Machine("vm", "cpu", "fp32", 1, "")
    a, b = timing.Timings(tmp_path, machine), timing.Timings(tmp_path, machine)
    a.record({"x": StepCost(1, 2)})
    b.record({"y": StepCost(3, 4)})  # another writer: it keeps the first's
    steps = json.loads((tmp_path / timing.FILE).read_text())["steps"]
    assert len(steps) == 2
    monkeypatch.setattr(timing, "MAX_ENTRIES", 2)
    a.record({"z": StepCost(5, 6)})
    assert len(json.loads((tmp_path / timing.FILE).read_text())["steps"]) == 2


def test_an_unreadable_file_means_measure_again(tmp_path):
    (tmp_path / timing.FILE).write_text("{not json")
    t = timing.Timings(tmp_path, timing.Machine("vm", "cpu", "fp32", 1, ""))
    assert t(plan("baseline", **TINY_CNN)[0]) is None


def test_the_background_process_measures_what_it_is_given(tmp_path):
    """`python -m cnnexp.timing` as the dashboard starts it: runs on stdin, measurements and
    the worker's start-up in the folder, nothing on stdout or stderr."""
    specs = plan("baseline", **TINY_CNN)
    lines = "".join(
        json.dumps({"experiment": s.experiment, "version": s.version, "config": s.config}) + "\n"
        for s in specs
    )
    done = subprocess.run(
        [sys.executable, "-m", "cnnexp.timing", "--results", str(tmp_path), "--threads", "1"],
        input=lines,
        capture_output=True,
        text=True,
        env=cli_env(tmp_path),
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0 and not done.stdout and not done.stderr, done.stderr
    t = timing.Timings(tmp_path, timing.Machine.here("cpu", threads=1))
    assert t(specs[0]) is not None and t.startup() > 0


def test_start_measuring_once_in_the_background(tmp_path):
    machine = timing.Machine.here("cpu", threads=1)
    specs = plan("baseline", **TINY_CNN)
    assert timing.start_measuring(tmp_path, machine, specs)
    t = timing.Timings(tmp_path, machine)
    deadline = time.monotonic() + 240  # the process imports torch and measures a tiny model
    while t(specs[0]) is None or timing.measuring(tmp_path):
        assert time.monotonic() < deadline, "the timing process measured nothing"
        time.sleep(0.5)
    assert not timing.start_measuring(tmp_path, machine, specs)  # nothing left to measure


@pytest.mark.gpu
def test_a_step_on_the_gpu_is_measured_apart():
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    (spec,) = plan("baseline", **TINY_CNN)
    model = timing.step_model(spec.experiment, spec.config)
    cost = timing.measure(model, timing.Machine.here("cuda"))
    assert 0 < cost.step_s < 1 and 0 < cost.eval_s < 1
