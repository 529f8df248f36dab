"""Home: what each experiment shows, a link to it, and its latest saved headline."""

import streamlit as st

from cnnexp import catalog  # not cnnexp.experiments: their configs cost the first paint
from ui import links, page, resources

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

headlines = resources.store().headlines()
counts = resources.store().counts()  # a folder listing: Home reads no table (first paint)

cols = st.columns(2)
for i, e in enumerate(catalog.ENTRIES.values()):
    with cols[i % 2].container(border=True):
        st.subheader(e.title)
        st.write(e.summary)
        h = headlines.get(e.name)
        n = counts.get(e.name, 0)
        if h is not None and not e.current(h):  # saved by an older cnnexp, in another shape
            st.caption(
                "The latest headline was saved by an older version of cnnexp: open the page "
                f"to see its numbers again · {n} saved run(s)"
            )
        elif h is not None:
            st.markdown(f":material/insights: {e.headline_text(h['headline'])}")
            st.caption(
                f"latest headline saved {h['saved_at'][:16].replace('T', ' ')} UTC · "
                f"{n} saved run(s)"
            )
        else:
            st.caption(f"No headline saved yet · {n} saved run(s)")
        # With a headline, the link opens the settings it was measured with (a page's
        # defaults may differ: the shipped runs have three seeds, the page one).
        st.page_link(
            e.page,
            label=f"Open {e.title}" + (" with these settings" if h is not None else ""),
            icon=":material/arrow_forward:",
            query_params=(
                {**links.query_for(h["config"]), **e.runs_tab_query()} if h is not None else None
            ),
        )

st.page_link("pages/runs.py", label="Compare saved runs", icon=":material/table_chart:")
