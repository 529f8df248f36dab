"""Check yourself: exercises generated from a page's settings and answered by the library.

One module per experiment page holds its exercise kinds (frozen dataclasses, cnnexp/exercises/
core.py's `Exercise`), registered below, in the shape of auto-graded courseware (PrairieLearn's
generate, parse and grade; learnr's messages for known mistakes):

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
attempts, and cnnexp/exercises/command.py is `python -m cnnexp exercise list|check`. A new
experiment page gets a module here, registered below (tests/test_exercises.py fails until it
has one).
"""

from __future__ import annotations

from cnnexp import experiments, policy
from cnnexp.config import Config, ConfigError
from cnnexp.exercises import (
    baseline,
    equivariance,
    learned,
    normalization,
    permuted,
    receptive_field,
    scaling,
)
from cnnexp.exercises.core import (
    MAX_CHARS,
    Answer,
    Exercise,
    FormatError,
    Mistake,
    Option,
    Prediction,
    Question,
    Verdict,
    grade,
    parse_choices,
    parse_number,
)
from cnnexp.results import Results

__all__ = [
    "MAX_CHARS",
    "Answer",
    "Exercise",
    "FormatError",
    "Mistake",
    "Option",
    "Prediction",
    "Question",
    "Verdict",
    "grade",
    "parse_choices",
    "parse_number",
]


# --- the registry ----------------------------------------------------------------------------
EXERCISES: tuple[Exercise, ...] = (
    scaling.LayerWeights("fc"),
    scaling.LayerWeights("local"),
    scaling.LayerWeights("conv"),
    scaling.GrowsWithImage(),
    receptive_field.TheoreticalField(),
    receptive_field.EffectiveField(),
    equivariance.StrideShifts(),
    equivariance.GlobalPooling(),
    equivariance.PredictShifted(),
    permuted.PredictGap(),
    normalization.BatchIndependent(),
    normalization.NormParams(),
    learned.EvenShare(),
    learned.PredictLocality(),
    baseline.FirstLayer(),
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
    exp = experiments.get(exercise.page)
    results = Results(exp.plan(cfg), store)
    return None if results.runs.empty else exp.summarize(cfg, results)
