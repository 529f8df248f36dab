"""What people call a run: its name, a note and tags, kept apart from what the run is.

A run's id and results come from its settings alone (cnnexp/runspec.py); a name given at
launch, or later, must change neither. So these live in a small sidecar file beside the run,
`runs/<experiment>/<run_id>.notes.json`, written atomically and read by cnnexp/store.py, which
adds them to the runs table as the columns `name`, `note` and `tags`. They are people's text:
bounded here, and shown everywhere as text, never as markup.

Also kept: `owner`, who launched the run (cnnexp.policy.identity), so that the owner may
change these later (cnnexp.policy.may_annotate). It is never a column of the runs table,
which every visitor can read and download.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from cnnexp.errors import ConfigError

MAX_NAME = 80  # characters: a name is a title, read in a table cell and a legend
MAX_NOTE = 1000  # characters: a few sentences on why the run was made
MAX_TAGS = 8
MAX_TAG = 32  # characters per tag
COLUMNS = ("name", "note", "tags")  # what the runs table gets (cnnexp/store.py)
TAG_SEPARATOR = ", "  # tags as one text column: CSV, parquet and the search box read it


@dataclass(frozen=True)
class RunNotes:
    name: str = ""
    note: str = ""
    tags: tuple[str, ...] = ()
    owner: str = ""  # who launched the run; never shown to other visitors

    @property
    def said(self) -> bool:
        """Whether there is anything to show (a name, a note or a tag)."""
        return bool(self.name or self.note or self.tags)

    def row(self) -> dict[str, str | None]:
        """The runs table's columns for this run (None where nothing was said)."""
        return {
            "name": self.name or None,
            "note": self.note or None,
            "tags": TAG_SEPARATOR.join(self.tags) or None,
        }

    def to_json(self) -> dict:
        return {"name": self.name, "note": self.note, "tags": list(self.tags), "owner": self.owner}

    @classmethod
    def from_json(cls, data: object) -> RunNotes:
        """A sidecar's contents, whatever is in it: a file edited by hand or by another tool
        is read within the same bounds (cut to length), never refused or trusted."""
        if not isinstance(data, dict):
            return cls()

        def text(key: str, limit: int) -> str:
            value = data.get(key)
            return (
                _printable(value, keep_lines=key == "note")[:limit]
                if isinstance(value, str)
                else ""
            )

        raw = data.get("tags")
        tags = _unique(
            _printable(t, keep_lines=False).replace(",", " ").strip()[:MAX_TAG]
            for t in (raw if isinstance(raw, list) else [])
            if isinstance(t, str)
        )[:MAX_TAGS]
        owner = data.get("owner")
        return cls(
            text("name", MAX_NAME).strip(),
            text("note", MAX_NOTE).strip(),
            tuple(tags),
            owner if isinstance(owner, str) else "",
        )


def parse(
    name: str = "", note: str = "", tags: str | Iterable[str] = "", owner: str = ""
) -> RunNotes:
    """A person's name, note and tags for a run (tags as one comma-separated text, or a list),
    or ConfigError naming what is wrong and what is allowed, before anything is written."""
    name, note = (name or "").strip(), (note or "").strip()
    if len(name) > MAX_NAME:
        raise ConfigError(f"The name has {len(name):,} characters; allowed: at most {MAX_NAME}.")
    if _printable(name, keep_lines=False) != name:
        raise ConfigError(
            "The name holds a line break or a control character; allowed: one line of text."
        )
    if len(note) > MAX_NOTE:
        raise ConfigError(f"The note has {len(note):,} characters; allowed: at most {MAX_NOTE:,}.")
    if _printable(note, keep_lines=True) != note:
        raise ConfigError(
            "The note holds a control character; allowed: text, on several lines if you like."
        )
    given = tags.split(",") if isinstance(tags, str) else list(tags)
    cleaned = _unique(t.strip() for t in given if t.strip())
    if len(cleaned) > MAX_TAGS:
        raise ConfigError(
            f"{len(cleaned)} tags given; allowed: at most {MAX_TAGS}, separated by commas."
        )
    for t in cleaned:
        if len(t) > MAX_TAG:
            raise ConfigError(
                f"The tag {t[:MAX_TAG]!r}… has {len(t)} characters; allowed: at most {MAX_TAG}."
            )
        if _printable(t, keep_lines=False) != t:
            raise ConfigError(
                "A tag holds a line break or a control character; allowed: short words, "
                "separated by commas."
            )
    return RunNotes(name, note, tuple(cleaned), owner)


def _printable(text: str, keep_lines: bool) -> str:
    """The text without control characters (Unicode category C*: line breaks, escapes,
    bidirectional overrides that make text read backwards), keeping line breaks and tabs
    where `keep_lines`."""
    kept = "\n\t" if keep_lines else ""
    return "".join(c for c in text if c in kept or not unicodedata.category(c).startswith("C"))


def _unique(items: Iterable[str]) -> list[str]:
    """In order, each once, ignoring case ("Week 3" and "week 3" are one tag)."""
    seen: set[str] = set()
    out = []
    for t in items:
        if t and t.casefold() not in seen:
            seen.add(t.casefold())
            out.append(t)
    return out


def tags_of(text: object) -> list[str]:
    """The tags in a runs table's `tags` cell (None or NaN: none)."""
    return [t for t in text.split(TAG_SEPARATOR) if t] if isinstance(text, str) else []


def all_tags(runs) -> list[str]:
    """Every tag of these runs (a runs table), sorted ignoring case."""
    if "tags" not in runs:
        return []
    found = {t for cell in runs["tags"].dropna().unique() for t in tags_of(cell)}
    return sorted(found, key=str.casefold)


def with_tags(runs, tags: Iterable[str]):
    """The runs (a runs table) that have any of `tags` (none given: all of them)."""
    wanted = set(tags)
    if not wanted:
        return runs
    if "tags" not in runs:
        return runs.iloc[:0]
    keep = runs["tags"].map(lambda cell: not wanted.isdisjoint(tags_of(cell)))
    return runs[keep.astype(bool)].reset_index(drop=True)


def named_columns(runs) -> list[str]:
    """The columns of people's words that some of these runs have (name, tags), for grouping
    rows by them; a note is a sentence, never a group."""
    return [c for c in ("name", "tags") if c in runs and runs[c].notna().any()]
