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
    cfg = parse(permuted.Config, {"seeds": 2})
    labels = [s.label for s in permuted.plan(cfg)]
    assert labels.count("mlp · original") == labels.count("cnn · permuted") == 2
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
            "--seeds",
            "2",
            "--json",
        ).stdout
    )
    h = out["headline"]
    assert len(out["runs"]) == 2 * 2 * 4  # models × seeds × (intact, full, tiles 2, tiles 4)
    assert set(h) == {"mlp", "cnn", "gap", "strength"}
    assert h["cnn"]["drop"]["n"] == 2 and h["gap"]["ci95"] is not None
    assert [s["block"] for s in h["strength"]] == [1, 2, 4, 0]
