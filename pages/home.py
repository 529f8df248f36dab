"""Home: what each experiment shows, a link to it, and its latest saved headline."""

import streamlit as st

from cnnexp import experiments
from ui import page, resources

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

PAGES = {name: f"pages/{name}.py" for name in experiments.names()}
headlines = resources.store().headlines()
counts = resources.store().counts()  # a folder listing: Home reads no table (first paint)

cols = st.columns(2)
for i, (name, mod) in enumerate(experiments.REGISTRY.items()):
    with cols[i % 2].container(border=True):
        st.subheader(mod.TITLE)
        st.write(mod.SUMMARY)
        h = headlines.get(name)
        n = counts.get(name, 0)
        if h is not None:
            st.markdown(f":material/insights: {mod.headline_text(h['headline'])}")
            st.caption(
                f"latest headline saved {h['saved_at'][:16].replace('T', ' ')} UTC · "
                f"{n} saved run(s)"
            )
        else:
            st.caption(f"No headline saved yet · {n} saved run(s)")
        st.page_link(PAGES[name], label=f"Open {mod.TITLE}", icon=":material/arrow_forward:")

st.page_link("pages/runs.py", label="Compare saved runs", icon=":material/table_chart:")
