"""The exercises' part of cnnexp/policy.py: the instructor's settings, and who reads whose
answers."""

import pytest

from cnnexp import policy
from cnnexp.policy import ExerciseSettings


def settings(**given):
    return ExerciseSettings.from_settings(given.get)


def test_defaults_are_on_without_predict_first_and_three_tries():
    assert settings() == ExerciseSettings(mode="on", predict_first=False, tries=3)
    assert settings(exercises="", predict_first="", exercise_tries="") == settings()


def test_the_instructors_settings():
    s = settings(exercises=" Graded ", predict_first="true", exercise_tries="5")
    assert (s.mode, s.predict_first, s.tries) == ("graded", True, 5)
    assert settings(exercises="off").mode == "off"
    assert settings(predict_first="off").predict_first is False


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (
            {"exercises": "gradded"},
            "CNNEXP_EXERCISES must be one of off, on, graded; got 'gradded'",
        ),
        ({"predict_first": "maybe"}, "CNNEXP_PREDICT_FIRST must be true or false"),
        ({"exercise_tries": "0"}, "CNNEXP_EXERCISE_TRIES must be a whole number from 1 to 20"),
        ({"exercise_tries": "three"}, "CNNEXP_EXERCISE_TRIES"),
    ],
)
def test_a_bad_value_fails_loudly(given, said):
    with pytest.raises(ValueError, match=said):
        settings(**given)


@pytest.mark.parametrize("role", policy.ROLES)
def test_everyone_reads_their_own_answers(role):
    assert policy.may_read_attempts(role, "email:a@school.edu", "email:a@school.edu")


@pytest.mark.parametrize("role", ["viewer", "launcher"])
def test_nobody_but_an_admin_reads_anothers_answers_or_the_class(role):
    me = "client:10.0.0.7"
    assert not policy.may_read_attempts(role, me, "client:10.0.0.8")
    assert not policy.may_read_attempts(role, me, None)  # everyone's: the class
    assert not policy.may_read_attempts(role, "", "")  # no identity is nobody's
    assert not policy.may_see_class_summary(role)


def test_an_admin_reads_everything():
    assert policy.may_read_attempts("admin", "email:t@school.edu", "client:10.0.0.8")
    assert policy.may_read_attempts("admin", "email:t@school.edu", None)
    assert policy.may_see_class_summary("admin")


def test_recorded_answers_per_person_are_bounded():
    assert policy.attempt_problem(policy.MAX_ATTEMPTS_PER_PERSON - 1) is None
    refused = policy.attempt_problem(policy.MAX_ATTEMPTS_PER_PERSON)
    assert refused and "at most 5,000 answers per person" in refused
