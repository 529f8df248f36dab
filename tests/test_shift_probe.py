"""cnnexp/probes/shift.py: the shift probe's settings are checked, it answers through its
command line (`python -m cnnexp probe shift`), asks for a saved run where it borrows trained
weights, and its explanation states the numbers it is given."""

import json

import pytest

from cnnexp.config import ConfigError, parse
from cnnexp.probes import shift as shift_probe
from tests.test_cli import cli


def probe_cli(results, *args, check=True):
    return cli(results, "probe", "shift", *args, check=check)


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


def test_probe_with_trained_weights_but_no_saved_run_says_what_to_do(store):
    cfg = parse(shift_probe.Config, {"weights": "trained", "image": "digits", "shift": 2})
    with pytest.raises(ConfigError, match="train it first"):
        shift_probe.headline(cfg, store)


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


def test_colour_on_a_grey_input_is_refused_on_the_command_line_and_said_on_the_page(results):
    """Found: `probe shift --weights trained --colour true` probed in grey without a word."""
    for flags, why in (
        (["--weights", "trained"], "the trained cnn_gap takes the one grey channel"),
        (["--image", "digits", "--shift", "2"], "the digits images are grey"),
    ):
        p = probe_cli(results, *flags, "--colour", "true", check=False)
        assert p.returncode == 2 and p.stdout == "", p.stderr
        line = p.stderr.strip()
        assert "\n" not in line and line.startswith(f"error: --colour true: {why}"), line
        assert "allowed: --colour true with --weights random and a photograph" in line
    cfg = parse(shift_probe.Config, {"image": "digits", "colour": True, "shift": 2})
    h = shift_probe.headline(cfg)  # the page's probe still runs, and says why it is grey
    assert "The input is grey although colour is on: the digits images are grey." in (
        shift_probe.explain(cfg, h)
    )
    photo = cfg.model_copy(update={"image": "chelsea"})
    assert shift_probe.colour_ignored(photo) is None
    assert shift_probe.colour_ignored(cfg.model_copy(update={"colour": False})) is None


def probe(interior, full, stride=1, invariance=None) -> dict:
    """Probe rows of a two-layer stack; interior(dx) and full(dx) give the last layer's errors
    for a horizontal shift of dx pixels."""
    rows = [
        {
            "layer": layer,
            "shift": t,
            "dx": t,
            "dy": 0,
            "stride": stride,
            "interior_error": interior(t) if layer == 2 else 0.5,
            "full_error": full(t) if layer == 2 else 0.5,
        }
        for layer in (1, 2)
        for t in range(shift_probe.SWEEP + 1)
    ]
    h = {"equivariance": rows}
    if invariance is not None:
        h["invariance"] = [{"shift": t, "error": invariance} for t in range(3)]
    return h


def test_the_probe_says_where_equivariance_holds_and_what_breaks_it():
    cfg = parse(shift_probe.Config, {"padding": "zeros", "shift_kind": "circular"})
    text = shift_probe.explain(cfg, probe(lambda t: 1e-8, lambda t: 0.3, invariance=2e-7))
    assert (
        "At layer 2 (total stride 1), over shifts of 1 to 8 pixels the error is below 1e-6 at "
        "most in the interior and 0.3 over the whole map." in text
    )
    assert "equivariant to float rounding" in text
    assert "the border: zeros padding and a circular shift disagree there" in text
    assert "changes by at most 2e-07 (relative)" in text and "invariant to float rounding" in text

    # Errors in the interior too (as trained weights after a nonlinearity could give): neither
    # claim is made, and the numbers are still stated.
    text = shift_probe.explain(cfg, probe(lambda t: 0.05, lambda t: 0.06, invariance=0.04))
    assert "the error is 0.05 at most in the interior and 0.06 over the whole map" in text
    assert "float rounding" not in text and "border" not in text
    assert "changes by at most 0.04 (relative) over these shifts." in text


def test_the_probe_names_aliasing_only_where_shifts_miss_the_stride():
    cfg = parse(shift_probe.Config, {"stride": 2})
    aliased = probe(lambda t: 1e-8 if t % 2 == 0 else 0.2, lambda t: 0.3, stride=2)
    text = shift_probe.explain(cfg, aliased)
    assert (
        "Shifts that are multiples of the stride 2 leave an interior error of below 1e-6 at "
        "most; the others up to 0.2: subsampling aliases them." in text
    )
    assert "equivariant to float rounding" not in text  # not said of a strided stack
    text = shift_probe.explain(cfg, probe(lambda t: 0.1, lambda t: 0.3, stride=2))
    assert "interior error of 0.1 at most; the others up to 0.1" in text
