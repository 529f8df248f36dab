"""Permuted pixels: measure the locality prior by breaking it.

Every image's pixels are scrambled with one fixed permutation, the same for every image of
every split, and each model is trained again. A fully connected model cannot tell: the
permutation folds into its first weight matrix, so it is the same function class. A CNN's
assumption that neighbouring pixels belong together becomes false. How much more the CNN
loses than the MLP is how much the locality prior was contributing.

That gap is not one number: the prior is worth most when images are few. The training-set-size
sweep trains both conditions again on class-balanced subsets, with a minimum step budget so that
a small set is not also an undertrained one. Which CNN is permuted matters too: a flatten head's
dense layer can re-learn any pixel order; a global-average-pool head cannot.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, NotRequired, TypedDict, get_args

import numpy as np
from pydantic import Field, field_validator, model_validator

from cnnexp import catalog, data, policy, stats
from cnnexp.config import EpochFields, ExperimentFields, TrainSetup, param
from cnnexp.data import DatasetName
from cnnexp.results import Results
from cnnexp.runspec import RunContext, RunOutput, RunSpec

NAME = "permuted"
TITLE, SUMMARY, headline_text = catalog.identity(NAME)  # cnnexp/catalog.py: Home reads it
VERSION = 2
TINY = {
    "dataset": "digits",
    "epochs": 2,
    "cnn_width": 4,
    "mlp_width": 32,
    "strength_blocks": (2,),
    "n_trains": (100,),
    "sweep_steps": 10,
}

# CNN names as on the Equivariance page: the head is part of the name. Their order here is the
# order a headline lists them in (Home and the README read it from the headline).
ModelName = Literal["mlp", "cnn_flatten", "cnn_gap", "local"]
MODELS: tuple[ModelName, ...] = get_args(ModelName)
CNNS = ("cnn_flatten", "cnn_gap")
Images = Annotated[int, Field(ge=10, le=60000)]
Tile = Annotated[int, Field(ge=1, le=64)]
# Test-set passes of a size-sweep run: the page shows only its final accuracy, and at 30
# tiny epochs the engine's default 16 passes over the 1,000 test images cost as much as the
# training itself (measured, BENCHMARKS.md). Evaluating never changes the training.
SWEEP_EVALS = 1  # at the end only
INTACT = 1  # a 1×1 tile: no pixel moves
FULL = 0  # the whole image is one tile


class Config(ExperimentFields, EpochFields):
    dataset: DatasetName = param(
        "mnist5k",
        "digits is 8×8 and already averaged down; mnist5k is raw 28×28 pixels",
        group="Data",
    )
    models: tuple[ModelName, ...] = param(
        ("mlp", "cnn_flatten"),
        "Models to compare: cnn_flatten ends in a dense layer over the last feature map, "
        "cnn_gap in a global average pool",
        group="Models",
    )
    cnn_depth: int = param(
        2,
        "Conv layers of the CNNs",
        ge=1,
        le=4,
        options=(1, 2, 3, 4),
        group="Models",
        label="CNN depth",
    )
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

    # The defaults fit the 45 s budget of the 2-core CPU (measured against the old defaults in
    # one process, BENCHMARKS.md): 5 epochs at the main size (8 took 70% of the time alone),
    # one smaller size at a 100-step budget, each of its runs tested once.
    epochs: int = param(
        5,
        "Passes over the training images at the main size (the size sweep may train more)",
        ge=1,
        le=500,
        group="Training",
    )
    n_trains: tuple[Images, ...] = param(
        (100,),
        "Training-set-size sweep: also train both conditions on this many images, besides "
        "the main size (Training images, under More training settings; 0 = all), which the "
        "sweep's chart includes (class-balanced per seed; a size at or beyond the training "
        "split means all of it; empty: skip)",
        group="Training-set size",
        options=(100, 300, 1000, 2000, 4000),
        label="More training-set sizes",
    )
    sweep_steps: int = param(
        100,
        "Step budget of the size sweep: a small training set gets more epochs, up to at "
        "least this many optimisation steps (never fewer epochs than the Epochs setting)",
        ge=1,
        le=100000,
        options=(50, 100, 150, 500),
        group="Training-set size",
        advanced=True,
        label="Sweep minimum steps",
    )

    @field_validator("models", mode="before")
    @classmethod
    def _old_names(cls, v):
        # "cnn" in links and scripts from before the head dial meant the flatten head.
        if isinstance(v, str):
            v = [x.strip() for x in v.split(",") if x.strip()]
        return tuple("cnn_flatten" if m == "cnn" else m for m in v) if v is not None else v

    @model_validator(mode="after")
    def _check(self) -> Config:
        if not self.models:
            raise ValueError(
                "models is empty; allowed: one or more of mlp, cnn_flatten, cnn_gap, local"
            )
        for m in self.models:
            for n in sizes(self):
                _setup(self, m, n)  # raises with the reason if a model does not fit
        return self


def sizes(cfg: Config) -> list[int]:
    """n_train of every planned size (0 = all), the main one included, fewest images first."""
    full = data.info(cfg.dataset).n_train
    out = {cfg.n_train} | {0 if n >= full else n for n in cfg.n_trains}
    return sorted(out, key=lambda n: n or full)


def images(dataset: str, n_train: int) -> int:
    return n_train or data.info(dataset).n_train


def epochs_for(cfg: Config, n_train: int, max_epochs: int | None = None) -> int:
    """The Epochs setting at the main size; in the sweep, enough epochs for sweep_steps, or
    max_epochs (a server's cap) where that is fewer, but never fewer than the Epochs setting
    (which the cap refuses by name)."""
    if n_train == cfg.n_train:
        return cfg.epochs
    batches = len(data.batch_slices(images(cfg.dataset, n_train), cfg.batch_size))
    needed = max(cfg.epochs, math.ceil(cfg.sweep_steps / batches))
    return max(cfg.epochs, policy.fit_epochs(needed, max_epochs))


def budget_text(cfg: Config, max_epochs: int | None = None) -> str:
    """The training each size gets, in epochs and optimisation steps, for the page to state;
    with an epochs cap (a hosted server's), which sizes it shortens."""
    parts, short = [], False
    for n in sizes(cfg):
        k = images(cfg.dataset, n)
        epochs = epochs_for(cfg, n, max_epochs)
        steps = epochs * len(data.batch_slices(k, cfg.batch_size))
        part = f"{k:,} images × {epochs} epochs = {steps:,} steps"
        asked = epochs_for(cfg, n)
        if epochs < asked:
            short = True
            part += f" (this server's cap of {max_epochs} epochs a run; the budget asks {asked})"
        parts.append(part)
    sweep = (
        f"each size of the sweep trains at least {cfg.sweep_steps} steps where this server's "
        "epochs cap allows"
        if short
        else f"each size of the sweep trains at least {cfg.sweep_steps} steps"
    )
    return (
        f"Step budget (batches of {cfg.batch_size}; {sweep} and is tested once, at the end): "
        + "; ".join(parts)
        + "."
    )


def _setup(
    cfg: Config, model: str, n_train: int | None = None, max_epochs: int | None = None
) -> TrainSetup:
    n_train = cfg.n_train if n_train is None else n_train
    width = cfg.mlp_width if model == "mlp" else cfg.cnn_width
    conv: dict[str, Any] = {"depth": cfg.cnn_depth} if model != "mlp" else {}
    if model in CNNS:
        conv["head"] = model.removeprefix("cnn_")
    return TrainSetup(
        dataset=cfg.dataset,
        n_train=n_train,
        model="cnn" if model in CNNS else model,
        width=width,
        epochs=epochs_for(cfg, n_train, max_epochs),
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        **conv,
    ).normalized()


def variant(model: str, head: str) -> str:
    """The page's model name of a saved run: cnn runs are named by their head."""
    return f"cnn_{head}" if model == "cnn" else model


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


def plan(cfg: Config, max_epochs: int | None = None) -> list[RunSpec]:
    """The runs of cfg; with max_epochs (a server's cap), a size of the sweep whose step
    budget asks for more epochs trains that many (budget_text says so)."""
    specs = []
    permuted = canonical_block(cfg.dataset, cfg.block)
    for model in cfg.models:
        for n in sizes(cfg):
            setup = _setup(cfg, model, n, max_epochs).canonical()
            # The strength sweep runs at the main size only; the size sweep, intact vs permuted.
            for b in blocks(cfg) if n == cfg.n_train else list(dict.fromkeys([INTACT, permuted])):
                run = {**setup, "block": b, "perm_seed": cfg.perm_seed if b != INTACT else 0}
                if n != cfg.n_train:
                    run["evals"] = SWEEP_EVALS
                label = f"{model} · {condition(cfg.dataset, b)}"
                if n != cfg.n_train:
                    label += f" · {images(cfg.dataset, n)} images"
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
    evals = cfg.pop("evals", engine.MAX_EVALS)
    setup = TrainSetup.model_validate(cfg)
    perm = permutation(setup.dataset, block, perm_seed)
    # One permutation for every image of both splits (numpy, before the data reach the device).
    _, _, out = engine.run_training(
        setup,
        spec.seed,
        ctx,
        prepare=lambda ds: ds.map_images(lambda x: permute_pixels(x, perm)),
        evals=evals,
    )
    return out


# --- headline ------------------------------------------------------------------------------
def _named(runs):
    """Runs with the page's model name (cnn_flatten, cnn_gap, ...) in column 'variant'."""
    if runs.empty:
        return runs.assign(variant=[])
    return runs.assign(
        variant=[variant(m, h) for m, h in zip(runs["model"], runs["head"], strict=True)]
    )


def _by_seed(runs, model: str, block: int, n_train: int) -> dict[int, float]:
    if runs.empty:
        return {}
    sub = runs[(runs["variant"] == model) & (runs["block"] == block) & (runs["n_train"] == n_train)]
    return dict(zip(sub["seed"], sub["test_acc"], strict=True))


def _drops(runs, model: str, block: int, n_train: int) -> dict[int, float]:
    orig, perm = _by_seed(runs, model, INTACT, n_train), _by_seed(runs, model, block, n_train)
    return {s: orig[s] - perm[s] for s in orig.keys() & perm.keys()}  # paired by seed


class Drop(TypedDict):
    """One model's test accuracy on intact and scrambled pixels, and the drop between them
    (paired by seed)."""

    original: stats.CI
    permuted: stats.CI
    drop: stats.CI


class Gap(stats.CI):
    """The gap (CNN drop − MLP drop, paired by seed) at one training-set size."""

    n_train: int  # training images


class Strength(TypedDict):
    """Test accuracy with pixels shuffled within b×b tiles, per model."""

    block: int  # the tile side b (1: intact; 0: the whole image)
    models: dict[str, stats.CI]


class Headline(TypedDict):
    """What scrambling costs each model at the main size, and the gap (read by explain, the
    page, cnnexp/catalog.py and cnnexp/readme.py)."""

    models: dict[str, Drop]  # in MODELS order, whatever the order of the settings
    gap: NotRequired[stats.CI]  # the first CNN's, at the main size: with an MLP and a CNN
    gaps: NotRequired[dict[str, list[Gap]]]  # each CNN's, per training-set size
    gap_by_n_train: NotRequired[list[Gap]]  # the first CNN's
    strength: NotRequired[list[Strength]]  # with a strength sweep


def _gap(runs, cnn: str, block: int, n_train: int) -> stats.CI:
    """CNN drop minus MLP drop, paired by seed."""
    cnn_d, mlp_d = _drops(runs, cnn, block, n_train), _drops(runs, "mlp", block, n_train)
    return stats.mean_ci(cnn_d[s] - mlp_d[s] for s in sorted(cnn_d.keys() & mlp_d.keys()))


def summarize(cfg: Config, results: Results) -> Headline:
    runs = _named(results.runs)
    permuted = canonical_block(cfg.dataset, cfg.block)
    n0 = cfg.n_train
    models = [m for m in MODELS if m in cfg.models]
    out: Headline = {
        "models": {
            m: {
                "original": stats.share_ci(_by_seed(runs, m, INTACT, n0).values()),
                "permuted": stats.share_ci(_by_seed(runs, m, permuted, n0).values()),
                "drop": stats.mean_ci(_drops(runs, m, permuted, n0).values()),
            }
            for m in models
        }
    }
    cnns = [m for m in cfg.models if m in CNNS]
    if "mlp" in cfg.models and cnns:
        out["gap"] = _gap(runs, cnns[0], permuted, n0)  # the first CNN's: the headline gap
        out["gaps"] = {
            m: [
                {"n_train": images(cfg.dataset, n), **_gap(runs, m, permuted, n)}
                for n in sizes(cfg)
            ]
            for m in cnns
        }
        out["gap_by_n_train"] = out["gaps"][cnns[0]]
    if cfg.strength_blocks:
        out["strength"] = [
            {
                "block": b,
                "models": {m: stats.share_ci(_by_seed(runs, m, b, n0).values()) for m in models},
            }
            for b in sorted(blocks(cfg), key=lambda b: b or 10**6)
        ]
    return out


def explain(cfg: Config, h: Headline) -> str:
    """What the numbers on screen say, whichever way they fall."""
    lines = []
    for m in cfg.models:
        r = h.get("models", {}).get(m)
        if r is None or r["drop"]["mean"] is None:
            continue
        d = r["drop"]
        lo_hi = (
            ""
            if d["ci95"] is None
            else f" (95% CI {d['ci95'][0] * 100:.1f} to {d['ci95'][1] * 100:.1f})"
        )
        a, b = stats.mean_of(r["original"]), stats.mean_of(r["permuted"])  # a drop has both
        # One more digit where one would print the same number twice beside a drop.
        digits = 2 if f"{a:.1%}" == f"{b:.1%}" else 1
        # The drop beside a → b is a − b as printed (a reader subtracts what is shown); the
        # mean of the seeds' paired drops is the same number unless a seed lacks one side.
        paired = r["original"]["n"] == r["permuted"]["n"] == d["n"]
        drop = stats.shown_points(a, b, digits) if paired else stats.mean_of(d) * 100
        lines.append(
            f"The **{m}** goes from {a:.{digits}%} to {b:.{digits}%}: "
            f"a drop of {drop:.{digits}f} points{lo_hi}."
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
        elif gap["ci95"] is None:
            verdict = "one seed gives no interval: more seeds would tell whether it is real"
        else:
            verdict = "the interval includes zero: these runs cannot tell the two drops apart"
        lines.append(
            f"The gap (CNN drop minus MLP drop) is **{size:.1f} points**{ci}: {verdict}. "
            f"That gap is what the locality prior was worth here."
        )
    lines += _explain_sizes(h) + _explain_regimes(cfg, h) + _explain_heads(cfg, h)
    if cfg.dataset in DATASET_NOTES:
        lines.append(DATASET_NOTES[cfg.dataset])
    return " ".join(lines)


LARGE_GAP = 0.10  # the textbook's "large gap on raw pixels", taken as 10 points of accuracy
DATASET_NOTES = {
    "digits": "These digits are 8×8 averages of larger images, so each pixel already "
    "summarises a neighbourhood: the textbook expects only a modest gap on them.",
    "shapes": "The shapes' glyphs sit at random positions, so here locality comes with "
    "translation: a kernel that finds a bar finds it anywhere, and after the scramble the "
    "same glyph at two positions lands on unrelated pixels.",
}


def _explain_regimes(cfg: Config, h: Headline) -> list[str]:
    """Which settings on screen reproduce the textbook's large gap and which do not."""
    first = next((m for m in cfg.models if m in CNNS), "cnn")
    gaps = h.get("gaps") or {first: h.get("gap_by_n_train", [])}
    large, small, unsure = [], [], []
    for m, rows in gaps.items():
        for r in rows:
            if r["mean"] is None:
                continue
            where = f"{m} at {r['n_train']:,} images ({r['mean'] * 100:.1f} points)"
            ci = r["ci95"]
            if ci is not None and ci[0] >= LARGE_GAP:
                large.append(where)
            elif ci is not None and ci[1] < LARGE_GAP:
                small.append(where)
            else:
                unsure.append(where)
    if not (large or small or unsure):
        return []
    rule = f"at least {LARGE_GAP * 100:.0f} points with the whole 95% interval"
    out = [
        f"On {cfg.dataset}, the textbook's large gap ({rule}) shows for {'; '.join(large)}."
        if large
        else f"On {cfg.dataset}, no model and size here shows the textbook's large gap ({rule})."
    ]
    if small:
        out.append(f"It does not for {'; '.join(small)}: the whole interval is below that.")
    if unsure:
        out.append(
            f"Undecided (an interval across {LARGE_GAP * 100:.0f} points, or one seed): "
            f"{'; '.join(unsure)}."
        )
    return out


def _pts(ci: stats.CI) -> str:
    return stats.describe_ci(ci, unit=" points")


def _explain_sizes(h: Headline) -> list[str]:
    """The gap against the number of training images: where the textbook's large gap is."""
    rows = [r for r in h.get("gap_by_n_train", []) if r["mean"] is not None]
    if len(rows) < 2:
        return []
    few, many = rows[0], rows[-1]
    out = [
        f"With {few['n_train']:,} training images the gap is {_pts(few)}; with "
        f"{many['n_train']:,} it is {_pts(many)}."
    ]
    if few["ci95"] is None or many["ci95"] is None:
        out.append(
            "With one seed there is no interval: these runs cannot tell whether the gap "
            "changes with the number of images (more seeds would)."
        )
    elif few["ci95"][0] <= many["ci95"][1] and many["ci95"][0] <= few["ci95"][1]:
        out.append(
            "The intervals overlap: these runs cannot tell whether the gap changes with the "
            "number of images (more seeds would)."
        )
    elif stats.mean_of(few) > stats.mean_of(many):
        out.append(
            "The gap shrinks as images are added: the locality prior pays most when data are "
            "few — a sample-efficiency advantage, a mild constraint when data are abundant."
        )
    else:
        out.append(
            "The gap does not shrink with more images here, unlike the textbook's "
            "sample-efficiency account."
        )
    return out


def _explain_heads(cfg: Config, h: Headline) -> list[str]:
    """What the head does: a flatten head can re-learn pixel order, a GAP head cannot."""
    models = h.get("models", {})
    flat, gap = (models[m]["drop"]["mean"] if m in models else None for m in CNNS)
    if flat is None or gap is None:
        return []
    fl, gp = flat * 100, gap * 100
    verdict = (
        "averaging over positions leaves no dense layer to re-learn where each pixel went, "
        "so the GAP head depends on locality more"
        if gp > fl
        else "the GAP head does not lose more here, although it has no dense layer to "
        "re-learn the pixel order"
    )
    return [
        f"With a global-average-pool head the CNN (depth {cfg.cnn_depth}) loses {gp:.1f} "
        f"points; with a flatten head, {fl:.1f}: {verdict}."
    ]


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
    runs = _named(runs)
    return runs.assign(condition=[condition(cfg.dataset, b) for b in runs["block"]])


def gap_rows(cfg: Config, results: Results):
    """One row per CNN, size and seed: that seed's gap (for the size chart and its export)."""
    import pandas as pd

    runs, permuted = _named(results.runs), canonical_block(cfg.dataset, cfg.block)
    rows = []
    for m in (m for m in cfg.models if m in CNNS and "mlp" in cfg.models):
        for n in sizes(cfg):
            cnn_d, mlp_d = _drops(runs, m, permuted, n), _drops(runs, "mlp", permuted, n)
            rows += [
                {
                    "model": m,
                    "images": images(cfg.dataset, n),
                    "seed": s,
                    "gap": cnn_d[s] - mlp_d[s],
                }
                for s in sorted(cnn_d.keys() & mlp_d.keys())
            ]
    return pd.DataFrame(rows, columns=["model", "images", "seed", "gap"])


def charts(cfg: Config, results: Results) -> dict:
    from cnnexp import figures

    try:
        images, titles, cols = sample_images(cfg)
        out = {"samples": figures.image_grid(images, titles, cols=cols)}
    except data.DataError:  # a full dataset whose files are not here: the page says which
        out = {}
    if results.runs.empty:
        return out
    runs = _conditions(cfg, results.runs)
    runs = runs[runs["n_train"] == cfg.n_train]  # the size sweep has its own chart
    order = [condition(cfg.dataset, b) for b in blocks(cfg)]
    gaps = gap_rows(cfg, results)
    if len(gaps["images"].unique()) >= 2:
        out["gap_by_size"] = figures.points_ci(
            gaps.assign(gap=gaps["gap"] * 100),
            "images",
            "gap",
            "model",
            log_x=True,
            colour_order=[m for m in cfg.models if m in CNNS],
            title="The locality prior's worth against the number of training images",
            x_title="training images (log)",
            y_title="gap: CNN drop − MLP drop (points)",
            percent=False,
        )
    main = runs[runs["block"].isin([INTACT, canonical_block(cfg.dataset, cfg.block)])]
    if not main.empty:  # only the size sweep saved: no empty axes for the main comparison
        out.update(_main_charts(cfg, results, main, order))
    if cfg.strength_blocks and not runs.empty:
        side = max(data.info(cfg.dataset).shape[1:])
        sweep = runs.assign(tile=[b or side for b in runs["block"]])
        out["strength"] = figures.points_ci(
            sweep,
            "tile",
            "test_acc",
            "variant",
            log_x=True,
            colour_order=list(cfg.models),
            title="Accuracy as locality is taken away",
            x_title="tile side b (pixels shuffled within b×b; log)",
            y_title="test accuracy",
        )
    return out


def _main_charts(cfg: Config, results: Results, main, order: list[str]) -> dict:
    """Intact against scrambled at the main size: final accuracy and per-epoch curves."""
    from cnnexp import figures

    out = {}
    out["accuracy"] = figures.dots_ci(
        main,
        "variant",
        "test_acc",
        "condition",
        colour_order=order[:2],
        x_order=list(cfg.models),
        title="Test accuracy, intact vs scrambled",
        x_title="model",
        y_title="test accuracy",
    )
    metrics = results.metrics()
    metrics = _named(metrics)
    metrics = metrics[
        metrics["block"].isin(main["block"].unique()) & (metrics["n_train"] == cfg.n_train)
    ]
    metrics = metrics.assign(  # per row, not as columns: text + an empty list fails in pandas 3
        condition=[
            f"{v} · {condition(cfg.dataset, b)}"
            for v, b in zip(metrics["variant"], metrics["block"], strict=True)
        ]
    )
    out["test_accuracy_per_epoch"] = figures.curves(
        metrics, "acc", colour="condition", splits=("test",), title="Test accuracy per epoch"
    )
    return out


def tables(cfg: Config, results: Results) -> dict:
    out = results.tidy()
    if not out["runs"].empty:
        out["runs"] = _conditions(cfg, out["runs"])
    out["gap_by_size"] = gap_rows(cfg, results)
    return out
