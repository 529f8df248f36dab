"""cnnexp/experiments/equivariance.py and shift_probe.py: settings are checked, the probe
answers through its CLI, trained models are tested on shifted images and lend their weights
(a file beside the run) to the probe."""

import json

import pytest

from cnnexp.config import ConfigError, parse
from cnnexp.experiments import equivariance, shift_probe
from cnnexp.store import Store
from tests.test_cli import cli


def probe_cli(results, *args, check=True):
    return cli(results, *args, check=check, module="cnnexp.experiments.shift_probe")


def test_a_stack_that_shrinks_the_photo_away_is_refused():
    with pytest.raises(ConfigError, match="below 1×1"):
        parse(shift_probe.Config, {"image": "digits", "depth": 4, "pool": "max"})
    with pytest.raises(ConfigError, match="shift 8"):
        parse(shift_probe.Config, {"image": "digits", "shift": 8})
    # Found: advice to use "depth <= 0" (the least is 1), and an index past the test set
    # quietly probing its last image.
    with pytest.raises(ConfigError, match="at layer 1 .*use a smaller kernel"):
        parse(shift_probe.Config, {"image": "digits", "kernel": 9, "padding": "valid"})
    with pytest.raises(ConfigError, match="digits test set has 359 images; allowed: 0 to 358"):
        parse(shift_probe.Config, {"image": "digits", "image_index": 359})
    parse(shift_probe.Config, {"image": "digits", "image_index": 358})


def test_each_config_holds_only_its_own_settings():
    probe, trained = set(shift_probe.Config.model_fields), set(equivariance.Config.model_fields)
    assert probe & trained == {"seed"} and "mode" not in probe | trained
    with pytest.raises(ConfigError, match="models is empty"):
        parse(equivariance.Config, {"models": ()})
    # Found: a pydantic traceback from the training setup (its shifts stop at 8).
    with pytest.raises(ConfigError, match="max_shift 10 with augment.*allowed: max_shift <= 8"):
        parse(equivariance.Config, {"max_shift": 10})
    assert equivariance.plan(parse(equivariance.Config, {"max_shift": 10, "augment": False}))


def test_the_trained_experiment_plans_each_condition():
    specs = equivariance.plan(parse(equivariance.Config, {"seeds": 2}))
    labels = [s.label for s in specs]
    assert (
        len(specs) == 3 * 2 * 2 and "cnn_gap · shifted ±6" in labels and "mlp · centred" in labels
    )


def test_cli_probe_answers_at_once(results):
    out = json.loads(
        probe_cli(
            results,
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
        ).stdout
    )
    h = out["headline"]
    assert out["config"]["seed"] == 4
    assert {r["layer"] for r in h["equivariance"]} == {1, 2}
    assert max(r["full_error"] for r in h["equivariance"]) < 1e-5  # circular: exact
    assert [r["shift"] for r in h["invariance"]] == list(range(shift_probe.SWEEP + 1))
    assert max(r["error"] for r in h["invariance"]) < 1e-5
    no_gap = json.loads(probe_cli(results, "--gap", "false", "--json").stdout)  # as the field probe
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
    h = json.loads(cli(results, "run", "equivariance", *flags, "--json").stdout)["headline"]
    assert set(h["shift_accuracy"]) == {"mlp", "mlp_augmented", "cnn_gap", "cnn_gap_augmented"}
    assert [r["shift"] for r in h["shift_accuracy"]["cnn_gap"]] == [0, 1, 2]
    assert all(0 <= c["mean"] <= 1 and c["n"] == 2 for c in h["consistency"].values())
    probe = json.loads(
        probe_cli(
            results,
            "--weights",
            "trained",
            "--trained-model",
            "cnn_gap",
            "--image",
            "digits",
            "--shift",
            "2",
            *flags[:-2],
        ).stdout
    )["headline"]
    assert {r["layer"] for r in probe["equivariance"]} == {1, 2}  # the trained net's two blocks
    store = Store(results)
    runs = store.runs()
    lends = runs["variant"].eq("cnn_gap") & runs["augment_shift"].eq(0)
    assert lends.sum() == 2  # both seeds of the centred CNN save weights, and only they
    for run_id, lender in zip(runs["run_id"], lends, strict=True):
        assert (store.blob("equivariance", run_id, "weights") is not None) == lender
    store.delete(runs.loc[lends, "run_id"])
    p = probe_cli(results, "--weights", "trained", "--image", "digits", *flags[:-2], check=False)
    assert p.returncode == 2 and "train it first" in p.stderr  # the weights went with the runs


def test_probe_with_trained_weights_but_no_saved_run_says_what_to_do(store):
    cfg = parse(shift_probe.Config, {"weights": "trained", "image": "digits", "shift": 2})
    with pytest.raises(ConfigError, match="train it first"):
        shift_probe.probe_headline(cfg, store)


def test_cli_probe_with_missing_trained_weights_exits_2(results):
    p = probe_cli(
        results,
        "--weights",
        "trained",
        "--image",
        "digits",
        "--shift",
        "2",
        check=False,
    )
    assert p.returncode == 2 and "train it first" in p.stderr and "Traceback" not in p.stderr


def test_the_page_probes_with_trained_weights_once_they_are_saved(results):
    from tests.test_app import open_page

    trained = {"dataset": "digits", "epochs": "1", "max_shift": "2", "width": "4"}
    query = {**trained, "models": "cnn_gap", "seeds": "1"}
    query |= {"weights": "trained", "image": "digits", "shift": "2"}
    at = open_page("pages/equivariance.py", query)
    assert not at.exception, at.exception
    assert any("train it first" in w.value for w in at.warning)
    assert not at.get("plotly_chart")
    cli(
        results,
        "run",
        "equivariance",
        *[f"--{k.replace('_', '-')}={v}" for k, v in query.items()][:6],
    )
    at = open_page("pages/equivariance.py", query)
    assert not at.exception, at.exception
    assert not any("train it first" in w.value for w in at.warning)
    assert at.get("plotly_chart")  # the probe ran on the saved weights
    assert "After global average pooling" in " ".join(m.value for m in at.markdown)


def test_the_channel_slider_ends_at_the_stacks_width(results):
    """Found: it went to 63 for a stack of 8 channels (and a stack of one channel would make
    a slider from 0 to 0, which Streamlit refuses)."""
    from tests.test_app import open_page

    at = open_page(
        "pages/equivariance.py", {"image_size": "32", "channels": "4", "view_channel": "9"}
    )
    assert not at.exception, at.exception
    slider = at.slider(key="view_channel")
    assert (slider.min, slider.max, slider.value) == (0, 3, 0)  # 9 is beyond: channel 0
    at = open_page("pages/equivariance.py", {"image_size": "32", "channels": "1"})
    assert not at.exception, at.exception
    assert not [s for s in at.slider if s.key == "view_channel"] and at.get("plotly_chart")
