"""The shift probe: what convolution, padding, strides and pooling do with a shifted input.

A stack of conv layers is applied to an image and to its shifted copy, with random weights
or the conv layers of a saved run of the trained equivariance experiment. Convolution
commutes with shifts (equivariance) exactly with circular padding and circular shifts; zero
padding breaks it near the border only; strides and pooling break it for shifts that are not
multiples of the total stride (aliasing), which a blur before subsampling reduces; global
average pooling turns equivariance into invariance.

Instant: computed where it is shown (the Equivariance page's first tab, or
`python -m cnnexp probe shift`), never stored. The mathematics is in shift_errors.py.
"""

from __future__ import annotations

import io
from typing import Literal

import numpy as np
from pydantic import model_validator

from cnnexp import architecture, data
from cnnexp.config import Config as BaseConfig
from cnnexp.config import ConfigError, param
from cnnexp.experiments import equivariance

Image = Literal[
    "chelsea", "astronaut", "camera", "coffee", "rocket", "coins", "mnist5k", "shapes", "digits"
]
SWEEP = 8  # probe curves run over shifts 0..8 pixels


class Config(BaseConfig):
    image: Image = param(
        "chelsea",
        "Input: a photograph shipped with scikit-image, or a test image of a dataset",
        group="Input image",
    )
    image_index: int = param(
        0,
        "Which test image, when the input is a dataset",
        ge=0,
        le=999,
        group="Input image",
        advanced=True,
        label="Test image",
    )
    colour: bool = param(
        False,
        "Keep a photograph's three colour channels",
        group="Input image",
        budget="shift_probe",
    )
    image_size: int = param(
        64,
        "Side photographs are resized to",
        ge=16,
        le=256,
        options=(32, 48, 64, 96, 128),
        group="Input image",
        label="Photo side",
        budget="shift_probe",
    )
    shift: int = param(
        3,
        "Horizontal shift dx of the input (pixels, right is positive)",
        ge=-8,
        le=8,
        group="Shift",
        label="Shift dx",
        budget="shift_probe",
    )
    shift_y: int = param(
        0,
        "Vertical shift dy (pixels, down is positive)",
        ge=-8,
        le=8,
        group="Shift",
        label="Shift dy",
        budget="shift_probe",
    )
    shift_kind: Literal["circular", "zero"] = param(
        "circular",
        "circular: content leaving one edge comes back at the other; zero: the "
        "uncovered band is blank, as when a camera moves",
        group="Shift",
    )
    depth: int = param(
        2, "Conv layers in the stack", ge=1, le=4, group="Layer stack", budget="shift_probe"
    )
    kernel: int = param(
        3,
        "Kernel side (odd unless padding is 'valid')",
        ge=1,
        le=9,
        options=(1, 3, 5, 7, 9),
        group="Layer stack",
        budget="shift_probe",
    )
    padding: Literal["zeros", "circular", "reflect", "valid"] = param(
        "zeros", "How each conv pads its input ('valid' does not pad)", group="Layer stack"
    )
    stride: int = param(1, "Stride of every conv", ge=1, le=2, group="Layer stack")
    pool: Literal["none", "max", "avg", "blur"] = param(
        "none",
        "Pooling after every conv (2×2, stride 2); blur: low-pass, then subsample",
        group="Layer stack",
    )
    gap: bool = param(
        True,
        "Global pooling at the end: measure invariance",
        group="Layer stack",
        label="Global pooling",
    )
    channels: int = param(
        8,
        "Channels of every conv layer",
        ge=1,
        le=32,
        group="Layer stack",
        advanced=True,
        budget="shift_probe",
    )
    weights: Literal["random", "trained"] = param(
        "random",
        "random: seeded Kaiming weights; trained: the conv layers of a saved trained "
        "run (its architecture replaces the stack settings)",
        group="Layer stack",
        advanced=True,
    )
    trained_model: Literal["cnn_flatten", "cnn_gap", "cnn_gap_blur"] = param(
        "cnn_gap",
        "Which trained CNN lends its weights (trained without augmentation, first "
        "seed, with the trained settings below)",
        group="Layer stack",
        advanced=True,
        label="Trained model",
    )
    seed: int = param(
        0,
        "Seed of the random weights; with trained weights, the trained run's seed",
        ge=0,
        le=2**31 - 1,
        group="Layer stack",
        advanced=True,
        label="First seed",
    )

    @model_validator(mode="after")
    def _check(self) -> Config:
        side = input_side(self)
        if max(abs(self.shift), abs(self.shift_y)) >= side:
            raise ValueError(
                f"shift {max(abs(self.shift), abs(self.shift_y))} is not smaller than "
                f"the {side}-pixel input; allowed: |shift| < {side}"
            )
        if self.image not in data.PHOTOS and self.image_index >= data.info(self.image).n_test:
            n = data.info(self.image).n_test  # found: a larger index probed the last image
            raise ValueError(
                f"image_index {self.image_index}: the {self.image} test set has {n} images; "
                f"allowed: 0 to {n - 1}"
            )
        if self.weights == "random":
            _check_stack(self, side)
        return self


def input_side(cfg: Config) -> int:
    return cfg.image_size if cfg.image in data.PHOTOS else data.info(cfg.image).shape[1]


def _check_stack(cfg: Config, side: int) -> None:
    k = cfg.kernel
    if cfg.padding != "valid" and k % 2 == 0:
        raise ValueError(f"kernel {k} is even; size-preserving padding needs an odd kernel")
    pad = 0 if cfg.padding == "valid" else k // 2
    for layer in range(1, cfg.depth + 1):
        side = architecture.conv_out(side, k, cfg.stride, pad)
        if cfg.pool in ("max", "avg"):
            side //= 2
        elif cfg.pool == "blur":
            side = architecture.conv_out(side, 3, 2, 1)
        if side < 1:
            fewer = f"depth <= {layer - 1}, " if layer > 1 else "a smaller kernel, "
            raise ValueError(
                f"depth {cfg.depth} shrinks the input below 1×1 at layer {layer} "
                f"(kernel {k}, stride {cfg.stride}, pool {cfg.pool}); use {fewer}a larger "
                "photo, or less downsampling"
            )


def input_image(cfg: Config, side: int | None = None, channels: int | None = None):
    """The probe's image as a float tensor (1, C, H, W) in [0, 1]."""
    import torch

    if cfg.image in data.PHOTOS:
        img = data.photo(cfg.image, side or cfg.image_size, colour=cfg.colour and channels != 1)
    else:
        ds = data.load(cfg.image)
        img = ds.x_test[cfg.image_index]  # within the test set: Config checks it
        if side is not None and img.shape[1] != side:
            from skimage.transform import resize

            img = (
                resize(img[0], (side, side), anti_aliasing=True, preserve_range=True)[None]
                .round()
                .astype(np.uint8)
            )
    return torch.from_numpy(img.copy()).float().div(255.0)[None]


def colour_ignored(cfg: Config) -> str | None:
    """Why the probe's input is one grey channel although colour is set, or None. Only the
    photographs have colour, and a trained network takes the one channel it was trained on
    (the equivariance experiment's datasets are all grey)."""
    if not cfg.colour:
        return None
    if cfg.weights == "trained":
        return f"the trained {cfg.trained_model} takes the one grey channel it was trained on"
    if cfg.image not in data.PHOTOS:
        return f"the {cfg.image} images are grey"
    return None


def stack(cfg: Config, store=None, trained: equivariance.Config | None = None):
    """(blocks, input image) for the probe: random weights from the settings, or the conv
    layers of the saved trained run that `trained` (default: its defaults) and the probe's
    trained_model and seed name."""
    from cnnexp.probes import shift_errors

    if cfg.weights == "random":
        x = input_image(cfg)
        return shift_errors.random_stack(
            x.shape[1],
            cfg.channels,
            cfg.depth,
            cfg.kernel,
            cfg.padding,
            cfg.stride,
            cfg.pool,
            cfg.seed,
        ), x
    model, setup = trained_model(cfg, store, trained)
    x = input_image(cfg, side=data.info(setup.dataset).shape[1], channels=1)
    return shift_errors.stack_from_model(model.eval(), setup.layers()), x


def trained_model(cfg: Config, store, trained: equivariance.Config | None = None):
    """(model with the saved weights, its setup) of the trained run the probe borrows."""
    import torch

    from cnnexp import models

    trained = trained or equivariance.Config(seed=cfg.seed)
    spec = equivariance.spec_for(trained, cfg.trained_model, False, cfg.seed)
    blob = store.blob(equivariance.NAME, spec.run_id, "weights") if store is not None else None
    if blob is None:
        raise ConfigError(
            f"no saved trained run of {cfg.trained_model} for these trained settings "
            f"(seed {cfg.seed}); train it first (run equivariance), or use random weights"
        )
    setup = equivariance.setup_for(trained, cfg.trained_model, False)
    model = models.build(setup.layers())
    model.load_state_dict(torch.load(io.BytesIO(blob), weights_only=True))
    return model, setup


def headline(cfg: Config, store=None, trained: equivariance.Config | None = None) -> dict:
    """Per layer and step along the shift's direction, the interior and whole-map errors;
    with global pooling, the pooled output's change (the CLI's JSON, the explanation's input)."""
    from cnnexp.probes import shift_errors

    blocks, x = stack(cfg, store, trained)
    sweep = shift_errors.shifts_along(cfg.shift, cfg.shift_y, SWEEP)
    rows = shift_errors.equivariance(blocks, x, [s for _, s in sweep], cfg.shift_kind)
    by_shift = dict(sweep)
    step = {v: t for t, v in by_shift.items()}
    out = {
        "equivariance": [
            {
                "layer": r["layer"],
                "shift": step[(r["dx"], r["dy"])],
                "dx": r["dx"],
                "dy": r["dy"],
                "stride": r["stride"],
                "interior_error": r["interior_error"],
                "full_error": r["full_error"],
            }
            for r in rows
        ]
    }
    if cfg.gap:
        inv = shift_errors.invariance(blocks, x, [s for _, s in sweep], cfg.shift_kind)
        avg = [r for r in inv if r["pooling"] == "average"]
        mx = {(r["dx"], r["dy"]): r["error"] for r in inv if r["pooling"] == "max"}
        out["invariance"] = [
            {
                "shift": step[(r["dx"], r["dy"])],
                "error": r["error"],
                "max_pool_error": mx[(r["dx"], r["dy"])],
            }
            for r in avg
        ]
    return out


def grid(cfg: Config, store=None, trained: equivariance.Config | None = None) -> list[dict]:
    """Equivariance errors for every shift (dx, dy) in [-8, 8]², every layer."""
    from cnnexp.probes import shift_errors

    blocks, x = stack(cfg, store, trained)
    shifts = [(dx, dy) for dy in range(-SWEEP, SWEEP + 1) for dx in range(-SWEEP, SWEEP + 1)]
    return shift_errors.equivariance(blocks, x, shifts, cfg.shift_kind)


POOLINGS = {
    "none": {"pool": "none", "stride": 1},
    "stride 2": {"pool": "none", "stride": 2},
    "max": {"pool": "max", "stride": 1},
    "avg": {"pool": "avg", "stride": 1},
    "blur": {"pool": "blur", "stride": 1},
}


def downsampling(cfg: Config) -> list[dict]:
    """The interior error of the last layer against shift, for each way of downsampling,
    everything else as set (random weights)."""
    from cnnexp.probes import shift_errors

    rows = []
    for name, change in POOLINGS.items():
        variant = cfg.model_copy(update={**change, "weights": "random"})
        try:
            _check_stack(variant, input_side(variant))
        except ValueError:
            continue  # this downsampling does not fit the input at this depth
        blocks, x = stack(variant)
        sweep = shift_errors.shifts_along(cfg.shift, cfg.shift_y, SWEEP)
        for r in shift_errors.equivariance(blocks, x, [s for _, s in sweep], cfg.shift_kind):
            if r["layer"] == len(blocks):
                t = next(t for t, s in sweep if s == (r["dx"], r["dy"]))
                rows.append(
                    {
                        "downsampling": name,
                        "shift": t,
                        "value": r["interior_error"],
                        "stride": r["stride"],
                    }
                )
    return rows


def _num(v: float) -> str:
    return "below 1e-6" if v < 1e-6 else f"{v:.2g}"


def explain(cfg: Config, h: dict) -> str:
    """What the probe curves show, in numbers."""
    rows = h["equivariance"]
    last = max(r["layer"] for r in rows)
    mine = [r for r in rows if r["layer"] == last and r["shift"] > 0]
    interior = [r["interior_error"] for r in mine if r["interior_error"] is not None]
    full = [r["full_error"] for r in mine if r["full_error"] is not None]
    stride = mine[0]["stride"] if mine else 1
    out = []
    if interior and full:
        out.append(
            f"At layer {last} (total stride {stride}), over shifts of 1 to {SWEEP} pixels the "
            f"error is {_num(max(interior))} at most in the interior and {_num(max(full))} over "
            f"the whole map."
        )
        if max(interior) < 1e-4 and stride == 1:
            out.append(
                "In the interior the layers are equivariant to float rounding: convolution "
                "commutes with shifts."
            )
        if max(full) > 10 * max(max(interior), 1e-6) and stride == 1:
            out.append(
                f"What breaks it is the border: {cfg.padding} padding and a "
                f"{cfg.shift_kind} shift disagree there."
            )
        if stride > 1:
            aliased = [
                r["interior_error"]
                for r in mine
                if r["interior_error"] is not None and (r["dx"] % stride or r["dy"] % stride)
            ]
            whole = [
                r["interior_error"]
                for r in mine
                if r["interior_error"] is not None and not (r["dx"] % stride or r["dy"] % stride)
            ]
            if aliased and whole:
                out.append(
                    f"Shifts that are multiples of the stride {stride} leave an interior "
                    f"error of {_num(max(whole))} at most; the others up to {_num(max(aliased))}: "
                    f"subsampling aliases them."
                )
    grey = colour_ignored(cfg)
    if grey:  # the page's colour switch is on, but the maps are grey: say why
        out.append(f"The input is grey although colour is on: {grey}.")
    inv = h.get("invariance")
    if inv:
        worst = max(r["error"] for r in inv)
        out.append(
            f"After global average pooling the output changes by at most {worst:.2g} "
            f"(relative) over these shifts"
            + (" — invariant to float rounding." if worst < 1e-4 else ".")
        )
    return " ".join(out)


def frames(cfg: Config, store=None, trained: equivariance.Config | None = None) -> dict:
    """The probe's numbers as tidy tables: per-layer errors along the shift direction, the
    dx × dy grid, invariance, and (random weights) the downsampling comparison."""
    import pandas as pd

    head = headline(cfg, store, trained)
    eq = pd.DataFrame(head["equivariance"]).melt(
        id_vars=["layer", "shift", "dx", "dy", "stride"],
        value_vars=["interior_error", "full_error"],
        var_name="region",
    )
    eq["region"] = eq["region"].map({"interior_error": "interior", "full_error": "whole map"})
    out = {"equivariance": eq, "grid": pd.DataFrame(grid(cfg, store, trained))}
    if head.get("invariance"):
        inv = pd.DataFrame(head["invariance"]).melt(
            id_vars=["shift"], value_vars=["error", "max_pool_error"], var_name="pooling"
        )
        inv["pooling"] = inv["pooling"].map(
            {"error": "global average", "max_pool_error": "global max"}
        )
        out["invariance"] = inv
    if cfg.weights == "random":
        out["downsampling"] = pd.DataFrame(downsampling(cfg))
    return out


def charts(
    cfg: Config,
    frames: dict,
    layer: int | None = None,
    channel: int = 0,
    store=None,
    trained: equivariance.Config | None = None,
) -> dict:
    """The maps of one layer and channel, error curves, the dx × dy map, invariance and the
    downsampling comparison, from the probe's tables (`frames`)."""
    from cnnexp import figures
    from cnnexp.probes import shift_errors  # computes with torch

    eq = frames["equivariance"]
    layer = layer or int(eq["layer"].max())
    blocks, x = stack(cfg, store, trained)
    maps = shift_errors.maps(blocks, x, layer, channel, cfg.shift, cfg.shift_y, cfg.shift_kind)
    curves = eq.assign(layer="layer " + eq["layer"].astype(str)).dropna()
    grid = frames["grid"][frames["grid"]["layer"] == layer]
    out = {
        "maps": figures.panels(
            maps,
            title=f"Layer {layer}, channel {channel}, shift ({cfg.shift}, "
            f"{cfg.shift_y}) {cfg.shift_kind}",
        ),
        "equivariance_error": figures.lines_ci(
            curves,
            "shift",
            "layer",
            dash="region",
            markers=True,
            deterministic=True,
            title="Equivariance error against shift",
            x_title="shift (pixels along the chosen direction)",
            y_title="relative error",
        ),
        "error_map": figures.heatmap(
            grid,
            "dx",
            "dy",
            "interior_error",
            title=f"Interior error at layer {layer} for every shift",
            colourbar="error",
        ),
    }
    if "invariance" in frames:
        out["invariance"] = figures.lines_ci(
            frames["invariance"],
            "shift",
            "pooling",
            markers=True,
            deterministic=True,
            title="Invariance error of the pooled output",
            x_title="shift (pixels)",
            y_title="relative change",
        )
    if "downsampling" in frames:
        out["downsampling"] = figures.lines_ci(
            frames["downsampling"],
            "shift",
            "downsampling",
            markers=True,
            deterministic=True,
            colour_order=list(POOLINGS),
            title="Last layer, interior: ways to downsample",
            x_title="shift (pixels)",
            y_title="relative error",
        )
    return out
