"""cnnexp dashboard: `streamlit run app.py`.

The entry point only declares the navigation; each page is a thin file in pages/ over the
cnnexp library.
"""

import streamlit as st

from ui import access, resources

st.set_page_config(
    page_title="cnnexp · inductive biases of CNNs", page_icon=":material/grid_on:", layout="wide"
)

pages = {
    "": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Experiments": [
        st.Page(
            "pages/scaling.py", title="Parameter scaling", icon=":material/stacked_line_chart:"
        ),
        st.Page("pages/equivariance.py", title="Equivariance", icon=":material/open_with:"),
        st.Page("pages/permuted.py", title="Permuted pixels", icon=":material/shuffle:"),
        st.Page("pages/normalization.py", title="Normalization", icon=":material/equalizer:"),
        st.Page(
            "pages/receptive_field.py", title="Receptive field", icon=":material/center_focus_weak:"
        ),
        st.Page("pages/baseline.py", title="Baseline", icon=":material/model_training:"),
    ],
    "Results": [st.Page("pages/runs.py", title="Runs", icon=":material/table_chart:")],
}

page = st.navigation(pages)
where = f"Results: `{resources.results_root()}` · " if access.can_see_paths() else ""
st.sidebar.caption(f"{where}{access.mode()} mode")
if access.can_launch():  # a viewer never starts workers or opens the queue
    resources.show_backend()
page.run()
