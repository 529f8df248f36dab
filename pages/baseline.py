"""Baseline: one model on one dataset. The template every experiment page follows:
settings from the config, the run panel, then the saved results and what they show."""

from typing import cast

import pandas as pd
import streamlit as st

from cnnexp import stats
from cnnexp.config import TrainSetup, setup_fields
from cnnexp.experiments import baseline as exp
from ui import export, page
from ui.exercises import check_yourself

EXPLANATION = """
Trains one model on one dataset with the settings on the left and reports its test
accuracy. Each seed changes the initial weights, the order in which training images are
seen and, when fewer training images are used, which ones.

**Reading the charts.** Solid lines are the held-out test images, dotted lines the training
images. Where more than one seed ran, the line is the mean over seeds and the shaded band
its 95% confidence interval (a t-interval over seeds); with one seed there is no band,
because one run says nothing about the spread. A test curve that flattens while the
training curve keeps climbing is overfitting.
"""

cfg = cast("exp.Config", page.start(exp, EXPLANATION))

results, saved = page.saved_or_stop(exp, cfg)
headline = cast("exp.Headline", saved)
acc = headline["test_acc"]
c1, c2, c3, c4 = st.columns(4)
c1.metric("Test accuracy", f"{acc['mean']:.1%}", help="Mean over seeds of the final test accuracy")
interval = stats.share_interval(acc)  # an accuracy's interval stops at 0 and 100%
c2.metric(
    "95% interval",
    "—" if interval is None else f"{interval[0]:.1%} – {interval[1]:.1%}",
    help="t-interval over seeds, clipped to 0–100%",
)
c3.metric("Parameters", f"{headline['params']:,}")
c4.metric(
    "Training time",
    f"{headline['train_seconds']['mean']:.1f} s",
    help=f"Mean over {acc['n']} seed(s), on {results.runs['device'].iloc[0]}",
)
st.markdown(
    f"**{headline['model']}** on **{headline['dataset']}** reaches {stats.describe_ci(acc)} test accuracy."
)

charts = page.charts(exp, cfg, results)
tab_acc, tab_loss, tab_seeds, tab_model = page.tabs(
    ["Accuracy", "Loss", "Per seed", "Model"], "baseline"
)
with tab_acc:
    if tab_acc.open:
        export.chart(charts["accuracy"], "baseline-accuracy")
with tab_loss:
    if tab_loss.open:
        export.chart(charts["loss"], "baseline-loss")
with tab_seeds:
    if tab_seeds.open:
        cols = [
            "seed",
            "status",
            "test_acc",
            "train_acc",
            "train_seconds",
            "device",
            "ended_at",
            "run_id",
        ]
        per_seed = results.runs[cols].assign(
            test_acc=lambda d: d["test_acc"] * 100, train_acc=lambda d: d["train_acc"] * 100
        )
        pct = st.column_config.NumberColumn(format="%.1f%%")
        st.dataframe(
            per_seed,
            hide_index=True,
            column_config={
                "test_acc": pct,
                "train_acc": pct,
                "train_seconds": st.column_config.NumberColumn(format="%.1f s"),
            },
        )
with tab_model:
    if tab_model.open:
        layers = TrainSetup(**setup_fields(cfg)).layers()
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "layer": i,
                        "kind": layer.kind,
                        "output": " × ".join(map(str, layer.out_shape)),
                        "parameters": layer.params,
                        "FLOPs": layer.flops,
                    }
                    for i, layer in enumerate(layers)
                ]
            ),
            hide_index=True,
        )
        st.caption(
            "FLOPs count 2 × multiply–accumulates of convolutions and matrix products for one "
            "image; the same counts torch's FlopCounterMode reports for the built model."
        )
export.data_downloads(page.tables(exp, cfg, results), "baseline")
check_yourself(exp.NAME, cfg)
