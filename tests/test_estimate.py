"""cnnexp/estimate.py: each run's work, and the time estimate for what is missing."""

import json

import pandas as pd
import pytest

from cnnexp import experiments
from cnnexp.config import parse
from cnnexp.estimate import estimate_seconds, setup_work, work_of, work_of_spec
from cnnexp.runspec import RunSpec


def test_estimate_scales_with_work_and_prefers_the_same_batch_size():
    mod = experiments.get("baseline")
    spec = mod.plan(parse(mod.Config, {"epochs": 4, "batch_size": 8}))[0]
    assert estimate_seconds([spec], pd.DataFrame()) is None  # nothing comparable: no guess
    work = spec.config["epochs"] * 4000 * 2063488  # epochs × images × forward FLOPs
    past = pd.DataFrame(
        [
            {
                "status": "done",
                "model": "cnn",
                "batch_size": 64,
                "duration_s": 10.0,
                "flops": 2063488,
                "n_train_images": 4000,
                "epochs_run": 8,
            },
            {
                "status": "done",
                "model": "cnn",
                "batch_size": 8,
                "duration_s": 40.0,
                "flops": 2063488,
                "n_train_images": 4000,
                "epochs_run": 8,
            },
        ]
    )
    assert estimate_seconds([spec], past) == 40.0 / 8 * 4 == 40.0 * work / (8 * 4000 * 2063488)
    assert estimate_seconds([spec, spec], past) == 2 * estimate_seconds([spec], past)


def _past(**rows) -> pd.DataFrame:
    """Finished past runs, one per keyword: name=(experiment, model, batch, seconds, flops,
    images, epochs, config)."""
    cols = ["experiment", "model", "batch_size", "duration_s", "flops", "n_train_images"]
    cols += ["epochs_run", "config_json"]
    out = [dict(zip(cols, r, strict=True)) | {"status": "done"} for r in rows.values()]
    return pd.DataFrame(out)


def test_every_registered_experiment_has_an_honest_work_or_none():
    for name, mod in experiments.REGISTRY.items():
        cfg = parse(mod.Config, getattr(mod, "TINY", {}))
        for spec in mod.plan(cfg):
            w = work_of(spec.experiment, spec.config)
            assert w is not None and w.flops > 0 and w.units > 0, (name, spec.label)
            assert w.epochs == spec.config["epochs"], (name, spec.label)
    # a config that names neither a model nor the experiment's own fields: no guess
    assert work_of("baseline", {"stack": "plain"}) is None
    assert setup_work({"depth": 4, "width": 8, "n_train": 1200, "epochs": 5}) is None


def test_receptive_field_work_is_its_real_stack_on_its_strips():
    from cnnexp import models
    from cnnexp.experiments import receptive_field as rf

    cfg = parse(rf.Config, {})
    specs = {s.config["stack"]: s for s in rf.plan(cfg) if s.config["distance"] == 16}
    for stack, spec in specs.items():
        c = spec.config
        net = rf.task_net(rf.task_stack(stack, c["depth"]), c["width"])
        w = work_of("receptive_field", c)
        assert w.flops == models.measure_flops(net, (1, rf.HEIGHT, c["image_width"])), stack
        assert (w.images, w.epochs, w.model) == (cfg.n_train, cfg.epochs, "cnn")
    # dilation costs nothing more than the plain stack; pooling shrinks the maps it works on
    assert specs["dilated"] and work_of("receptive_field", specs["dilated"].config).flops == (
        work_of("receptive_field", specs["plain"].config).flops
    )
    assert work_of("receptive_field", specs["pooled"].config).flops < (
        work_of("receptive_field", specs["plain"].config).flops / 2
    )
    # The old estimate read this config as a default mnist5k CNN: nothing like this stack.
    assert setup_work(specs["plain"].config) is None


def test_receptive_field_estimate_prefers_its_own_past_runs():
    from cnnexp.experiments import receptive_field as rf

    plain = next(s for s in rf.plan(parse(rf.Config, {})) if s.config["stack"] == "plain")
    w = work_of("receptive_field", plain.config)
    cnn = ("baseline", "cnn", 64, 10.0, 2_000_000, 4000, 8, "{}")
    assert estimate_seconds([plain], _past(cnn=cnn)) == pytest.approx(
        10.0 / (2_000_000 * 4000 * 8) * w.units
    )  # no run of its own yet: the speed of other CNNs per FLOP
    # A past run of the receptive-field experiment saved before runs recorded their FLOPs:
    # its work comes from its saved config, and its speed is the one used.
    epochs = plain.config["epochs"]
    old = ("receptive_field", None, 64, 6.0, None, 1200, epochs, json.dumps(plain.config))
    assert estimate_seconds([plain], _past(cnn=cnn, old=old)) == pytest.approx(6.0)
    pooled = next(s for s in rf.plan(parse(rf.Config, {})) if s.config["stack"] == "pooled")
    ratio = work_of("receptive_field", pooled.config).units / w.units
    assert estimate_seconds([pooled], _past(cnn=cnn, old=old)) == pytest.approx(6.0 * ratio)


def test_permuted_estimate_counts_each_size_and_model_with_its_own_speed():
    mod = experiments.get("permuted")
    cfg = parse(mod.Config, {"seeds": 1, "n_trains": (300,)})
    specs = mod.plan(cfg)
    works = {(s.config["model"], s.config["n_train"]): work_of("permuted", s.config) for s in specs}
    small, full = works[("cnn", 300)], works[("cnn", 0)]
    assert (small.images, full.images) == (300, 4000)
    assert small.epochs == mod.epochs_for(cfg, 300) and full.epochs == cfg.epochs
    assert small.flops == full.flops and works[("mlp", 0)].model == "mlp"
    cnn_rate, mlp_rate = 1e-9, 1e-10  # seconds per unit of work
    past = _past(
        cnn=("permuted", "cnn", 64, cnn_rate * full.units, full.flops, 4000, cfg.epochs, "{}"),
        mlp=("permuted", "mlp", 64, mlp_rate * works[("mlp", 0)].units,
             works[("mlp", 0)].flops, 4000, cfg.epochs, "{}"),
    )  # fmt: skip
    expected = sum(
        (cnn_rate if model == "cnn" else mlp_rate) * works[(model, n)].units
        for model, n in ((s.config["model"], s.config["n_train"]) for s in specs)
    )
    assert estimate_seconds(specs, past) == pytest.approx(expected)
    # a spec whose work cannot be told makes the whole estimate unknown, not smaller
    odd = RunSpec("permuted", mod.VERSION, {"block": 0}, 0)
    assert estimate_seconds([*specs, odd], past) is None


# --- the measured model: steps × a step + test passes × a pass (pure) --------------------------
def test_the_engines_numbers_are_the_estimates():
    from cnnexp import data, engine, estimate

    assert estimate.MAX_EVALS == engine.MAX_EVALS and estimate.EVAL_BATCH == engine.EVAL_BATCH
    for images, batch in ((100, 64), (4000, 64), (129, 64), (65, 64), (1, 64), (64, 64)):
        w = estimate.Work(1, images, 3, "cnn", batch=batch)
        assert w.steps == 3 * len(data.batch_slices(images, batch)), (images, batch)


def test_a_runs_work_counts_its_steps_and_test_passes():
    mod = experiments.get("permuted")
    cfg = parse(mod.Config, {"seeds": 1})
    works = {s.label: work_of_spec(s) for s in mod.plan(cfg)}
    main, sweep = works["mlp · original"], works["mlp · original · 100 images"]
    assert (main.batch, main.test_images) == (64, 1000)
    assert main.test_passes == cfg.epochs  # every epoch, as the engine tests them
    assert sweep.test_passes == 1  # the size sweep is tested once (permuted.SWEEP_EVALS)
    assert sweep.steps == 50 * 2 and main.steps == 5 * 63
    eq = experiments.get("equivariance")
    spec = eq.plan(parse(eq.Config, {"seeds": 1}))[0]
    # the engine's 8 passes and the experiment's own: 1 + 4 × 6 shifts, and 2 for consistency
    assert work_of_spec(spec).test_passes == 8 + 1 + 4 * 6 + 2


# Step costs recorded on the 2-core VM (1 thread, CPU seconds, `bench.estimates` prototype),
# and what the real runs took there: the model predicted each within 4%.
RECORDED = {  # model, width: (seconds per step of 64, seconds per pass over 1,000, run took)
    ("cnn", 16): (0.02209, 0.1269, 12.05),
    ("mlp", 256): (0.00491, 0.0088, 2.44),
    ("mlp", 1024): (0.01692, 0.0349, 8.64),
    ("local", 4): (0.02244, 0.1917, 12.91),
    ("cnn", 2): (0.01056, 0.0577, 5.54),
}


@pytest.mark.parametrize("model, width", list(RECORDED))
def test_recorded_step_times_predict_recorded_runs(model, width):
    from cnnexp.estimate import StepCost, run_seconds

    step, pass_, took = RECORDED[(model, width)]
    mod = experiments.get("baseline")
    spec = mod.plan(parse(mod.Config, {"model": model, "width": width, "seeds": 1}))[0]
    work = work_of_spec(spec)
    assert (work.steps, work.test_passes, work.test_images) == (8 * 63, 8, 1000)
    predicted = run_seconds(work, StepCost(step, pass_))
    assert predicted == pytest.approx(504 * step + 8 * pass_)
    assert 0.9 < took / predicted < 1.1


def test_calibration_from_past_runs_and_its_range():
    from cnnexp.estimate import CALIBRATED_SPAN, MEASURED_SPAN, calibration

    assert calibration([]) == (1.0, MEASURED_SPAN)  # nothing ran here: the wider range
    k, band = calibration([1.2, 1.25, 1.3])
    assert k == 1.25 and band == CALIBRATED_SPAN  # alike past runs: the narrowest range
    k, band = calibration([1.0, 2.0, 4.0])
    assert k == 2.0 and band == (0.5, 2.0)  # the past runs' own spread


def test_a_plans_time_shares_its_runs_among_the_workers():
    from cnnexp.estimate import Span, plan_seconds

    runs = [Span(10, 8, 13), Span(10, 8, 13), Span(40, 32, 52)]
    assert plan_seconds(runs, 1, 3.0) == Span(63, 51, 81)
    assert plan_seconds(runs, 2, 3.0) == Span(43, 35, 55)  # the longest run bounds it
    assert plan_seconds(runs, 4, 0.0).seconds == 40


def test_progress_counts_work_not_epochs():
    """Found: at 6 of 12 runs finished the bar was ~90% full with two thirds of the time
    left: the finished runs were 50 tiny epochs each, the rest 5 long ones."""
    from cnnexp.estimate import Span, done_fraction, seconds_left

    tiny, long = Span(2, 2, 2), Span(20, 20, 20)
    runs = [(tiny, 1.0)] * 6 + [(long, 0.0)] * 6
    assert done_fraction(runs) == pytest.approx(12 / 132)
    assert seconds_left(runs, 1) == 120 and seconds_left(runs, 2) == 60
    half = [(tiny, 1.0)] * 6 + [(long, 0.5)] + [(long, 0.0)] * 5
    assert done_fraction(half) == pytest.approx(22 / 132)
    assert done_fraction([]) == 0


def test_a_plans_estimate_is_measured_calibrated_or_rough():
    from cnnexp.estimate import (
        MEASURED_SPAN,
        PAST_RATE_SPAN,
        StepCost,
        plan_estimate,
        run_seconds,
    )

    mod = experiments.get("baseline")
    specs = mod.plan(parse(mod.Config, {"seeds": 2}))
    work = work_of_spec(specs[0])
    cost = StepCost(0.02, 0.1)
    one = run_seconds(work, cost)
    measured = plan_estimate(specs, pd.DataFrame(), lambda s: cost, "cpu", workers=1, startup=4)
    assert measured.measured and not measured.unmeasured
    assert measured.runs[specs[0].run_id].seconds == pytest.approx(one)
    assert measured.runs[specs[0].run_id].low == pytest.approx(one * MEASURED_SPAN[0])
    assert measured.total.seconds == pytest.approx(4 + 2 * one)
    # a past run of this experiment here took 1.5× its prediction: the next are scaled so
    past = pd.DataFrame(
        [
            {
                "experiment": "baseline",
                "version": mod.VERSION,
                "seed": 7,
                "status": "done",
                "device": "cpu",
                "duration_s": 1.5 * one,
                "epochs_run": 8,
                "config_json": json.dumps(specs[0].config),
            }
        ]
    )
    calibrated = plan_estimate(specs, past, lambda s: cost, "cpu")
    assert calibrated.runs[specs[1].run_id].seconds == pytest.approx(1.5 * one)
    gpu = plan_estimate(specs, past, lambda s: cost, "cuda")  # a CPU run says nothing there
    assert gpu.runs[specs[1].run_id].seconds == pytest.approx(one)
    # nothing measured: the past runs' rate per unit of work, widely, and say which to measure
    rough = plan_estimate(
        specs, _past(p=("baseline", "cnn", 64, 10.0, work.flops, 4000, 8, "{}")), lambda s: None
    )
    assert not rough.measured and rough.unmeasured == specs
    assert rough.runs[specs[0].run_id].low == pytest.approx(10.0 * PAST_RATE_SPAN[0])
    unknown = plan_estimate(specs, pd.DataFrame(), lambda s: None)
    assert unknown.total is None and unknown.runs == {}
