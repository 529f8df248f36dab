"""Normalization variants: the same CNN with none, batch, layer, group or instance norm."""

from typing import cast

import streamlit as st

from cnnexp import bundle
from cnnexp.experiments import normalization as exp
from cnnexp.results import Results
from ui import downloads, links, page, resources, tiles
from ui.exercises import check_yourself

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

Everything else is identical. Curves and dots are means over seeds with 95% intervals. The
batch-size sweep scales the learning rate linearly with the batch (lr × B / base batch) and
keeps the epochs fixed. The published shape to compare with (Wu & He 2018, ResNet-50 on
ImageNet): BatchNorm's error grows from 23.6% at 32 images per GPU to 34.7% at 2, GroupNorm's
stays near 24%.

**Why does it help?** Two explanations compete (the tab *Why it helps*). The original one:
normalization reduces *internal covariate shift*, the drift of each layer's input
distribution as the layers before it learn, measured here as how much each block's output
spread moves from one epoch to the next. Santurkar et al. (NeurIPS 2018) argued instead that
BatchNorm makes the *loss landscape smoother*: at a few checkpoints during training, step
along the current gradient by ½, 1, 2 and 4 times the learning rate on the same batch and
record how much the loss varies (loss-landscape variation) and how much the gradient changes
per unit of distance moved (effective β-smoothness: the smaller, the better the gradient
predicts the loss nearby, and the larger the steps that are safe). Every run records both
measures, at any settings and in every sweep (about 6% of a default run: 8 checkpoints of 5
passes on one batch): the sweep tabs show them across batch sizes, learning rates and depth.
"""

# Neither explanation's measure can be negative; a t-interval over few seeds can reach below 0.
AT_ZERO = "Means over seeds with 95% intervals, stopped at 0: neither measure can be negative."


def results_view(cfg: exp.Config, results: Results, headline: exp.Headline) -> None:
    """The verdict, then a tab per comparison of the saved runs."""
    st.markdown(exp.verdict(cfg, headline))  # one sentence; each tab says what its charts show
    charts = page.charts(exp, cfg, results)
    tab_main, tab_why, *sweep_tabs, tab_inside = page.tabs(
        ["Main comparison", "Why it helps", *(s.tab for s in exp.SWEEPS), "Inside the network"],
        "normalization",
    )
    with tab_main:
        if tab_main.open:
            left, right = st.columns(2)
            downloads.chart(charts["final_accuracy"], "normalization-final-accuracy", left)
            downloads.chart(charts["train_loss"], "normalization-train-loss", right)
            downloads.chart(charts["test_accuracy"], "normalization-test-accuracy")
    with tab_why:
        if tab_why.open:
            why_tab(headline, charts)
    for sweep, tab in zip(exp.SWEEPS, sweep_tabs, strict=True):
        with tab:
            if tab.open:
                sweep_tab(cfg, headline, charts, sweep)
    with tab_inside:
        if tab_inside.open:
            inside_tab(cfg, headline, charts)
    downloads.data_downloads(page.tables(exp, cfg, results), "normalization")


def why_tab(headline: exp.Headline, charts: dict) -> None:
    st.markdown(exp.explain_why(headline, "landscape"))
    if "landscape_beta" in charts:
        left, right = st.columns(2)
        downloads.chart(charts["landscape_beta"], "normalization-landscape-beta", left)
        downloads.chart(charts["landscape_loss_range"], "normalization-landscape-loss", right)
        st.caption(
            f"Measured at {exp.LANDSCAPE_POINTS} evenly spaced steps of training (the first is "
            "before any update), on the batch about to be trained on, in train mode; "
            f"steps of {', '.join(f'{m:g}' for m in exp.LANDSCAPE_STEPS)} × the peak learning "
            f"rate along the raw gradient. {AT_ZERO} Every run records both measures, "
            "whatever the settings: the sweep tabs show them across batch sizes, learning "
            "rates and the deeper stack."
        )
    st.markdown(exp.explain_why(headline, "drift"))
    if "drift" in charts:
        downloads.chart(charts["drift"], "normalization-drift")
    if "landscape_beta" not in charts and "drift" not in charts:
        st.info("No finished runs of the main comparison yet.", icon=":material/hourglass:")
    st.markdown(exp.explain_why(headline, "both"))


def sweep_tab(cfg: exp.Config, headline: exp.Headline, charts: dict, sweep: exp.Sweep) -> None:
    """A sweep's charts and what they show, or how to set the sweep up when it has not run,
    and a link to the runs of this sweep that ship with cnnexp (the page's defaults leave the
    sweeps off)."""
    if sweep.chart not in charts:
        st.info(sweep.hint, icon=":material/tune:")
        shipped_link(cfg, sweep)
        return
    st.markdown(exp.explain_sweep(cfg, headline, sweep))
    for name in sweep.charts:
        downloads.chart(charts[name], f"normalization-{name.replace('_', '-')}")
    why_across(headline, charts, sweep)


def shipped_link(cfg: exp.Config, sweep: exp.Sweep) -> None:
    """A link to this sweep's runs that ship with cnnexp, when they are saved here and the
    link would open exactly them."""
    target = bundle.shipped_plan(exp.NAME, cfg, sweep.setting)
    if target is None or not Results(exp.plan(target), resources.store()).complete:
        return
    shipped = bundle.shipped_with(exp.NAME, sweep.setting) or {}
    value = shipped[sweep.setting]
    many = isinstance(value, list)
    said = ", ".join(links.fmt(v) for v in value) if many else value
    st.page_link(
        "pages/normalization.py",
        label=f"Open the runs shipped with cnnexp: {sweep.noun}{'s' if many else ''} {said}",
        icon=":material/arrow_forward:",
        query_params={**links.query_for(shipped), "tabs-normalization": sweep.tab},
    )


def why_across(headline: exp.Headline, charts: dict, sweep: exp.Sweep) -> None:
    """Both explanations' measures across this sweep, when its runs recorded them."""
    names = [f"{sweep.key}_beta", f"{sweep.key}_drift"]
    if not any(n in charts for n in names):
        return
    st.markdown("**Why it helps, across this sweep**")
    st.markdown(exp.explain_why_across(headline, sweep))
    for col, name in zip(st.columns(2), names, strict=True):
        if name in charts:
            downloads.chart(charts[name], f"normalization-{name.replace('_', '-')}", col)
    st.caption(
        "Effective β-smoothness is each run's mean over its checkpoints; drift as on the "
        f"*Why it helps* tab. {AT_ZERO}"
    )


def inside_tab(cfg: exp.Config, headline: exp.Headline, charts: dict) -> None:
    if "activation_std" in charts:
        downloads.chart(charts["activation_std"], "normalization-activation-std")
        downloads.chart(charts["activation_mean"], "normalization-activation-mean")
        st.caption(
            f"Measured on {exp.ACTIVATION_IMAGES} test images in eval mode, before training "
            "(epoch 0) and after every epoch; block outputs are taken after their ReLU."
        )
    modes = headline.get("batchnorm_modes")
    if modes and modes["train"]["mean"] is not None and modes["eval"]["mean"] is not None:
        c1, c2 = st.columns(2)
        tiles.ci_metric("BatchNorm, running statistics (eval mode)", modes["eval"], where=c1)
        tiles.ci_metric(
            f"BatchNorm, statistics of each test batch of {cfg.batch_size} (train mode)",
            modes["train"],
            where=c2,
        )


cfg = cast("exp.Config", page.start(exp, EXPLANATION))
results, saved = page.saved_results(exp, cfg)
if saved is None:
    page.nothing_saved(results)
else:
    results_view(cfg, results, cast("exp.Headline", saved))
check_yourself(exp.NAME, cfg)  # its questions need no saved run
