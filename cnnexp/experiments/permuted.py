"""Permuted pixels: measure the locality prior by breaking it.

Every image's pixels are scrambled with one fixed permutation, the same for every image of
every split, and each model is trained again. A fully connected model cannot tell: the
permutation folds into its first weight matrix, so it is the same function class. A CNN's
assumption that neighbouring pixels belong together becomes false. How much more the CNN
loses than the MLP is how much the locality prior was contributing.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from cnnexp import data, stats
from cnnexp.config import EpochFields, ExperimentFields, TrainSetup, param
from cnnexp.data import DatasetName
from cnnexp.results import Results
from cnnexp.runspec import RunContext, RunOutput, RunSpec

NAME = "permuted"
TITLE = "Permuted pixels"
VERSION = 1
SUMMARY = "Scramble every image's pixels the same way and retrain: what does each model lose?"
TINY = {"dataset": "digits", "epochs": 2, "cnn_width": 4, "mlp_width": 32, "strength_blocks": (2,)}

ModelName = Literal["mlp", "cnn", "local"]
Tile = Annotated[int, Field(ge=1, le=64)]
INTACT = 1  # a 1×1 tile: no pixel moves
FULL = 0  # the whole image is one tile


class Config(ExperimentFields, EpochFields):
    dataset: DatasetName = param(
        "mnist5k",
        "digits is 8×8 and already averaged down; mnist5k is raw 28×28 pixels",
        group="Data",
    )
    models: tuple[ModelName, ...] = param(("mlp", "cnn"), "Models to compare", group="Models")
    mlp_width: int = param(
        256,
        "Hidden units of the MLP",
        ge=1,
        le=4096,
        options=(32, 64, 128, 256, 512, 1024),
        group="Models",
        label="MLP width",
    )
    cnn_width: int = param(
        16,
        "First-layer channels of the CNN (and of the locally connected model)",
        ge=1,
        le=512,
        options=(4, 8, 16, 32),
        group="Models",
        label="CNN width",
    )
    block: int = param(
        0,
        "Tile side for the permuted condition: pixels move only within b×b "
        "tiles (0 = anywhere in the image)",
        ge=0,
        le=64,
        group="Permutation",
        label="Permuted within tiles of",
    )
    strength_blocks: tuple[Tile, ...] = param(
        (),
        "Strength sweep: also train with pixels shuffled within tiles of each side "
        "(1 = intact; the image side = fully scrambled)",
        group="Permutation",
        options=(1, 2, 4, 7, 14, 28),
        label="Strength sweep tiles",
    )
    perm_seed: int = param(
        0,
        "Seed of the permutation (the same for every image and split)",
        ge=0,
        le=2**31 - 1,
        group="Permutation",
        advanced=True,
        label="Permutation seed",
    )
    n_train: int = param(
        0,
        "Training images to use, class-balanced per seed (0 = all)",
        ge=0,
        le=60000,
        group="Training",
        advanced=True,
        label="Training images",
    )

    @model_validator(mode="after")
    def _check(self) -> Config:
        if not self.models:
            raise ValueError("models is empty; allowed: one or more of mlp, cnn, local")
        for m in self.models:
            _setup(self, m)  # raises with the reason if a model does not fit the dataset
        return self


def _setup(cfg: Config, model: str) -> TrainSetup:
    width = cfg.mlp_width if model == "mlp" else cfg.cnn_width
    return TrainSetup(
        dataset=cfg.dataset,
        n_train=cfg.n_train,
        model=model,
        width=width,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
    ).normalized()


def canonical_block(dataset: str, block: int) -> int:
    """1 for intact, 0 for a full permutation (any tile at least the image's side)."""
    _, h, w = data.info(dataset).shape
    return FULL if block == 0 or block >= max(h, w) else block


def condition(dataset: str, block: int) -> str:
    b = canonical_block(dataset, block)
    return "original" if b == INTACT else "permuted" if b == FULL else f"tiles of {b}"


def blocks(cfg: Config) -> list[int]:
    """The canonical tile sides this plan trains: intact, the permuted condition, the sweep."""
    out = [INTACT, canonical_block(cfg.dataset, cfg.block)]
    out += [canonical_block(cfg.dataset, b) for b in cfg.strength_blocks]
    return list(dict.fromkeys(out))


def plan(cfg: Config) -> list[RunSpec]:
    specs = []
    for model in cfg.models:
        setup = _setup(cfg, model).canonical()
        for b in blocks(cfg):
            run = {**setup, "block": b, "perm_seed": cfg.perm_seed if b != INTACT else 0}
            label = f"{model} · {condition(cfg.dataset, b)}"
            specs += [RunSpec(NAME, VERSION, run, seed, label) for seed in cfg.seed_list()]
    return specs


def permutation(dataset: str, block: int, perm_seed: int) -> np.ndarray:
    from cnnexp.permutation import pixel_permutation

    _, h, w = data.info(dataset).shape
    b = canonical_block(dataset, block)
    return pixel_permutation(h, w, perm_seed, None if b == FULL else b)


def execute(spec: RunSpec, ctx: RunContext) -> RunOutput:
    from cnnexp import engine
    from cnnexp.permutation import permute_pixels

    cfg = dict(spec.config)
    block, perm_seed = cfg.pop("block"), cfg.pop("perm_seed")
    setup = TrainSetup.model_validate(cfg)
    perm = permutation(setup.dataset, block, perm_seed)
    # One permutation for every image of both splits (numpy, before the data reach the device).
    _, _, out = engine.run_training(
        setup, spec.seed, ctx, prepare=lambda ds: ds.map_images(lambda x: permute_pixels(x, perm))
    )
    return out


# --- headline ------------------------------------------------------------------------------
def _by_seed(runs, model: str, block: int) -> dict[int, float]:
    sub = runs[(runs["model"] == model) & (runs["block"] == block)] if len(runs) else runs
    return dict(zip(sub["seed"], sub["test_acc"], strict=True)) if len(sub) else {}


def summarize(cfg: Config, results: Results) -> dict:
    runs = results.runs
    permuted = canonical_block(cfg.dataset, cfg.block)
    out: dict = {}
    drops: dict[str, dict[int, float]] = {}
    for model in cfg.models:
        orig, perm = _by_seed(runs, model, INTACT), _by_seed(runs, model, permuted)
        drops[model] = {s: orig[s] - perm[s] for s in orig.keys() & perm.keys()}  # paired by seed
        out[model] = {
            "original": stats.mean_ci(orig.values()),
            "permuted": stats.mean_ci(perm.values()),
            "drop": stats.mean_ci(drops[model].values()),
        }
    if "mlp" in drops and "cnn" in drops:
        seeds = drops["mlp"].keys() & drops["cnn"].keys()
        out["gap"] = stats.mean_ci(drops["cnn"][s] - drops["mlp"][s] for s in sorted(seeds))
    if cfg.strength_blocks:
        out["strength"] = [
            {"block": b, **{m: stats.mean_ci(_by_seed(runs, m, b).values()) for m in cfg.models}}
            for b in sorted(blocks(cfg), key=lambda b: b or 10**6)
        ]
    return out


def headline_text(h: dict) -> str:
    parts = [
        f"{m} loses {h[m]['drop']['mean'] * 100:.1f} points"
        for m in ("mlp", "cnn", "local")
        if m in h and h[m]["drop"]["mean"] is not None
    ]
    return "scrambled pixels: " + ", ".join(parts) if parts else "no finished runs"


def explain(cfg: Config, h: dict) -> str:
    """What the numbers on screen say, whichever way they fall."""
    lines = []
    for m in cfg.models:
        r = h.get(m, {})
        if r.get("drop", {}).get("mean") is None:
            continue
        d = r["drop"]
        lo_hi = (
            ""
            if d["ci95"] is None
            else f" (95% CI {d['ci95'][0] * 100:.1f} to {d['ci95'][1] * 100:.1f})"
        )
        lines.append(
            f"The **{m}** goes from {r['original']['mean']:.1%} to {r['permuted']['mean']:.1%}: "
            f"a drop of {d['mean'] * 100:.1f} points{lo_hi}."
        )
    gap = h.get("gap")
    if gap and gap["mean"] is not None:
        size = gap["mean"] * 100
        ci = (
            ""
            if gap["ci95"] is None
            else (f" (95% CI {gap['ci95'][0] * 100:.1f} to {gap['ci95'][1] * 100:.1f})")
        )
        if gap["ci95"] is not None and gap["ci95"][0] > 0:
            verdict = "the CNN loses clearly more than the MLP, as the locality argument predicts"
        elif gap["ci95"] is not None and gap["ci95"][1] < 0:
            verdict = "the CNN loses less than the MLP — the opposite of what the locality argument predicts"
        else:
            verdict = "the interval includes zero: these runs cannot tell the two drops apart"
        lines.append(
            f"The gap (CNN drop minus MLP drop) is **{size:.1f} points**{ci}: {verdict}. "
            f"That gap is what the locality prior was worth here."
        )
        if gap["ci95"] is not None and cfg.dataset != "digits":
            judged = "far from large" if size < 10 else "large indeed"
            lines.append(
                f"The textbook expects a large gap on raw pixels; at these settings it "
                f"is {size:.1f} points — {judged}."
            )
    if cfg.dataset == "digits":
        lines.append(
            "These digits are 8×8 averages of larger images, so each pixel already "
            "summarises a neighbourhood: the textbook expects only a modest gap on them."
        )
    return " ".join(lines)


def sample_images(cfg: Config, per_class: int = 1):
    """A few test images (one per class, up to six) as each condition shows them, and titles."""
    from cnnexp.permutation import permute_pixels

    ds = data.load(cfg.dataset)
    picks = [int(np.flatnonzero(ds.y_test == c)[0]) for c in range(min(6, len(ds.classes)))]
    x = ds.x_test[picks]
    rows, titles = [], []
    for b in blocks(cfg):
        rows.append(permute_pixels(x, permutation(cfg.dataset, b, cfg.perm_seed)))
        titles += [condition(cfg.dataset, b)] + [""] * (len(picks) - 1)
    return np.concatenate(rows), titles, len(picks)


def _conditions(cfg: Config, runs):
    return runs.assign(condition=[condition(cfg.dataset, b) for b in runs["block"]])


def charts(cfg: Config, results: Results) -> dict:
    from cnnexp import figures

    images, titles, cols = sample_images(cfg)
    out = {"samples": figures.image_grid(images, titles, cols=cols)}
    if results.runs.empty:
        return out
    runs = _conditions(cfg, results.runs)
    order = [condition(cfg.dataset, b) for b in blocks(cfg)]
    main = runs[runs["block"].isin([INTACT, canonical_block(cfg.dataset, cfg.block)])]
    out["accuracy"] = figures.dots_ci(
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
    metrics = results.metrics()
    metrics = metrics[metrics["block"].isin(main["block"].unique())]
    metrics = metrics.assign(
        condition=metrics["model"] + " · " + [condition(cfg.dataset, b) for b in metrics["block"]]
    )
    out["test_accuracy_per_epoch"] = figures.curves(
        metrics, "acc", colour="condition", splits=("test",), title="Test accuracy per epoch"
    )
    if cfg.strength_blocks:
        side = max(data.info(cfg.dataset).shape[1:])
        sweep = runs.assign(tile=[b or side for b in runs["block"]])
        out["strength"] = figures.points_ci(
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
    return out


def tables(cfg: Config, results: Results) -> dict:
    out = results.tidy()
    if not out["runs"].empty:
        out["runs"] = _conditions(cfg, out["runs"])
    return out
