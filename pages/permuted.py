"""Permuted pixels: break the locality prior and measure what each model loses."""

import numpy as np
import streamlit as st

from cnnexp import data, figures, stats
from cnnexp.experiments import permuted as exp
from cnnexp.permutation import permute_pixels
from ui import page
from ui.runpanel import run_panel
from ui.settings import settings_panel

page.require_app()

EXPLANATION = """
Every image's pixels are scrambled by **one fixed permutation**, the same for every image in
training and test, and each model is trained from scratch on the scrambled images.

- A fully connected network (**mlp**) has no notion of which pixels are neighbours: the
  permutation just relabels its inputs, and a permuted copy of its first weight matrix
  computes exactly the same function. It should barely notice.
- A convolutional network (**cnn**) assumes neighbouring pixels belong together. After the
  scramble that assumption is false: a 3×3 kernel sees nine unrelated pixels.

The **drop** of each model is its accuracy on intact minus scrambled pixels, paired by seed;
the **gap** is the CNN's drop minus the MLP's. The gap measures how much the locality prior
was contributing. Bars are means over seeds with 95% intervals; dots are the seeds.

The strength sweep shuffles pixels only within b×b tiles: b = 1 leaves the image intact,
larger tiles take locality away step by step.
"""

page.header(exp, EXPLANATION)
cfg = settings_panel(exp.Config)
if cfg is None:
    st.stop()


@st.cache_data(show_spinner=False)
def samples(dataset: str, tiles: tuple[int, ...], perm_seed: int) -> tuple[np.ndarray, list[str]]:
    ds = data.load(dataset)
    picks = [int(np.flatnonzero(ds.y_test == c)[0]) for c in range(min(6, len(ds.classes)))]
    x = ds.x_test[picks]
    rows, titles = [], []
    for b in tiles:
        rows.append(permute_pixels(x, exp.permutation(dataset, b, perm_seed)))
        titles += [exp.condition(dataset, b)] + [""] * (len(picks) - 1)
    return np.concatenate(rows), titles


tiles = tuple(exp.blocks(cfg))
imgs, titles = samples(cfg.dataset, tiles, cfg.perm_seed)
st.plotly_chart(figures.image_grid(imgs, titles, cols=len(imgs) // len(tiles)), key="samples")
st.caption(
    "The same test images as each model sees them. One permutation moves every image's "
    "pixels alike; the labels stay put."
)

results = run_panel(exp.plan(cfg))
if results.runs.empty:
    st.stop()
headline = exp.summarize(cfg, results)
page.remember(exp, cfg, headline, results)

cols = st.columns(len(cfg.models) + ("gap" in headline))
for col, m in zip(cols, cfg.models, strict=False):
    d = headline[m]["drop"]
    if d["mean"] is not None:
        col.metric(
            f"{m} drop",
            f"{d['mean'] * 100:.1f} pts",
            help=f"original {stats.describe_ci(headline[m]['original'])}; "
            f"permuted {stats.describe_ci(headline[m]['permuted'])}",
        )
if "gap" in headline and headline["gap"]["mean"] is not None:
    g = headline["gap"]
    cols[-1].metric(
        "gap (cnn − mlp)", f"{g['mean'] * 100:.1f} pts", help=stats.describe_ci(g, unit=" pts")
    )
st.markdown(exp.explain(cfg, headline))

runs = results.runs.assign(condition=[exp.condition(cfg.dataset, b) for b in results.runs["block"]])
order = [exp.condition(cfg.dataset, b) for b in tiles]
left, right = st.columns(2)
main = runs[runs["block"].isin([exp.INTACT, exp.canonical_block(cfg.dataset, cfg.block)])]
left.plotly_chart(
    figures.dots_ci(
        main,
        "model",
        "test_acc",
        "condition",
        colour_order=order[:2],
        x_order=list(cfg.models),
        title="Test accuracy, intact vs scrambled",
        x_title="model",
        y_title="test accuracy",
    )
)
metrics = results.metrics().assign(
    condition=lambda d: d["model"] + " · " + [exp.condition(cfg.dataset, b) for b in d["block"]]
)
right.plotly_chart(
    figures.curves(
        metrics[metrics["block"].isin(main["block"].unique())],
        "acc",
        colour="condition",
        splits=("test",),
        title="Test accuracy per epoch",
    )
)
if cfg.strength_blocks:
    sweep = runs.assign(tile=[b or max(data.info(cfg.dataset).shape[1:]) for b in runs["block"]])
    st.plotly_chart(
        figures.points_ci(
            sweep,
            "tile",
            "test_acc",
            "model",
            log_x=True,
            colour_order=list(cfg.models),
            title="Accuracy as locality is taken away",
            x_title="tile side b (pixels shuffled within b×b; log)",
            y_title="test accuracy",
        )
    )
