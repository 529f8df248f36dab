"""Queue: the runs queued and running on this server, as this visitor may see them (ui/queue_panel.py)."""

import streamlit as st

from ui import access, page
from ui.queue_panel import queue_panel

page.require_app()
access.access_panel()
st.title("Queue")
queue_panel()
