"""cnnexp/exercises/: every exercise of every page, answered by its own computation and by
each of its known mistakes; the seed's exercise against PyTorch modules on the meta device;
malformed answers never count; the CLI's `exercise list` and `exercise check`."""

import json

import pytest
import torch
from torch import nn

from cnnexp import exercises, experiments, fields, models
from cnnexp.config import ConfigError, parse
from cnnexp.exercises import Option, Prediction, Question, grade, parse_number
from cnnexp.exercises.equivariance import shift_options
from cnnexp.experiments import normalization, scaling
from cnnexp.probes import field as field_probe
from tests.test_cli import cli
from tests.test_fields import input_gradient, torch_stack


def defaults(ex):
    """The question at its page's defaults."""
    q = ex.generate(ex.source())
    assert q is not None, ex.id
    return q


@pytest.fixture(scope="module")
def saved(tiny_saved):
    return tiny_saved("permuted", "equivariance")


def tiny(ex):
    """The settings of a prediction's page that tiny_saved has trained."""
    mod = experiments.get(ex.page)
    return parse(mod.Config, {**mod.TINY, "seeds": 2})


# --- the seed's exercise and other sizes, against modules built here on the meta device ---------
def meta_counts(side, cin, cout, k, stride, pad, bias):
    out = (side + 2 * pad - k) // stride + 1
    with torch.device("meta"):
        fc = nn.Linear(side * side * cin, out * out * cout, bias=bias)
        local = models.LocallyConnected2d(cin, cout, k, side, stride, pad, bias=bias)
        conv = nn.Conv2d(cin, cout, k, stride, pad, bias=bias)
    return {
        f: sum(p.numel() for p in m.parameters())
        for f, m in (("fc", fc), ("local", local), ("conv", conv))
    }


SIZES = [  # (side, c_in, c_out, kernel, stride, padding, bias)
    (64, 1, 1, 5, 1, 2, False),  # the seed: 64×64 grayscale to 64×64, 5×5, weights only
    (32, 3, 16, 3, 1, 1, True),
    (28, 1, 8, 5, 2, 0, True),
    (128, 3, 4, 7, 2, 3, False),
    (512, 64, 128, 3, 1, 1, True),
]


def layer_params(side, cin, cout, k, stride, pad, bias):
    return {
        "image_size": side,
        "in_channels": cin,
        "out_channels": cout,
        "kernel": k,
        "stride": stride,
        "padding": pad,
        "bias": bias,
    }


def test_the_seeds_exercise():
    params = layer_params(*SIZES[0])
    answers = {
        f: exercises.get(f"scaling.{f}_weights").answer(params).value
        for f in ("fc", "local", "conv")
    }
    assert answers == {"fc": 4096 * 4096, "local": 4096 * 25, "conv": 25}
    assert answers == {"fc": 16_777_216, "local": 102_400, "conv": 25}
    grows = exercises.get("scaling.grows_with_image")
    assert grows.answer(params).value == {"fc", "local"}  # the convolution's count stays 25
    assert grows.check(params, "fc, local").verdict == "correct"
    v = grows.check(params, "fc,local,conv")
    assert v.verdict == "incorrect" and v.mistake == "included_conv"
    assert "25 to 25" in v.feedback


@pytest.mark.parametrize("size", SIZES)
def test_layer_counts_are_those_of_pytorch_modules(size):
    params = layer_params(*size)
    expected = meta_counts(*size)
    for f in ("fc", "local", "conv"):
        ex = exercises.get(f"scaling.{f}_weights")
        assert ex.answer(params).value == expected[f], f
        assert ex.check(params, f"{expected[f]:,}").verdict == "correct"
    side = size[0]
    bigger = meta_counts(2 * side, *size[1:])
    grown = {f for f in expected if bigger[f] > expected[f]}
    assert (
        exercises.get("scaling.grows_with_image").answer(params).value == grown == {"fc", "local"}
    )


def test_a_slider_makes_a_new_question():
    ex = exercises.get("scaling.conv_weights")
    a, b = scaling.Config(), scaling.Config(kernel=5)
    assert ex.generate(a).params != ex.generate(b).params
    assert ex.generate(a).prompt != ex.generate(b).prompt
    assert ex.answer(ex.generate(a).params).value != ex.answer(ex.generate(b).params).value
    assert ex.generate(a) == ex.generate(scaling.Config())  # the same settings, the same question


# --- every exercise, registry-wide ---------------------------------------------------------------
def test_every_experiment_page_has_an_exercise_at_its_defaults():
    for name in experiments.names():
        mine = exercises.for_page(name)
        assert mine, f"page {name} has no exercise: add one in cnnexp/exercises/ and register it"
        assert any(e.generate(e.source()) is not None for e in mine), name
    assert set(exercises.pages()) <= set(experiments.names())


PLAIN = [e for e in exercises.EXERCISES if not isinstance(e, Prediction)]


@pytest.mark.parametrize("ex", PLAIN, ids=lambda e: e.id)
def test_right_answer_and_every_known_mistake(ex):
    q = defaults(ex)
    a = ex.answer(q.params)
    if q.kind in ("choice", "choices"):
        keys = [o.key for o in q.options]
        assert a.value and a.value <= set(keys) and set(a.why) == set(keys)
        assert ex.check(q.params, ",".join(sorted(a.value))).verdict == "correct"
        for k in keys:  # each option decided wrongly gets that option's reason
            given = {k} if q.kind == "choice" else a.value ^ {k}
            if given == a.value or not given:
                continue
            v = ex.check(q.params, ",".join(sorted(given)))
            assert v.verdict == "incorrect" and k in v.mistake, (k, v)
            if k in given:  # chosen wrongly: why it is wrong
                assert a.why[k] in v.feedback, (k, v)
            else:  # left out: counted, not named
                assert "also hold" in v.feedback and a.why[k] not in v.feedback, (k, v)
        return
    assert ex.check(q.params, str(a.value)).verdict == "correct"
    if q.kind == "integer":
        assert f"**{a.value:,}**" in a.derivation  # the derivation ends at the answer
    assert a.mistakes, f"{ex.id} names no known mistake at its defaults"
    for m in a.mistakes:
        v = ex.check(q.params, str(m.value))
        assert (v.verdict, v.mistake) == ("incorrect", m.key), (m, v)
        assert m.feedback in v.feedback
    v = ex.check(q.params, str(a.value * 7 + 3))
    assert v.verdict == "incorrect" and v.mistake == ""


@pytest.mark.parametrize("ex", exercises.EXERCISES, ids=lambda e: e.id)
@pytest.mark.parametrize("raw", ["abc", "1e999", "", "   ", "nan", "inf", "12 apples", "x" * 200])
def test_malformed_answers_never_count(ex, raw):
    q = defaults(ex)
    headline = {"gap": {"mean": 0.05, "ci95": [0.04, 0.06], "n": 3}}
    v = ex.check(q.params, raw, headline)
    assert v.verdict == "invalid" and not v.counts and v.feedback, v


def test_number_formats():
    for raw in ("16777216", "16,777,216", "16 777 216", "16_777_216", "1.6777216e7", " 16777216 "):
        assert parse_number(raw, integer=True) == 16_777_216, raw
    assert parse_number("5.25", integer=False) == 5.25
    for raw, integer in (("1,5", False), ("2.5", True), ("1e18", True), ("-1e999", False)):
        with pytest.raises(exercises.FormatError):
            parse_number(raw, integer)


def test_reals_are_within_one_percent_and_integers_exact():
    q = Question("x", {}, "", "number")
    a = exercises.Answer(100.0, "")
    assert grade(q, a, "100.9").verdict == "correct"
    assert grade(q, a, "101.1").verdict == "incorrect"
    q = Question("x", {}, "", "integer")
    assert grade(q, exercises.Answer(100, ""), "101").verdict == "incorrect"
    choices = Question("x", {}, "", "choice", (Option("a", "A"), Option("b", "B")))
    assert grade(choices, exercises.Answer(frozenset("a"), ""), "a,b").verdict == "invalid"
    assert grade(choices, exercises.Answer(frozenset("a"), ""), "c").verdict == "invalid"


# --- each page's facts, from the real code ------------------------------------------------------
@pytest.mark.parametrize(
    ("depth", "kernel", "stride", "dilation", "pool_every"),
    [(4, 3, 1, 1, 0), (3, 5, 2, 1, 0), (3, 3, 1, 2, 1), (2, 3, 2, 2, 1)],
)
def test_theoretical_field_is_the_gradient_support_of_the_real_stack(
    depth, kernel, stride, dilation, pool_every
):
    ex = exercises.get("receptive_field.theoretical_side")
    params = {
        "rf_depth": depth,
        "rf_kernel": kernel,
        "rf_stride": stride,
        "rf_dilation": dilation,
        "rf_pool_every": pool_every,
    }
    side = ex.answer(params).value
    layers = fields.stack(depth, kernel, stride, dilation, pool_every)
    jump = fields.theoretical(layers)[-1]["jump"]
    torch.manual_seed(0)
    grad = input_gradient(torch_stack(layers), side + 3 * jump + 4, (1, 2))
    ys, xs = grad.nonzero()
    assert ys.max() + 1 - ys.min() == xs.max() + 1 - xs.min() == side


def test_effective_field_is_the_probes_and_smaller_than_the_theory():
    ex = exercises.get("receptive_field.effective_50")
    cfg = field_probe.Config(rf_depth=8)
    a = ex.answer(ex.params_of(cfg))
    assert a.value == field_probe.effective(cfg)["effective_50"]["mean"]
    assert a.value < fields.theoretical(cfg.layers())[-1]["side"] / 2


def test_stride_two_follows_only_shifts_the_stride_divides():
    ex = exercises.get("equivariance.stride_shifts")
    q = defaults(ex)
    a = ex.answer(q.params)
    shifts = shift_options(ex.settings(q.params))
    even = {o.key for o, (dx, dy) in zip(q.options, shifts, strict=True) if dx % 2 == dy % 2 == 0}
    assert a.value == even and any(dy for dx, dy in shifts)  # vertical shifts are asked too


def test_global_pooling_is_exact_with_circular_padding_and_shifts():
    ex = exercises.get("equivariance.global_pooling")
    params = {**defaults(ex).params, "padding": "circular", "shift_kind": "circular", "stride": 1}
    assert ex.answer(params).value == {"same"}
    assert ex.check(params, "moves").mistake == "chose_moves"


def test_only_batchnorm_depends_on_the_batch_and_norm_layers_learn_two_per_channel():
    ex = exercises.get("normalization.batch_independent")
    assert ex.answer(defaults(ex).params).value == {"layer", "group", "instance"}
    params = exercises.get("normalization.norm_params")
    for norm, width in (("batch", 16), ("group", 8), ("instance", 4)):
        p = {"norms": [norm], "width": width, "groups": 4}
        assert (
            params.answer(p).value
            == 2 * width
            == sum(x.numel() for x in nn.BatchNorm2d(width).parameters())
        )
    v = params.check({"norms": ["batch"], "width": 16, "groups": 4}, "64")
    assert v.mistake == "running_stats"


def test_first_layer_is_the_blueprints():
    from cnnexp.config import TrainSetup

    ex = exercises.get("baseline.first_layer_params")
    for change in (
        {},
        {"norm": "none"},
        {"model": "mlp"},
        {"model": "local", "width": 2},
        {"dataset": "digits"},
    ):
        params = {**defaults(ex).params, **change}
        setup = TrainSetup(**{k: v for k, v in params.items()})
        first = next(x for x in setup.layers() if x.kind in ("conv", "local", "linear"))
        assert ex.answer(params).value == first.params, change
    cnn = next(x for x in TrainSetup().layers() if x.kind == "conv")  # followed by BatchNorm
    v = ex.check(defaults(ex).params, str(cnn.params + cnn.args["out_channels"]))
    assert v.mistake == "added_bias"


# --- predictions, against saved runs ------------------------------------------------------------
@pytest.mark.parametrize("name", ["permuted.predict_gap", "equivariance.predict_shifted"])
def test_a_prediction_is_compared_with_the_saved_interval(saved, name):
    from cnnexp.store import Store

    ex = exercises.get(name)
    cfg = tiny(ex)
    q = ex.generate(cfg)
    headline = exercises.headline(ex, cfg, Store(saved))
    m = ex.measured(cfg, headline)
    assert m["mean"] is not None and m["n"] == 2
    mean = m["mean"] * ex.scale
    v = ex.check(q.params, f"{mean:.6f}", headline)
    assert v.verdict == "correct" and "inside the measured interval" in v.feedback
    far = ex.check(q.params, f"{mean + 150:.2f}", headline)
    assert far.verdict == "incorrect" and "above the measured mean" in far.feedback
    assert ex.check(q.params, "5", None).verdict == "invalid"  # nothing saved: no try spent


# --- bad parameters -----------------------------------------------------------------------------
def test_bad_parameters_name_what_is_allowed():
    ex = exercises.get("scaling.fc_weights")
    with pytest.raises(ConfigError, match="unknown parameter 'side'; allowed: image_size"):
        ex.answer({"side": 3})
    with pytest.raises(ConfigError, match=r"image_size.*<= 512"):
        ex.answer({"image_size": 100_000})
    with pytest.raises(ConfigError, match="unknown exercise 'nope'; known: scaling.fc_weights"):
        exercises.get("nope")
    with pytest.raises(ConfigError, match="does not apply"):
        exercises.get("permuted.predict_gap").answer({"models": ["mlp"]})
    with pytest.raises(ConfigError, match="groups"):
        exercises.get("normalization.norm_params").answer({"norms": ["group"], "groups": 3})


# --- the command line ---------------------------------------------------------------------------
def test_cli_lists_every_exercise_with_its_answer(results):
    rows = json.loads(cli(results, "exercise", "list", "--json").stdout)
    assert [r["id"] for r in rows] == list(exercises.REGISTRY)
    fc = next(r for r in rows if r["id"] == "scaling.fc_weights")
    assert fc["params"] == exercises.get("scaling.fc_weights").params_of(scaling.Config())
    assert fc["answer"] == exercises.get("scaling.fc_weights").answer(fc["params"]).value
    assert (
        next(r for r in rows if r["id"] == "permuted.predict_gap")["answer"] is None
    )  # none saved
    page = json.loads(cli(results, "exercise", "list", "--page", "normalization", "--json").stdout)
    assert {r["id"] for r in page} == {e.id for e in exercises.for_page(normalization.NAME)}
    text = cli(results, "exercise", "list").stdout
    assert "scaling.conv_weights" in text and "answer" in text


def test_cli_checks_an_answer(results):
    seed = json.dumps(layer_params(*SIZES[0]))
    run = lambda answer: json.loads(  # noqa: E731
        cli(
            results,
            "exercise",
            "check",
            "scaling.fc_weights",
            "--params",
            seed,
            "--answer",
            answer,
            "--json",
        ).stdout
    )
    assert run("16777216") == {"verdict": "correct", "feedback": "Right: 16,777,216."}
    wrong = run("16781312")
    assert wrong["verdict"] == "incorrect" and "no biases" in wrong["feedback"]
    assert run("abc")["verdict"] == "invalid"
    assert run("1e999")["verdict"] == "invalid"
    plain = cli(results, "exercise", "check", "scaling.conv_weights", "--answer", "448").stdout
    assert plain.startswith("correct: ")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["check", "scaling.nope", "--answer", "1"], "unknown exercise 'scaling.nope'; known: "),
        (
            ["check", "scaling.fc_weights", "--params", "{bad", "--answer", "1"],
            "--params is not JSON",
        ),
        (["check", "scaling.fc_weights", "--params", '{"kernel": 99}', "--answer", "1"], "kernel"),
        (["check", "scaling.fc_weights", "--params", "[1]", "--answer", "1"], "a JSON object"),
        (["list", "--page", "home"], "unknown page 'home'; allowed: scaling"),
    ],
)
def test_cli_bad_ids_or_parameters_exit_2_with_one_line(results, args, said):
    p = cli(results, "exercise", *args, check=False)
    assert p.returncode == 2 and p.stdout == ""
    assert said in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
