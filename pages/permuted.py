"""Permuted pixels: break the locality prior and measure what each model loses."""

from typing import cast

import streamlit as st

from cnnexp import data, stats
from cnnexp.experiments import permuted as exp
from ui import access, downloads, page, tiles
from ui.exercises import check_yourself, results_hidden

EXPLANATION = """
Every image's pixels are scrambled by **one fixed permutation**, the same for every image in
training and test, and each model is trained from scratch on the scrambled images.

- A fully connected network (**mlp**) has no notion of which pixels are neighbours: the
  permutation just relabels its inputs, and a permuted copy of its first weight matrix
  computes exactly the same function. It should barely notice.
- A convolutional network assumes neighbouring pixels belong together. After the scramble
  that assumption is false: a 3×3 kernel sees nine unrelated pixels. Its head matters:
  **cnn_flatten** ends in a dense layer over the last feature map, which can re-learn any
  pixel order; **cnn_gap** averages over positions, and cannot.

The **drop** of each model is its accuracy on intact minus scrambled pixels, paired by seed;
the **gap** is the CNN's drop minus the MLP's. The gap measures how much the locality prior
was contributing. Dots are means over seeds with 95% intervals; small dots are the seeds.

The **training-set-size sweep** repeats both conditions on fewer images (class-balanced per
seed; small sets get more epochs, up to a minimum step budget, so that few images do not also
mean an undertrained model): the main chart shows the gap against the number of images.

**Datasets**: mnist5k is raw 28×28 digits; shapes are generated glyphs at random positions;
digits are 8×8 and already averaged down; mnist, fashion_mnist and cifar10 are the full
torchvision sets, read from the data folder (`--data-dir` or `CNNEXP_DATA`). The explanation
above the charts says, from the numbers on screen, which of them show the textbook's large gap.

The strength sweep shuffles pixels only within b×b tiles: b = 1 leaves the image intact,
larger tiles take locality away step by step.
"""


def samples(cfg: exp.Config, charts: dict) -> None:
    """The test images as each model sees them (no saved run needed), or why not."""
    if "samples" in charts:
        downloads.chart(charts["samples"], "permuted-samples")
        st.caption(
            "The same test images as each model sees them. One permutation moves every "
            "image's pixels alike; the labels stay put."
        )
        return
    try:
        data.check_available(cfg.dataset)
    except data.DataError as e:  # a full dataset whose files are not on this server
        st.warning(f"{e} Saved results, if any, are shown below.", icon=":material/folder_off:")


def results_view(
    cfg: exp.Config, results, headline: exp.Headline, charts: dict, budget: str
) -> None:
    """Each model's drop and the gap, what they show, and the charts of the saved runs."""
    cols = st.columns(len(cfg.models) + ("gap" in headline))
    for col, m in zip(cols, cfg.models, strict=False):
        r = headline["models"][m]
        tiles.ci_metric(
            f"{m} drop",
            r["drop"],
            unit=" pts",
            help=f"Accuracy on intact minus permuted pixels, paired by seed: original "
            f"{stats.describe_ci(r['original'])}; permuted {stats.describe_ci(r['permuted'])}",
            where=col,
        )
    if "gap" in headline:
        tiles.ci_metric(
            "gap (CNN − mlp)",
            headline["gap"],
            unit=" pts",
            help="The CNN's drop minus the MLP's, paired by seed",
            where=cols[-1],
        )
    st.markdown(exp.explain(cfg, headline))
    if "gap_by_size" in charts:
        downloads.chart(charts["gap_by_size"], "permuted-gap-by-size")
    st.caption(budget)
    if "accuracy" in charts:
        left, right = st.columns(2)
        downloads.chart(charts["accuracy"], "permuted-accuracy", left)
        downloads.chart(charts["test_accuracy_per_epoch"], "permuted-curves", right)
    else:
        st.info(
            f"The main comparison, at {exp.images(cfg.dataset, cfg.n_train):,} training images, "
            "has no saved runs yet: launch to train it.",
            icon=":material/info:",
        )
    if "strength" in charts:
        downloads.chart(charts["strength"], "permuted-strength")
    downloads.data_downloads(page.tables(exp, cfg, results), "permuted")


cfg = cast("exp.Config", page.start(exp, EXPLANATION))
results, saved = page.saved_results(exp, cfg)
charts = page.charts(exp, cfg, results)
samples(cfg, charts)
# With predict-first on, the drops and the gap wait until the visitor has predicted the gap.
# The step budget as this server trains it (fitted to its epochs cap, which it says).
budget = exp.budget_text(cfg, access.plan(exp, cfg).max_epochs)
if saved is not None and not results_hidden(exp.NAME, cfg):
    results_view(cfg, results, cast("exp.Headline", saved), charts, budget)
elif saved is None:
    st.caption(budget)  # what Launch would train, before anything is saved
check_yourself(exp.NAME, cfg)  # shown with or without saved runs
