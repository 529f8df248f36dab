"""Every experiment's explanation states the numbers it is given and turns its verdict when
the numbers turn ("as the textbook says" / "unlike the textbook"), from headlines written
here by hand, so each sentence is checked both ways without training anything.

Already covered in the experiments' own test files: scaling's sample-efficiency verdict
(tests/test_scaling.py), permuted's size, regime and head sentences (tests/test_permuted.py),
normalization's "why it helps" (tests/test_normalization.py), the Baseline page's sentence
(tests/test_baseline_page.py), and the probes' (tests/test_shift_probe.py,
tests/test_field_probe.py). This file covers the rest."""

import pytest

from cnnexp.config import parse
from cnnexp.experiments import (
    equivariance,
    normalization,
    permuted,
    receptive_field,
    scaling,
)


def ci(mean, lo=None, hi=None, n=3):
    return {"mean": mean, "ci95": None if lo is None else [lo, hi], "n": 1 if lo is None else n}


# --- equivariance (trained) --------------------------------------------------------------------
def shifted(accs: dict[str, tuple[float, float]]) -> dict:
    """A headline whose models score (centred, at the largest shift of 2 pixels)."""
    return {
        "shift_accuracy": {
            m: [
                {"shift": 0, "test_acc": ci(a0)},
                {"shift": 1, "test_acc": ci((a0 + a2) / 2)},
                {"shift": 2, "test_acc": ci(a2)},
            ]
            for m, (a0, a2) in accs.items()
        },
        "consistency": {},
    }


def test_equivariance_states_each_models_drop_and_whether_pooling_kept_more():
    cfg = parse(equivariance.Config, {"max_shift": 2, "models": ("mlp", "cnn_flatten", "cnn_gap")})
    as_predicted = {
        "mlp": (0.96, 0.125),
        "cnn_flatten": (0.98, 0.375),
        "cnn_gap": (0.97, 0.875),
        "cnn_gap_augmented": (0.96, 0.9375),
    }
    text = equivariance.explain_trained(cfg, shifted(as_predicted))
    assert (
        "Moving the test images by 2 pixels: **mlp · trained centred** 96.0% → 12.5%, "
        "**cnn_flatten · trained centred** 98.0% → 37.5%, **cnn_gap · trained centred** "
        "97.0% → 87.5%, **cnn_gap · trained shifted ±2** 96.0% → 93.8%." in text
    )
    assert "mlp loses the most (83.5 points) and cnn_gap the least (9.5)" in text
    assert "keeps more of its accuracy than the flatten head, as invariance after pooling" in text
    assert "does not keep more" not in text
    assert "Trained shifted ±2 instead, the losses at the largest shift become cnn_gap 2.2" in text
    assert "_augmented" not in text  # the legend's name, "cnn_gap · trained shifted ±2"

    flipped = {**as_predicted, "cnn_gap": (0.97, 0.25)}  # the GAP head loses more than flatten
    text = equivariance.explain_trained(cfg, shifted(flipped))
    assert "cnn_gap · trained centred** 97.0% → 25.0%" in text
    assert "mlp loses the most (83.5 points) and cnn_flatten the least (60.5)" in text
    assert "does not keep more of its accuracy than the flatten head here" in text
    assert "as invariance after pooling predicts" not in text


def test_equivariance_losses_are_the_differences_of_the_accuracies_shown():
    """Found: "mlp 95.9% → 8.8%" beside "loses the most (87.0 points)" (the bundled runs:
    95.867% → 8.825%); a reader subtracts the numbers shown and gets 87.1."""
    cfg = parse(equivariance.Config, {"max_shift": 2, "models": ("mlp", "cnn_gap")})
    text = equivariance.explain_trained(
        cfg, shifted({"mlp": (0.9586666623751322, 0.08825), "cnn_gap": (0.977, 0.8673333)})
    )
    assert "**mlp · trained centred** 95.9% → 8.8%" in text
    assert "**cnn_gap · trained centred** 97.7% → 86.7%" in text
    assert "mlp loses the most (87.1 points) and cnn_gap the least (11.0)" in text


def test_equivariance_leaves_out_a_model_that_never_learned():
    """Found: a cnn_gap at chance (8.9%) was said to lose 'the least'."""
    cfg = parse(equivariance.Config, {"max_shift": 2, "models": ("mlp", "cnn_flatten", "cnn_gap")})
    text = equivariance.explain_trained(
        cfg, shifted({"mlp": (0.96, 0.125), "cnn_flatten": (0.98, 0.375), "cnn_gap": (0.089, 0.1)})
    )
    chance = 1 / 10  # the default dataset's ten digits
    assert (
        f"cnn_gap · trained centred is at chance on unshifted images (8.9%; chance {chance:.0%})"
        in text
    )
    assert "mlp loses the most (83.5 points) and cnn_flatten the least (60.5)" in text
    assert "global-average-pool head" not in text  # no verdict on a head that did not learn
    text = equivariance.explain_trained(
        cfg, shifted({"mlp": (0.96, 0.125), "cnn_flatten": (0.09, 0.1), "cnn_gap": (0.089, 0.1)})
    )
    assert "Trained on centred images, mlp loses 83.5 points." in text  # no ranking of one
    assert "the least" not in text


# --- receptive field (trained task) ------------------------------------------------------------
def field_headline(plain: tuple, dilated: tuple, params=(1000, 1000)) -> dict:
    accuracy = {
        name: [{"distance": d, "test_acc": ci(a)} for d, a in zip((9, 16, 23), accs, strict=True)]
        for name, accs in (("plain", plain), ("dilated", dilated))
    }
    return {
        "accuracy": accuracy,
        "field": {"plain": 9, "dilated": 31},
        "params": dict(zip(("plain", "dilated"), params, strict=True)),
        "stops_at": {n: receptive_field.stops_at(rows) for n, rows in accuracy.items()},
    }


def test_receptive_field_says_whether_the_field_rule_held():
    cfg = parse(receptive_field.Config, {"stacks": ("plain", "dilated"), "distances": (9, 16, 23)})
    text = receptive_field.explain(cfg, field_headline((0.95, 0.55, 0.5), (0.97, 0.93, 0.9)))
    assert "**plain** (field 9 px, 1000 parameters): 9: 95%, 16: 55%, 23: 50%; it falls" in text
    assert "it falls below 75% from distance 16" in text
    assert "it stays at or above 75% at every distance tried" in text
    assert "plain, dilated have the same 1,000 parameters" in text
    assert "the theoretical field predicts the range the task gets" in text
    assert "do not follow the field rule" not in text

    # The plain stack solves d = 23 with a 9-pixel field, the dilated one fails at 16 with 31:
    # both points are named, and the rule is not claimed.
    text = receptive_field.explain(
        cfg, field_headline((0.95, 0.55, 0.9), (0.97, 0.6, 0.9), params=(1000, 1200))
    )
    assert "These points do not follow the field rule: dilated at 16, plain at 23." in text
    assert "predicts the range the task gets" not in text
    assert "at no parameter cost" not in text  # the stacks' sizes differ here


# --- normalization (the batch-size sweep) ------------------------------------------------------
def test_normalization_states_the_small_batch_penalty_and_whether_wu_and_he_shows():
    cfg = parse(normalization.Config, {"norms": ("none", "batch", "group")})

    def h(small: dict, large: dict) -> dict:
        return {
            "final_acc": {n: ci(0.9) for n in cfg.norms},
            "batch_size": [
                {"batch_size": 4, "test_acc": {n: ci(a) for n, a in small.items()}},
                {"batch_size": 64, "test_acc": {n: ci(a) for n, a in large.items()}},
            ],
        }

    large = {"none": 0.9, "batch": 0.95, "group": 0.94}
    text = normalization.explain(cfg, h({"none": 0.875, "batch": 0.75, "group": 0.9}, large))
    assert (
        "Going from batch 64 down to batch 4 (points of test accuracy): none loses 2.5, "
        "batch loses 20.0, group loses 4.0." in text
    )
    assert "The unnormalized model loses accuracy too" in text
    assert "BatchNorm suffers more from small batches than GroupNorm, the shape Wu & He" in text

    text = normalization.explain(cfg, h({"none": 0.9125, "batch": 0.94, "group": 0.875}, large))
    assert "none gains 1.2, batch loses 1.0, group loses 6.5." in text
    assert "The unnormalized model loses accuracy too" not in text
    assert "Here BatchNorm does not suffer more from small batches than GroupNorm" in text


# --- permuted (the main gap) -------------------------------------------------------------------
@pytest.mark.parametrize(
    "gap, verdict",
    [
        (ci(0.04, 0.02, 0.06), "the CNN loses clearly more than the MLP, as the locality"),
        (ci(-0.04, -0.06, -0.02), "the CNN loses less than the MLP — the opposite of what"),
        (ci(0.01, -0.01, 0.03), "the interval includes zero: these runs cannot tell"),
    ],
)
def test_permuted_states_the_gap_and_its_verdict_follows_the_interval(gap, verdict):
    cfg = parse(permuted.Config, {"models": ("mlp", "cnn_flatten")})
    h = {
        "models": {
            "mlp": {"original": ci(0.95), "permuted": ci(0.94), "drop": ci(0.01, 0.005, 0.015)},
            "cnn_flatten": {"original": ci(0.98), "permuted": ci(0.93), "drop": ci(0.05)},
        },
        "gap": gap,
    }
    text = permuted.explain(cfg, h)
    assert "The **mlp** goes from 95.0% to 94.0%: a drop of 1.0 points (95% CI 0.5 to 1.5)." in text
    assert "The **cnn_flatten** goes from 98.0% to 93.0%: a drop of 5.0 points." in text
    mlp = {**h["models"]["mlp"], "original": ci(0.9584), "permuted": ci(0.9576)}
    close = {**h, "models": {**h["models"], "mlp": mlp}}
    assert "The **mlp** goes from 95.84% to 95.76%" in permuted.explain(
        cfg, close
    )  # not 95.8% twice
    lo, hi = (f"{x * 100:.1f}" for x in gap["ci95"])
    assert f"is **{gap['mean'] * 100:.1f} points** (95% CI {lo} to {hi}): {verdict}" in text
    others = {
        "as the locality argument predicts",
        "the opposite of what the locality",
        "cannot tell the two drops apart",
    }
    assert sum(o in text for o in others) == 1, text


# --- scaling ------------------------------------------------------------------------------------
@pytest.mark.parametrize("side", [28, 56])
def test_scaling_analytic_quotes_the_formulas_for_the_settings_given(side):
    cfg = parse(scaling.Config, {"image_size": side})
    a = scaling.analytic(cfg)
    fc, lc, cv = (a[f]["params"] for f in ("fc", "local", "conv"))
    text = scaling.explain_analytic(cfg)
    assert f"Mapping a {side}×{side}×{cfg.in_channels} image" in text
    one = scaling.explain_analytic(parse(scaling.Config, {"out_channels": 1}))
    assert "image to 1 channel," in one  # found: "to 1 channels"
    assert f"**{fc:,}** parameters" in text and f"**{lc:,}**" in text and f"**{cv:,}**" in text
    assert f"({fc / lc:,.0f}× fewer" in text


def test_scaling_says_how_many_more_parameters_a_model_needed_to_match():
    h = {
        "families": {
            "cnn": [{"width": 8, "params": 1000, "test_acc": ci(0.95, 0.94, 0.96)}],
            "mlp": [{"width": 64, "params": 50000, "test_acc": ci(0.96, 0.95, 0.97)}],
        },
        "params_ratio_to_match_cnn": {"mlp": 12.5},
    }
    text = scaling.explain_trained(h)
    assert "The MLP needed 12.5× the CNN's parameters to match it." in text
    assert "No MLP reached" not in text
