"""cnnexp: measure the inductive biases of convolutional networks.

The library behind the dashboard (app.py, pages/) and the CLI (python -m cnnexp). It never
imports streamlit, and the modules a page needs to show saved results never import torch.
"""

__version__ = "0.1.0"
