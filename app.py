"""cnnexp dashboard: `streamlit run app.py`.

The entry point only declares the navigation; each page is a thin file in pages/ over the
cnnexp library.
"""

import streamlit as st

from cnnexp import catalog, policy
from ui import access, resources, server_tuning

server_tuning.keep_script_out_of_workers()  # before a launch spawns a worker: see there
server_tuning.tune_once()  # before the first message: see ui/server_tuning.py
# The tab's icon: an emoji, which the browser draws itself. Without one, the page's Material
# icon is fetched from fonts.gstatic.com (an offline laptop cannot reach it, and a visitor's
# browser should not be sent there); an image would import numpy and PIL before Home's first
# paint (bench.ui: Home 0.08 s later than with the emoji).
ICON = "🔬"
st.set_page_config(page_title="cnnexp · inductive biases of CNNs", page_icon=ICON, layout="wide")

pages = {
    "": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
    "Experiments": [st.Page(e.page, title=e.nav, icon=e.icon) for e in catalog.ENTRIES.values()],
    "Results": [
        st.Page("pages/runs.py", title="Runs", icon=":material/table_chart:"),
        st.Page("pages/queue.py", title="Queue", icon=":material/pending_actions:"),
        st.Page("pages/inside.py", title="Inside a model", icon=":material/neurology:"),
    ],
}

st.set_option("client.showErrorDetails", policy.error_details(access.mode()))
page = st.navigation(pages)
try:  # a cap or an exercise setting not allowed: no page runs with it, the host is told which
    access.check_settings()
except ValueError as e:
    st.error(f"**This server is misconfigured; no page is shown.** {e}", icon=":material/error:")
    st.stop()
where = f"Results: `{resources.results_root()}` · " if access.can_see_paths() else ""
st.sidebar.caption(f"{where}{access.mode()} mode")
if access.can_launch():  # a viewer never starts workers or opens the queue
    resources.show_backend()
try:
    page.run()
finally:  # also when the page stops or reruns
    server_tuning.freeze_new_imports()
