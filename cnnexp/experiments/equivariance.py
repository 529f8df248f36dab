"""Equivariance vs invariance: what convolution and pooling do with a shifted input.

Probe (no training): a stack of conv layers applied to an image and to its shifted copy.
Convolution commutes with shifts (equivariance) exactly with circular padding and circular
shifts; zero padding breaks it near the border only; strides and pooling break it for shifts
that are not multiples of the total stride (aliasing), which a blur before subsampling
reduces; global average pooling turns equivariance into invariance.

Trained: an MLP and CNNs with a flatten head or a global-average-pool head, trained on
centred digits with and without random-shift augmentation, then tested on shifted test
images: accuracy against shift, and consistency (Zhang 2019): the share of test images whose
predicted class survives two random shifts.
"""

from __future__ import annotations

import base64
import json
from typing import Literal

import numpy as np
from pydantic import model_validator

from cnnexp import architecture, data, stats
from cnnexp.config import ConfigError, EpochFields, ExperimentFields, TrainSetup, param
from cnnexp.results import Results
from cnnexp.runspec import RunContext, RunOutput, RunSpec

NAME = "equivariance"
TITLE = "Equivariance vs invariance"
VERSION = 1
SUMMARY = "Shift the input: where do convolution, padding, strides and pooling keep up, and does the answer survive?"
TINY = {
    "mode": "trained",
    "dataset": "digits",
    "epochs": 2,
    "max_shift": 2,
    "models": ("mlp", "cnn_gap"),
    "width": 4,
}

Variant = Literal["mlp", "cnn_flatten", "cnn_gap", "cnn_gap_blur"]
Image = Literal[
    "chelsea", "astronaut", "camera", "coffee", "rocket", "coins", "mnist5k", "shapes", "digits"
]
SWEEP = 8  # probe curves run over shifts 0..8 pixels


class Config(ExperimentFields, EpochFields):
    mode: Literal["probe", "trained"] = param(
        "probe",
        "probe: a layer stack on one image, no training; trained: train and shift the test set",
        group="Mode",
    )
    # --- probe ------------------------------------------------------------------------------
    image: Image = param(
        "chelsea",
        "Input: a photograph shipped with scikit-image, or a test image of a dataset",
        group="Probe input",
    )
    image_index: int = param(
        0,
        "Which test image, when the input is a dataset",
        ge=0,
        le=999,
        group="Probe input",
        advanced=True,
        label="Test image",
    )
    colour: bool = param(False, "Keep a photograph's three colour channels", group="Probe input")
    image_size: int = param(
        64,
        "Side photographs are resized to",
        ge=16,
        le=256,
        options=(32, 48, 64, 96, 128),
        group="Probe input",
        label="Photo side",
    )
    shift: int = param(
        3,
        "Horizontal shift dx of the input (pixels, right is positive)",
        ge=-8,
        le=8,
        group="Shift",
        label="Shift dx",
    )
    shift_y: int = param(
        0,
        "Vertical shift dy (pixels, down is positive)",
        ge=-8,
        le=8,
        group="Shift",
        label="Shift dy",
    )
    shift_kind: Literal["circular", "zero"] = param(
        "circular",
        "circular: content leaving one edge comes back at the other; zero: the "
        "uncovered band is blank, as when a camera moves",
        group="Shift",
    )
    depth: int = param(2, "Conv layers in the probe stack", ge=1, le=4, group="Probe stack")
    kernel: int = param(
        3,
        "Kernel side (odd unless padding is 'valid')",
        ge=1,
        le=9,
        options=(1, 3, 5, 7, 9),
        group="Probe stack",
    )
    padding: Literal["zeros", "circular", "reflect", "valid"] = param(
        "zeros", "How each conv pads its input ('valid' does not pad)", group="Probe stack"
    )
    stride: int = param(1, "Stride of every conv", ge=1, le=2, group="Probe stack")
    pool: Literal["none", "max", "avg", "blur"] = param(
        "none",
        "Pooling after every conv (2×2, stride 2); blur: low-pass, then subsample",
        group="Probe stack",
    )
    gap: bool = param(
        True,
        "Global pooling at the end: measure invariance",
        group="Probe stack",
        label="Global pooling",
    )
    channels: int = param(
        8, "Channels of every probe layer", ge=1, le=32, group="Probe stack", advanced=True
    )
    weights: Literal["random", "trained"] = param(
        "random",
        "random: seeded Kaiming weights; trained: the conv layers of a saved trained "
        "run (its architecture replaces the stack settings)",
        group="Probe stack",
        advanced=True,
    )
    trained_model: Literal["cnn_flatten", "cnn_gap", "cnn_gap_blur"] = param(
        "cnn_gap",
        "Which trained CNN lends its weights (trained without augmentation, first "
        "seed, with the trained settings below)",
        group="Probe stack",
        advanced=True,
        label="Trained model",
    )
    # --- trained ----------------------------------------------------------------------------
    dataset: Literal["mnist5k", "shapes", "digits"] = param(
        "mnist5k", "Training data: mnist5k digits are centred", group="Trained"
    )
    models: tuple[Variant, ...] = param(
        ("mlp", "cnn_flatten", "cnn_gap"),
        "Models: mlp; CNNs with a flatten or a global-"
        "average-pool head; cnn_gap_blur adds blur pooling",
        group="Trained",
    )
    width: int = param(
        16,
        "First-layer channels of the CNNs (3 conv layers); the MLP has 256 hidden units",
        ge=1,
        le=256,
        options=(4, 8, 16, 32),
        group="Trained",
        label="CNN width",
    )
    max_shift: int = param(
        6, "Largest test shift, and the range of the augmentation", ge=1, le=10, group="Trained"
    )
    augment: bool = param(
        True,
        "Also train every model with random shifts of up to max_shift",
        group="Trained",
        label="Also with shift augmentation",
    )

    @model_validator(mode="after")
    def _check(self) -> Config:
        side = input_side(self)
        if max(abs(self.shift), abs(self.shift_y)) >= side:
            raise ValueError(
                f"shift {max(abs(self.shift), abs(self.shift_y))} is not smaller than "
                f"the {side}-pixel input; allowed: |shift| < {side}"
            )
        if self.weights == "random":
            _check_stack(self, side)
        if self.mode == "trained" and not self.models:
            raise ValueError(
                "models is empty; allowed: one or more of mlp, cnn_flatten, cnn_gap, cnn_gap_blur"
            )
        for v in self.models:
            _setup(self, v, False)  # raises if a model does not fit the dataset
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
            raise ValueError(
                f"depth {cfg.depth} shrinks the input below 1×1 at layer {layer} "
                f"(kernel {k}, stride {cfg.stride}, pool {cfg.pool}); use depth <= "
                f"{layer - 1}, a larger photo, or less downsampling"
            )


# --- trained -------------------------------------------------------------------------------
def _setup(cfg: Config, variant: str, augment: bool) -> TrainSetup:
    common = {
        "dataset": cfg.dataset,
        "epochs": cfg.epochs,
        "batch_size": cfg.batch_size,
        "lr": cfg.lr,
        "augment_shift": cfg.max_shift if augment else 0,
    }
    if variant == "mlp":
        return TrainSetup(model="mlp", width=256, **common).normalized()
    depth = 3 if data.info(cfg.dataset).shape[1] >= 16 else 2
    return TrainSetup(
        model="cnn",
        width=cfg.width,
        depth=depth,
        head="flatten" if variant == "cnn_flatten" else "gap",
        pool="blur" if variant == "cnn_gap_blur" else "max",
        **common,
    ).normalized()


def model_name(variant: str, augment: bool) -> str:
    return f"{variant}_augmented" if augment else variant


def _spec(cfg: Config, variant: str, augment: bool, seed: int) -> RunSpec:
    run = {
        **_setup(cfg, variant, augment).canonical(),
        "variant": variant,
        "max_shift": cfg.max_shift,
    }
    label = f"{variant}" + (f" · shifted ±{cfg.max_shift}" if augment else " · centred")
    return RunSpec(NAME, VERSION, run, seed, label)


def plan(cfg: Config) -> list[RunSpec]:
    if cfg.mode == "probe":
        return []
    conditions = (False, True) if cfg.augment else (False,)
    return [_spec(cfg, v, a, s) for v in cfg.models for a in conditions for s in cfg.seed_list()]


def _encode(state: dict) -> list[dict]:
    """A state dict as table rows: name, shape and raw float32 bytes (base64)."""
    return [
        {
            "name": k,
            "shape": json.dumps(list(v.shape)),
            "data": base64.b64encode(v.detach().float().cpu().numpy().tobytes()).decode(),
        }
        for k, v in state.items()
        if v.is_floating_point()
    ]


def _decode(rows) -> dict:
    import torch

    return {
        r["name"]: torch.from_numpy(
            np.frombuffer(base64.b64decode(r["data"]), dtype=np.float32)
            .reshape(json.loads(r["shape"]))
            .copy()
        )
        for r in rows
    }


def execute(spec: RunSpec, ctx: RunContext) -> RunOutput:
    import torch

    from cnnexp import engine, transforms

    cfg = dict(spec.config)
    cfg.pop("variant")  # names the model; the setup below already describes it
    k = cfg.pop("max_shift")
    setup = TrainSetup.model_validate(cfg)
    result, dd, out = engine.run_training(setup, spec.seed, ctx)
    if result.status != "done":
        return out
    model, x, y = result.model, dd.x_test, dd.y_test
    rows = []
    for t in range(k + 1):  # the camera moves by t pixels, in each of four directions
        moves = [(0, 0)] if t == 0 else [(t, 0), (-t, 0), (0, t), (0, -t)]
        accs = [
            float((engine.predict(model, transforms.shift(x, dx, dy, "zero")) == y).float().mean())
            for dx, dy in moves
        ]
        rows.append({"shift": t, "metric": "test_acc", "value": float(np.mean(accs))})
    gen = torch.Generator().manual_seed(spec.seed)
    a = engine.predict(model, transforms.random_shift(x, k, gen))
    b = engine.predict(model, transforms.random_shift(x, k, gen))
    out.tables["shift_eval"] = rows
    out.summary["consistency"] = float((a == b).float().mean())
    if setup.model == "cnn" and setup.augment_shift == 0:  # the runs the probe borrows from
        out.tables["weights"] = _encode(model.state_dict())
    return out


def summarize(cfg: Config, results: Results) -> dict:
    if cfg.mode == "probe":
        return probe_headline(cfg, results.store)
    runs, table = results.runs, results.table("shift_eval")
    conditions = (False, True) if cfg.augment else (False,)
    shift_acc, consistency = {}, {}
    for v in cfg.models:
        for aug in conditions:
            name = model_name(v, aug)
            mine = (
                runs[(runs["variant"] == v) & ((runs["augment_shift"] > 0) == aug)]
                if len(runs)
                else runs
            )
            ids = set(mine["run_id"]) if len(mine) else set()
            sub = table[table["run_id"].isin(ids)] if len(table) else table
            shift_acc[name] = [
                {
                    "shift": t,
                    "test_acc": stats.mean_ci(
                        sub.loc[sub["shift"] == t, "value"] if len(sub) else []
                    ),
                }
                for t in range(cfg.max_shift + 1)
            ]
            consistency[name] = stats.mean_ci(mine["consistency"] if len(mine) else [])
    return {"shift_accuracy": shift_acc, "consistency": consistency}


# --- probe ---------------------------------------------------------------------------------
def probe_input(cfg: Config, side: int | None = None, channels: int | None = None):
    """The probe's image as a float tensor (1, C, H, W) in [0, 1]."""
    import torch

    if cfg.image in data.PHOTOS:
        img = data.photo(cfg.image, side or cfg.image_size, colour=cfg.colour and channels != 1)
    else:
        ds = data.load(cfg.image)
        img = ds.x_test[min(cfg.image_index, len(ds.y_test) - 1)]
        if side is not None and img.shape[1] != side:
            from skimage.transform import resize

            img = (
                resize(img[0], (side, side), anti_aliasing=True, preserve_range=True)[None]
                .round()
                .astype(np.uint8)
            )
    return torch.from_numpy(img.copy()).float().div(255.0)[None]


def probe_stack(cfg: Config, store=None):
    """(blocks, input image) for the probe: random weights from the settings, or the conv
    layers of the saved trained run the settings name."""
    from cnnexp import models, probe

    if cfg.weights == "random":
        x = probe_input(cfg)
        return probe.random_stack(
            x.shape[1],
            cfg.channels,
            cfg.depth,
            cfg.kernel,
            cfg.padding,
            cfg.stride,
            cfg.pool,
            cfg.seed,
        ), x
    trained = cfg.model_copy(update={"mode": "trained"})
    spec = _spec(trained, cfg.trained_model, False, cfg.seed)
    rows = store.table("weights", [spec.run_id]) if store is not None else []
    if len(rows) == 0:
        raise ConfigError(
            f"no saved trained run of {cfg.trained_model} for these trained settings "
            f"(seed {cfg.seed}); train it first (mode trained), or use random weights"
        )
    setup = _setup(trained, cfg.trained_model, False)
    model = models.build(setup.layers())
    model.load_state_dict(_decode(rows.to_dict("records")), strict=False)
    info = data.info(setup.dataset)
    x = probe_input(cfg, side=info.shape[1], channels=1)
    return probe.stack_from_model(model.eval(), setup.layers()), x


def probe_headline(cfg: Config, store=None) -> dict:
    from cnnexp import probe

    blocks, x = probe_stack(cfg, store)
    sweep = probe.shifts_along(cfg.shift, cfg.shift_y, SWEEP)
    rows = probe.equivariance(blocks, x, [s for _, s in sweep], cfg.shift_kind)
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
        inv = probe.invariance(blocks, x, [s for _, s in sweep], cfg.shift_kind)
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


def headline_text(h: dict) -> str:
    if "consistency" in h:
        parts = [
            f"{m} {c['mean']:.1%}" for m, c in h["consistency"].items() if c["mean"] is not None
        ]
        return "consistency under shifts: " + ", ".join(parts)
    last = max(r["layer"] for r in h["equivariance"])
    worst = max((r["interior_error"] or 0) for r in h["equivariance"] if r["layer"] == last)
    return f"probe: largest interior equivariance error at layer {last}: {worst:.3f}"


def explain_trained(cfg: Config, h: dict) -> str:
    """What the trained comparison shows, in numbers, whichever way it falls."""
    k = cfg.max_shift
    acc = {
        m: rows[-1]["test_acc"]["mean"]
        for m, rows in h["shift_accuracy"].items()
        if rows and rows[-1]["test_acc"]["mean"] is not None
    }
    base = {
        m: rows[0]["test_acc"]["mean"]
        for m, rows in h["shift_accuracy"].items()
        if rows and rows[0]["test_acc"]["mean"] is not None
    }
    if not acc:
        return ""
    out = [
        f"Moving the test images by {k} pixels: "
        + ", ".join(f"{m} {base[m]:.1%} → {acc[m]:.1%}" for m in acc)
        + "."
    ]
    centred = {m: base[m] - acc[m] for m in acc if not m.endswith("_augmented")}
    if centred:
        worst, best = max(centred, key=centred.get), min(centred, key=centred.get)
        out.append(
            f"Trained on centred images, {worst} loses the most ({centred[worst] * 100:.1f} "
            f"points) and {best} the least ({centred[best] * 100:.1f})."
        )
    if "cnn_gap" in centred and "cnn_flatten" in centred:
        out.append(
            "The global-average-pool head keeps more of its accuracy than the flatten head, "
            "as invariance after pooling predicts."
            if centred["cnn_gap"] < centred["cnn_flatten"]
            else "The global-average-pool head does not keep more of its accuracy than the "
            "flatten head here, although pooling over positions should make it more invariant."
        )
    aug = {m.removesuffix("_augmented"): base[m] - acc[m] for m in acc if m.endswith("_augmented")}
    if aug:
        out.append(
            "With shift augmentation the losses at the largest shift become "
            + ", ".join(f"{m} {d * 100:.1f}" for m, d in aug.items())
            + " points: the data teaches what the "
            "architecture does not guarantee."
        )
    return " ".join(out)


def probe_grid(cfg: Config, store=None) -> list[dict]:
    """Equivariance errors for every shift (dx, dy) in [-8, 8]², every layer."""
    from cnnexp import probe

    blocks, x = probe_stack(cfg, store)
    shifts = [(dx, dy) for dy in range(-SWEEP, SWEEP + 1) for dx in range(-SWEEP, SWEEP + 1)]
    return probe.equivariance(blocks, x, shifts, cfg.shift_kind)


POOLINGS = {
    "none": {"pool": "none", "stride": 1},
    "stride 2": {"pool": "none", "stride": 2},
    "max": {"pool": "max", "stride": 1},
    "avg": {"pool": "avg", "stride": 1},
    "blur": {"pool": "blur", "stride": 1},
}


def probe_downsampling(cfg: Config) -> list[dict]:
    """The interior error of the last layer against shift, for each way of downsampling,
    everything else as set (random weights)."""
    from cnnexp import probe

    rows = []
    for name, change in POOLINGS.items():
        variant = cfg.model_copy(update={**change, "weights": "random"})
        try:
            _check_stack(variant, input_side(variant))
        except ValueError:
            continue  # this downsampling does not fit the input at this depth
        blocks, x = probe_stack(variant)
        sweep = probe.shifts_along(cfg.shift, cfg.shift_y, SWEEP)
        for r in probe.equivariance(blocks, x, [s for _, s in sweep], cfg.shift_kind):
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


def explain_probe(cfg: Config, h: dict) -> str:
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
    inv = h.get("invariance")
    if inv:
        worst = max(r["error"] for r in inv)
        out.append(
            f"After global average pooling the output changes by at most {worst:.2g} "
            f"(relative) over these shifts"
            + (" — invariant to float rounding." if worst < 1e-4 else ".")
        )
    return " ".join(out)


def probe_frames(cfg: Config, store=None) -> dict:
    """The probe's numbers as tidy tables: per-layer errors along the shift direction, the
    dx × dy grid, invariance, and (random weights) the downsampling comparison."""
    import pandas as pd

    head = probe_headline(cfg, store)
    eq = pd.DataFrame(head["equivariance"]).melt(
        id_vars=["layer", "shift", "dx", "dy", "stride"],
        value_vars=["interior_error", "full_error"],
        var_name="region",
    )
    eq["region"] = eq["region"].map({"interior_error": "interior", "full_error": "whole map"})
    out = {"equivariance": eq, "grid": pd.DataFrame(probe_grid(cfg, store))}
    if head.get("invariance"):
        inv = pd.DataFrame(head["invariance"]).melt(
            id_vars=["shift"], value_vars=["error", "max_pool_error"], var_name="pooling"
        )
        inv["pooling"] = inv["pooling"].map(
            {"error": "global average", "max_pool_error": "global max"}
        )
        out["invariance"] = inv
    if cfg.weights == "random":
        out["downsampling"] = pd.DataFrame(probe_downsampling(cfg))
    return out


def charts(
    cfg: Config,
    results: Results,
    layer: int | None = None,
    channel: int = 0,
    frames: dict | None = None,
) -> dict:
    """Probe mode: the maps of one layer and channel, error curves, the dx × dy map,
    invariance and the downsampling comparison. Trained mode: accuracy against shift and
    consistency. `frames` reuses probe numbers already computed."""
    if cfg.mode == "trained":
        return _trained_charts(cfg, results)
    from cnnexp import figures, probe  # the probe computes with torch

    frames = frames or probe_frames(cfg, results.store)
    eq = frames["equivariance"]
    layer = layer or int(eq["layer"].max())
    blocks, x = probe_stack(cfg, results.store)
    maps = probe.maps(blocks, x, layer, channel, cfg.shift, cfg.shift_y, cfg.shift_kind)
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


def _trained_charts(cfg: Config, results: Results) -> dict:
    from cnnexp import figures

    if results.runs.empty:
        return {}
    k = cfg.max_shift
    table = results.table("shift_eval")  # joined with each run's settings
    table = table.assign(
        model=table["variant"],
        training=[f"shifted ±{k}" if a > 0 else "centred" for a in table["augment_shift"]],
    )
    runs = results.runs.assign(
        training=["shifted" if a > 0 else "centred" for a in results.runs["augment_shift"]]
    )
    return {
        "shift_accuracy": figures.lines_ci(
            table,
            "shift",
            "model",
            dash="training",
            markers=True,
            colour_order=list(cfg.models),
            percent=True,
            title="Test accuracy on shifted test images",
            x_title="shift of the test images (pixels)",
            y_title="test accuracy",
        ),
        "consistency": figures.dots_ci(
            runs,
            "variant",
            "consistency",
            "training",
            x_order=list(cfg.models),
            title="Consistency under two random shifts",
            x_title="model",
            y_title="same prediction",
        ),
    }


def tables(cfg: Config, results: Results) -> dict:
    if cfg.mode == "probe":
        return probe_frames(cfg, results.store)
    return results.tidy("shift_eval")
