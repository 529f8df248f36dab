"""cnnexp/policy.py's queue, pin and run-name rules without Streamlit: who sees whose queued
runs, who pins Home's headlines, who names runs; forged identities get nothing."""

import pytest

from cnnexp import policy

ME, OTHER = "token:10.0.0.7", "email:other@school.edu"


@pytest.mark.parametrize(
    "role, run_owner, expected",
    [
        ("viewer", ME, "count"),  # a viewer sees how many, never which or whose
        ("viewer", OTHER, "count"),
        ("launcher", ME, "named"),  # their own run, as theirs
        ("launcher", OTHER, "anonymous"),  # someone else's: what and when, not who
        ("launcher", "cli", "anonymous"),
        ("launcher", "", "anonymous"),
        ("admin", OTHER, "named"),
        ("admin", "", "named"),
        ("nobody", ME, "count"),  # an unknown role fails closed
    ],
)
def test_who_sees_whose_queued_runs(role, run_owner, expected):
    assert policy.queue_visibility(role, ME, run_owner) == expected
    assert expected in policy.QUEUE_VIEWS


@pytest.mark.parametrize("forged_me", ["", None])
def test_a_forged_empty_identity_owns_no_unowned_run(forged_me):
    """A request whose identity is empty (a session with none, a crafted message) must not
    match runs with no owner recorded (the CLI's, an old queue's): not named, not cancelled,
    not renamed."""
    for owner in ("", None):
        assert policy.queue_visibility("launcher", forged_me, owner) == "anonymous"
        assert not policy.may_cancel("launcher", forged_me, owner)
        assert not policy.may_annotate("launcher", forged_me, owner)


@pytest.mark.parametrize(
    "role, pin, own, others",
    [
        ("viewer", False, False, False),
        ("launcher", False, True, False),
        ("admin", True, True, True),
    ],
)
def test_only_an_admin_pins_and_owners_name_their_own_runs(role, pin, own, others):
    assert policy.may_pin(role) is pin
    assert policy.may_annotate(role, ME, ME) is own
    assert policy.may_annotate(role, ME, OTHER) is others
