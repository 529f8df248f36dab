"""Baseline: one model on one dataset. The template every experiment page follows:
settings from the config, the run panel, then the saved results and what they show."""

from typing import cast

import pandas as pd
import streamlit as st

from cnnexp import stats
from cnnexp.config import TrainSetup, setup_fields
from cnnexp.experiments import baseline as exp
from ui import downloads, page, tiles
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


def results_view(cfg: exp.Config, results, headline: exp.Headline) -> None:
    """The saved runs of these settings: what they reached, their curves, seeds and model."""
    acc = headline["test_acc"]
    c1, c2, c3 = st.columns(3)
    tiles.ci_metric(
        "Test accuracy",
        acc,
        help="Mean over seeds of the final test accuracy; under it the 95% t-interval over "
        "seeds, clipped to 0–100%",
        where=c1,
    )
    c2.metric("Parameters", f"{headline['params']:,}")
    c3.metric(
        "Training time",
        f"{headline['train_seconds']['mean']:.1f} s",
        help=f"Mean over {acc['n']} seed(s), on {results.runs['device'].iloc[0]}",
    )
    st.markdown(
        f"**{headline['model']}** on **{headline['dataset']}** reaches "
        f"{stats.describe_ci(acc)} test accuracy."
    )

    charts = page.charts(exp, cfg, results)
    tab_acc, tab_loss, tab_seeds, tab_model = page.tabs(
        ["Accuracy", "Loss", "Per seed", "Model"], "baseline"
    )
    with tab_acc:
        if tab_acc.open:
            downloads.chart(charts["accuracy"], "baseline-accuracy")
    with tab_loss:
        if tab_loss.open:
            downloads.chart(charts["loss"], "baseline-loss")
    with tab_seeds:
        if tab_seeds.open:
            per_seed_table(results)
    with tab_model:
        if tab_model.open:
            model_table(cfg)
    downloads.data_downloads(page.tables(exp, cfg, results), "baseline")


def per_seed_table(results) -> None:
    cols = ["seed", "status", "test_acc", "train_acc", "train_seconds", "device", "ended_at"]
    per_seed = results.runs[[*cols, "run_id"]].assign(
        test_acc=lambda d: d["test_acc"] * 100, train_acc=lambda d: d["train_acc"] * 100
    )
    pct = st.column_config.NumberColumn(format="%.1f%%")
    st.dataframe(
        per_seed,
        hide_index=True,
        placeholder="—",
        column_config={
            "test_acc": pct,
            "train_acc": pct,
            "train_seconds": st.column_config.NumberColumn(format="%.1f s"),
        },
    )


def model_table(cfg: exp.Config) -> None:
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
        placeholder="—",
    )
    st.caption(
        "FLOPs count 2 × multiply–accumulates of convolutions and matrix products for one "
        "image; the same counts torch's FlopCounterMode reports for the built model."
    )


cfg = cast("exp.Config", page.start(exp, EXPLANATION))
results, saved = page.saved_results(exp, cfg)
if saved is None:
    page.nothing_saved(results)
else:
    results_view(cfg, results, cast("exp.Headline", saved))
check_yourself(exp.NAME, cfg)  # its questions need no saved run
