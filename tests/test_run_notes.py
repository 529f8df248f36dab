"""cnnexp/run_notes.py: a run's name, note and tags are bounded people's text, refused with
a message naming what is wrong and what is allowed."""

import pytest

from cnnexp.config import ConfigError
from cnnexp.run_notes import MAX_NAME, MAX_NOTE, MAX_TAGS, RunNotes, parse, tags_of


def test_tags_are_split_trimmed_and_kept_once_in_order():
    n = parse("  wide nets ", "line one\nline two", " week 3, Week 3,,baseline ", owner="me")
    assert n == RunNotes("wide nets", "line one\nline two", ("week 3", "baseline"), "me")
    assert n.row() == {
        "name": "wide nets",
        "note": "line one\nline two",
        "tags": "week 3, baseline",
    }
    assert tags_of(n.row()["tags"]) == ["week 3", "baseline"]
    assert tags_of(None) == [] and tags_of(float("nan")) == []
    assert parse(tags=["a", "b"]).tags == ("a", "b")
    assert not parse().said and parse().row() == {"name": None, "note": None, "tags": None}


@pytest.mark.parametrize(
    "kw, words",
    [
        (
            {"name": "x" * (MAX_NAME + 1)},
            f"The name has 81 characters; allowed: at most {MAX_NAME}",
        ),
        ({"name": "two\nlines"}, "allowed: one line of text"),
        ({"name": "evil\u202eoverride"}, "allowed: one line of text"),
        ({"note": "y" * (MAX_NOTE + 1)}, "The note has 1,001 characters; allowed: at most 1,000"),
        ({"note": "bell\x07"}, "The note holds a control character"),
        (
            {"tags": ",".join(f"t{i}" for i in range(MAX_TAGS + 1))},
            "9 tags given; allowed: at most 8",
        ),
        ({"tags": "z" * 40}, "has 40 characters; allowed: at most 32"),
    ],
)
def test_too_long_or_unprintable_text_is_refused_with_what_is_allowed(kw, words):
    with pytest.raises(ConfigError, match=None) as e:
        parse(**kw)
    assert words in str(e.value), str(e.value)


def test_markup_is_kept_as_the_text_it_is():
    """A name is data: stored as typed, shown as text (the pages never render it as markup)."""
    n = parse("**bold** <script>alert(1)</script> [x](javascript:1)")
    assert n.name == "**bold** <script>alert(1)</script> [x](javascript:1)"


def test_a_sidecar_round_trips_and_anything_else_reads_as_nothing():
    n = parse("a", "b", "c, d", owner="email:t@school.edu")
    assert RunNotes.from_json(n.to_json()) == n
    assert RunNotes.from_json(["not", "a", "dict"]) == RunNotes()
    assert RunNotes.from_json({"name": 3, "owner": 4}) == RunNotes()
