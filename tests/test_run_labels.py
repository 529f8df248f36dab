"""cnnexp/run_labels.py: runs' settings in the words of the pages that set them."""

import math

import pandas as pd

from cnnexp import data, run_labels
from cnnexp.experiments import permuted


def test_a_setting_is_named_as_its_widget_names_it():
    assert run_labels.label("lr") == "learning rate"  # config.param(label="Learning rate")
    assert run_labels.label("n_train") == "training images"
    assert run_labels.label("groups") == "GroupNorm groups"  # a name keeps its capitals
    assert run_labels.label("perm_seed") == "permutation seed"  # an experiment's own setting
    assert run_labels.label("s00") == "s00"  # no page names it: its own name


def test_runs_read_in_words_and_all_images_as_their_number():
    runs = pd.DataFrame(
        {
            "experiment": ["permuted", "permuted", "permuted", "scaling", "receptive_field"],
            "dataset": ["digits", "digits", "mnist5k", "mnist5k", None],
            "block": [permuted.INTACT, permuted.FULL, 4, math.nan, math.nan],
            "n_train": [0, 100, 0, 300, 1200],
        }
    )
    words = run_labels.in_words(runs)
    assert words["block"].tolist()[:3] == ["original", "permuted", "tiles of 4"]
    assert words["block"][3:].isna().all()  # other experiments have no tiles
    digits, mnist5k = data.info("digits").n_train, data.info("mnist5k").n_train
    assert words["n_train"].tolist() == [digits, 100, mnist5k, 300, 1200]
    assert runs["n_train"].tolist() == [0, 100, 0, 300, 1200]  # the table is not changed


def test_a_run_is_named_by_what_tells_it_apart_from_the_runs_beside_it():
    runs = pd.DataFrame(
        {
            "run_id": ["a" * 16, "b" * 16, "c" * 16, "d" * 16, "e" * 16],
            "experiment": ["permuted", "permuted", "permuted", "scaling", "scaling"],
            "model": ["mlp", "mlp", "cnn", "cnn", "cnn"],
            "block": ["original", "permuted", "permuted", None, None],
            "lr": [0.003, 0.003, 0.003, 0.001, 0.001],
            "width": [None, None, None, 16.0, 16.0],  # a shared column: floats
            "seed": [0, 0, 0, 0, 0],
        }
    )
    settings = ["experiment", "model", "block", "lr", "width"]
    named = run_labels.names(runs, settings)
    assert named["a" * 16] == "permuted · mlp · original · seed 0"  # lr and width do not vary
    assert named["c" * 16] == "permuted · cnn · permuted · seed 0"
    # Same settings and seed (another version of the run): told apart by their ids.
    assert named["d" * 16] == "scaling · seed 0 · dddddd"
    assert run_labels.names(runs, settings, seed=False)["d" * 16] == "scaling"
    # A run's own name leads (issue 25 adds it).
    own = runs.assign(name=["baseline of Monday", "", None, None, None])
    assert run_labels.names(own, settings)["a" * 16].startswith("baseline of Monday · permuted")
    assert run_labels.names(own, settings)["b" * 16].startswith("permuted · mlp")
