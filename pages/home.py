"""Home: what each experiment shows, a link to it, and its showcase headline (an admin's pin,
else the bundle's: cnnexp/showcase.py); apart from them, what finished most recently here."""

import streamlit as st

from cnnexp import bundle, catalog, showcase  # not cnnexp.experiments: their configs cost the
from ui import links, page, resources  # first paint

page.require_app()

st.title("cnnexp")
st.markdown(
    "Convolutional networks are said to suit images because they assume **locality** (a "
    "pixel's meaning depends on its neighbours) and **weight sharing** (the same pattern means "
    "the same thing anywhere). This dashboard does not ask you to take that on trust: each "
    "page trains small models on real data, on this machine, and measures what those "
    "assumptions buy — with several seeds and 95% intervals, and saying so when the numbers "
    "disagree with the textbook."
)

store = resources.store()
shown = showcase.showcase(store.pins(), showcase.bundled(bundle.default_dir()))
counts = store.counts()  # a folder listing: Home reads no table (first paint)
SOURCE = {
    showcase.PINNED: "pinned by this server's admin",
    showcase.BUNDLED: "from the runs shipped with cnnexp",
}


def headline_line(e: catalog.Entry, h: dict, when: str) -> None:
    """A saved headline in one line and a caption; one in an older shape says so instead."""
    if not e.current(h):  # saved by an older cnnexp, in another shape
        st.caption(
            f"{when} · saved by an older version of cnnexp: open the page to see its numbers again"
        )
        return
    st.markdown(f":material/insights: {e.headline_text(h['headline'])}")
    st.caption(when)


def open_link(e: catalog.Entry, h: dict | None, label: str) -> None:
    # With a headline, the link opens the settings it was measured with (a page's defaults
    # may differ: the shipped runs have three seeds, the page one).
    st.page_link(
        e.page,
        label=label,
        icon=":material/arrow_forward:",
        query_params={**links.query_for(h["config"]), **e.runs_tab_query()} if h else None,
    )


cols = st.columns(2)
for i, e in enumerate(catalog.ENTRIES.values()):
    with cols[i % 2].container(border=True):
        st.subheader(e.title)
        st.write(e.summary)
        h = shown.get(e.name)
        n = counts.get(e.name, 0)
        if h is not None:
            headline_line(e, h, f":material/keep: {SOURCE[h['source']]} · {n} saved run(s) here")
        else:
            st.caption(f"Nothing pinned yet · {n} saved run(s) here")
        open_link(e, h, f"Open {e.title}" + (" with these settings" if h is not None else ""))

latest = showcase.recent(store.headlines(), shown)
if latest:
    st.subheader("Recently finished here", anchor=False)
    st.caption(
        "The latest plan each experiment finished on this server, by anyone: a test run "
        "as much as a study. Not checked by anyone, and not what the cards above show."
    )
    for h in latest:
        entry = catalog.ENTRIES.get(h.get("experiment", ""))
        if entry is None:  # a headline of an experiment this version does not know
            continue
        with st.container(border=True):
            st.markdown(f"**{entry.title}**")
            finished = showcase.when(h)[:16].replace("T", " ")
            headline_line(entry, h, f":material/history: recent · finished {finished} UTC")
            open_link(entry, h, f"Open {entry.title} with these settings")

st.page_link("pages/runs.py", label="Compare saved runs", icon=":material/table_chart:")
