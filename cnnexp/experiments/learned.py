"""Do networks that are not given the convolution's priors learn them from data?

A convolution assumes two things: a unit sees a small window (locality) and every position
uses the same filter (weight sharing). An MLP assumes neither; a locally connected network
assumes locality but not sharing. Train all three with comparable first layers (an MLP's
hidden layer over the whole image; k×k windows with their own filters at every position; k×k
filters shared by every position), with and without shift augmentation, on a few
training-set sizes, and measure each first layer trained and at initialisation (the same
weights, re-created from the run's seed by cnnexp.inspection): the MLP's locality and the
locally connected layer's sharing (cnnexp/priors.py defines both). A convolution scores 1 on
both by construction; where do the others start, and how far does training move them?

Published: fully connected nets on translation-invariant data with non-Gaussian statistics
develop localised receptive fields (Ingrosso & Goldt, PNAS 2022, arXiv 2202.00565); locally
connected nets trained on translated data learn an approximate sharing (Ott et al. 2020,
arXiv 1909.11483), but translation augmentation alone did not close their gap to convolution
(Pogodin et al., NeurIPS 2021, arXiv 2106.13031).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Literal, NamedTuple, TypedDict

from pydantic import Field, model_validator

from cnnexp import catalog, data, stats
from cnnexp.config import MAX_AUGMENT_SHIFT, ExperimentFields, Model, TrainSetup, param
from cnnexp.data import DatasetName
from cnnexp.results import Results
from cnnexp.runspec import RunContext, RunOutput, RunSpec

if TYPE_CHECKING:  # torch and pandas load where the work is: Home imports this module
    import pandas as pd

    from cnnexp import priors
    from cnnexp.inspection import FirstWeights

NAME = "learned"
TITLE, SUMMARY, headline_text = catalog.identity(NAME)  # cnnexp/catalog.py: Home reads it
VERSION = 1
TINY = {
    "dataset": "digits",
    "epochs": 1,
    "kernel": 3,
    "width": 4,
    "mlp_width": 16,
    "shifts": (0, 1),
    "n_trains": (200,),
}

MODELS = ("mlp", "local", "cnn")
Metric = Literal["locality", "sharing", "ipr"]  # the keys of a Condition that hold Stages
METRICS: tuple[Metric, ...] = ("locality", "sharing", "ipr")  # cnnexp/priors.py: measure
STAGES = ("init", "trained", "change")  # before the first step, after the last, the difference
STAGE_LABEL = {
    "init": "at initialisation",
    "trained": "trained",
    "change": "the change (trained − init)",
}
Shift = Annotated[int, Field(ge=0, le=MAX_AUGMENT_SHIFT)]
Images = Annotated[int, Field(ge=10, le=60000)]


class Config(ExperimentFields):
    dataset: DatasetName = param(
        "mnist5k",
        "Dataset: mnist5k (28×28 digits, shipped), digits (8×8), shapes (glyphs at random "
        "positions), or mnist / fashion_mnist / cifar10 from the data folder",
        group="Data",
    )
    models: tuple[Model, ...] = param(
        MODELS,
        "Models to train: mlp (one hidden layer over the whole image), local (k×k windows, "
        "their own filters at every position), cnn (k×k filters shared by every position); "
        "each with one hidden layer, then a linear classifier",
        group="Models",
    )
    kernel: int = param(
        5,
        "Window side k: the kernel of the local and conv layers (no padding: every unit sees a "
        "whole k×k window), and the window in which the MLP's locality is measured",
        ge=2,
        le=9,
        options=(3, 5, 7),
        group="Models",
        label="Window side k",
    )
    width: int = param(
        8,
        "Filters at every position of the local and conv layers (then batch norm, ReLU, 2×2 "
        "max pooling)",
        ge=1,
        le=32,
        options=(4, 8, 16, 32),
        group="Models",
        label="Filters (local, cnn)",
    )
    mlp_width: int = param(
        64,
        "Hidden units of the MLP's one hidden layer",
        ge=1,
        le=1024,
        options=(16, 32, 64, 128, 256),
        group="Models",
        label="MLP hidden units",
    )
    shifts: tuple[Shift, ...] = param(
        (0, 3),
        "Shift augmentation: train each model with random shifts of every training image by "
        "up to this many pixels (0 = none)",
        options=(0, 1, 2, 3, 4, 6, 8),
        group="Conditions",
        label="Shift augmentation (px)",
    )
    n_trains: tuple[Images, ...] = param(
        (1000, 4000),
        "Training-set sizes (class-balanced per seed; a size at or beyond the training split "
        "means all of it)",
        options=(100, 300, 1000, 2000, 4000, 10000, 60000),
        group="Conditions",
        label="Training images",
    )
    # Measured (python -m bench.defaults learned --threads 1, loaded 2-core VM, BENCHMARKS.md):
    # 36 runs, 89 CPU-s at 4 epochs, 69–73 at 3; the locally connected runs are 70% of it.
    # At 3 the MLP's trained window share is 0.082 (95% CI 0.078–0.085), at 4 0.087: the same
    # story, inside the 90 s budget with room.
    epochs: int = param(
        3,
        "Passes over the largest training set; a smaller set trains for as many optimisation "
        "steps (more passes), so the sizes differ only in how many distinct images they see",
        ge=1,
        le=200,
        group="Training",
    )

    @model_validator(mode="after")
    def _check(self) -> Config:
        for name, allowed in (
            ("models", "one or more of mlp, local, cnn"),
            ("shifts", f"one or more shifts from 0 to {MAX_AUGMENT_SHIFT}"),
            ("n_trains", "one or more sizes from 10 to 60000"),
        ):
            if not getattr(self, name):
                raise ValueError(f"{name} is empty; allowed: {allowed}")
        for model in self.models:  # raises with the reason when a model does not fit
            setup_for(self, model, sizes(self)[0], self.shifts[0])
        return self


# --- the plan ---------------------------------------------------------------------------------
def images(dataset: str, n_train: int) -> int:
    return n_train or data.info(dataset).n_train


def sizes(cfg: Config) -> list[int]:
    """Every n_train of the plan, fewest images first (0: the whole training split)."""
    full = data.info(cfg.dataset).n_train
    return sorted({0 if n >= full else n for n in cfg.n_trains}, key=lambda n: n or full)


def steps(cfg: Config) -> int:
    """Optimisation steps of every run: the Epochs setting over the largest training set."""
    return cfg.epochs * len(data.batch_slices(images(cfg.dataset, sizes(cfg)[-1]), cfg.batch_size))


def epochs_for(cfg: Config, n_train: int) -> int:
    """Passes over n_train images that make at least steps(cfg) optimisation steps."""
    batches = len(data.batch_slices(images(cfg.dataset, n_train), cfg.batch_size))
    return math.ceil(steps(cfg) / batches)


def setup_for(cfg: Config, model: str, n_train: int, shift: int) -> TrainSetup:
    """One hidden layer each: a dense layer, or k×k windows without padding (the units whose
    windows lie inside the image, as the MLP's locality counts windows)."""
    return TrainSetup(
        dataset=cfg.dataset,
        n_train=n_train,
        model=model,
        width=cfg.mlp_width if model == "mlp" else cfg.width,
        depth=1,
        kernel=cfg.kernel,
        padding="valid",
        epochs=epochs_for(cfg, n_train),
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        augment_shift=shift,
    ).normalized()


def shift_label(shift: float) -> str:
    """A shift in words; a table's column may hold it as a float (3.0): shown as 3."""
    return "no augmentation" if shift == 0 else f"shifts up to ±{int(shift)} px"


def condition_label(cfg: Config, n_train: int, shift: int) -> str:
    return f"{images(cfg.dataset, n_train):,} images · {shift_label(shift)}"


def condition_of(spec: RunSpec) -> str:
    """The condition part of a run's label (its label is 'model · condition')."""
    return spec.label.split(" · ", 1)[1]


def spec_for(cfg: Config, model: str, n_train: int, shift: int, seed: int) -> RunSpec:
    # The window is the experiment's own key: an MLP's setup forgets the kernel (normalized).
    run = {**setup_for(cfg, model, n_train, shift).canonical(), "window": cfg.kernel}
    return RunSpec(NAME, VERSION, run, seed, f"{model} · {condition_label(cfg, n_train, shift)}")


def plan(cfg: Config) -> list[RunSpec]:
    return [
        spec_for(cfg, m, n, s, seed)
        for m in cfg.models
        for n in sizes(cfg)
        for s in cfg.shifts
        for seed in cfg.seed_list()
    ]


def budget_text(cfg: Config) -> str:
    parts = [f"{images(cfg.dataset, n):,} images × {epochs_for(cfg, n)} epochs" for n in sizes(cfg)]
    return (
        f"Every run trains about {steps(cfg):,} steps (batches of {cfg.batch_size}): "
        + "; ".join(parts)
        + ". A size differs only in how many distinct images those steps see."
    )


# --- one run ----------------------------------------------------------------------------------
def initial_first_layer(spec: RunSpec, data_dir: str | None = None) -> FirstWeights:
    """spec's first layer before its first step, re-created from its seed by
    cnnexp.inspection (as the engine builds it: the seed, then the model, on the CPU)."""
    from cnnexp import inspection

    subj = inspection.subject(spec, data_dir)
    return inspection.first_weights(inspection.initial_model(subj), subj.x_test.shape[1:])


def prior_rows(model: str, init: FirstWeights, trained: FirstWeights, window: int) -> list[dict]:
    """The `prior` table of one run: each metric of its first layer at each stage."""
    from cnnexp import priors
    from cnnexp.inspection import FirstWeights

    change = FirstWeights(trained.kind, trained.weights - init.weights, trained.out_size)
    return [
        {"model": model, "metric": metric, "stage": stage, "value": value}
        for stage, fw in zip(STAGES, (init, trained, change), strict=True)
        for metric, value in priors.measure(_kind(fw), fw.weights, window, fw.out_size).items()
    ]


def _kind(fw: FirstWeights) -> priors.Kind:
    """The first layer's kind as priors.measure names it (inspection stores it as text)."""
    if fw.kind not in ("linear", "local", "conv"):
        raise ValueError(f"unknown first layer kind {fw.kind!r}; allowed: linear, local, conv")
    return fw.kind  # type: ignore[return-value]  # checked just above


def execute(spec: RunSpec, ctx: RunContext) -> RunOutput:
    from cnnexp import engine, inspection

    config = dict(spec.config)
    window = config.pop("window")
    setup = TrainSetup.model_validate(config)
    result, _, out = engine.run_training(setup, spec.seed, ctx)
    if result.status != "done":
        return out
    shape = data.info(setup.dataset).shape
    trained = inspection.first_weights(result.model.cpu(), shape)
    init = initial_first_layer(spec, ctx.data_dir)
    out.tables["prior"] = prior_rows(setup.model, init, trained, window)
    return out


# --- at initialisation, without training (the page's instant part) ----------------------------
def init_rows(cfg: Config) -> list[dict]:
    """Every metric of every model's first layer at initialisation, for each seed of the
    plan: the `init` rows its runs will save, re-created from the seeds without training."""
    from cnnexp import priors

    rows = []
    for model in cfg.models:
        for seed in cfg.seed_list():
            spec = spec_for(cfg, model, sizes(cfg)[-1], cfg.shifts[0], seed)
            fw = initial_first_layer(spec)
            rows += [
                {"model": model, "seed": seed, "metric": metric, "stage": "init", "value": v}
                for metric, v in priors.measure(
                    _kind(fw), fw.weights, cfg.kernel, fw.out_size
                ).items()
            ]
    return rows


def init_key(cfg: Config) -> str:
    """What init_rows follow from, as text (the page caches them by it): the layers' shapes
    and the seeds, not the training settings."""
    fields = ("dataset", "models", "kernel", "width", "mlp_width", "seeds", "seed")
    return cfg.model_dump_json(include=set(fields))


def saved_init_rows(cfg: Config, results: Results) -> list[dict] | None:
    """init_rows as the plan's saved runs recorded them, when they cover every model and seed
    (None otherwise): a page that shows saved results then needs no torch. Any condition's run
    will do: a layer at initialisation follows from its shape and seed alone."""
    table = results.table("prior") if not results.runs.empty else None
    if table is None or table.empty:
        return None
    init = table[table["stage"] == "init"].drop_duplicates(["model", "seed", "metric"])
    if set(zip(init["model"], init["seed"], strict=True)) != {
        (m, s) for m in cfg.models for s in cfg.seed_list()
    }:
        return None
    return init[["model", "seed", "metric", "stage", "value"]].to_dict("records")


def init_summary(cfg: Config, rows: list[dict]) -> dict[str, dict[str, stats.CI]]:
    """metric -> model -> its CI over seeds (cnnexp.stats.mean_ci) at initialisation."""
    out: dict[str, dict[str, stats.CI]] = {}
    for metric in METRICS:
        for model in cfg.models:
            values = [r["value"] for r in rows if r["model"] == model and r["metric"] == metric]
            if values:
                out.setdefault(metric, {})[model] = stats.mean_ci(values)
    return out


def chance(cfg: Config) -> float:
    """The sharing of random filters shaped as the locally connected layer's (priors)."""
    from cnnexp import priors

    channels = data.info(cfg.dataset).shape[0]
    return priors.chance_sharing(cfg.width, channels * cfg.kernel**2)


def explain_init(cfg: Config, init: dict[str, dict[str, stats.CI]]) -> str:
    """What the layers are before any training, from the seeds."""
    k, (c, h, w) = cfg.kernel, data.info(cfg.dataset).shape
    parts = []
    if "mlp" in init.get("locality", {}):
        parts.append(
            f"the **MLP**'s hidden units hold {num(init['locality']['mlp'])} of their weight "
            f"energy in their best {k}×{k} window (spread evenly: {k * k / (h * w):.3f}, "
            f"{k}² of {h * w} pixels) and have an IPR of {num(init['ipr']['mlp'], 4)} "
            f"(evenly spread: 1/{c * h * w} = {1 / (c * h * w):.4f})"
        )
    if "local" in init.get("sharing", {}):
        parts.append(
            f"each **locally connected** filter's best match among the {cfg.width} filters at "
            f"another position has a cosine of {num(init['sharing']['local'])}, what random "
            f"filters of its shape give ({chance(cfg):.3f}; 0 would need them orthogonal)"
        )
    if not parts:
        return ""
    return (
        "At initialisation, before any training: "
        + "; ".join(parts)
        + ". A convolution is 1 on both by construction: one k×k filter bank, used at every "
        "position."
    )


def init_gflop(cfg: Config) -> float:
    """Compute of init_rows, for the server's probe budget: building each model (a draw per
    parameter) and comparing a locally connected layer's filters (priors.sharing)."""
    from cnnexp import priors

    c, h, w = data.info(cfg.dataset).shape
    side = (h - cfg.kernel + 1, w - cfg.kernel + 1)
    d = c * cfg.kernel**2
    flop = 0.0
    for model in cfg.models:
        flop += 10 * sum(layer.params for layer in setup_for(cfg, model, 0, 0).layers())
        if model == "local":
            n = len(priors.grid_positions(*side, priors.sharing_side(cfg.width))) * cfg.width
            flop += 2 * n * n * d
    return cfg.seeds * flop / 1e9


def init_problem(cfg: Config, cap_gflop: float | None) -> str | None:
    """None when init_rows fits the server's probe budget, else the refusal to show."""
    cost = init_gflop(cfg)
    if cap_gflop is None or cost <= cap_gflop:
        return None
    return (
        f"Measuring the layers at initialisation needs {cost:,.1f} GFLOP of compute here; this "
        f"server allows {cap_gflop:,.1f} per view. Lower the seeds, filters or MLP hidden units."
    )


# --- headline ---------------------------------------------------------------------------------
class Stages(TypedDict):
    """One metric of one model, each a CI over seeds (cnnexp.stats.mean_ci)."""

    init: stats.CI
    trained: stats.CI
    change: stats.CI


class Condition(TypedDict):
    images: int  # training images
    shift: int  # the augmentation's largest shift in pixels (0: none)
    locality: dict[str, Stages]  # model -> its first layer's mean window share
    ipr: dict[str, Stages]  # model -> its first layer's mean IPR
    sharing: dict[str, Stages]  # local and cnn only: an MLP's layer has no positions
    accuracy: dict[str, stats.CI]  # model -> test accuracy (stats.share_ci: within 0 and 1)


class Headline(Condition):
    """The main condition's figures (the most images, the smallest shift) and every
    condition's; the window side and the sharing of random filters of the same shape."""

    window: int
    chance_sharing: float
    conditions: list[Condition]


def _prior(results: Results) -> pd.DataFrame:
    return results.table("prior") if not results.runs.empty else results.runs


def _condition(cfg: Config, runs, prior, n_train: int, shift: int) -> Condition:
    def mine(df):
        if df.empty:
            return df
        return df[(df["n_train"] == n_train) & (df["augment_shift"] == shift)]

    runs, prior = mine(runs), mine(prior)
    out: Condition = {
        "images": images(cfg.dataset, n_train),
        "shift": shift,
        "locality": {},
        "ipr": {},
        "sharing": {},
        "accuracy": {},
    }
    for m in cfg.models:
        acc = runs[runs["model"] == m]["test_acc"] if len(runs) else []
        out["accuracy"][m] = stats.share_ci(acc)
        for metric in METRICS:
            if metric == "sharing" and m == "mlp":
                continue
            sub = (
                prior[(prior["model"] == m) & (prior["metric"] == metric)] if len(prior) else prior
            )

            def at(stage: str, sub=sub) -> stats.CI:
                return stats.mean_ci(sub[sub["stage"] == stage]["value"] if len(sub) else [])

            out[metric][m] = {"init": at("init"), "trained": at("trained"), "change": at("change")}
    return out


def summarize(cfg: Config, results: Results) -> Headline:

    runs, prior = results.runs, _prior(results)
    conditions = [_condition(cfg, runs, prior, n, s) for n in sizes(cfg) for s in cfg.shifts]
    main = _condition(cfg, runs, prior, sizes(cfg)[-1], min(cfg.shifts))
    return {**main, "window": cfg.kernel, "chance_sharing": chance(cfg), "conditions": conditions}


# --- what the numbers say ---------------------------------------------------------------------
def num(ci: stats.CI, digits: int = 3) -> str:
    """A CI as a plain number with its interval: '0.123 (95% CI 0.110–0.136, 3 seeds)'."""
    return stats.describe_ci(ci, scale=1, unit="", digits=digits)


def moved(before: stats.CI, after: stats.CI) -> str:
    """'rose', 'fell' or 'unclear' (intervals that overlap, or one seed): paired runs would be
    sharper, but the intervals of the two stages are what the charts show."""
    a, b = before["ci95"], after["ci95"]
    if a is None or b is None:
        return "unclear"
    if b[0] > a[1]:
        return "rose"
    if b[1] < a[0]:
        return "fell"
    return "unclear"


def _verdict(how: str, one_seed: bool) -> str:
    if how == "unclear":
        return (
            "one seed gives no interval, so these runs cannot say whether it moved"
            if one_seed
            else "the intervals overlap: these runs cannot tell it from no change"
        )
    return f"it {how} clearly (the 95% intervals do not overlap)"


def explain(cfg: Config, h: Headline) -> str:
    """What the numbers on screen say, whichever way they fall, and what is published."""
    out = [f"At {h['images']:,} training images, {shift_label(h['shift'])}:"]
    loc = h["locality"].get("mlp")
    if loc and loc["trained"]["mean"] is not None:
        out.append(_explain_locality(h, loc, data.info(cfg.dataset).shape))
    share = h["sharing"].get("local")
    if share and share["trained"]["mean"] is not None:
        out.append(_explain_sharing(h, share))
    out += _explain_conditions(h)
    accs = [
        f"{m} {stats.describe_ci(c)}" for m, c in h["accuracy"].items() if c["mean"] is not None
    ]
    if accs:
        out.append("Test accuracy: " + "; ".join(accs) + ".")
    out.append(_against_published(h))
    return "\n\n".join(out)


def _explain_locality(h: Headline, loc: Stages, shape: tuple[int, int, int]) -> str:
    init, trained, change = loc["init"], loc["trained"], loc["change"]
    k, one = h["window"], trained["ci95"] is None
    pixels, weights = shape[1] * shape[2], shape[0] * shape[1] * shape[2]
    text = (
        f"The **MLP**'s hidden units hold {num(init)} of their weight energy in their best "
        f"{k}×{k} window at initialisation (spread evenly it would be {k * k / pixels:.3f}, "
        f"{k}² of {pixels} pixels; the best of many windows holds a little more) and "
        f"{num(trained)} trained: {_verdict(moved(init, trained), one)}."
    )
    if change["mean"] is not None:
        text += (
            f" What training added to the weights (trained − init) holds {num(change)} of its "
            "energy in one window"
            + (
                ": the update itself is local, but the random initial weights, spread over the "
                "whole image, still dominate the trained unit"
                if change["mean"] > 2 * stats.mean_of(trained)
                else ""
            )
            + "."
        )
    text += " A convolutional or locally connected unit holds all of it (1) by construction."
    ipr = h["ipr"].get("mlp")
    if ipr and ipr["trained"]["mean"] is not None:
        text += (
            f" The inverse participation ratio (1/{weights} = {1 / weights:.4f} evenly spread, "
            f"1 on one weight) goes from {num(ipr['init'], 4)} to {num(ipr['trained'], 4)}."
        )
    return text


def _explain_sharing(h: Headline, share: Stages) -> str:
    init, trained, change = share["init"], share["trained"], share["change"]
    one = trained["ci95"] is None
    text = (
        f"The **locally connected** layer's filters match those at other positions with a "
        f"best cosine of {num(init)} at initialisation (random filters of this shape: "
        f"{h['chance_sharing']:.3f}) and {num(trained)} trained: "
        f"{_verdict(moved(init, trained), one)}. A convolution shares exactly (1)."
    )
    if change["mean"] is not None:
        text += (
            f" The change training made to the filters matches across positions at {num(change)}: "
            + (
                "training pushed the filters at different positions in similar directions (part "
                "of that can be a common offset, all weights of a filter moving together), but "
                "not far enough from their random start to make the filters alike"
                if change["mean"] > h["chance_sharing"] + 0.05
                else "no more alike than random filters"
            )
            + "."
        )
    return text


def _trained(c: Condition, metric: Metric, model: str) -> stats.CI | None:
    """The trained CI of one metric of one model in a condition, if it has a value."""
    got = c[metric].get(model)
    return got["trained"] if got and got["trained"]["mean"] is not None else None


def _explain_conditions(h: Headline) -> list[str]:
    """The MLP's trained locality and the local layer's trained sharing against shift
    augmentation (at the most images) and against the number of images (no augmentation)."""
    conds = h["conditions"]
    most, least = max(c["images"] for c in conds), min(c["images"] for c in conds)
    low, high = min(c["shift"] for c in conds), max(c["shift"] for c in conds)

    def at(images: int, shift: int) -> Condition:
        return next(c for c in conds if c["images"] == images and c["shift"] == shift)

    out = []
    trio: tuple[tuple[str, Metric, str], ...] = (
        ("mlp", "locality", "the MLP's window share"),
        ("local", "sharing", "the local layer's sharing"),
    )
    for model, metric, what in trio:
        pairs = []
        if high != low:
            pairs.append((at(most, low), at(most, high), f"with {shift_label(high)}"))
        if most != least:
            pairs.append((at(most, low), at(least, low), f"with {least:,} images"))
        for base, other, how in pairs:
            a, b = _trained(base, metric, model), _trained(other, metric, model)
            if a is None or b is None:
                continue
            verdict = {"rose": "higher", "fell": "lower"}.get(moved(a, b), "")
            said = (
                f"clearly {verdict} (the intervals do not overlap)"
                if verdict
                else "not clearly different (the intervals overlap, or one seed ran)"
            )
            out.append(f"- {how}, {what} is {num(b)} against {num(a)}: {said};")
    if not out:
        return []
    base = at(most, low)
    lead = f"Against the trained layers at {base['images']:,} images, {shift_label(base['shift'])}:"
    return [lead + "\n" + "\n".join(out).removesuffix(";") + "."]


def _against_published(h: Headline) -> str:
    """What is published, and whether the numbers here go the same way."""
    loc, share = h["locality"].get("mlp"), h["sharing"].get("local")
    text = (
        "**Published.** Fully connected networks trained on translation-invariant images with "
        "non-Gaussian statistics develop localised receptive fields that tile the image "
        "(Ingrosso & Goldt, PNAS 2022, arXiv 2202.00565; they measure it with the "
        "participation ratio)."
    )
    if loc and loc["trained"]["mean"] is not None:
        text += (
            " Ours go the same way, far from the end point: the MLP's units become more local "
            f"with training, yet hold {loc['trained']['mean']:.0%} of their weight energy in one "
            "window where a convolution holds all of it."
            if moved(loc["init"], loc["trained"]) == "rose"
            else " Ours do not show it at these settings: the MLP's units are not clearly more "
            "local after training."
        )
    text += (
        " Locally connected networks trained on translated data learn an approximate weight "
        "sharing (Ott et al. 2020, arXiv 1909.11483), though translation augmentation alone did "
        "not close their gap to convolution (Pogodin et al., NeurIPS 2021, arXiv 2106.13031)."
    )
    if share and share["trained"]["mean"] is not None:
        rose = [
            c
            for c in h["conditions"]
            if (s := c["sharing"].get("local")) and moved(s["init"], s["trained"]) == "rose"
        ]
        text += (
            f" Ours show it in {len(rose)} of {len(h['conditions'])} conditions: there the "
            "trained filters are clearly more alike across positions than at initialisation."
            if rose
            else f" Ours do not, in any of the {len(h['conditions'])} conditions here: the "
            "trained filters are no more alike across positions than at initialisation."
        )
    return text + " Their networks trained far longer, on more data, than the runs here."


# --- charts -----------------------------------------------------------------------------------
def _named(cfg: Config, df):
    """A table of runs or of their `prior` rows with the charts' columns: images, the
    augmentation in words, and (prior rows) the stage in words."""
    df = df.assign(
        images=[images(cfg.dataset, n) for n in df["n_train"]],
        augmentation=[shift_label(s) for s in df["augment_shift"]],
    )
    return df.assign(stage_label=[STAGE_LABEL[s] for s in df["stage"]]) if "stage" in df else df


def stages_chart(prior, metric: str, models: Sequence[str], chance: float | None = None):
    """Init against trained (and the change) of one metric per model: the mean over seeds
    with its 95% interval, every seed a small dot."""
    from cnnexp import figures

    df = prior[prior["metric"] == metric]
    title, y = METRIC_TITLE[metric]
    fig = figures.dots_ci(
        df,
        "model",
        "value",
        "stage_label",
        colour_order=[STAGE_LABEL[s] for s in STAGES],
        x_order=[m for m in models if m in set(df["model"])],
        title=title,
        x_title="model",
        y_title=y,
        percent=False,
    )
    if chance is not None:
        fig.add_hline(
            y=chance, line_dash="dot", line_color="#94a3b8", annotation_text="random filters"
        )
    if metric in ("ipr", "locality"):  # 0.002 beside 0.1, 0.05 beside 1: tenfold steps
        ticks = [m * 10.0**e for e in range(-4, 1) for m in (1, 2, 5) if m * 10.0**e <= 1]
        fig.update_yaxes(type="log", range=None, autorange=True, tickvals=ticks)
    return fig


METRIC_TITLE = {
    "locality": ("Locality: share of weight energy in the best k×k window (log)", "window share"),
    "sharing": ("Weight sharing: best cosine with the filters at other positions", "sharing"),
    "ipr": ("Concentration: inverse participation ratio (log)", "IPR"),
}


INIT_SERIES = "at initialisation (the same for every augmentation)"


def by_size_chart(prior, metric: str, model: str, title: str, chance: float | None = None):
    """One metric of one model against the number of training images: a line per
    augmentation, trained, and one for the layer at initialisation (which no augmentation or
    training set changes: the runs of the smallest shift give it); 95% bands over seeds."""
    import pandas as pd

    from cnnexp import figures

    df = prior[(prior["metric"] == metric) & (prior["model"] == model)]
    trained = df[df["stage"] == "trained"].assign(series=lambda d: d["augmentation"])
    init = df[(df["stage"] == "init") & (df["augment_shift"] == df["augment_shift"].min())]
    # colours in the order of the shifts, the same in every chart
    both = [shift_label(x) for x in sorted(trained["augment_shift"].unique())] + [INIT_SERIES]
    fig = figures.lines_ci(
        pd.concat([trained, init.assign(series=INIT_SERIES)], ignore_index=True),
        "images",
        "series",
        log_x=True,
        markers=True,
        colour_order=both,
        title=title,
        x_title="training images (log)",
        y_title=METRIC_TITLE[metric][1],
    )
    fig.update_xaxes(tickvals=sorted(df["images"].unique()))
    if chance is not None:
        fig.add_hline(
            y=chance, line_dash="dot", line_color="#94a3b8", annotation_text="random filters"
        )
    return fig


def charts(cfg: Config, results: Results) -> dict:
    from cnnexp import figures

    prior = _prior(results)
    if results.runs.empty or prior.empty:
        return {}
    prior = _named(cfg, prior)
    main = prior[(prior["n_train"] == sizes(cfg)[-1]) & (prior["augment_shift"] == min(cfg.shifts))]
    models = list(cfg.models)
    out = {}
    for metric in ("locality", "sharing", "ipr"):
        sub = main[main["metric"] == metric]
        if sub.empty:
            continue
        out[metric] = stages_chart(
            main, metric, models, chance(cfg) if metric == "sharing" else None
        )
    several = prior["images"].nunique() > 1 or prior["augment_shift"].nunique() > 1
    if several:
        for metric, model, title in (
            ("locality", "mlp", "MLP: share of weight energy in the best window"),
            ("sharing", "local", "Locally connected: sharing across positions"),
        ):
            if ((prior["metric"] == metric) & (prior["model"] == model)).any():
                line = chance(cfg) if metric == "sharing" else None
                out[f"{metric}_by_size"] = by_size_chart(prior, metric, model, title, line)
        out["accuracy_by_size"] = figures.lines_ci(
            _named(cfg, results.runs),
            "images",
            "model",
            dash="augmentation",
            value="test_acc",
            log_x=True,
            markers=True,
            percent=True,
            colour_order=[m for m in cfg.models if m in set(results.runs["model"])],
            title="Test accuracy against training images",
            x_title="training images (log)",
            y_title="test accuracy",
        )
        out["accuracy_by_size"].update_xaxes(tickvals=sorted(prior["images"].unique()))
    return out


class _Layers(NamedTuple):
    """What inspection_figures.first_layer reads of an inspection.RunView."""

    first_init: FirstWeights
    first_trained: FirstWeights


def first_layers(store, spec: RunSpec, data_dir: str | None = None) -> _Layers:
    """A saved run's first layer at initialisation and trained, from its saved weights
    (cnnexp.inspection; InspectError, NoWeights among them, when it cannot)."""
    from cnnexp import inspection

    subj, model = inspection.load(store, spec.run_id, data_dir)
    shape = subj.x_test.shape[1:]
    init = inspection.first_weights(inspection.initial_model(subj), shape)
    return _Layers(init, inspection.first_weights(model, shape))


def weights_chart(layers: _Layers):
    """The first layer as images, at initialisation | trained (cnnexp/inspection_figures.py)."""
    from cnnexp import inspection_figures

    return inspection_figures.first_layer(layers)


def tables(cfg: Config, results: Results) -> dict:
    return results.tidy("prior")
