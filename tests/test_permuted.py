"""cnnexp/experiments/permuted.py: the permutation is one bijection shared by every split,
an MLP cannot tell it apart, and the experiment runs end to end through the CLI."""

import copy
import json

import numpy as np
import torch

from cnnexp import data, models
from cnnexp.config import TrainSetup, parse
from cnnexp.experiments import permuted
from cnnexp.permutation import permute_pixels
from cnnexp.results import Results
from cnnexp.runspec import RunContext
from tests.test_cli import cli


def test_permutation_is_a_bijection_reproducible_from_its_seed():
    p = permuted.permutation("mnist5k", 0, perm_seed=7)
    assert sorted(p) == list(range(28 * 28))
    assert np.array_equal(p, permuted.permutation("mnist5k", 0, perm_seed=7))
    assert not np.array_equal(p, permuted.permutation("mnist5k", 0, perm_seed=8))
    assert np.array_equal(permuted.permutation("mnist5k", 1, 7), np.arange(28 * 28))


def test_every_split_gets_the_same_permutation():
    ds = data.load("digits")
    perm = permuted.permutation("digits", 0, 3)
    scrambled = ds.map_images(lambda x: permute_pixels(x, perm))
    for before, after in ((ds.x_train, scrambled.x_train), (ds.x_test, scrambled.x_test)):
        flat_b, flat_a = before.reshape(len(before), -1), after.reshape(len(after), -1)
        assert np.array_equal(flat_a, flat_b[:, perm])  # pixel q comes from pixel perm[q]
    assert np.array_equal(scrambled.y_test, ds.y_test)


def test_an_mlp_on_permuted_pixels_is_the_same_function_class():
    torch.manual_seed(0)
    setup = TrainSetup(dataset="mnist5k", model="mlp", width=32, norm="none")
    a = models.build(setup.layers(), [0.1], [0.3]).eval()
    b = copy.deepcopy(a)
    perm = permuted.permutation("mnist5k", 0, 5)
    first = b[2]  # Normalize, Flatten, then the first Linear
    with torch.no_grad():
        first.weight.copy_(a[2].weight[:, perm])  # fold the permutation into the weights
    x = torch.rand(16, 1, 28, 28)
    torch.testing.assert_close(b(permute_pixels(x, torch.from_numpy(perm))), a(x))


def test_plan_has_both_conditions_for_every_model_and_seed():
    cfg = parse(permuted.Config, {"seeds": 2, "n_trains": ()})
    labels = [s.label for s in permuted.plan(cfg)]
    assert labels.count("mlp · original") == labels.count("cnn_flatten · permuted") == 2
    assert len(labels) == 8


def test_tile_sizes_are_canonical():
    assert permuted.canonical_block("digits", 8) == permuted.FULL
    assert permuted.canonical_block("digits", 99) == permuted.FULL
    assert permuted.canonical_block("mnist5k", 7) == 7
    assert permuted.condition("mnist5k", 1) == "original"


def test_cli_tiny_run_end_to_end(results):
    out = json.loads(
        cli(
            results,
            "run",
            "permuted",
            "--dataset",
            "digits",
            "--epochs",
            "2",
            "--cnn-width",
            "4",
            "--mlp-width",
            "32",
            "--strength-blocks",
            "2,4",
            "--n-trains",
            "100",
            "--sweep-steps",
            "10",
            "--seeds",
            "2",
            "--json",
        ).stdout
    )
    h = out["headline"]
    # models × seeds × (intact, full, tiles 2, tiles 4), then × (intact, full) at 100 images
    assert len(out["runs"]) == 2 * 2 * 4 + 2 * 2 * 2
    assert set(h) == {"models", "gap", "gaps", "gap_by_n_train", "strength"}
    assert set(h["models"]) == {"mlp", "cnn_flatten"}
    assert h["models"]["cnn_flatten"]["drop"]["n"] == 2 and h["gap"]["ci95"] is not None
    assert [s["block"] for s in h["strength"]] == [1, 2, 4, 0]
    full = data.info("digits").n_train
    assert [r["n_train"] for r in h["gap_by_n_train"]] == [100, full]
    assert h["gap_by_n_train"][-1] == {"n_train": full, **h["gap"]}  # the main comparison
    assert all(r["n"] == 2 for r in h["gap_by_n_train"])


def test_the_headline_lists_the_models_in_the_experiments_order(store):
    """Home and the README name the models in the headline's order, the experiment's own
    (permuted.MODELS), whatever order the settings give."""
    cfg = parse(permuted.Config, {"models": ("cnn_gap", "mlp", "cnn_flatten"), "n_trains": ()})
    h = permuted.summarize(cfg, Results(permuted.plan(cfg), store))
    assert list(h["models"]) == ["mlp", "cnn_flatten", "cnn_gap"]


def test_size_sweep_sizes_and_step_budget():
    cfg = parse(permuted.Config, {"n_trains": (100, 300, 9999), "sweep_steps": 150})
    assert permuted.sizes(cfg) == [100, 300, 0]  # beyond the split: all of it, once
    assert permuted.epochs_for(cfg, 0) == cfg.epochs
    assert permuted.epochs_for(cfg, 100) == 75  # 2 batches of 64 → 75 epochs for 150 steps
    assert permuted.epochs_for(cfg, 300) == 30
    assert permuted.budget_text(cfg) == (
        "Step budget (batches of 64; each size of the sweep trains at least 150 steps and is "
        "tested once, at the end): 100 images × 75 epochs = 150 steps; 300 images × 30 epochs "
        f"= 150 steps; 4,000 images × {cfg.epochs} epochs = {cfg.epochs * 63} steps."
    )
    specs = permuted.plan(cfg)
    labels = [s.label for s in specs]
    assert labels.count("cnn_flatten · permuted · 100 images") == cfg.seeds
    # The sweep's runs are tested once, at the end; the main size's every epoch (its curves).
    evals = {s.config["n_train"]: s.config.get("evals") for s in specs}
    assert evals == {100: permuted.SWEEP_EVALS, 300: permuted.SWEEP_EVALS, 0: None}


def test_a_sweep_run_is_tested_once_and_trains_as_if_tested_every_epoch():
    from cnnexp import engine

    setup = TrainSetup(dataset="digits", model="cnn", width=4, epochs=3, n_train=200)
    dd = engine.load_device_data(setup, 0, RunContext(device="cpu"))
    every = engine.train(setup, dd, 0)
    once = engine.train(setup, dd, 0, evals=permuted.SWEEP_EVALS)
    assert [h["test_acc"] is not None for h in once.history] == [False, False, True]
    assert once.final["test_acc"] == every.final["test_acc"]  # evaluating never trains
    assert once.final["train_loss"] == every.final["train_loss"]


def test_cnn_names_carry_the_head_and_old_links_still_parse():
    cfg = parse(permuted.Config, {"models": "mlp,cnn", "n_trains": ()})
    assert cfg.models == ("mlp", "cnn_flatten")
    cfg = parse(permuted.Config, {"models": ("cnn_gap",), "cnn_depth": 3, "n_trains": ()})
    run = permuted.plan(cfg)[0].config
    assert (run["model"], run["head"], run["depth"]) == ("cnn", "gap", 3)
    assert permuted.variant(run["model"], run["head"]) == "cnn_gap"


def _ci(mean, lo, hi):
    return {"mean": mean, "ci95": [lo, hi], "n": 3}


def test_size_explanation_states_the_numbers_and_flips():
    cfg = parse(permuted.Config, {"models": ("mlp", "cnn_flatten", "cnn_gap")})
    shrinking = {
        "gap_by_n_train": [
            {"n_train": 100, **_ci(0.15, 0.12, 0.18)},
            {"n_train": 4000, **_ci(0.04, 0.03, 0.05)},
        ]
    }
    text = permuted.explain(cfg, shrinking)
    assert "With 100 training images the gap is 15.0 points" in text
    assert "large gap (at least 10 points with the whole 95% interval) shows for " in text
    assert "cnn_flatten at 100 images (15.0 points)" in text and "gap shrinks" in text
    assert "It does not for cnn_flatten at 4,000 images (4.0 points)" in text
    growing = {
        "gap_by_n_train": [
            {"n_train": 100, **_ci(0.005, -0.01, 0.02)},
            {"n_train": 4000, **_ci(0.04, 0.03, 0.05)},
        ]
    }
    text = permuted.explain(cfg, growing)
    assert "no model and size here shows the textbook's large gap" in text
    assert "does not shrink" in text
    overlapping = {
        "gap_by_n_train": [{"n_train": 100, **_ci(0.04, -0.5, 0.6)}, growing["gap_by_n_train"][1]]
    }
    assert "cannot tell whether the gap changes" in permuted.explain(cfg, overlapping)
    one_seed = {  # no interval is not an overlap of intervals
        "gap_by_n_train": [
            {"n_train": 100, "mean": 0.15, "ci95": None},
            {"n_train": 4000, "mean": 0.04, "ci95": None},
        ],
        "gap": {"mean": 0.02, "ci95": None},
    }
    text = permuted.explain(cfg, one_seed)
    assert "one seed gives no interval" in text and "With one seed there is no interval" in text
    assert "overlap" not in text and "includes zero" not in text


def test_head_explanation_flips_with_the_drops():
    cfg = parse(permuted.Config, {"models": ("mlp", "cnn_flatten", "cnn_gap")})
    zero = _ci(0.0, 0.0, 0.0)

    def h(flat, gap):
        return {
            "models": {
                m: {"original": zero, "permuted": zero, "drop": _ci(d, d, d)}
                for m, d in (("cnn_flatten", flat), ("cnn_gap", gap))
            }
        }

    assert "loses 20.0 points; with a flatten head, 5.0: averaging" in permuted.explain(
        cfg, h(0.05, 0.20)
    )
    assert "does not lose more" in permuted.explain(cfg, h(0.20, 0.05))


def test_regimes_say_which_model_and_size_show_the_large_gap():
    cfg = parse(permuted.Config, {"dataset": "shapes", "models": ("mlp", "cnn_flatten", "cnn_gap")})
    h = {
        "gaps": {
            "cnn_flatten": [
                {"n_train": 300, **_ci(0.04, 0.02, 0.06)},
                {"n_train": 4000, **_ci(0.02, 0.01, 0.03)},
            ],
            "cnn_gap": [
                {"n_train": 300, **_ci(0.25, 0.20, 0.30)},
                {"n_train": 4000, **_ci(0.12, 0.05, 0.19)},
            ],
        }
    }
    text = permuted.explain(cfg, h)
    assert (
        "On shapes, the textbook's large gap (at least 10 points with the whole 95% interval) "
        "shows for cnn_gap at 300 images (25.0 points)." in text
    )
    assert (
        "It does not for cnn_flatten at 300 images (4.0 points); cnn_flatten at 4,000 images "
        "(2.0 points)" in text
    )
    assert "or one seed): cnn_gap at 4,000 images (12.0 points)." in text
    assert "glyphs sit at random positions" in text
    none_large = {"gaps": {"cnn_flatten": h["gaps"]["cnn_flatten"]}}
    assert "no model and size here shows the textbook's large gap" in permuted.explain(
        cfg, none_large
    )


def test_page_offers_shapes_and_warns_when_a_full_dataset_is_missing(
    results, tmp_path, monkeypatch
):
    from tests.test_app import open_page

    at = open_page("pages/permuted.py", {"dataset": "shapes"})
    assert not at.exception, at.exception
    assert [s for s in at.selectbox if s.label == "Dataset"][0].value == "shapes"
    assert at.get("plotly_chart"), "the sample images as each model sees them"
    monkeypatch.setenv("CNNEXP_DATA", str(tmp_path / "no-data"))
    at = open_page("pages/permuted.py", {"dataset": "mnist"})
    assert not at.exception, at.exception
    assert any("missing train-images-idx3-ubyte" in w.value for w in at.warning), [
        w.value for w in at.warning
    ]


def test_a_drop_beside_its_accuracies_is_their_difference_as_shown():
    """As on Equivariance: 95.867% → 8.825% prints 95.9% → 8.8%, so the drop is 87.1 points,
    not the exact 87.04 rounded to 87.0; the paired interval is kept."""
    cfg = parse(permuted.Config, {"models": ("mlp",)})
    d = 0.9586666 - 0.08825
    h = {
        "models": {
            "mlp": {
                "original": _ci(0.9586666, 0.95, 0.97),
                "permuted": _ci(0.08825, 0.08, 0.09),
                "drop": _ci(d, d - 0.01, d + 0.01),
            }
        }
    }
    text = permuted.explain(cfg, h)
    assert "goes from 95.9% to 8.8%: a drop of 87.1 points (95% CI 86.0 to 88.0)" in text
    near = {"original": _ci(0.97521, 0.97, 0.98), "permuted": _ci(0.97478, 0.97, 0.98)}
    h = {"models": {"mlp": {**near, "drop": _ci(0.00043, -0.003, 0.004)}}}
    assert "goes from 97.52% to 97.48%: a drop of 0.04 points" in permuted.explain(cfg, h)
