"""cnnexp/attempts.py: graded attempts per person in the results folder, across processes and
restarts; reading them only as cnnexp/policy.py allows, however the call is made."""

import subprocess
import sys

import pytest

from cnnexp import attempts as attempts_mod
from cnnexp import policy
from cnnexp.attempts import Attempts, Refused, to_csv
from tests.conftest import ROOT

ANA, BEN = "email:ana@school.edu", "client:10.0.0.8"
Q = {"image_size": 64, "in_channels": 1, "kernel": 5}


def record_many(root, person, n):
    a = Attempts(root)
    for i in range(n):
        a.record(
            person, "scaling.conv_weights", {**Q, "i": i % 3}, str(i), "incorrect", "forgot_bias"
        )


def test_attempts_are_recorded_per_person_and_question(tmp_path):
    a = Attempts(tmp_path)
    a.record(ANA, "scaling.fc_weights", Q, "16781312", "incorrect", "added_bias")
    a.record(ANA, "scaling.fc_weights", Q, "16777216", "correct")
    a.record(BEN, "scaling.fc_weights", Q, "25", "incorrect")
    a.record(ANA, "scaling.fc_weights", {**Q, "kernel": 3}, "9", "incorrect")
    mine = a.attempts("viewer", ANA, ANA, "scaling.fc_weights", Q)
    assert [(x.answer, x.verdict, x.mistake) for x in mine] == [
        ("16781312", "incorrect", "added_bias"),
        ("16777216", "correct", ""),
    ]
    assert {x.person for x in a.attempts("admin", "", None)} == {ANA, BEN}
    # The same question whatever order its parameters come in.
    assert len(a.attempts("viewer", ANA, ANA, "scaling.fc_weights", dict(reversed(Q.items())))) == 2


def test_malformed_answers_are_never_recorded(tmp_path):
    with pytest.raises(ValueError, match="only counted attempts"):
        Attempts(tmp_path).record(ANA, "scaling.fc_weights", Q, "abc", "invalid")
    assert Attempts(tmp_path).attempts("admin", "", None) == []


def test_attempts_survive_a_restart_and_a_second_process(tmp_path):
    Attempts(tmp_path).record(ANA, "scaling.fc_weights", Q, "16777216", "correct")
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from cnnexp.attempts import Attempts\n"
        f"a = Attempts({str(tmp_path)!r})\n"
        f"a.record({BEN!r}, 'scaling.fc_weights', {Q!r}, '25', 'incorrect', 'per_position')\n"
        f"print(len(a.attempts('admin', '', None)))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == "2", p.stderr  # it read this process's
    again = Attempts(tmp_path)  # as a restarted server opens it
    assert [(x.person, x.verdict) for x in again.attempts("admin", "", None)] == [
        (ANA, "correct"),
        (BEN, "incorrect"),
    ]


def test_two_processes_write_at_once(tmp_path):
    Attempts(tmp_path)
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from tests.test_exercises_attempts import record_many\n"
        f"record_many({str(tmp_path)!r}, sys.argv[1], 60)\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, who], cwd=ROOT, stderr=subprocess.PIPE)
        for who in (ANA, BEN)
    ]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read()
    rows = Attempts(tmp_path).attempts("admin", "", None)
    assert len(rows) == 120 and {r.person for r in rows} == {ANA, BEN}


def test_the_class_summary(tmp_path):
    a = Attempts(tmp_path)
    for person, answer, verdict, mistake in [
        (ANA, "16781312", "incorrect", "added_bias"),
        (ANA, "16777216", "correct", ""),
        (BEN, "16781312", "incorrect", "added_bias"),
        (BEN, "4096", "incorrect", ""),
    ]:
        a.record(person, "scaling.fc_weights", Q, answer, verdict, mistake)
    [row, empty] = a.summary(
        "admin", "email:t@school.edu", ["scaling.fc_weights", "scaling.conv_weights"]
    )
    assert row == {
        "exercise": "scaling.fc_weights",
        "attempts": 4,
        "people": 2,
        "share_correct": 0.25,
        "people_correct": 0.5,
        "common_mistakes": "added_bias ×2",
        "common_wrong_answers": "16781312 ×2; 4096 ×1",
    }
    assert empty["attempts"] == 0 and empty["share_correct"] is None
    assert to_csv([row]).splitlines()[0].startswith("exercise,attempts,people,share_correct")


@pytest.mark.parametrize("role", ["viewer", "launcher"])
def test_a_forged_request_for_others_answers_is_refused(tmp_path, role):
    """The store asks the policy itself: a viewer's session calling the summary or another
    person's attempts directly, past every hidden button, gets nothing."""
    a = Attempts(tmp_path)
    a.record(ANA, "scaling.fc_weights", Q, "16777216", "correct")
    with pytest.raises(Refused, match="Only an admin"):
        a.summary(role, BEN)
    with pytest.raises(Refused, match="Only an admin"):
        a.attempts(role, BEN)  # everyone's
    with pytest.raises(Refused, match="only your own"):
        a.attempts(role, BEN, ANA)
    assert a.attempts(role, BEN, BEN) == []  # their own: none


def test_one_person_cannot_grow_the_table_without_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(policy, "MAX_ATTEMPTS_PER_PERSON", 3)
    a = Attempts(tmp_path)
    said = [a.record(ANA, "scaling.fc_weights", Q, str(i), "incorrect") for i in range(5)]
    assert said[:3] == [None] * 3 and "at most 3 answers per person" in said[3]
    assert a.record(BEN, "scaling.fc_weights", Q, "1", "incorrect") is None
    assert len(a.attempts("admin", "", None)) == 4


def test_answers_are_stored_bounded(tmp_path):
    a = Attempts(tmp_path)
    a.record(ANA, "scaling.fc_weights", Q, "9" * 500, "incorrect")
    [row] = a.attempts("admin", "", None)
    assert len(row.answer) == attempts_mod.MAX_ANSWER_CHARS
