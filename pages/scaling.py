"""Parameter scaling: one layer counted three ways, then the families trained."""

from typing import cast

import pandas as pd
import streamlit as st

from cnnexp.experiments import scaling as exp
from ui import access, downloads, page
from ui.exercises import check_yourself

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

cfg = cast("exp.Config", page.start(exp, EXPLANATION, exclude=("mode",)))

st.subheader("One layer: parameters and compute")
a = exp.analytic(cfg)
names = {"fc": "fully connected", "local": "locally connected", "conv": "convolution"}
st.dataframe(
    pd.DataFrame(
        [
            {
                "layer": names[f],
                "parameters": a[f]["params"],
                "FLOPs per image": a[f]["flops"],
                "parameters vs convolution": f"{a[f]['params'] / a['conv']['params']:,.0f}×",
            }
            for f in names
        ]
    ),
    hide_index=True,
    column_config={
        "parameters": st.column_config.NumberColumn(format="localized"),
        "FLOPs per image": st.column_config.NumberColumn(format="localized"),
    },
    placeholder="—",
)
st.markdown(exp.explain_analytic(cfg))
analytic_charts = st.container()  # filled below, once the charts are drawn

st.subheader("Trained: accuracy against parameters and data")
eff = exp.efficiency_widths(cfg)
budget = exp.budget_text(cfg, access.plan(exp, cfg).max_epochs)
st.caption(
    f"{cfg.dataset}, depth {cfg.depth}, {budget}, 3×3 kernels, "
    "max pooling, BatchNorm. Sample efficiency compares widths "
    + ", ".join(f"{f} {w} ({exp.params_of(cfg, f, w):,} parameters)" for f, w in eff.items())
    + "."
)
results, headline = page.saved_results(exp, cfg)
charts = page.charts(exp, cfg, results)
left, right = analytic_charts.columns(2)
downloads.chart(charts["parameters"], "scaling-parameters", left)
downloads.chart(charts["flops"], "scaling-flops", right)
if headline is not None:
    left, right = st.columns(2)
    downloads.chart(charts["accuracy_vs_parameters"], "scaling-accuracy-vs-parameters", left)
    if "sample_efficiency" in charts:
        downloads.chart(charts["sample_efficiency"], "scaling-sample-efficiency", right)
    st.markdown(exp.explain_trained(cast("exp.Headline", headline)))
downloads.data_downloads(page.tables(exp, cfg, results), "scaling")

with st.expander("Formulas checked against PyTorch modules", icon=":material/fact_check:"):
    try:
        # Meta-device modules cost the same at every size the config allows; the cache is
        # bounded so that links with ever new settings cannot grow it.
        modules = st.cache_data(
            exp.module_counts,
            show_spinner="Building the layers on the meta device…",
            max_entries=64,
        )(cfg)
    except ImportError:
        st.caption("PyTorch is not installed on this server, so the formulas are shown unchecked.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "layer": names[f],
                        "parameters (formula)": a[f]["params"],
                        "parameters (module)": modules[f]["params"],
                        "FLOPs (formula)": a[f]["flops"],
                        "FLOPs (FlopCounterMode)": modules[f]["flops"],
                        "agree": a[f] == modules[f],
                    }
                    for f in names
                ]
            ),
            hide_index=True,
            placeholder="—",
        )
        st.caption(
            "nn.Linear, LocallyConnected2d and nn.Conv2d built on PyTorch's meta device (shapes "
            "only, no memory), counted with parameters() and torch.utils.flop_counter."
        )
check_yourself(exp.NAME, cfg)
