"""Figures of what is inside a model (cnnexp/inspection.py): pure functions from its plain
results (numpy arrays, dicts) to Plotly figures, shared by the Inside page and the CLI's
`inspect --out`.

A grid of small images (filters, feature maps, mistakes) is drawn as one heatmap of tiles
with blank gaps, not as a subplot per image: 32 subplots took Plotly ~0.5 s to lay out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from cnnexp.figures import PALETTE, layout

GAP = 1  # pixels of blank between tiles
HEAT = [[0.0, "rgba(220,38,38,0)"], [1.0, "rgba(220,38,38,0.85)"]]  # clear to red: an overlay


def tile(images: np.ndarray, cols: int) -> np.ndarray:
    """(n, h, w) images as one (rows·(h+GAP), cols·(w+GAP)) array, NaN between tiles (drawn
    blank)."""
    n, h, w = images.shape
    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    out = np.full((rows * (h + GAP) - GAP, cols * (w + GAP) - GAP), np.nan, dtype=np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        out[r * (h + GAP) : r * (h + GAP) + h, c * (w + GAP) : c * (w + GAP) + w] = img
    return out


def _square(fig: go.Figure) -> go.Figure:
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", constrain="domain")
    for axis in fig.layout:
        if axis.startswith("yaxis"):
            fig.layout[axis].scaleanchor = "x" + axis.removeprefix("yaxis")
    fig.update_layout(hovermode="closest")
    return fig


def grey(image: np.ndarray) -> np.ndarray:
    """An image (C, H, W), uint8 or float, as one (H, W) plane: colour averaged."""
    return np.asarray(image, dtype=np.float32).mean(0)


# --- predictions ---------------------------------------------------------------------------
def class_accuracy(rows: list[dict], title: str = "Accuracy per class") -> go.Figure:
    """Bars of each true class's accuracy, its number of images in the hover."""
    names = [r["class"] for r in rows]
    acc = [r["accuracy"] if r["accuracy"] is not None else np.nan for r in rows]
    fig = go.Figure(
        go.Bar(
            x=names,
            y=acc,
            marker_color=PALETTE[0],
            customdata=[[r["correct"], r["images"]] for r in rows],
            hovertemplate="%{x}: %{y:.1%} (%{customdata[0]} of %{customdata[1]})<extra></extra>",
        )
    )
    fig = layout(fig, title, "true class", "accuracy", height=320)
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    fig.update_xaxes(type="category")
    return fig


def confusion(matrix: np.ndarray, classes: Sequence[str], title: str = "Confusion matrix"):
    """Counts of (true, predicted), the counts written in the cells."""
    names = list(classes)
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=names,
            y=names,
            colorscale="Blues",
            text=matrix,
            texttemplate="%{text}",
            showscale=False,
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
        )
    )
    fig = layout(fig, title, "predicted class", "true class", height=420)
    fig.update_xaxes(type="category", side="bottom")
    fig.update_yaxes(type="category", autorange="reversed", scaleanchor="x")
    fig.update_layout(hovermode="closest")
    return fig


def mistakes(images: np.ndarray, rows: list[dict], cols: int = 6, title: str = "") -> go.Figure:
    """The confident mistakes' images (n, C, H, W) in a grid, each titled
    'true → predicted (probability)' and its test index."""
    if not rows:
        return layout(go.Figure(), title or "No mistakes among the images evaluated", height=120)
    planes = np.stack([grey(x) for x in images])
    n, h, w = planes.shape
    cols = min(cols, n)
    fig = go.Figure(
        go.Heatmap(z=tile(planes, cols), colorscale="gray_r", showscale=False, hoverinfo="skip")
    )
    for i, r in enumerate(rows):
        row, col = divmod(i, cols)
        fig.add_annotation(
            x=col * (w + GAP) + (w - 1) / 2,
            y=row * (h + GAP) - 0.5,
            text=f"#{r['index']}: {r['true']} → {r['predicted']} ({r['probability']:.0%})",
            showarrow=False,
            yanchor="bottom",
            font={"size": 10},
        )
    rows_n = -(-n // cols)
    fig = layout(fig, title, height=150 * rows_n + 40)
    fig.update_layout(margin={"t": 60 if title else 30})
    return _square(fig)


# --- the first layer -----------------------------------------------------------------------
def _unit_planes(weights: np.ndarray) -> np.ndarray:
    """(n, C, h, w) weights as (n, h, w) planes, each scaled to [-1, 1] by its own largest
    |w| (structure, not size, is what the eye compares), colour channels averaged."""
    planes = weights.mean(1) if weights.ndim == 4 else weights
    top = np.abs(planes).reshape(len(planes), -1).max(1)
    return planes / np.where(top > 0, top, 1.0)[:, None, None]


def weights_side_by_side(
    init: np.ndarray,
    trained: np.ndarray,
    titles: Sequence[str],
    cols: int = 8,
    title: str = "",
    row_labels: Sequence[str] = (),
) -> go.Figure:
    """The same first-layer weights at initialisation and trained, as two grids side by side:
    red positive, blue negative, each filter or unit scaled by its own largest weight.
    row_labels: a word left of each row of tiles (a locally connected layer's positions)."""
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1, cols=2, subplot_titles=["at initialisation", "trained"], horizontal_spacing=0.04
    )
    _, h, w = _unit_planes(trained).shape
    for i, w_ in enumerate((init, trained)):
        fig.add_trace(
            go.Heatmap(
                z=tile(_unit_planes(w_), cols),
                colorscale="RdBu_r",
                zmid=0,
                zmin=-1,
                zmax=1,
                showscale=False,
                hovertemplate="%{z:.2f}<extra></extra>",
            ),
            row=1,
            col=i + 1,
        )
    rows = -(-len(trained) // max(1, min(cols, len(trained))))
    height = int(min(700, max(220, 460 * rows * (h + GAP) / (min(cols, len(trained)) * (w + GAP)))))
    for i, text in enumerate(row_labels):
        for axis in ("", "2"):
            fig.add_annotation(
                text=text,
                xref=f"x{axis}",
                yref=f"y{axis}",
                x=-0.6,
                y=i * (h + GAP) + (h - 1) / 2,
                xanchor="right",
                showarrow=False,
                font={"size": 10, "color": "#6b7280"},
            )
    fig = layout(fig, title, height=height + 40)
    if row_labels:
        fig.update_layout(margin={"l": 70})
    return _square(fig)


# --- feature maps --------------------------------------------------------------------------
def feature_maps(maps: list, cols: int = 8, title: str = "") -> go.Figure:
    """Each layer's output (inspection.LayerMap) as a band of tiles, labelled with its row of
    the layer table, each band in its own colour range; a vector (a dense layer's output) as
    rows of cells. All bands are traces on one pair of axes, scaled to a common width: a
    subplot per layer took Plotly 0.3 s to lay out."""
    width, label, y = 100.0, 6.0, 0.0  # plot units; a layer's label takes `label` of height
    fig = go.Figure()
    for m in maps:
        z = (
            tile(m.maps, cols)
            if m.maps.shape[0] > 1 or m.maps.shape[1] > 1
            else _rows(m.maps[0, 0])
        )
        h, w = z.shape
        # A lone 28 × 28 map is not blown up to the whole width, nor 10 logits shrunk to a dot.
        dx = width / max(w, 64 if h > 1 or m.maps.shape[0] > 1 else 16)
        y += label
        fig.add_annotation(
            text=m.label, x=width / 2, y=y - label / 2, showarrow=False, font={"size": 11}
        )
        fig.add_trace(
            go.Heatmap(
                z=z,
                x0=(width - w * dx) / 2 + dx / 2,
                dx=dx,
                y0=y + dx / 2,
                dy=dx,
                colorscale="Viridis",
                showscale=False,
                hovertemplate="%{z:.3g}<extra>" + m.label + "</extra>",
            )
        )
        y += h * dx
    fig = _square(layout(fig, title, height=int(900 * y / width) + 60))
    fig.update_xaxes(range=[0, width], autorange=False)
    fig.update_yaxes(range=[y, 0], autorange=False)
    return fig


def _rows(vector: np.ndarray, width: int = 128) -> np.ndarray:
    """A long vector (a flattened map: 1,568 values) wrapped into rows of `width`, NaN after
    its end; as one strip of 1 × 1,568 cells it was a hairline."""
    if len(vector) <= width:
        return vector[None]
    rows = -(-len(vector) // width)
    out = np.full(rows * width, np.nan, dtype=np.float32)
    out[: len(vector)] = vector
    return out.reshape(rows, width)


# --- where it looks ------------------------------------------------------------------------
def where_it_looks(panels: dict[str, dict], title: str = "") -> go.Figure:
    """Per model (name -> {image, saliency, grad_cam}): the image, its saliency over it, and
    its Grad-CAM over it where the model has a conv layer; one row per model."""
    from plotly.subplots import make_subplots

    names = list(panels)
    fig = make_subplots(
        rows=len(names),
        cols=3,
        subplot_titles=[
            f"{t} · {n}" if j == 0 else t
            for n in names
            for j, t in enumerate(("image", "saliency", "Grad-CAM"))
        ],
        horizontal_spacing=0.02,
        vertical_spacing=0.08,
    )
    for r, name in enumerate(names):
        p = panels[name]
        img = grey(p["image"])
        for c, heat in enumerate((None, p["saliency"], p["grad_cam"])):
            if c == 2 and heat is None:  # an MLP or a locally connected net: nothing to weigh
                h, w = img.shape
                fig.add_trace(
                    go.Heatmap(z=np.zeros_like(img), colorscale=[[0, "#f5f7fa"], [1, "#f5f7fa"]],
                               showscale=False, hoverinfo="skip"),
                    row=r + 1,
                    col=3,
                )  # fmt: skip
                fig.add_annotation(
                    text="no conv layer:<br>no Grad-CAM",
                    xref=f"x{3 * r + 3}",
                    yref=f"y{3 * r + 3}",
                    x=(w - 1) / 2,
                    y=(h - 1) / 2,
                    showarrow=False,
                    font={"size": 12, "color": "#6b7280"},
                )
                continue
            fig.add_trace(
                go.Heatmap(z=img, colorscale="gray_r", showscale=False, hoverinfo="skip"),
                row=r + 1,
                col=c + 1,
            )
            if heat is not None:
                top = float(np.max(heat)) or 1.0
                fig.add_trace(
                    go.Heatmap(
                        z=heat,
                        colorscale=HEAT,
                        zmin=0,
                        zmax=top,
                        showscale=False,
                        hovertemplate="%{z:.3g}<extra></extra>",
                    ),
                    row=r + 1,
                    col=c + 1,
                )
    fig = layout(fig, title, height=260 * len(names) + 30)
    fig.update_annotations(font_size=11)
    return _square(fig)


# --- all of one run's figures (the CLI's --out; the page draws the same) -------------------
def first_layer(run) -> go.Figure:
    """inspection.RunView's first layer, at initialisation beside trained."""
    from cnnexp.inspection import LOCAL_CHANNELS, filter_images

    init, titles = filter_images(run.first_init)
    trained, _ = filter_images(run.first_trained)
    if run.first_trained.kind == "local":  # a row per position, its first filters along it
        per_row = min(LOCAL_CHANNELS, run.first_trained.weights.shape[1])
        rows = list(dict.fromkeys(t.split(" ")[0] for t in titles))
        return weights_side_by_side(
            init,
            trained,
            titles,
            cols=per_row,
            title=f"First layer: the first {per_row} filters (columns) at a grid of output "
            "positions (rows, as (row, column))",
            row_labels=rows,
        )
    what = {"conv": "filters", "linear": "hidden units (each drawn over the image)"}
    return weights_side_by_side(
        init, trained, titles, title=f"First layer: {what[run.first_trained.kind]}"
    )


def every(run, image, name: str) -> dict[str, go.Figure]:
    """Every figure of one run (inspection.RunView) and one image (inspection.ImageView)."""
    att = image.attribution
    return {
        "class_accuracy": class_accuracy(run.per_class),
        "confusion": confusion(run.confusion, run.predictions.classes),
        "mistakes": mistakes(run.mistake_images, run.mistakes, title="Most confident mistakes"),
        "first_layer": first_layer(run),
        "feature_maps": feature_maps(image.maps, title=f"Feature maps of test image {att.index}"),
        "where_it_looks": where_it_looks(
            {name: {"image": image.image, "saliency": att.saliency, "grad_cam": att.grad_cam}},
            title=f"Where it looks: test image {att.index}, class {att.predicted}",
        ),
    }
