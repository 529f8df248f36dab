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


def _acc(mean: float) -> dict:
    return {"mean": mean, "ci95": [mean - 0.01, mean + 0.01], "n": 3}


def _sweep(cnn_small: float, cnn_large: float, mlp_small: float, mlp_large: float) -> dict:
    def eff(small: float, large: float) -> list[dict]:
        return [
            {"n_train": 100, "test_acc": _acc(small)},
            {"n_train": 4000, "test_acc": _acc(large)},
        ]

    cnn = {"width": 8, "params": 1000, "test_acc": _acc(0.95)}
    mlp = {"width": 64, "params": 50000, "test_acc": _acc(0.91)}
    return {
        "families": {"cnn": [cnn], "mlp": [mlp]},
        "params_ratio_to_match_cnn": {"mlp": None},
        "sample_efficiency": {"cnn": eff(cnn_small, cnn_large), "mlp": eff(mlp_small, mlp_large)},
    }


@pytest.mark.parametrize(
    "accs, gaps, verdict",
    [
        ((0.80, 0.95, 0.60, 0.93), ("20.0 points", "2.0 points"), "as the textbook claims"),
        ((0.62, 0.95, 0.60, 0.80), ("2.0 points", "15.0 points"), "opposite of the textbook"),
        ((0.70, 0.95, 0.65, 0.90), ("5.0 points", "5.0 points"), "about the same at every size"),
    ],
)
def test_the_explanation_quotes_its_numbers_and_follows_them(accs, gaps, verdict):
    text = scaling.explain_trained(_sweep(*accs))
    assert "The best CNN (width 8, 1,000 parameters) reaches 95.0% (95% CI 94.0–96.0%" in text
    assert "No MLP reached that accuracy: its best was 91.0% with 50,000 parameters (50×" in text
    assert f"on 100 images the CNN leads the MLP by {gaps[0]}; on 4,000 images by {gaps[1]}" in text
    assert verdict in text
    others = {"as the textbook claims", "opposite of the textbook", "about the same at every size"}
    others.remove(verdict)
    assert not any(o in text for o in others), text


def test_too_many_steps_for_a_small_training_set_names_steps_not_epochs():
    """Found: ?steps=20000 was refused as 'epochs: Input should be less than or equal to
    500', a setting the page does not show."""
    with pytest.raises(ConfigError, match="steps 20000 on 100 training images is 10,000 epochs"):
        parse(scaling.Config, {"mode": "empirical", "steps": 20000})
