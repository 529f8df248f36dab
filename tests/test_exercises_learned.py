"""cnnexp/exercises/learned.py: the window share of an evenly spread MLP unit, against
priors.window_share and the formula k²/(H·W) whatever the channels, and the locality
prediction against the saved runs' interval."""

import pytest

from cnnexp import exercises
from cnnexp.config import ConfigError, parse
from cnnexp.experiments import learned
from cnnexp.store import Store

EVEN = exercises.get("learned.even_window_share")
PREDICT = exercises.get("learned.predict_locality")


@pytest.mark.parametrize(
    ("dataset", "kernel", "pixels"),
    [("mnist5k", 5, 28 * 28), ("digits", 3, 8 * 8), ("cifar10", 7, 32 * 32)],
)
def test_an_even_unit_holds_k2_over_its_pixels_in_one_window(dataset, kernel, pixels):
    q = EVEN.generate(parse(learned.Config, {"dataset": dataset, "kernel": kernel}))
    assert EVEN.answer(q.params).value == pytest.approx(kernel**2 / pixels)
    assert EVEN.check(q.params, f"{kernel**2 / pixels:.5f}").verdict == "correct"
    side = EVEN.check(q.params, f"{kernel / pixels:.6f}")
    assert side.verdict == "incorrect" and side.mistake == "side_not_area"


def test_colour_counts_a_pixels_channels_together():
    q = EVEN.generate(parse(learned.Config, {"dataset": "cifar10", "kernel": 5}))
    v = EVEN.check(q.params, f"{25 / (3 * 32 * 32):.6f}")
    assert v.mistake == "per_channel" and "3 channels" in v.feedback


def test_the_prediction_needs_the_mlp():
    cfg = parse(learned.Config, {"models": ["local", "cnn"]})
    assert PREDICT.generate(cfg) is None
    with pytest.raises(ConfigError, match="needs mlp among the models"):
        PREDICT.settings({"models": ["cnn"]})


def test_the_prediction_is_compared_with_the_saved_trained_locality(tiny_saved):
    cfg = parse(learned.Config, {**learned.TINY, "seeds": 2})
    q = PREDICT.generate(cfg)
    headline = exercises.headline(PREDICT, cfg, Store(tiny_saved("learned")))
    m = headline["locality"]["mlp"]["trained"]
    assert m["n"] == 2 and PREDICT.measured(cfg, headline) == m
    inside = PREDICT.check(q.params, f"{m['mean'] * 100:.6f}", headline)
    assert inside.verdict == "correct" and "inside the measured interval" in inside.feedback
    far = PREDICT.check(q.params, "99", headline)
    assert far.verdict == "incorrect" and "above the measured mean" in far.feedback
    assert PREDICT.check(q.params, "5", None).verdict == "invalid"  # nothing saved: no try spent
