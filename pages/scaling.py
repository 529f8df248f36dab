"""Parameter scaling: one layer counted three ways, then the families trained."""

import pandas as pd
import streamlit as st

from cnnexp import data, figures
from cnnexp.experiments import scaling as exp
from ui import page
from ui.runpanel import run_panel
from ui.settings import settings_panel

page.require_app()

EXPLANATION = """
**One layer, counted.** The same input and output, wired three ways: *fully connected*
(every output unit sees every input pixel), *locally connected* (each output position sees
only a k×k window, with weights of its own) and *convolutional* (the same k×k filters at
every position). Locality removes most of the dense layer's weights; weight sharing removes
the rest. Parameters are exact counts; FLOPs are 2 × multiply–accumulates for one image.
The counts are checked against real PyTorch modules at the bottom of the page.

**Trained.** The three families (same depth, same data, the same number of optimisation
steps) at several widths: test accuracy against parameters on a log axis. Then one model of
each family at a comparable size trained on growing training sets (sample efficiency).
Points are means over seeds with 95% intervals.
"""

FAMILY_ORDER = ("mlp", "local", "cnn")

page.header(exp, EXPLANATION)
cfg = settings_panel(exp.Config, exclude=("mode",))
if cfg is None:
    st.stop()

# --- one layer -----------------------------------------------------------------------------
st.subheader("One layer: parameters and compute")
a = exp.analytic(cfg)
table = pd.DataFrame(
    [
        {
            "layer": name,
            "parameters": a[f]["params"],
            "FLOPs per image": a[f]["flops"],
            "parameters vs convolution": a[f]["params"] / a["conv"]["params"],
        }
        for f, name in (
            ("fc", "fully connected"),
            ("local", "locally connected"),
            ("conv", "convolution"),
        )
    ]
)
st.dataframe(
    table,
    hide_index=True,
    column_config={
        "parameters": st.column_config.NumberColumn(format="localized"),
        "FLOPs per image": st.column_config.NumberColumn(format="localized"),
        "parameters vs convolution": st.column_config.NumberColumn(format="%.0f×"),
    },
)
st.markdown(exp.explain_analytic(cfg))
curve = pd.DataFrame(exp.analytic_curve(cfg))
left, right = st.columns(2)
left.plotly_chart(
    figures.loglog_families(
        curve, "params", "Parameters against image side", "parameters", mark=cfg.image_size
    )
)
right.plotly_chart(
    figures.loglog_families(
        curve, "flops", "FLOPs against image side", "FLOPs per image", mark=cfg.image_size
    )
)

# --- trained -------------------------------------------------------------------------------
st.subheader("Trained: accuracy against parameters and data")
eff = exp.efficiency_widths(cfg)
st.caption(
    f"{cfg.dataset}, depth {cfg.depth}, {cfg.steps} steps of {cfg.batch_size} images per run, "
    f"3×3 kernels, max pooling, BatchNorm. Sample efficiency compares widths "
    + ", ".join(f"{f} {w} ({exp.params_of(cfg, f, w):,} parameters)" for f, w in eff.items())
    + "."
)
results = run_panel(exp.plan(cfg))
if not results.runs.empty:
    headline = exp.summarize(cfg, results)
    page.remember(exp, cfg, headline, results)
    runs = results.runs
    sweep = runs[runs["n_train"] == 0]
    left, right = st.columns(2)
    left.plotly_chart(
        figures.points_ci(
            sweep,
            "params",
            "test_acc",
            "model",
            log_x=True,
            colour_order=FAMILY_ORDER,
            title="Test accuracy against parameters",
            x_title="parameters (log)",
            y_title="test accuracy",
        )
    )
    full = data.info(cfg.dataset).n_train
    eff_runs = runs[
        [(m, w) in eff.items() for m, w in zip(runs["model"], runs["width"], strict=True)]
    ]
    eff_runs = eff_runs.assign(images=eff_runs["n_train"].where(eff_runs["n_train"] > 0, full))
    eff_runs = eff_runs[eff_runs["images"].isin(cfg.n_trains)]
    right.plotly_chart(
        figures.points_ci(
            eff_runs,
            "images",
            "test_acc",
            "model",
            log_x=True,
            colour_order=FAMILY_ORDER,
            title="Sample efficiency: test accuracy against training images",
            x_title="training images (log)",
            y_title="test accuracy",
        )
    )
    st.markdown(exp.explain_trained(headline))

# --- the formulas, checked -----------------------------------------------------------------
with st.expander("Formulas checked against PyTorch modules", icon=":material/fact_check:"):
    modules = st.cache_data(
        exp.module_counts, show_spinner="Building the layers on the meta device…"
    )(cfg)
    check = pd.DataFrame(
        [
            {
                "layer": f,
                "parameters (formula)": a[f]["params"],
                "parameters (module)": modules[f]["params"],
                "FLOPs (formula)": a[f]["flops"],
                "FLOPs (FlopCounterMode)": modules[f]["flops"],
                "agree": a[f] == modules[f],
            }
            for f in ("fc", "local", "conv")
        ]
    )
    st.dataframe(check, hide_index=True)
    st.caption(
        "nn.Linear, LocallyConnected2d and nn.Conv2d built on PyTorch's meta device (shapes "
        "only, no memory), counted with parameters() and torch.utils.flop_counter."
    )
