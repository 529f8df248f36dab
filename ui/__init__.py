"""Streamlit helpers shared by app.py and pages/: resources, settings widgets, run panel.

The library (cnnexp/) never imports streamlit; everything that does lives here or in pages/.
"""
