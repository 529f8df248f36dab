"""Names, notes and tags for runs in the pages: the fields under Launch, the launch that writes
them beside the runs it queues, and the editor in the Runs page's run detail.

The text is people's (cnnexp/run_notes.py bounds it); it is shown in text widgets and tables,
never as markup, also when it comes from a link (`?run-name=…&run-tags=…` fills the fields, so a
teacher's link can name and tag a class's launches). Who may change a saved run's notes later
is cnnexp.policy.may_annotate's decision, asked again on the server when Save is clicked.
"""

from __future__ import annotations

import streamlit as st

from cnnexp import policy
from cnnexp.config import ConfigError
from cnnexp.run_notes import MAX_NAME, MAX_NOTE, MAX_TAGS, RunNotes, parse
from cnnexp.runspec import RunSpec
from ui import access, resources


def launch_fields(key: str = "run") -> RunNotes | None:
    """The optional name, tags and note of the runs Launch queues; None (and a message
    saying what is allowed) while what is typed is not allowed."""
    name_key, tags_key = f"{key}-name", f"{key}-tags"
    linked = bool(st.query_params.get(name_key) or st.query_params.get(tags_key))
    with st.expander("Name, tags and a note for these runs (optional)", expanded=linked):
        c1, c2 = st.columns(2)
        name = c1.text_input(
            "Name",
            key=name_key,
            max_chars=MAX_NAME,
            bind="query-params",  # in the link: a shared link names the runs it launches
            placeholder="e.g. wide CNN, week 3",
            help="Shown on the Runs page and in exports; never part of the run's identity or "
            "results.",
        )
        tags = c2.text_input(
            "Tags",
            key=tags_key,
            bind="query-params",
            placeholder="comma-separated, e.g. week3, homework",
            help=f"Up to {MAX_TAGS} tags: the Runs page filters and groups by them.",
        )
        note = st.text_area("Note", key=f"{key}-note", max_chars=MAX_NOTE, height=68)
        try:
            return parse(name, note, tags, owner=access.owner())
        except ConfigError as e:
            st.error(str(e), icon=":material/block:")
            return None


def launch(specs: list[RunSpec], notes: RunNotes | None, again: bool = False) -> list[str]:
    """access.launch, then the notes written beside each run it queued (they take effect
    before the run is saved); raise access.Refused where the notes are not allowed."""
    if notes is None:
        raise access.Refused(
            "The name, tags or note are not allowed: the message under them says why."
        )
    queued = access.launch(specs, again=again)
    store = resources.store()
    by_id = {s.run_id: s for s in specs}
    for run_id in queued:  # not the runs someone else had queued already: theirs to name
        spec = by_id[run_id]
        old = store.notes(spec.experiment, run_id)
        if notes.said or old is None:  # a launch without words keeps the words a run had
            store.write_notes(spec.experiment, run_id, notes)
    return queued


def editor(experiment: str, run_id: str) -> None:
    """A saved run's name, tags and note, editable by an admin or the run's owner."""
    notes = resources.store().notes(experiment, run_id) or RunNotes()
    if not policy.may_annotate(access.role(), access.owner(), notes.owner or None):
        return
    with st.expander("Edit this run's name, tags and note", icon=":material/edit:"):
        with st.form(f"notes-{run_id}", border=False):
            key = f"notes-{run_id}"
            name = st.text_input("Name", notes.name, max_chars=MAX_NAME, key=f"{key}-name")
            tags = st.text_input("Tags", ", ".join(notes.tags), key=f"{key}-tags")
            note = st.text_area("Note", notes.note, max_chars=MAX_NOTE, key=f"{key}-note")
            saved = st.form_submit_button("Save", icon=":material/save:", key=f"{key}-save")
        if saved:
            try:
                save(run_id, name, note, tags)
            except (access.Refused, ConfigError) as e:
                st.error(str(e), icon=":material/block:")
                return
            st.rerun()


def save(run_id: str, name: str, note: str, tags: str) -> None:
    """Write a saved run's notes, or raise access.Refused (not this visitor's to change,
    decided here whatever the page showed) or ConfigError (not allowed text)."""
    store = resources.store()
    record = store.records([run_id]).get(run_id)  # the id is checked against saved runs
    if record is None:
        raise access.Refused("That run is not saved on this server.")
    experiment = record["experiment"]
    old = store.notes(experiment, run_id) or RunNotes()
    if not policy.may_annotate(access.role(), access.owner(), old.owner or None):
        raise access.Refused(
            "Only the person who launched this run, or an admin, may change its name, tags "
            "and note."
        )
    try:
        store.write_notes(experiment, run_id, parse(name, note, tags, owner=old.owner))
    except OSError as e:
        raise access.Refused(f"Notes cannot be written on this server ({e.strerror}).") from e
