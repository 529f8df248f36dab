"""Check yourself: exercises generated from a page's settings and answered by the library.

Each exercise is a frozen dataclass registered below, one or more per experiment page, in
the shape of auto-graded courseware (PrairieLearn's generate, parse and grade; learnr's
messages for known mistakes):

    generate(settings) -> Question   the question for the page's current settings: a student
                                     who moves a slider gets another question
    answer(params) -> Answer         computed by the library's own modules and formulas (layers
                                     built on PyTorch's meta device, the receptive-field
                                     recurrence, the shift probe, the normalization layers,
                                     saved results): never typed in
    check(params, raw) -> Verdict    correct, incorrect (with feedback for a known mistake:
                                     each mistake is the same computation with that mistake
                                     made) or invalid (a format message; it spends no try)

A question's parameters are the page's settings it follows from, as JSON values; missing ones
take the page's defaults, and they are checked by the page's own config. Integers compare
exactly, real numbers within a relative 1% unless the exercise states its tolerance (a
measurement's 95% interval). A prediction is compared with the saved result's interval.

No Streamlit here: ui/exercises.py draws the panel, cnnexp/attempts.py records graded
attempts, and `python -m cnnexp exercise` lists and checks from the command line.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Literal

from cnnexp import data, policy, stats
from cnnexp.config import Config, ConfigError, TrainSetup, describe, parse, setup_fields
from cnnexp.experiments import (
    baseline,
    equivariance,
    field_probe,
    normalization,
    permuted,
    receptive_field,
    scaling,
    shift_probe,
)

Kind = Literal["integer", "number", "choice", "choices", "prediction"]
RTOL = 0.01  # real numbers: within 1% unless an exercise states otherwise
MAX_CHARS = 60  # an answer is a number or a few option keys
LARGEST = Decimal(10) ** 18  # no answer here reaches it (a dense layer at the caps: 3.9e16)


# --- questions, answers, verdicts ------------------------------------------------------------
@dataclass(frozen=True)
class Option:
    key: str  # what the CLI's --answer and the record use
    label: str  # what the student reads


@dataclass(frozen=True)
class Question:
    exercise: str
    params: dict[str, Any]  # JSON values: the settings the answer follows from
    prompt: str  # markdown
    kind: Kind
    options: tuple[Option, ...] = ()
    unit: str = ""  # what a number is counted in, for the input's label


@dataclass(frozen=True)
class Mistake:
    key: str  # names the mistake in the record and the class summary
    value: Any  # the answer this mistake gives, computed by the same code with it made
    feedback: str


@dataclass(frozen=True)
class Answer:
    value: Any  # int, float, or a frozenset of option keys; None: nothing to compare with
    derivation: str  # markdown, shown after a right answer or after the last try
    mistakes: tuple[Mistake, ...] = ()
    rtol: float = RTOL
    atol: float = 0.0
    why: dict[str, str] = field(default_factory=dict)  # options: why each is right or wrong
    hint: str = ""  # feedback for a wrong answer no known mistake explains


@dataclass(frozen=True)
class Verdict:
    verdict: Literal["correct", "incorrect", "invalid"]
    feedback: str
    mistake: str = ""  # the known mistake it matched, if any
    given: str = ""  # the answer as understood (for the record): "16777216", "fc,local"

    @property
    def counts(self) -> bool:
        """Whether it spends a try: a malformed answer does not."""
        return self.verdict != "invalid"


class FormatError(ValueError):
    """An answer that is not of the form asked for; the message says what is."""


# --- parsing and grading ---------------------------------------------------------------------
# A thousands separator sits between a digit and a group of exactly three: "1,5" stays a
# malformed number rather than becoming 15.
_SEPARATOR = re.compile(r"(?<=\d)[,_ \u2009\u202f](?=\d{3}(?:\D|$))")


def parse_number(raw: str, integer: bool) -> int | float:
    text = str(raw).strip()
    if not text:
        raise FormatError("Type a number.")
    if len(text) > MAX_CHARS:
        raise FormatError(f"That is {len(text)} characters; type a number of at most {MAX_CHARS}.")
    try:
        value = Decimal(_SEPARATOR.sub("", text))
    except InvalidOperation:
        raise FormatError(
            f"'{text}' is not a number; type digits, such as 1234, 1,234 or 1.2e3."
        ) from None
    if not value.is_finite():
        raise FormatError(f"'{text}' is not a finite number.")
    if abs(value) >= LARGEST:
        raise FormatError(f"'{text}' is larger than any answer here (all are below 10¹⁸).")
    if integer:
        if value != value.to_integral_value():
            raise FormatError(f"'{text}' is not a whole number; this answer is one.")
        return int(value)
    return float(value)


def parse_choices(raw: str | Iterable[str], options: tuple[Option, ...], one: bool) -> frozenset:
    text = raw if isinstance(raw, str) else ",".join(raw)
    if len(text) > MAX_CHARS:
        raise FormatError(f"That is {len(text)} characters; give option keys separated by commas.")
    keys = [k for k in re.split(r"[,\s]+", text.strip().lower()) if k]
    allowed = [o.key for o in options]
    unknown = [k for k in keys if k not in allowed]
    if unknown:
        raise FormatError(f"Unknown option '{unknown[0]}'; allowed: {', '.join(allowed)}.")
    if not keys:
        raise FormatError("Choose an option." if one else "Choose at least one option.")
    if one and len(set(keys)) > 1:
        raise FormatError("Choose one option.")
    return frozenset(keys)


def _close(given: float, value: float, answer: Answer, integer: bool) -> bool:
    if integer:
        return given == value
    return abs(given - value) <= max(answer.atol, answer.rtol * abs(value))


def grade(question: Question, answer: Answer, raw: str | Iterable[str]) -> Verdict:
    """The verdict on one answer: parse (format errors are free), then compare."""
    try:
        if question.kind in ("choice", "choices"):
            given = parse_choices(raw, question.options, one=question.kind == "choice")
        else:
            given = parse_number(raw, integer=question.kind == "integer")
    except FormatError as e:
        return Verdict("invalid", str(e))
    if isinstance(given, frozenset):
        return _grade_choices(given, answer, one=question.kind == "choice")
    shown = f"{given:,}" if isinstance(given, int) else f"{given:g}"
    integer = question.kind == "integer"
    if _close(given, answer.value, answer, integer):
        return Verdict("correct", f"Right: {shown}.", given=str(given))
    for m in answer.mistakes:
        if _close(given, m.value, answer, integer):
            return Verdict("incorrect", f"Not {shown}. {m.feedback}", m.key, str(given))
    return Verdict("incorrect", f"Not {shown}. {answer.hint}".strip(), given=str(given))


def _grade_choices(given: frozenset, answer: Answer, one: bool) -> Verdict:
    shown = ",".join(sorted(given))
    if given == answer.value:
        return Verdict("correct", "Right.", given=shown)
    wrong = sorted(given - answer.value)
    if one:  # the reason against the option chosen, not which one is right
        return Verdict(
            "incorrect", "Not quite. " + answer.why.get(shown, ""), f"chose_{shown}", shown
        )
    missed = sorted(answer.value - given)
    lines = [answer.why[k] for k in wrong + missed if k in answer.why]
    keys = [f"included_{k}" for k in wrong] + [f"missed_{k}" for k in missed]
    return Verdict("incorrect", "Not quite. " + " ".join(lines), ",".join(keys), shown)


def known(answer_value: Any, mistakes: Iterable[Mistake], same=lambda a, b: a == b) -> tuple:
    """The mistakes that give an answer other than the right one and than each other: at
    these settings some change nothing (forgetting the input channels when there is one)."""
    out, seen = [], [answer_value]
    for m in mistakes:
        if not any(same(m.value, v) for v in seen):
            out.append(m)
            seen.append(m.value)
    return tuple(out)


def _many(n: int, thing: str) -> str:
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


# --- the exercise kinds ----------------------------------------------------------------------
@dataclass(frozen=True)
class Exercise:
    """One kind of question on one experiment page.

    A subclass names the page, the config its settings come from (`source`), which of those
    settings the question follows from (`keys`), and implements `prompt` (and `options`) and
    `solve`, which answers from a validated config.
    """

    page: ClassVar[str]
    name: ClassVar[str]
    source: ClassVar[type[Config]]
    keys: ClassVar[tuple[str, ...]]
    kind: ClassVar[Kind]
    fixed: ClassVar[dict[str, Any]] = {}  # settings held when parameters are read back
    unit: ClassVar[str] = ""
    tries: ClassVar[int | None] = None  # None: the server's setting

    @property
    def id(self) -> str:
        return f"{self.page}.{self.name}"

    # What a subclass provides.
    def prompt(self, cfg: Any) -> str:
        raise NotImplementedError

    def options(self, cfg: Any) -> tuple[Option, ...]:
        return ()

    def solve(self, cfg: Any) -> Answer:
        raise NotImplementedError

    def applies(self, cfg: Any) -> str | None:
        """None when the question makes sense at these settings, else why not."""
        return None

    def problem(self, cfg: Any, caps: policy.Caps) -> str | None:
        """None when answering fits the server's budget, else the refusal to show."""
        return None

    # The protocol.
    def params_of(self, cfg: Config) -> dict[str, Any]:
        values = cfg.canonical()
        return {k: values[k] for k in self.keys}

    def settings(self, params: Mapping[str, Any]) -> Any:
        """The config the parameters describe (the rest at the page's defaults); ConfigError
        naming what is allowed when they cannot be used."""
        if not isinstance(params, Mapping):
            raise ConfigError(f"{self.id}: parameters must be a JSON object")
        unknown = sorted(set(params) - set(self.keys))
        if unknown:
            raise ConfigError(
                f"{self.id}: unknown parameter '{unknown[0]}'; allowed: {', '.join(self.keys)}"
            )
        try:
            cfg = parse(self.source, {**self.fixed, **params})
        except ConfigError as e:
            raise ConfigError(f"{self.id}: " + "; ".join(str(e).splitlines())) from None
        why = self.applies(cfg)
        if why:
            raise ConfigError(f"{self.id} does not apply to these settings: {why}")
        return cfg

    def generate(self, settings: Config) -> Question | None:
        """The question at the page's settings; None where it does not apply there."""
        try:
            cfg = self.settings(self.params_of(settings))
        except ConfigError:
            return None
        return self.question(cfg)

    def question(self, cfg: Any) -> Question:
        return Question(
            self.id, self.params_of(cfg), self.prompt(cfg), self.kind, self.options(cfg), self.unit
        )

    def answer(self, params: Mapping[str, Any], headline: dict | None = None) -> Answer:
        return self.solve(self.settings(params))

    def check(
        self, params: Mapping[str, Any], raw: str | Iterable[str], headline: dict | None = None
    ) -> Verdict:
        cfg = self.settings(params)
        return grade(self.question(cfg), self.answer(params, headline), raw)


# --- Parameter scaling -------------------------------------------------------------------------
ONE_LAYER = ("image_size", "in_channels", "out_channels", "kernel", "stride", "padding", "bias")
FAMILY_WORDS = {
    "fc": "**fully connected layer** (every output unit sees every input value)",
    "local": "**locally connected layer** (a window per output position, with weights of its own)",
    "conv": "**convolution** (one bank of filters shared by every position)",
}
FAMILY_NAMES = {"fc": "fully connected", "local": "locally connected", "conv": "convolution"}


def layer_params(cfg: scaling.Config, **change: Any) -> dict[str, int]:
    """Parameters of the three layers, counted on nn.Linear, LocallyConnected2d and nn.Conv2d
    built on PyTorch's meta device (the Scaling page's formula check), with `change` applied
    to the settings: how a mistake is computed."""
    counts = scaling.module_counts(cfg.model_copy(update=change))
    return {f: c["params"] for f, c in counts.items()}


def _one_layer(cfg: scaling.Config) -> str:
    o = scaling.architecture.conv_out(cfg.image_size, cfg.kernel, cfg.stride, cfg.padding)
    side, cin, cout = cfg.image_size, cfg.in_channels, cfg.out_channels
    return (
        f"One layer maps a {side}×{side}×{cin} input to a {o}×{o}×{cout} output (window "
        f"{cfg.kernel}×{cfg.kernel}, stride {cfg.stride}, zero padding {cfg.padding}, "
        + ("a bias per output unit or filter)." if cfg.bias else "no biases).")
    )


@dataclass(frozen=True)
class LayerWeights(Exercise):
    """The trainable parameters of one of the three layers (the seed's first exercise)."""

    family: str = "fc"
    page: ClassVar[str] = scaling.NAME
    source: ClassVar[type[Config]] = scaling.Config
    keys: ClassVar[tuple[str, ...]] = ONE_LAYER
    fixed: ClassVar[dict[str, Any]] = {"mode": "analytic"}
    kind: ClassVar[Kind] = "integer"
    unit: ClassVar[str] = "parameters"

    @property
    def id(self) -> str:
        return f"{self.page}.{self.family}_weights"

    def prompt(self, cfg: scaling.Config) -> str:
        return (
            f"{_one_layer(cfg)} How many trainable parameters has the {FAMILY_WORDS[self.family]}?"
        )

    def solve(self, cfg: scaling.Config) -> Answer:
        count = layer_params(cfg)
        right = count[self.family]
        side, cin, cout, k = cfg.image_size, cfg.in_channels, cfg.out_channels, cfg.kernel
        o = scaling.architecture.conv_out(side, k, cfg.stride, cfg.padding)
        n_in, n_out = side * side * cin, o * o * cout
        mistakes = [
            Mistake(
                "forgot_bias",
                layer_params(cfg, bias=False)[self.family],
                "You left out the biases: one per output unit of a dense or locally connected "
                "layer, one per filter of a convolution.",
            )
            if cfg.bias
            else Mistake(
                "added_bias",
                layer_params(cfg, bias=True)[self.family],
                "This layer has no biases (the bias setting is off): count the weights only.",
            ),
            Mistake(
                "forgot_input_channels",
                layer_params(cfg, in_channels=1)[self.family],
                f"The input has {cin} channels: every pixel is {cin} values, and a window "
                f"covers all of them ({k}×{k}×{cin}).",
            ),
            Mistake(
                "forgot_output_channels",
                layer_params(cfg, out_channels=1)[self.family],
                f"There are {cout} output channels, each with weights of its own.",
            ),
        ]
        if self.family == "fc":
            b = int(cfg.bias)
            mistakes.append(
                Mistake(
                    "output_side_as_input",
                    n_out * (o * o * cin + b),
                    f"You counted the output's side ({o}) on the input side: every output unit "
                    f"sees all {side}×{side}×{cin} = {n_in:,} input values.",
                )
            )
        if self.family == "local":
            mistakes += [
                Mistake(
                    "shared_weights",
                    count["conv"],
                    "That is one filter bank shared by every position: a convolution. A "
                    f"locally connected layer has its own at each of the {o}×{o} positions.",
                ),
                Mistake(
                    "input_positions",
                    side * side * count["conv"],
                    f"There is one window per output position ({o}×{o}), not per input pixel "
                    f"({side}×{side}).",
                ),
            ]
        if self.family == "conv":
            mistakes.append(
                Mistake(
                    "per_position",
                    count["local"],
                    "That gives every output position its own filters: a locally connected "
                    "layer. A convolution shares one bank of filters across all positions.",
                )
            )
        return Answer(
            right,
            self._derivation(cfg, right, n_in, n_out, o),
            known(right, mistakes),
            hint="Count the weights one output unit (or one filter) needs, then how many of "
            "them there are.",
        )

    def _derivation(self, cfg: scaling.Config, right: int, n_in: int, n_out: int, o: int) -> str:
        k, cin, cout, b = cfg.kernel, cfg.in_channels, cfg.out_channels, int(cfg.bias)
        plus = " + 1 bias" if b else ""
        window = k * k * cin
        per = lambda n: f"({n:,} + 1)" if b else f"{n:,}"  # noqa: E731
        if self.family == "fc":
            how = (
                f"each of the {o}×{o}×{cout} = {n_out:,} output units has a weight for each of "
                f"the {cfg.image_size}×{cfg.image_size}×{cin} = {n_in:,} input values{plus}: "
                f"{n_out:,} × {per(n_in)} = **{right:,}**"
            )
            module = f"nn.Linear({n_in}, {n_out}, bias={cfg.bias})"
        elif self.family == "local":
            how = (
                f"each of the {o}×{o} = {o * o:,} output positions has {_many(cout, 'filter')} of "
                f"{k}×{k}×{cin} = {window:,} weights{plus} of its own: {o * o:,} × {cout} × "
                f"{per(window)} = **{right:,}**"
            )
            module = "LocallyConnected2d (cnnexp/models.py)"
        else:
            how = (
                f"{_many(cout, 'filter')} of {k}×{k}×{cin} = {window:,} weights{plus}, shared by every "
                f"position: {cout} × {per(window)} = **{right:,}**, whatever "
                "the size of the image"
            )
            module = f"nn.Conv2d({cin}, {cout}, {k})"
        return (
            f"The {FAMILY_NAMES[self.family]} layer: {how}. Counted on {module} built on "
            "PyTorch's meta device (shapes only, no memory)."
        )


@dataclass(frozen=True)
class GrowsWithImage(Exercise):
    """Which counts grow when the image grows (the seed's second part), from counts at two
    sizes."""

    page: ClassVar[str] = scaling.NAME
    name: ClassVar[str] = "grows_with_image"
    source: ClassVar[type[Config]] = scaling.Config
    keys: ClassVar[tuple[str, ...]] = ONE_LAYER
    fixed: ClassVar[dict[str, Any]] = {"mode": "analytic"}
    kind: ClassVar[Kind] = "choices"

    def prompt(self, cfg: scaling.Config) -> str:
        s = cfg.image_size
        return (
            f"{_one_layer(cfg)} Now the image side doubles, from {s} to {2 * s}; window, "
            "stride, padding and channels stay as they are. **Whose parameter count grows?** "
            "(Choose all that do.)"
        )

    def options(self, cfg: scaling.Config) -> tuple[Option, ...]:
        return tuple(Option(f, FAMILY_NAMES[f]) for f in FAMILY_NAMES)

    def solve(self, cfg: scaling.Config) -> Answer:
        now, big = layer_params(cfg), layer_params(cfg, image_size=2 * cfg.image_size)
        grows = frozenset(f for f in now if big[f] > now[f])
        reason = {
            "fc": "every output unit sees every input value, and there are more of both",
            "local": "it keeps a window of weights per output position, and there are more "
            "positions",
            "conv": "its one bank of filters is shared by every position, however many",
        }
        why = {}
        for f in now:
            change = f"×{big[f] / now[f]:,.0f}" if f in grows else "the same"
            why[f] = (
                f"The {FAMILY_NAMES[f]} layer goes from {now[f]:,} to {big[f]:,} parameters "
                f"({change}): {reason[f]}."
            )
        stays = [FAMILY_NAMES[f] for f in now if f not in grows]
        lesson = (
            f" Only the {' and '.join(stays)} keeps its count: its parameters follow the window "
            "and the channels, not the image, which is why convolutions scale to large images."
            if stays
            else ""
        )
        return Answer(
            grows,
            " ".join(why.values())
            + lesson
            + " Counted at both sizes on modules built on PyTorch's meta device.",
            why=why,
        )


# --- Receptive field -------------------------------------------------------------------------
STACK = ("rf_depth", "rf_kernel", "rf_stride", "rf_dilation", "rf_pool_every")


def _stack_words(cfg: field_probe.Config) -> str:
    extra = "".join(
        [
            f", stride {cfg.rf_stride}" if cfg.rf_stride > 1 else "",
            f", dilation {cfg.rf_dilation}" if cfg.rf_dilation > 1 else "",
            f", a 2×2 average pool (stride 2) after every {cfg.rf_pool_every}"
            if cfg.rf_pool_every
            else "",
        ]
    )
    return f"{_many(cfg.rf_depth, 'conv layer')} of {cfg.rf_kernel}×{cfg.rf_kernel}{extra}"


def _field_side(layers: list[receptive_field.Layer]) -> int:
    return receptive_field.theoretical(layers)[-1]["side"]


@dataclass(frozen=True)
class TheoreticalField(Exercise):
    page: ClassVar[str] = receptive_field.NAME
    name: ClassVar[str] = "theoretical_side"
    source: ClassVar[type[Config]] = field_probe.Config
    keys: ClassVar[tuple[str, ...]] = STACK
    kind: ClassVar[Kind] = "integer"
    unit: ClassVar[str] = "pixels"

    def prompt(self, cfg: field_probe.Config) -> str:
        return (
            f"A stack of {_stack_words(cfg)}. **How many input pixels wide is the receptive "
            "field of a unit after the last layer?**"
        )

    def solve(self, cfg: field_probe.Config) -> Answer:
        layers = cfg.layers()
        right = _field_side(layers)
        d, k = cfg.rf_dilation, cfg.rf_kernel
        wide = receptive_field.stack(
            cfg.rf_depth, k + 1, cfg.rf_stride, d, cfg.rf_pool_every
        )  # each conv adding k instead of k − 1
        no_jump = [receptive_field.Layer(x.kind, x.kernel, 1, x.dilation) for x in layers]
        undilated = receptive_field.stack(cfg.rf_depth, k, cfg.rf_stride, 1, cfg.rf_pool_every)
        mistakes = [
            Mistake(
                "forgot_the_one",
                right - 1,
                "The field starts as the unit's own pixel: 1 plus what the layers add.",
            ),
            Mistake(
                "k_per_layer",
                _field_side(wide),
                f"A {k}×{k} layer adds {k} − 1 = {k - 1} pixels (times the jump), not {k}: "
                "neighbouring windows overlap.",
            ),
            Mistake(
                "ignored_jump",
                _field_side(no_jump),
                "Strides and pooling multiply the jump, the input distance between neighbouring "
                "units: every later layer adds (k − 1) × jump pixels.",
            ),
            Mistake(
                "ignored_dilation",
                _field_side(undilated),
                f"A dilation of {d} spreads the taps {d} pixels apart: each layer adds "
                f"{d} × ({k} − 1) pixels (times the jump).",
            ),
        ]
        return Answer(
            right,
            self._derivation(layers),
            known(right, mistakes),
            hint="Start from 1 pixel; each layer adds dilation × (kernel − 1) × the jump so far.",
        )

    @staticmethod
    def _derivation(layers: list[receptive_field.Layer]) -> str:
        rows = receptive_field.theoretical(layers)
        side, jump, steps = 1, 1, []
        for row, layer in zip(rows, layers, strict=True):
            added = row["side"] - side
            steps.append(
                f"layer {row['layer']} ({field_probe.describe_layer(layer)}) adds "
                f"{layer.dilation} × ({layer.kernel} − 1) × {jump} = {added}"
            )
            side, jump = row["side"], row["jump"]
        return (
            "Start from the unit's own pixel, 1; "
            + "; ".join(steps)
            + f". In all: **{side}** pixels. The recurrence of the Receptive field page "
            "(side += dilation × (kernel − 1) × jump; jump ×= stride), which the tests check "
            "against the gradient support of the real PyTorch stack."
        )


@dataclass(frozen=True)
class EffectiveField(Exercise):
    page: ClassVar[str] = receptive_field.NAME
    name: ClassVar[str] = "effective_50"
    source: ClassVar[type[Config]] = field_probe.Config
    keys: ClassVar[tuple[str, ...]] = (*STACK, "rf_seeds")
    kind: ClassVar[Kind] = "number"
    unit: ClassVar[str] = "pixels"

    def prompt(self, cfg: field_probe.Config) -> str:
        return (
            f"A stack of {_stack_words(cfg)}. The *Effective field* tab measures where its "
            "centre unit actually looks: the mean |gradient| over random weights and inputs. "
            "**What is the side, in pixels, of the centred square that holds 50% of that "
            f"mass** (the mean over {cfg.rf_seeds} probe seed(s))? Any value inside the "
            "measurement's 95% interval counts."
        )

    def problem(self, cfg: field_probe.Config, caps: policy.Caps) -> str | None:
        return field_probe.budget_problem(cfg, caps.probe_gflop)

    def solve(self, cfg: field_probe.Config) -> Answer:
        eff = field_probe.effective(cfg)
        half, ninety, theory = eff["effective_50"], eff["effective_90"], eff["theoretical"]
        lo_hi = half["ci95"]
        width = (lo_hi[1] - lo_hi[0]) / 2 if lo_hi else 0.0
        px = {"scale": 1.0, "unit": " px"}
        mistakes = [
            Mistake(
                "theoretical",
                theory,
                f"That is the theoretical field, {theory} pixels: where the unit *can* look. "
                "The gradient piles up in the middle (many more paths lead there), so half of "
                "it lies in a much smaller square.",
            ),
            Mistake(
                "ninety",
                ninety["mean"],
                "That is the square holding 90% of the mass; half of it lies closer in.",
            ),
        ]
        answer = Answer(half["mean"], "", atol=width)
        same = lambda a, b: _close(a, b, answer, False)  # noqa: E731
        return Answer(
            half["mean"],
            f"Measured: 50% of the gradient mass within {stats.describe_ci(half, **px)}, 90% "
            f"within {stats.describe_ci(ninety, **px)}, against a theoretical side of {theory}. "
            "The mass spreads like a random walk, about as √depth, while the theoretical side "
            "grows with depth (Luo et al., NeurIPS 2016). Computed by the probe of the "
            "Effective field tab.",
            known(half["mean"], mistakes, same),
            atol=width,
            hint="Look at the Effective field tab: the 50% square is drawn on the map.",
        )


# --- Equivariance ----------------------------------------------------------------------------
EXACT = 1e-5  # relative error of float32 round-off: a shift followed exactly
STRIDE_SIDE = 32  # side of the random image the stride question probes (even: whole output shifts)


def _odd(k: int) -> int:
    return k if k % 2 else k + 1


def _shift_options(cfg: shift_probe.Config) -> list[tuple[int, int]]:
    """Shifts to choose from, near the page's shift: horizontal, vertical and both."""
    a, b = abs(cfg.shift) or 3, abs(cfg.shift_y) or 2
    out: list[tuple[int, int]] = []
    for s in ((a, 0), (a + 1, 0), (0, b), (0, b + 1), (a, b)):
        if s not in out:
            out.append(s)
    return out


def _shift_words(dx: int, dy: int) -> str:
    parts = [f"{dx} px right" if dx else "", f"{dy} px down" if dy else ""]
    return " and ".join(p for p in parts if p) or "no shift"


@dataclass(frozen=True)
class StrideShifts(Exercise):
    """Which shifts a stride-2 convolution follows exactly (aliasing), vertical ones too."""

    page: ClassVar[str] = equivariance.NAME
    name: ClassVar[str] = "stride_shifts"
    source: ClassVar[type[Config]] = shift_probe.Config
    keys: ClassVar[tuple[str, ...]] = ("kernel", "channels", "seed", "shift", "shift_y")
    fixed: ClassVar[dict[str, Any]] = {"weights": "random"}
    kind: ClassVar[Kind] = "choices"

    def params_of(self, cfg: Config) -> dict[str, Any]:
        # An even kernel (allowed with 'valid' padding) becomes the next odd one: circular
        # padding that keeps the centre needs an odd kernel.
        return {**super().params_of(cfg), "kernel": _odd(cfg.kernel)}

    def prompt(self, cfg: shift_probe.Config) -> str:
        k = cfg.kernel
        return (
            f"One convolution, {k}×{k} with **stride 2**, circular padding and random weights "
            f"(seed {cfg.seed}), sees a {STRIDE_SIDE}×{STRIDE_SIDE} image shifted circularly. "
            "**For which shifts is its output exactly the original output, shifted by the "
            "shift ÷ 2?** (Choose all.)"
        )

    def options(self, cfg: shift_probe.Config) -> tuple[Option, ...]:
        return tuple(
            Option("abcde"[i], _shift_words(dx, dy))
            for i, (dx, dy) in enumerate(_shift_options(cfg))
        )

    def solve(self, cfg: shift_probe.Config) -> Answer:
        import torch

        from cnnexp import probe

        shifts = _shift_options(cfg)
        blocks = probe.random_stack(1, cfg.channels, 1, cfg.kernel, "circular", 2, "none", cfg.seed)
        gen = torch.Generator().manual_seed(cfg.seed)
        x = torch.rand(1, 1, STRIDE_SIDE, STRIDE_SIDE, generator=gen)
        error = {
            (r["dx"], r["dy"]): r["full_error"] or 0.0
            for r in probe.equivariance(blocks, x, shifts)
        }
        keys = "abcde"
        right = frozenset(keys[i] for i, s in enumerate(shifts) if error[s] < EXACT)
        why = {}
        for i, (dx, dy) in enumerate(shifts):
            e, odd = error[(dx, dy)], [n for n in (dx, dy) if n % 2]
            why[keys[i]] = (
                f"{_shift_words(dx, dy).capitalize()}: the output moves by exactly "
                f"({dx // 2}, {dy // 2}) (measured error {e:.1e})."
                if e < EXACT
                else f"{_shift_words(dx, dy).capitalize()}: {odd[0]} is not a multiple of the "
                f"stride, so the output would have to move {odd[0] / 2:g} pixels; it cannot "
                f"(aliasing; measured error {e:.0%})."
            )
        return Answer(
            right,
            " ".join(why.values())
            + " A vertical shift behaves like a horizontal one: the filter slides both ways. "
            "Measured by the shift probe (cnnexp/probe.py) on a random image.",
            why=why,
        )


POOLED = (
    Option("same", "It stays the same (changes by less than 0.01%)"),
    Option("close", "It changes a little (0.01% to 5%)"),
    Option("changes", "It changes a lot (5% or more)"),
    Option("moves", "It moves by the same shift, as the feature maps do"),
)
PROBE_STACK = (
    "image",
    "image_index",
    "colour",
    "image_size",
    "shift",
    "shift_y",
    "shift_kind",
    "depth",
    "kernel",
    "padding",
    "stride",
    "pool",
    "channels",
    "seed",
)


def _pool_shift(cfg: shift_probe.Config) -> tuple[int, int]:
    return (cfg.shift, cfg.shift_y) if (cfg.shift, cfg.shift_y) != (0, 0) else (3, 0)


@dataclass(frozen=True)
class GlobalPooling(Exercise):
    """What global average pooling does to a shift, for the page's probe stack."""

    page: ClassVar[str] = equivariance.NAME
    name: ClassVar[str] = "global_pooling"
    source: ClassVar[type[Config]] = shift_probe.Config
    keys: ClassVar[tuple[str, ...]] = PROBE_STACK
    fixed: ClassVar[dict[str, Any]] = {"weights": "random"}
    kind: ClassVar[Kind] = "choice"

    def prompt(self, cfg: shift_probe.Config) -> str:
        dx, dy = _pool_shift(cfg)
        pool = "no pooling" if cfg.pool == "none" else f"{cfg.pool} pooling"
        return (
            f"The probe's stack ({_many(cfg.depth, 'conv layer')} of {cfg.kernel}×{cfg.kernel}, "
            f"padding {cfg.padding}, stride {cfg.stride}, {pool}, random weights of seed "
            f"{cfg.seed}) ends in a global average over positions. The input moves "
            f"{_shift_words(dx, dy)} ({cfg.shift_kind} shift). **What happens to the pooled "
            "output?**"
        )

    def options(self, cfg: shift_probe.Config) -> tuple[Option, ...]:
        return POOLED

    def problem(self, cfg: shift_probe.Config, caps: policy.Caps) -> str | None:
        return policy.probe_problem(
            caps, cfg.image_size, cfg.channels, cfg.kernel, cfg.depth, cfg.colour
        )

    def solve(self, cfg: shift_probe.Config) -> Answer:
        from cnnexp import probe

        blocks, x = shift_probe.probe_stack(cfg)
        rows = probe.invariance(blocks, x, [_pool_shift(cfg)], cfg.shift_kind)
        e = next(r["error"] for r in rows if r["pooling"] == "average") or 0.0
        right = "same" if e < 1e-4 else "close" if e < 0.05 else "changes"
        measured = f"Measured: the pooled output changed by {e:.2%}."
        cause = {
            "same": "Every position's features are still there, only elsewhere, so their "
            "average is the same: equivariance has become invariance.",
            "close": "Most positions' features are the same features, moved; the border "
            "(padding, or the band a shift blanks) or a stride the shift does not divide "
            "changes a few, and the average a little.",
            "changes": "Strides or pooling that the shift does not divide change the features "
            "themselves (aliasing), and their average follows.",
        }
        why = {o.key: f"{measured} {cause[right]}" for o in POOLED if o.key != "moves"}
        why["moves"] = (
            "After global pooling there are no positions left to move: one number per channel. "
            "That is how pooling turns equivariance into invariance."
        )
        return Answer(
            frozenset([right]),
            f"{measured} {cause[right]} That is why classification heads end with global "
            "pooling: a digit moved a few pixels gives the classifier (nearly) the same vector. "
            "Measured by the shift probe on the page's image.",
            why=why,
        )


# --- Normalization ---------------------------------------------------------------------------
VARIANTS = ("batch", "layer", "group", "instance")
BATCH = 8  # images in the batch the independence question measures


def _groups(cfg: normalization.Config) -> int:
    """The page's GroupNorm groups where they divide the width (the page checks that only when
    group is among its variants), else 1."""
    return cfg.groups if cfg.width % cfg.groups == 0 else 1


def _block(cfg: normalization.Config, norm: str) -> TrainSetup:
    """One conv block of the page's width, with `norm`, on the page's dataset."""
    return TrainSetup(
        dataset=cfg.dataset, model="cnn", width=cfg.width, depth=1, norm=norm, groups=_groups(cfg)
    ).normalized()


@dataclass(frozen=True)
class BatchIndependent(Exercise):
    page: ClassVar[str] = normalization.NAME
    name: ClassVar[str] = "batch_independent"
    source: ClassVar[type[Config]] = normalization.Config
    keys: ClassVar[tuple[str, ...]] = ("dataset", "width", "groups")
    kind: ClassVar[Kind] = "choices"

    def prompt(self, cfg: normalization.Config) -> str:
        return (
            f"A conv block of width {cfg.width} on {cfg.dataset}, in training mode, with each "
            "normalization in turn. **Whose output for one image does not depend on the other "
            "images in its batch?** (Choose all.)"
        )

    def options(self, cfg: normalization.Config) -> tuple[Option, ...]:
        return tuple(Option(v, v) for v in VARIANTS)

    def solve(self, cfg: normalization.Config) -> Answer:
        import torch

        from cnnexp import models

        shape = data.info(cfg.dataset).shape
        change = {}
        for v in VARIANTS:
            torch.manual_seed(0)
            model = models.build(_block(cfg, v).layers()).train()
            gen = torch.Generator().manual_seed(0)
            x = torch.rand(BATCH, *shape, generator=gen)
            others = torch.rand(BATCH - 1, *shape, generator=gen)
            with torch.no_grad():
                a, b = model(x)[0], model(torch.cat([x[:1], others]))[0]
            change[v] = float((a - b).abs().max())
        right = frozenset(v for v in VARIANTS if change[v] < 1e-5)
        over = {
            "batch": "every image in the batch, per channel",
            "layer": "all channels and pixels of the one image",
            "group": f"groups of channels of the one image ({_groups(cfg)} groups)",
            "instance": "each channel's pixels of the one image",
        }
        why = {
            v: f"{v}: image 1's output changed by {change[v]:.2g} when the other {BATCH - 1} "
            f"images of its batch were replaced; its statistics are taken over {over[v]}."
            for v in VARIANTS
        }
        return Answer(
            right,
            " ".join(why.values())
            + " At test time BatchNorm uses running averages instead, which is why it needs "
            "batches of several images while training. Measured on the blocks cnnexp/models.py "
            "builds.",
            why=why,
        )


def _norm_module(setup: TrainSetup):
    """The first normalization layer of the model models.build makes for setup, on the meta
    device."""
    import torch
    from torch import nn

    from cnnexp import models

    kinds = (nn.BatchNorm2d, nn.GroupNorm, nn.InstanceNorm2d)
    with torch.device("meta"):
        model = models.build(setup.layers())
    return next(m for m in model.modules() if isinstance(m, kinds))


@dataclass(frozen=True)
class NormParams(Exercise):
    page: ClassVar[str] = normalization.NAME
    name: ClassVar[str] = "norm_params"
    source: ClassVar[type[Config]] = normalization.Config
    keys: ClassVar[tuple[str, ...]] = ("dataset", "width", "groups", "norms")
    kind: ClassVar[Kind] = "integer"
    unit: ClassVar[str] = "parameters"

    @staticmethod
    def variant(cfg: normalization.Config) -> str | None:
        return next((n for n in cfg.norms if n != "none"), None)

    def applies(self, cfg: normalization.Config) -> str | None:
        return None if self.variant(cfg) else "no variant with a normalization layer is chosen"

    def prompt(self, cfg: normalization.Config) -> str:
        return (
            f"The first conv layer has {cfg.width} channels, followed by **{self.variant(cfg)}** "
            "normalization. **How many trainable parameters does that normalization layer hold?**"
        )

    def solve(self, cfg: normalization.Config) -> Answer:
        from cnnexp import models

        v, w, g = self.variant(cfg), cfg.width, _groups(cfg)
        module = _norm_module(_block(cfg, v))
        right = models.count_params(module)
        buffers = sum(
            b.numel() for name, b in module.named_buffers() if name.startswith("running_")
        )
        mistakes = [
            Mistake(
                "scale_only",
                module.weight.numel(),
                "It learns a shift β per channel as well as a scale γ.",
            ),
            Mistake(
                "running_stats",
                right + buffers,
                "The running mean and variance are buffers: updated by averaging during "
                "training, not by gradients, so they are not trainable.",
            ),
            Mistake(
                "per_group",
                2 * g,
                "GroupNorm takes its statistics per group, but keeps a scale and a shift per "
                "channel.",
            ),
        ]
        if v != "group":
            mistakes = mistakes[:2]
        kept = " Its running mean and variance are buffers, not trained." if buffers else ""
        return Answer(
            right,
            f"{type(module).__name__}: a learned scale γ and shift β per channel, 2 × {w} = "
            f"**{right:,}**.{kept} Counted on the layer cnnexp/models.py builds for {v}, on "
            "PyTorch's meta device.",
            known(right, mistakes),
            hint="What does the layer learn per channel after it has normalised?",
        )


# --- Baseline --------------------------------------------------------------------------------
MODEL_KEYS = (
    "dataset",
    "model",
    "width",
    "depth",
    "kernel",
    "padding",
    "pool",
    "pool_every",
    "head",
    "norm",
    "groups",
)


@dataclass(frozen=True)
class FirstLayer(Exercise):
    page: ClassVar[str] = baseline.NAME
    name: ClassVar[str] = "first_layer_params"
    source: ClassVar[type[Config]] = baseline.Config
    keys: ClassVar[tuple[str, ...]] = MODEL_KEYS
    kind: ClassVar[Kind] = "integer"
    unit: ClassVar[str] = "parameters"

    @staticmethod
    def _first(cfg: baseline.Config):
        """The setup, and the index and blueprint layer of its first layer with weights."""
        setup = TrainSetup(**setup_fields(cfg)).normalized()
        layers = setup.layers()
        i = next(i for i, x in enumerate(layers) if x.kind in ("conv", "local", "linear"))
        return setup, i, layers[i]

    def prompt(self, cfg: baseline.Config) -> str:
        setup, _, layer = self._first(cfg)
        c, h, w = data.info(setup.dataset).shape
        a = layer.args
        what = {
            "conv": f"a convolution with {a.get('out_channels')} filters of "
            f"{a.get('kernel_size')}×{a.get('kernel_size')} (padding {setup.padding})",
            "local": f"a locally connected layer with {a.get('out_channels')} channels and "
            f"{a.get('kernel_size')}×{a.get('kernel_size')} windows, its own weights at each "
            f"of its {layer.out_shape[1]}×{layer.out_shape[2]} positions",
            "linear": f"a dense layer of {a.get('out_features')} units over the flattened image",
        }[layer.kind]
        after = (
            "Nothing normalises its output."
            if setup.norm == "none"
            else f"A {setup.norm} normalization layer follows it."
        )
        return (
            f"This {setup.model} on {setup.dataset} ({c}×{h}×{w} images) starts with {what}. "
            f"{after} **How many trainable parameters does that first layer hold?**"
        )

    def solve(self, cfg: baseline.Config) -> Answer:
        import torch

        from cnnexp import models

        setup, i, layer = self._first(cfg)
        with torch.device("meta"):
            module = models.build(setup.layers())[i]
        right = models.count_params(module)
        weights = module.weight.numel()
        units = (
            layer.out_shape[0]
            if layer.kind != "local"
            else layer.out_shape[0] * (layer.out_shape[1] * layer.out_shape[2])
        )  # biases: one per filter or unit; per filter and position when local
        channels = data.info(setup.dataset).shape[0]
        bias_words = (
            f" + {units:,} biases"
            if module.bias is not None
            else "; no biases: the normalization after it shifts each channel itself, which "
            "makes a bias redundant"
        )
        mistakes = [
            Mistake("forgot_bias", weights, "You left out the biases: one per filter or unit.")
            if module.bias is not None
            else Mistake(
                "added_bias",
                weights + units,
                "This layer has no biases: the normalization after it adds a learned shift per "
                "channel, which makes a bias redundant (cnnexp/architecture.py leaves it out).",
            ),
            Mistake(
                "forgot_input_channels",
                weights // channels + (right - weights),
                f"The images have {channels} channels: each weight window covers all of them.",
            ),
        ]
        if layer.kind == "conv":
            h, w = layer.out_shape[1:]
            mistakes.append(
                Mistake(
                    "per_position",
                    right * h * w,
                    "That gives each of the output's positions its own filters (a locally "
                    "connected layer); a convolution shares them.",
                )
            )
        shape = " × ".join(map(str, module.weight.shape))
        return Answer(
            right,
            f"{type(module).__name__} weights {shape} = {weights:,}{bias_words}: **{right:,}**. "
            "Counted on the model cnnexp/models.py builds for these settings, on PyTorch's "
            "meta device; the page's Model tab lists every layer.",
            known(right, mistakes),
            hint="Weights per filter (or unit) times filters, then the biases, if any.",
        )


# --- Predictions: commit a number, then see the saved result ---------------------------------
@dataclass(frozen=True)
class Prediction(Exercise):
    """A trained result to predict before it is shown: a number in `unit`, compared with the
    saved result's 95% interval. Its parameters are every setting of the page (the plan)."""

    kind: ClassVar[Kind] = "prediction"
    tries: ClassVar[int | None] = 1  # a prediction is committed once
    scale: ClassVar[float] = 100.0  # headline fraction → the unit
    share: ClassVar[bool] = False  # an accuracy: its interval stops at 0 and 100%

    @property
    def keys(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(s.name for s in describe(self.source))

    def measured(self, cfg: Any, headline: dict | None) -> dict | None:
        """The saved result as stats.mean_ci gives it (fractions), or None."""
        raise NotImplementedError

    def answer(self, params: Mapping[str, Any], headline: dict | None = None) -> Answer:
        cfg = self.settings(params)
        m = self.measured(cfg, headline) if headline else None
        if m is None or m["mean"] is None:
            return Answer(None, "Nothing is saved for these settings yet.")
        lo, hi = (
            (stats.share_interval(m) if self.share else m["ci95"]) if m["ci95"] else (None, None)
        )
        unit = "%" if self.share else " points"
        said = stats.describe_ci(m, unit=unit)
        return Answer(
            m["mean"] * self.scale,
            f"Measured: {said}.",
            # inside the interval counts; with one seed (no interval), within 1%
            atol=0.0 if lo is None else max(hi - m["mean"], m["mean"] - lo) * self.scale,
        )

    def check(
        self, params: Mapping[str, Any], raw: str | Iterable[str], headline: dict | None = None
    ) -> Verdict:
        answer = self.answer(params, headline)
        if answer.value is None:
            return Verdict("invalid", "Nothing is saved for these settings yet to compare with.")
        try:
            given = parse_number(raw, integer=False)
        except FormatError as e:
            return Verdict("invalid", str(e))
        gap = given - answer.value
        unit = "%" if self.share else " points"
        inside = _close(given, answer.value, answer, False)
        where = (
            "inside the measured interval"
            if inside
            else f"{abs(gap):.1f}{unit} {'above' if gap > 0 else 'below'} the measured mean"
        )
        return Verdict(
            "correct" if inside else "incorrect",
            f"Your prediction, {given:g}{unit}, is {where}. {answer.derivation}",
            given=f"{given:g}",
        )


@dataclass(frozen=True)
class PredictGap(Prediction):
    page: ClassVar[str] = permuted.NAME
    name: ClassVar[str] = "predict_gap"
    source: ClassVar[type[Config]] = permuted.Config
    unit: ClassVar[str] = "points"

    @staticmethod
    def cnn(cfg: permuted.Config) -> str | None:
        return next((m for m in cfg.models if m in permuted.CNNS), None)

    def applies(self, cfg: permuted.Config) -> str | None:
        if "mlp" in cfg.models and self.cnn(cfg):
            return None
        return "the gap needs mlp and a CNN among the models"

    def prompt(self, cfg: permuted.Config) -> str:
        n = permuted.images(cfg.dataset, cfg.n_train)
        return (
            f"**Predict before you look.** Every {cfg.dataset} image's pixels go through one "
            f"fixed permutation, and each model is trained from scratch on {n:,} such images. "
            f"By how many points more than the MLP's will **{self.cnn(cfg)}**'s test accuracy "
            "drop? (The gap: CNN drop − MLP drop, in percentage points.)"
        )

    def measured(self, cfg: permuted.Config, headline: dict | None) -> dict | None:
        return headline.get("gap") if headline else None


@dataclass(frozen=True)
class PredictShifted(Prediction):
    page: ClassVar[str] = equivariance.NAME
    name: ClassVar[str] = "predict_shifted"
    source: ClassVar[type[Config]] = equivariance.Config
    unit: ClassVar[str] = "%"
    share: ClassVar[bool] = True

    @staticmethod
    def model(cfg: equivariance.Config) -> str | None:
        return next((m for m in ("cnn_flatten", "cnn_gap", "mlp") if m in cfg.models), None)

    def applies(self, cfg: equivariance.Config) -> str | None:
        return None if self.model(cfg) else "no model to predict"

    def prompt(self, cfg: equivariance.Config) -> str:
        return (
            f"**Predict before you look.** **{self.model(cfg)}** is trained on centred "
            f"{cfg.dataset} images, without shift augmentation. What test accuracy (%) will it "
            f"reach when the test images move by **{cfg.max_shift} pixels** (the blank band "
            "entering from the edge)?"
        )

    def measured(self, cfg: equivariance.Config, headline: dict | None) -> dict | None:
        rows = (headline or {}).get("shift_accuracy", {}).get(self.model(cfg)) or []
        return rows[-1]["test_acc"] if rows else None


# --- the registry ----------------------------------------------------------------------------
EXERCISES: tuple[Exercise, ...] = (
    LayerWeights("fc"),
    LayerWeights("local"),
    LayerWeights("conv"),
    GrowsWithImage(),
    TheoreticalField(),
    EffectiveField(),
    StrideShifts(),
    GlobalPooling(),
    PredictShifted(),
    PredictGap(),
    BatchIndependent(),
    NormParams(),
    FirstLayer(),
)
REGISTRY: dict[str, Exercise] = {e.id: e for e in EXERCISES}


def get(exercise_id: str) -> Exercise:
    try:
        return REGISTRY[exercise_id]
    except KeyError:
        raise ConfigError(
            f"unknown exercise '{exercise_id}'; known: {', '.join(REGISTRY)}"
        ) from None


def for_page(page: str) -> list[Exercise]:
    return [e for e in EXERCISES if e.page == page]


def pages() -> list[str]:
    return list(dict.fromkeys(e.page for e in EXERCISES))


def tries(exercise: Exercise, settings: policy.ExerciseSettings) -> int:
    return exercise.tries or settings.tries


def headline(exercise: Exercise, cfg: Config, store) -> dict | None:
    """The saved headline a prediction is compared with: the experiment's summary of what is
    saved of its plan, or None when nothing is."""
    from cnnexp import experiments
    from cnnexp.results import Results

    exp = experiments.get(exercise.page)
    results = Results(exp.plan(cfg), store)
    return None if results.runs.empty else exp.summarize(cfg, results)


# --- python -m cnnexp exercise list | check ---------------------------------------------------
def add_parser(sub: argparse._SubParsersAction) -> None:
    """The `exercise` command on the CLI's subcommands (cnnexp/cli.py)."""
    ex = sub.add_parser(
        "exercise",
        help="the Check yourself exercises: list them with their answers, or check an answer",
        description="The command line is the machine's owner, so it is shown the answers "
        "(as an admin is).",
    )
    cmds = ex.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = cmds.add_parser(
        "list", help="every exercise: its id, parameters at its page's defaults, its answer"
    )
    ls.add_argument(
        "--page",
        metavar="NAME",
        default=None,
        help=f"only this page's exercises (one of {', '.join(pages())})",
    )
    ck = cmds.add_parser("check", help="check one answer to one exercise")
    ck.add_argument("id", metavar="ID", help="the exercise (see `exercise list`)")
    ck.add_argument(
        "--params",
        metavar="JSON",
        default="{}",
        help="the question's parameters, a JSON object (missing ones: the page's defaults)",
    )
    ck.add_argument(
        "--answer",
        metavar="VALUE",
        required=True,
        help="a number, or option keys separated by commas",
    )
    for p in (ls, ck):
        p.add_argument(
            "--results",
            metavar="DIR",
            default=None,
            help="results folder whose saved runs predictions are compared with "
            "(default: $CNNEXP_RESULTS or ./results)",
        )
        p.add_argument("--json", action="store_true", help="print one JSON value on stdout")


def _store(args):
    from cnnexp.store import Store

    return Store(args.results)


def _headline_for(e: Exercise, params: Mapping[str, Any], args) -> dict | None:
    if not isinstance(e, Prediction):
        return None
    return headline(e, e.settings(params), _store(args))


def _answer_json(a: Answer) -> Any:
    return sorted(a.value) if isinstance(a.value, frozenset) else a.value


def command(args: argparse.Namespace) -> int:
    if args.action == "list":
        return _list(args)
    return _check(args)


def _list(args) -> int:
    if args.page is not None and args.page not in pages():
        raise ConfigError(f"unknown page '{args.page}'; allowed: {', '.join(pages())}")
    rows = []
    for e in EXERCISES if args.page is None else for_page(args.page):
        q = e.generate(e.source())
        if q is None:
            continue
        a = e.answer(q.params, _headline_for(e, q.params, args))
        rows.append(
            {
                "id": e.id,
                "page": e.page,
                "kind": e.kind,
                "params": q.params,
                "prompt": q.prompt,
                "options": {o.key: o.label for o in q.options},
                "answer": _answer_json(a),
                "derivation": a.derivation,
            }
        )
    if args.json:
        print(json.dumps(rows))
        return 0
    for r in rows:
        answer = ",".join(r["answer"]) if isinstance(r["answer"], list) else r["answer"]
        shown = (
            "(nothing saved)"
            if answer is None
            else f"{answer:,}"
            if isinstance(answer, int)
            else answer
        )
        print(f"{r['id']:<32} {r['kind']:<10} answer {shown}")
    return 0


def _check(args) -> int:
    e = get(args.id)
    try:
        params = json.loads(args.params)
    except json.JSONDecodeError as err:
        raise ConfigError(f"--params is not JSON ({err.msg}); allowed: a JSON object") from None
    e.settings(params)  # bad parameters: one line naming what is allowed, exit 2
    v = e.check(params, args.answer, _headline_for(e, params, args))
    if args.json:
        print(json.dumps({"verdict": v.verdict, "feedback": v.feedback}))
    else:
        print(f"{v.verdict}: {v.feedback}")
    return 0
