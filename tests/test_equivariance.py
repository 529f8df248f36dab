"""cnnexp/experiments/equivariance.py: settings are checked, the probe answers through the
CLI, trained models are tested on shifted images and lend their weights to the probe."""

import json

import pytest

from cnnexp.config import ConfigError, parse
from cnnexp.experiments import equivariance
from cnnexp.store import Store
from tests.test_cli import cli


def test_a_stack_that_shrinks_the_photo_away_is_refused():
    with pytest.raises(ConfigError, match="below 1×1"):
        parse(equivariance.Config, {"image": "digits", "depth": 4, "pool": "max"})
    with pytest.raises(ConfigError, match="shift 8"):
        parse(equivariance.Config, {"image": "digits", "shift": 8})


def test_probe_mode_plans_no_runs_and_trained_mode_plans_each_condition():
    assert equivariance.plan(parse(equivariance.Config, {})) == []
    specs = equivariance.plan(parse(equivariance.Config, {"mode": "trained", "seeds": 2}))
    labels = [s.label for s in specs]
    assert (
        len(specs) == 3 * 2 * 2 and "cnn_gap · shifted ±6" in labels and "mlp · centred" in labels
    )


def test_cli_probe_answers_at_once(results):
    out = json.loads(
        cli(
            results,
            "run",
            "equivariance",
            "--mode",
            "probe",
            "--image",
            "camera",
            "--shift",
            "2",
            "--shift-kind",
            "circular",
            "--depth",
            "2",
            "--kernel",
            "3",
            "--padding",
            "circular",
            "--stride",
            "1",
            "--pool",
            "none",
            "--gap",
            "true",
            "--seed",
            "4",
            "--json",
        ).stdout
    )
    h = out["headline"]
    assert out["runs"] == []
    assert {r["layer"] for r in h["equivariance"]} == {1, 2}
    assert max(r["full_error"] for r in h["equivariance"]) < 1e-5  # circular: exact
    assert [r["shift"] for r in h["invariance"]] == list(range(equivariance.SWEEP + 1))
    assert max(r["error"] for r in h["invariance"]) < 1e-5
    no_gap = json.loads(cli(results, "run", "equivariance", "--gap", "false", "--json").stdout)
    assert "invariance" not in no_gap["headline"]


def test_cli_trained_tiny_end_to_end_and_the_probe_borrows_its_weights(results):
    flags = [
        "--dataset",
        "digits",
        "--epochs",
        "2",
        "--max-shift",
        "2",
        "--width",
        "4",
        "--models",
        "mlp,cnn_gap",
        "--seeds",
        "2",
    ]
    h = json.loads(
        cli(results, "run", "equivariance", "--mode", "trained", *flags, "--json").stdout
    )["headline"]
    assert set(h["shift_accuracy"]) == {"mlp", "mlp_augmented", "cnn_gap", "cnn_gap_augmented"}
    assert [r["shift"] for r in h["shift_accuracy"]["cnn_gap"]] == [0, 1, 2]
    assert all(0 <= c["mean"] <= 1 and c["n"] == 2 for c in h["consistency"].values())
    probe = json.loads(
        cli(
            results,
            "run",
            "equivariance",
            "--mode",
            "probe",
            "--weights",
            "trained",
            "--trained-model",
            "cnn_gap",
            "--image",
            "digits",
            "--shift",
            "2",
            *flags[:-2],
            "--json",
        ).stdout
    )["headline"]
    assert {r["layer"] for r in probe["equivariance"]} == {1, 2}  # the trained net's two blocks
    assert Store(results).table("weights", Store(results).runs()["run_id"]).shape[0] > 0


def test_probe_with_trained_weights_but_no_saved_run_says_what_to_do(store):
    cfg = parse(equivariance.Config, {"weights": "trained", "image": "digits", "shift": 2})
    with pytest.raises(ConfigError, match="train it first"):
        equivariance.probe_headline(cfg, store)


def test_cli_probe_with_missing_trained_weights_exits_2(results):
    p = cli(
        results,
        "run",
        "equivariance",
        "--weights",
        "trained",
        "--image",
        "digits",
        "--shift",
        "2",
        check=False,
    )
    assert p.returncode == 2 and "train it first" in p.stderr and "Traceback" not in p.stderr
