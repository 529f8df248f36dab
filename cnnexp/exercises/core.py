"""What every exercise shares: questions, answers and verdicts, parsing and grading, and the
protocol an exercise kind implements (cnnexp/exercises/__init__.py describes it)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Literal

from cnnexp import policy, stats
from cnnexp.config import Config, ConfigError, describe, parse

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


def close(given: float, value: float, answer: Answer, integer: bool) -> bool:
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
    if close(given, answer.value, answer, integer):
        return Verdict("correct", f"Right: {shown}.", given=str(given))
    for m in answer.mistakes:
        if close(given, m.value, answer, integer):
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
    # Why each wrongly chosen option is wrong; the ones left out are only counted, so that the
    # next try is still a question.
    lines = [answer.why[k] for k in wrong if k in answer.why]
    if missed:
        lines.append(
            f"{many(len(missed), 'more option')} also {'holds' if len(missed) == 1 else 'hold'}."
        )
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


def many(n: int, thing: str) -> str:
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


# --- what an exercise kind is ----------------------------------------------------------------
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
        inside = close(given, answer.value, answer, False)
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
