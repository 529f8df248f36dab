"""Normalization variants: the same CNN with none, batch, layer, group or instance norm."""

import streamlit as st

from cnnexp import figures, stats
from cnnexp.experiments import normalization as exp
from ui import page
from ui.runpanel import run_panel
from ui.settings import settings_panel

page.require_app()

EXPLANATION = """
As a signal passes through layer after layer its scale drifts, and learning slows or stalls.
Normalization layers re-centre and re-scale activations; they differ in **which numbers they
average over**:

| variant | statistics taken over | depends on the batch? |
|---|---|---|
| batch | every image in the batch, per channel (running averages at test time) | yes |
| layer | all channels and pixels of one image | no |
| group | groups of channels and their pixels, of one image | no |
| instance | each channel's pixels, of one image | no |
| none | — | — |

Everything else is identical. Curves and bars are means over seeds with 95% intervals. The
batch-size sweep scales the learning rate linearly with the batch (lr × B / base batch) and
keeps the epochs fixed. The published shape to compare with (Wu & He 2018, ResNet-50 on
ImageNet): BatchNorm's error grows from 23.6% at 32 images per GPU to 34.7% at 2, GroupNorm's
stays near 24%.
"""

page.header(exp, EXPLANATION)
cfg = settings_panel(exp.Config)
if cfg is None:
    st.stop()

results = run_panel(exp.plan(cfg))
if results.runs.empty:
    st.stop()
headline = exp.summarize(cfg, results)
page.remember(exp, cfg, headline, results)
st.markdown(exp.explain(cfg, headline))

runs, metrics = results.runs, results.metrics()
main = {"depth": cfg.depth, "batch_size": cfg.batch_size, "lr": cfg.lr}


def where(df, **kv):
    for k, v in kv.items():
        df = df[df[k] == v]
    return df


order = list(cfg.norms)
tab_main, tab_batch, tab_lr, tab_deep, tab_inside = st.tabs(
    ["Main comparison", "Batch size", "Learning rate", "Deeper stack", "Inside the network"]
)
with tab_main:
    left, right = st.columns(2)
    left.plotly_chart(
        figures.dots_ci(
            where(runs, **main),
            "norm",
            "test_acc",
            "norm",
            x_order=order,
            colour_order=order,
            title="Final test accuracy",
            x_title="normalization",
            y_title="test accuracy",
        )
    )
    m = where(metrics, **main)
    right.plotly_chart(
        figures.curves(
            m,
            "loss",
            colour="norm",
            splits=("train",),
            colour_order=order,
            title="Training loss per epoch",
        )
    )
    st.plotly_chart(
        figures.curves(
            m,
            "acc",
            colour="norm",
            splits=("test",),
            colour_order=order,
            title="Test accuracy per epoch",
        )
    )
with tab_batch:
    if cfg.batch_sizes:
        sweep = where(runs, depth=cfg.depth)
        sweep = sweep[sweep["batch_size"].isin(cfg.batch_sizes)]
        st.plotly_chart(
            figures.points_ci(
                sweep,
                "batch_size",
                "test_acc",
                "norm",
                log_x=True,
                colour_order=order,
                title="Final test accuracy against batch size",
                x_title="images per batch (log); lr scaled with the batch",
                y_title="test accuracy",
            )
        )
    else:
        st.info(
            "Choose batch sizes under **Sweeps** to run this comparison (small batches take "
            "longer: more steps per epoch).",
            icon=":material/tune:",
        )
with tab_lr:
    if cfg.lrs:
        sweep = where(runs, depth=cfg.depth, batch_size=cfg.batch_size)
        sweep = sweep[sweep["lr"].isin(cfg.lrs)]
        st.plotly_chart(
            figures.points_ci(
                sweep,
                "lr",
                "test_acc",
                "norm",
                log_x=True,
                colour_order=order,
                title="Final test accuracy against learning rate",
                x_title="peak learning rate (log)",
                y_title="test accuracy",
            )
        )
    else:
        st.info(
            "Choose learning rates under **Sweeps** to see how wide a range trains.",
            icon=":material/tune:",
        )
with tab_deep:
    if cfg.deep_depth:
        deep = where(runs, depth=cfg.deep_depth)
        st.plotly_chart(
            figures.dots_ci(
                deep,
                "norm",
                "test_acc",
                "norm",
                x_order=order,
                colour_order=order,
                title=f"Final test accuracy at depth {cfg.deep_depth}",
                x_title="normalization",
                y_title="test accuracy",
            )
        )
        st.plotly_chart(
            figures.curves(
                where(metrics, depth=cfg.deep_depth),
                "loss",
                colour="norm",
                splits=("train",),
                colour_order=order,
                title=f"Training loss at depth {cfg.deep_depth}",
            )
        )
    else:
        st.info(
            "Set **Deeper stack** under Sweeps (e.g. 8) to repeat the comparison deeper, where "
            "training without normalization should struggle most.",
            icon=":material/tune:",
        )
with tab_inside:
    acts = where(results.table("activations"), **main)
    if not acts.empty:
        st.plotly_chart(
            figures.facet_lines(
                acts[acts["stat"] == "std"],
                "norm",
                "epoch",
                "layer",
                facet_order=order,
                log_y=True,
                title="Spread (std) of each block's output over training",
                x_title="epoch",
                y_title="std (log)",
            )
        )
        st.plotly_chart(
            figures.facet_lines(
                acts[acts["stat"] == "mean"],
                "norm",
                "epoch",
                "layer",
                facet_order=order,
                title="Mean of each block's output over training",
                x_title="epoch",
                y_title="mean",
            )
        )
        st.caption(
            f"Measured on {exp.PROBE_IMAGES} test images in eval mode, before training (epoch 0) "
            "and after every epoch; block outputs are taken after their ReLU."
        )
    modes = headline.get("batchnorm_modes")
    if modes and modes["train"]["mean"] is not None:
        c1, c2 = st.columns(2)
        c1.metric(
            "BatchNorm, running statistics (eval mode)",
            f"{modes['eval']['mean']:.1%}",
            help=stats.describe_ci(modes["eval"]),
        )
        c2.metric(
            f"BatchNorm, statistics of each test batch of {cfg.batch_size} (train mode)",
            f"{modes['train']['mean']:.1%}",
            help=stats.describe_ci(modes["train"]),
        )
