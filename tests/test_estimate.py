"""cnnexp/estimate.py: each run's work, and the time estimate for what is missing."""

import json

import pandas as pd
import pytest

from cnnexp import experiments
from cnnexp.config import parse
from cnnexp.estimate import estimate_seconds, setup_work, work_of
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
