"""cnnexp/experiments/scaling.py: formulas agree with modules; the sweep plans, runs and
summarises; the CLI answers the analytic mode at once."""

import json

import pytest

from cnnexp import data
from cnnexp.config import ConfigError, parse
from cnnexp.experiments import scaling
from tests.test_cli import cli


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"image_size": 512},
        {"image_size": 9, "kernel": 5, "stride": 2, "padding": 0},
        {
            "image_size": 28,
            "in_channels": 1,
            "out_channels": 8,
            "kernel": 7,
            "stride": 3,
            "padding": 3,
            "bias": False,
        },
    ],
)
def test_formulas_agree_with_meta_modules(values):
    cfg = parse(scaling.Config, {**values, "mode": "analytic"})
    assert scaling.module_counts(cfg) == scaling.analytic(cfg)


def test_conv_parameters_do_not_grow_with_the_image():
    rows = scaling.analytic_curve(parse(scaling.Config, {"mode": "analytic"}))
    params = {(r["family"], r["side"]): r["value"] for r in rows if r["quantity"] == "params"}
    assert params[("conv", 8)] == params[("conv", 512)]
    assert params[("local", 16)] == 4 * params[("local", 8)]  # grows with H·W
    ratio = params[("fc", 16)] / params[("fc", 8)]
    assert 15 < ratio < 17  # grows with (H·W)² (bias adds a little less)


def test_kernel_larger_than_the_padded_input_is_refused():
    with pytest.raises(ConfigError, match="kernel 9"):
        parse(scaling.Config, {"image_size": 4, "kernel": 9, "padding": 1})


def test_sample_efficiency_widths_have_comparable_sizes():
    cfg = parse(scaling.Config, {})
    widths = scaling.efficiency_widths(cfg)
    target = scaling.params_of(cfg, "cnn", cfg.efficiency_width)
    for family, w in widths.items():
        assert 0.5 < scaling.params_of(cfg, family, w) / target < 2, family


def test_every_run_has_the_same_step_budget():
    cfg = parse(scaling.Config, {"steps": 500})
    for spec in scaling.plan(cfg):
        images = spec.config["n_train"] or data.info(cfg.dataset).n_train
        steps = spec.config["epochs"] * len(data.batch_slices(images, cfg.batch_size))
        assert abs(steps - 500) <= len(data.batch_slices(images, cfg.batch_size)) / 2 + 1


def test_the_full_data_point_of_sample_efficiency_is_the_sweep_run():
    cfg = parse(scaling.Config, {"n_trains": (100, 4000)})
    labels = [s.label for s in scaling.plan(cfg)]
    assert not any("4000 images" in lab and lab.startswith("cnn") for lab in labels)


def test_cli_analytic_mode_answers_at_once(results):
    out = json.loads(
        cli(
            results,
            "run",
            "scaling",
            "--mode",
            "analytic",
            "--image-size",
            "64",
            "--in-channels",
            "3",
            "--out-channels",
            "16",
            "--kernel",
            "3",
            "--stride",
            "1",
            "--padding",
            "1",
            "--bias",
            "true",
            "--json",
        ).stdout
    )
    a = out["headline"]["analytic"]
    assert out["runs"] == []
    assert a["conv"]["params"] == 16 * (3 * 9 + 1)
    assert a == out["headline"]["modules"]


def test_cli_tiny_sweep_end_to_end(results):
    flags = [
        "--dataset",
        "digits",
        "--mlp-widths",
        "8,32",
        "--local-widths",
        "1",
        "--cnn-widths",
        "2,4",
        "--n-trains",
        "100,400",
        "--efficiency-width",
        "2",
        "--steps",
        "40",
        "--seeds",
        "2",
        "--json",
    ]
    h = json.loads(cli(results, "run", "scaling", *flags).stdout)["headline"]
    assert [p["width"] for p in h["families"]["mlp"]] == [8, 32]
    assert all(p["test_acc"]["n"] == 2 for ps in h["families"].values() for p in ps)
    assert [p["n_train"] for p in h["sample_efficiency"]["cnn"]] == [100, 400]
    assert set(h["params_ratio_to_match_cnn"]) == {"mlp", "local"}
    assert "explain" not in h and isinstance(scaling.explain_trained(h), str)


def test_sizes_beyond_the_dataset_mean_all_of_it():
    cfg = parse(scaling.Config, {"dataset": "digits", "n_trains": (100, 4000, 5000)})
    assert scaling.train_sizes(cfg) == [100, 1438]
    labels = [s.label for s in scaling.plan(cfg)]
    assert "mlp · width 25 · 1438 images" in labels or any("1438 images" in lab for lab in labels)
