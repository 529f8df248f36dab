"""cnnexp/experiments/equivariance.py and its page: settings are checked, trained models are
tested on shifted images and lend their weights (a file beside the run) to the shift probe
(tests/test_shift_probe.py), on the page and through the CLI."""

import json

import pytest
from streamlit.testing.v1.element_tree import Widget

from cnnexp.config import ConfigError, parse
from cnnexp.experiments import equivariance
from cnnexp.probes import shift as shift_probe
from cnnexp.store import Store
from tests.test_cli import cli
from tests.test_shift_probe import probe_cli


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
    assert lends.sum() == 2  # the probe borrows from both seeds of the centred CNN
    for run_id in runs["run_id"]:  # every run saves its weights (the Inside page reads them)
        assert store.blob("equivariance", run_id, "weights") is not None
    store.delete(runs.loc[lends, "run_id"])
    p = probe_cli(results, "--weights", "trained", "--image", "digits", *flags[:-2], check=False)
    assert p.returncode == 2 and "train it first" in p.stderr  # the weights went with the runs


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


def test_the_sidebar_opens_with_the_first_tabs_settings_and_labels_are_unique(results):
    """Found (issue 27): the shift probe, the first tab, had its settings at the bottom of the
    sidebar, under the trained models'."""
    from tests.test_app import open_page

    at = open_page("pages/equivariance.py")
    assert not at.exception, at.exception
    keys = [w.key for w in at.sidebar if isinstance(w, Widget)]
    assert keys[:3] == ["image", "colour", "image_size"], keys
    assert keys.index("trained_model") < keys.index("dataset")  # every probe setting first
    labels = [w.label for w in at if isinstance(w, Widget)]
    assert len(labels) == len(set(labels)), sorted(labels)
