"""Normalization variants: none, batch, layer, group and instance, in the same CNN.

The main comparison trains the five variants with everything else identical. Optional sweeps
repeat it across batch sizes (with the learning rate scaled linearly with the batch), across
learning rates, and at a deeper stack. Inside the network, each block's output statistics
are recorded over training, and for BatchNorm the accuracy with batch statistics (train
mode) is set against the running statistics used at test time.

Why does normalization help? Two explanations are measured side by side: less internal
covariate shift (how much each block's output statistics drift from epoch to epoch), and a
smoother loss landscape (Santurkar et al., NeurIPS 2018): at checkpoints during training, a
step along the gradient by a few multiples of the learning rate, and how much the loss and
the gradient change there (cnnexp/landscape.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NotRequired, TypedDict

from pydantic import Field, ValidationError, model_validator

from cnnexp import catalog, stats
from cnnexp.config import (
    EpochFields,
    ExperimentFields,
    Norm,
    TrainSetup,
    format_errors,
    param,
)
from cnnexp.data import DatasetName
from cnnexp.results import Results
from cnnexp.runspec import RunContext, RunOutput, RunSpec

NAME = "normalization"
TITLE, SUMMARY, headline_text = catalog.identity(NAME)  # cnnexp/catalog.py: Home reads it
VERSION = 2  # 2: loss-landscape measurements during training (a new table; the same training)
NORMS: tuple[str, ...] = ("none", "batch", "layer", "group", "instance")
ACTIVATION_IMAGES = 256  # test images whose activations are measured every epoch
LANDSCAPE_POINTS = 8  # checkpoints over training where the loss landscape is measured
# Step sizes along the gradient, in multiples of the peak learning rate (Santurkar et al.
# step up to a few times the learning rate). Each checkpoint costs 1 + 4 passes on one batch.
LANDSCAPE_STEPS = (0.5, 1.0, 2.0, 4.0)
TINY = {
    "dataset": "digits",
    "epochs": 2,
    "width": 4,
    "groups": 2,
    "norms": ("none", "batch", "group"),
    "batch_sizes": (4, 16),
}

BatchSize = Annotated[int, Field(ge=1, le=4096)]  # BatchNorm's own check refuses 1
Rate = Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)]


class Config(ExperimentFields, EpochFields):
    dataset: DatasetName = param("mnist5k", "Dataset", group="Data")
    n_train: int = param(
        0,
        "Training images to use, class-balanced per seed (0 = all)",
        ge=0,
        le=60000,
        group="Data",
        advanced=True,
        label="Training images",
    )
    norms: tuple[Norm, ...] = param(
        NORMS, "Normalization variants to compare", group="Model", label="Variants"
    )
    groups: int = param(
        4,
        "GroupNorm groups (must divide every layer's channels)",
        ge=1,
        le=512,
        group="Model",
        label="GroupNorm groups",
    )
    width: int = param(
        16,
        "Channels of the first conv layer (doubling at each downsampling)",
        ge=1,
        le=512,
        options=(4, 8, 16, 32, 64),
        group="Model",
    )
    depth: int = param(2, "Conv layers in the main comparison", ge=1, le=16, group="Model")
    batch_size: int = param(
        64,
        "Images per step in the main comparison; the base of the learning-rate rule",
        ge=1,
        le=4096,
        options=(8, 16, 32, 64, 128, 256),
        group="Training",
    )
    batch_sizes: tuple[BatchSize, ...] = param(
        (),
        "Batch-size sweep (empty: off). The learning rate is scaled linearly: lr × B / base "
        "batch size",
        group="Sweeps",
        options=(2, 4, 8, 16, 32, 64, 128, 256),
        label="Batch sizes",
    )
    lrs: tuple[Rate, ...] = param(
        (),
        "Learning-rate sweep at the base batch size (empty: off)",
        group="Sweeps",
        options=(1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1),
        label="Learning rates",
    )
    deep_depth: int = param(
        0,
        "Repeat the comparison at this depth, downsampling after every second layer (0: off)",
        ge=0,
        le=16,
        group="Sweeps",
        label="Deeper stack",
    )

    @model_validator(mode="after")
    def _check(self) -> Config:
        if not self.norms:
            raise ValueError("norms is empty; allowed: one or more of " + ", ".join(NORMS))
        _setups(self)  # building every planned setup checks every combination
        return self


def _setup(cfg: Config, norm: str, **change) -> TrainSetup:
    base = {
        "dataset": cfg.dataset,
        "n_train": cfg.n_train,
        "model": "cnn",
        "width": cfg.width,
        "depth": cfg.depth,
        "norm": norm,
        "groups": cfg.groups,
        "epochs": cfg.epochs,
        "batch_size": cfg.batch_size,
        "lr": cfg.lr,
    }
    try:
        return TrainSetup(**{**base, **change}).normalized()
    except ValueError as e:  # say which part of the plan the message is about
        where = ", ".join(f"{k} {v}" for k, v in change.items()) or "main comparison"
        # pydantic's own text names its class and links its docs: the sentence alone
        said = format_errors(e, TrainSetup) if isinstance(e, ValidationError) else str(e)
        raise ValueError(f"{where}: {said}") from None


def scaled_lr(cfg: Config, batch_size: int) -> float:
    """The linear scaling rule: the learning rate grows with the batch (Goyal et al. 2017)."""
    return cfg.lr * batch_size / cfg.batch_size


# --- the sweeps ------------------------------------------------------------------------------
class Where(TypedDict):
    """The settings that tell a comparison's runs apart from the other comparisons'."""

    depth: int
    batch_size: int
    lr: float


def where(cfg: Config, change: dict | None = None) -> Where:
    """The settings of the main comparison's runs, or of a sweep point's (`change`)."""
    change = change or {}
    return {
        "depth": change.get("depth", cfg.depth),
        "batch_size": change.get("batch_size", cfg.batch_size),
        "lr": change.get("lr", cfg.lr),
    }


@dataclass(frozen=True)
class Sweep:
    """An optional sweep: the main comparison again at other values of one setting."""

    key: Literal["batch_size", "lr", "deep"]  # in the headline, chart names and the page
    setting: str  # the Config field that lists its values (empty or 0: off)
    axis: Literal["depth", "batch_size", "lr"]  # the setting its points differ in
    noun: str  # "… against batch size", "… at depth 8"
    short: str  # a point in a run's label and in a sentence: "batch 4", "lr 0.01"
    x_title: str | None  # its charts' x axis; None: one value, drawn per variant
    chart: str  # the name of its accuracy chart (and of the exported file)
    tab: str  # the page's tab that shows it
    hint: str  # what the page says where it has not run
    change: Callable[[Config, Any], dict]  # the settings a point changes, for its runs

    def values(self, cfg: Config) -> list:
        """Its values as set (the plan's order)."""
        v = getattr(cfg, self.setting)
        return list(v) if isinstance(v, tuple) else [v] if v else []

    def points(self, cfg: Config) -> list[Where]:
        """The settings of each of its points, smallest value first."""
        return [where(cfg, self.change(cfg, x)) for x in sorted(self.values(cfg))]

    def point(self, x: float) -> str:
        return f"{self.short} {x:g}"

    @property
    def charts(self) -> tuple[str, ...]:
        """The names of its accuracy charts (a single depth shows its training loss too)."""
        return (self.chart,) if self.x_title else (self.chart, f"{self.key}_loss")


SWEEPS = (
    Sweep(
        key="batch_size",
        setting="batch_sizes",
        axis="batch_size",
        noun="batch size",
        short="batch",
        x_title="images per batch (log); lr scaled with the batch",
        chart="batch_size",
        tab="Batch size",
        hint="Choose batch sizes under **Sweeps** to run this comparison (small batches take "
        "longer: more steps per epoch).",
        change=lambda cfg, b: {"batch_size": b, "lr": scaled_lr(cfg, b)},
    ),
    Sweep(
        key="lr",
        setting="lrs",
        axis="lr",
        noun="learning rate",
        short="lr",
        x_title="peak learning rate (log)",
        chart="learning_rate",
        tab="Learning rate",
        hint="Choose learning rates under **Sweeps** to see how wide a range trains.",
        change=lambda cfg, lr: {"lr": lr},
    ),
    Sweep(
        key="deep",
        setting="deep_depth",
        axis="depth",
        noun="depth",
        short="depth",
        x_title=None,
        chart="deep_accuracy",
        tab="Deeper stack",
        hint="Set **Deeper stack** under Sweeps (e.g. 8) to repeat the comparison deeper, where "
        "training without normalization should struggle most.",
        change=lambda cfg, d: {"depth": d, "pool_every": 2},  # downsampling every second layer
    ),
)


def select(df, *wheres: Where):
    """The rows of `df` whose settings match any of `wheres`."""
    if df.empty or not wheres:
        return df.iloc[0:0]
    mask: Any = False
    for w in wheres:
        match: Any = True
        for k, v in w.items():
            match = match & (df[k] == v)
        mask = mask | match
    return df[mask]


def _setups(cfg: Config) -> list[tuple[str, TrainSetup]]:
    out: list[tuple[str, TrainSetup]] = [(n, _setup(cfg, n)) for n in cfg.norms]
    for sweep in SWEEPS:
        out += [
            (f"{n} · {sweep.point(x)}", _setup(cfg, n, **sweep.change(cfg, x)))
            for x in sweep.values(cfg)
            for n in cfg.norms
        ]
    return out


def plan(cfg: Config) -> list[RunSpec]:
    specs, seen = [], set()
    for label, setup in _setups(cfg):
        for seed in cfg.seed_list():
            spec = RunSpec(NAME, VERSION, setup.canonical(), seed, label)
            if spec.run_id not in seen:  # a sweep point equal to the main comparison is one run
                seen.add(spec.run_id)
                specs.append(spec)
    return specs


def execute(spec: RunSpec, ctx: RunContext) -> RunOutput:
    from cnnexp import activations, engine, landscape

    setup = TrainSetup.model_validate(spec.config)
    rows: list[dict] = []
    landscape_rows: list[dict] = []

    def measure(epoch: int, model, dd) -> None:
        rows.extend(
            {"epoch": epoch, **r}
            for r in activations.block_stats(model, dd.x_test[:ACTIVATION_IMAGES])
        )

    steps = [m * setup.lr for m in LANDSCAPE_STEPS]
    record_landscape = landscape.recorder(landscape_rows, steps, LANDSCAPE_POINTS)
    result, dd, out = engine.run_training(
        setup, spec.seed, ctx, epoch_hook=measure, step_hook=record_landscape
    )
    out.tables["activations"] = rows
    # Checkpoints on the epoch axis of the other charts (0: before training; "epoch" is the
    # store's whole-number column, so a fractional one gets its own name).
    out.tables["landscape"] = [
        {**r, "epochs_done": r["progress"] * setup.epochs} for r in landscape_rows
    ]
    if setup.norm == "batch" and result.status == "done":
        out.summary["test_acc_train_mode"] = activations.train_mode_accuracy(
            result.model, dd.x_test, dd.y_test, setup.batch_size
        )
    return out


# --- headline ------------------------------------------------------------------------------
class Why(TypedDict):
    """The two explanations' measures of one variant, each over seeds of per-run means."""

    loss_range: stats.CI  # loss max − min along a step of the gradient
    beta: stats.CI  # effective β-smoothness (lower is smoother)
    drift: stats.CI  # epoch-to-epoch change of block outputs' spread (covariate shift)


class SweepPoint(Where):
    """One point of a sweep (its runs' settings), per variant."""

    test_acc: dict[str, stats.CI]
    why: dict[str, Why]


class Modes(TypedDict):
    eval: stats.CI  # BatchNorm tested with its running statistics
    train: stats.CI  # ... with each test batch's own statistics


class Headline(TypedDict):
    """The main comparison per variant, each sweep that ran and BatchNorm's two modes (read by
    the explanations below, the page, cnnexp/catalog.py and cnnexp/readme.py)."""

    final_acc: dict[str, stats.CI]
    why: dict[str, Why]
    batch_size: NotRequired[list[SweepPoint]]  # a sweep's key: its points, smallest first
    lr: NotRequired[list[SweepPoint]]
    deep: NotRequired[list[SweepPoint]]  # one point
    batchnorm_modes: NotRequired[Modes]


def landscape_by_run(results: Results, wheres: Sequence[Where]):
    """Each run's landscape measures averaged over its checkpoints: one row per run and
    measure, with its norm, seed and settings (the runs `wheres` picks)."""
    t = select(results.table("landscape"), *wheres)
    if t.empty:
        return t
    keys = ["run_id", "norm", "seed", "depth", "batch_size", "lr", "measure"]
    return t.groupby(keys, as_index=False)["value"].mean()


def drift_by_run(results: Results, wheres: Sequence[Where]):
    """Covariate shift, measured: how far each block's output spread moves from one epoch
    to the next, |std_e − std_(e−1)| / std_(e−1), averaged over blocks and epochs per run
    (the runs `wheres` picks). From epoch 1 on: at epoch 0 BatchNorm's running statistics
    (used in eval mode, where the statistics are taken) are not yet estimated, and that
    first jump is not a shift."""
    t = select(results.table("activations"), *wheres)
    if t.empty:
        return t
    s = t[(t["stat"] == "std") & (t["epoch"] >= 1)].sort_values("epoch")
    g = s.groupby(["run_id", "layer"])["value"]
    s = s.assign(drift=(g.diff().abs() / g.shift()).to_numpy())
    keys = ["run_id", "norm", "seed", "depth", "batch_size", "lr"]
    per_run = s.groupby(keys, as_index=False)["drift"].mean()
    return per_run.dropna(subset=["drift"])  # one epoch: no change to measure


def _accuracy(cfg: Config, runs, w: Where) -> dict[str, stats.CI]:
    """Each variant's final test accuracy over seeds, in the runs `w` picks."""
    mine = select(runs, w)
    return {
        n: stats.share_ci(mine.loc[mine["norm"] == n, "test_acc"] if len(mine) else [])
        for n in cfg.norms
    }


def _why(cfg: Config, results: Results, w: Where) -> dict[str, Why]:
    """The two explanations' measures per variant, in the runs `w` picks."""
    land, drift = landscape_by_run(results, [w]), drift_by_run(results, [w])

    def landscape(n: str, m: str) -> stats.CI:
        if land.empty:
            return stats.mean_ci([])
        return stats.mean_ci(land[(land["norm"] == n) & (land["measure"] == m)]["value"])

    def shift(n: str) -> stats.CI:
        return stats.mean_ci([] if drift.empty else drift[drift["norm"] == n]["drift"])

    return {
        n: {
            "loss_range": landscape(n, "loss_range"),
            "beta": landscape(n, "beta"),
            "drift": shift(n),
        }
        for n in cfg.norms
    }


def _batchnorm_modes(cfg: Config, runs) -> Modes | None:
    if "batch" not in cfg.norms or "test_acc_train_mode" not in runs:
        return None
    bn = select(runs, where(cfg))
    bn = bn[bn["norm"] == "batch"]
    return {
        "eval": stats.share_ci(bn["test_acc"]),
        "train": stats.share_ci(bn["test_acc_train_mode"]),
    }


def summarize(cfg: Config, results: Results) -> Headline:
    main = where(cfg)
    out: Headline = {
        "final_acc": _accuracy(cfg, results.runs, main),
        "why": _why(cfg, results, main),
    }
    # Each sweep point: accuracy per variant and both explanations' measures.
    for sweep in SWEEPS:
        points: list[SweepPoint] = [
            {**w, "test_acc": _accuracy(cfg, results.runs, w), "why": _why(cfg, results, w)}
            for w in sweep.points(cfg)
        ]
        if points:
            out[sweep.key] = points
    modes = _batchnorm_modes(cfg, results.runs)
    if modes is not None:
        out["batchnorm_modes"] = modes
    return out


# --- what the numbers say -------------------------------------------------------------------
# The page leads with the verdict and puts each part beside its charts; explain is all of it.
def explain(cfg: Config, h: Headline) -> str:
    """What the numbers on screen say, whichever way they fall: every part below."""
    parts = [
        verdict(cfg, h),
        *(explain_sweep(cfg, h, s) for s in SWEEPS),
        explain_modes(cfg, h),
        *(explain_why(h, part) for part in ("landscape", "drift", "both")),
    ]
    return " ".join(p for p in parts if p)


def verdict(cfg: Config, h: Headline) -> str:
    """One sentence: where the variants end in the main comparison, and whether these seeds
    can rank them."""
    means = {n: c["mean"] for n, c in h["final_acc"].items() if c["mean"] is not None}
    if len(means) < 2:  # nothing to rank
        return "".join(f"At depth {cfg.depth}, {n} ends at {m:.1%}." for n, m in means.items())
    best, worst = max(means, key=means.__getitem__), min(means, key=means.__getitem__)
    top, bottom = h["final_acc"][best], h["final_acc"][worst]
    if top["ci95"] is None or bottom["ci95"] is None:
        rank = "with one seed there is no interval, so these runs cannot rank them"
    elif _compare(top, bottom) > 0:
        rank = f"{best} is clearly ahead of {worst} (their 95% intervals are apart)"
    else:
        rank = "their 95% intervals intersect, so these runs cannot rank the variants"
    return (
        f"At depth {cfg.depth} the variants end between {means[worst]:.1%} ({worst}) and "
        f"{means[best]:.1%} ({best}): {rank}."
    )


def explain_sweep(cfg: Config, h: Headline, sweep: Sweep) -> str:
    """What a sweep's accuracy shows: its tab's text."""
    points = h.get(sweep.key, [])
    by_sweep = {"batch_size": _explain_batch_sizes, "lr": _explain_lrs, "deep": _explain_deep}
    return by_sweep[sweep.key](cfg, points)


def _explain_batch_sizes(cfg: Config, points: list[SweepPoint]) -> str:
    if len(points) < 2:
        return ""
    small, large = points[0], points[-1]
    means = [(n, small["test_acc"][n]["mean"], large["test_acc"][n]["mean"]) for n in cfg.norms]
    drops = {n: b - a for n, a, b in means if a is not None and b is not None}
    if not drops:
        return ""
    said = ", ".join(
        f"{n} {'loses' if d > 0 else 'gains'} {abs(d) * 100:.1f}" for n, d in drops.items()
    )
    out = [
        f"Going from batch {large['batch_size']} down to batch {small['batch_size']} "
        f"(points of test accuracy): {said}."
    ]
    if drops.get("none", 0) > 0.01:
        out.append(
            "The unnormalized model loses accuracy too, so part of the small-batch "
            "penalty here comes from the schedule (the linearly scaled learning "
            "rate over the same epochs), not from batch statistics."
        )
    if "batch" in drops and "group" in drops:
        out.append(
            "BatchNorm suffers more from small batches than GroupNorm, the shape "
            "Wu & He report on ImageNet."
            if drops["batch"] > drops["group"] + 0.01
            else "Here BatchNorm does not suffer more from small batches than GroupNorm: "
            "the shape Wu & He report on ImageNet does not show at these settings."
        )
    return " ".join(out)


def _explain_lrs(cfg: Config, points: list[SweepPoint]) -> str:
    means = [[p["test_acc"][n]["mean"] for p in points] for n in cfg.norms]
    best = max((m for ms in means for m in ms if m is not None), default=None)
    if best is None:
        return ""
    ok = [sum(1 for m in ms if m is not None and m >= best - 0.02) for ms in means]
    return (
        "Learning rates within 2 points of the best result: "
        + ", ".join(f"{n} {k} of {len(points)}" for n, k in zip(cfg.norms, ok, strict=True))
        + "."
    )


def _explain_deep(cfg: Config, points: list[SweepPoint]) -> str:
    if not points:
        return ""
    (deep,) = points
    means = [(n, deep["test_acc"][n]["mean"]) for n in cfg.norms]
    said = ", ".join(f"{n} {m:.1%}" for n, m in means if m is not None)
    return f"At depth {deep['depth']}: {said}." if said else ""


def explain_modes(cfg: Config, h: Headline) -> str:
    """BatchNorm tested with its running statistics against each test batch's own."""
    modes = h.get("batchnorm_modes")
    if not modes or modes["eval"]["mean"] is None or modes["train"]["mean"] is None:
        return ""
    return (
        f"BatchNorm with its running statistics (eval mode) scores "
        f"{modes['eval']['mean']:.1%}; normalising each test batch of "
        f"{cfg.batch_size} with its own statistics (train mode) scores "
        f"{modes['train']['mean']:.1%}."
    )


def explain_why(h: Headline, part: Literal["landscape", "drift", "both"]) -> str:
    """What the two measures say about why BatchNorm helps, at the main settings, in the part
    beside its chart: "landscape" (β and the loss range, after whether BatchNorm helped at
    all), "drift", or "both" (what these runs cannot separate; how both hold across sweeps)."""
    across = _explain_why_sweeps(h) if part == "both" else []
    return " ".join(_explain_why(h).get(part, []) + across)


def explain_why_across(h: Headline, sweep: Sweep) -> str:
    """Whether BatchNorm's smoother landscape and steadier outputs hold across one sweep."""
    return " ".join(_explain_why_sweeps(h, (sweep,), lead=""))


def _compare(a: stats.CI, b: stats.CI) -> int:
    """−1 if a is clearly below b (the intervals do not overlap), +1 if clearly above, else 0."""
    if a["ci95"] is None or b["ci95"] is None:
        return 0
    return -1 if a["ci95"][1] < b["ci95"][0] else 1 if a["ci95"][0] > b["ci95"][1] else 0


def _explain_why(h: Headline) -> dict[str, list[str]]:
    """What the two measures say about the two explanations of why BatchNorm helps, by the
    chart each sentence goes with."""
    why = h.get("why", {})
    if not {"none", "batch"} <= why.keys() or h["final_acc"]["batch"]["mean"] is None:
        return {}
    none, bn = why["none"], why["batch"]
    final_bn, final_none = h["final_acc"]["batch"], h["final_acc"]["none"]
    acc = _compare(final_bn, final_none)
    if final_bn["ci95"] is None or final_none["ci95"] is None:
        landscape = [
            f"Why would BatchNorm help? It ends at {stats.describe_ci(final_bn)} against "
            f"{stats.describe_ci(final_none)} without: with one seed on a side there is no "
            "interval to compare, so the differences below cannot be told from seed noise "
            "(more seeds would)."
        ]
    else:
        landscape = [
            {
                1: "Why does BatchNorm help? Here it ends more accurate than no normalization.",
                0: "Why would BatchNorm help? Here it ends within no normalization's interval.",
                -1: "Here BatchNorm ends less accurate than no normalization.",
            }[acc]
        ]
    if none["beta"]["mean"] is not None and bn["beta"]["mean"] is not None:
        landscape.append(
            f"Along the gradient, the gradient changes by {_num(none['beta'])} without and "
            f"{_num(bn['beta'])} with BatchNorm per unit of distance moved (effective "
            f"β-smoothness; lower is smoother), and the loss varies by "
            f"{_num(none['loss_range'])} and {_num(bn['loss_range'])}."
        )
        landscape.append(
            _verdict(_LANDSCAPE_VERDICT, bn["beta"], none["beta"], acc)
            + _leaning(bn["beta"], none["beta"], "towards rougher, not smoother", "smoother")
        )
    drift = []
    if none["drift"]["mean"] is not None and bn["drift"]["mean"] is not None:
        drift.append(
            f"From one epoch to the next, block outputs' spread moves by "
            f"{_pct(none['drift'])} without normalization and {_pct(bn['drift'])} with "
            f"BatchNorm (internal covariate shift)."
        )
        drift.append(
            _verdict(_SHIFT_VERDICT, bn["drift"], none["drift"], acc)
            + _leaning(bn["drift"], none["drift"], "towards more drift, not less", "steadier")
        )
    both = (
        "Both measures change together with the normalization layer, so these runs show "
        "which explanation the numbers are consistent with, not which one causes a gain: "
        "Santurkar et al. separated them by adding noise after BatchNorm (shift back, "
        "benefit kept)."
    )
    return {  # one seed: no verdicts, so no empty sentences
        "landscape": [line for line in landscape if line],
        "drift": [line for line in drift if line],
        "both": [both],
    }


# Each measure across the sweeps: its key in Why, and BatchNorm's below and above none's.
WHY_ACROSS: tuple[tuple[Literal["beta", "drift"], str, str], ...] = (
    ("beta", "smoother", "rougher"),
    ("drift", "steadier", "drifting more"),
)


def _explain_why_sweeps(
    h: Headline, sweeps: Sequence[Sweep] = SWEEPS, lead: str = "Across the sweeps, "
) -> list[str]:
    """Whether BatchNorm's smoother landscape and steadier outputs hold across the sweeps:
    at how many of their points BatchNorm is clearly below, clearly above or within none's
    interval, for β and for the drift."""
    points = [  # a headline saved before sweeps measured the landscape has no "why"
        (s.point(p[s.axis]), p.get("why", {})) for s in sweeps for p in h.get(s.key, [])
    ]
    points = [(name, w) for name, w in points if {"none", "batch"} <= w.keys()]
    out = []
    for measure, low, high in WHY_ACROSS:
        verdicts: dict[int, list[str]] = {-1: [], 0: [], 1: []}
        for name, w in points:
            a, b = w["batch"][measure], w["none"][measure]
            if a["mean"] is not None and b["mean"] is not None:
                verdicts[_compare(a, b)].append(name)
        if not any(verdicts.values()):
            continue
        said = [
            f"{word} at {', '.join(verdicts[k])}"
            for k, word in ((-1, low), (1, high), (0, "not distinguishable from no normalization"))
            if verdicts[k]
        ]
        what = "landscape (β)" if measure == "beta" else "block outputs (drift)"
        out.append(f"{lead}BatchNorm's {what}: " + "; ".join(said) + ".")
    return out


# (BatchNorm's β against none's: −1 smoother, 0 overlapping, +1 rougher; BatchNorm helped?)
_LANDSCAPE_VERDICT = {
    (-1, True): "BatchNorm is both smoother and more accurate: the pairing Santurkar et al. "
    "report (VGG on CIFAR-10).",
    (-1, False): "BatchNorm's landscape is smoother, as Santurkar et al. found, but that buys "
    "no accuracy at these settings.",
    (1, True): "BatchNorm ends more accurate although its landscape is rougher, not smoother "
    "— the opposite of Santurkar et al.'s finding (deep VGG trained with SGD): here "
    "smoothness does not explain the gain.",
    (1, False): "BatchNorm's landscape is rougher, not smoother — the opposite of Santurkar "
    "et al.'s finding — and it does not end more accurate.",
    (0, True): "The intervals of β overlap: these runs cannot tell the two landscapes apart.",
    (0, False): "The intervals of β overlap: these runs cannot tell the two landscapes apart.",
}
# (BatchNorm's drift against none's: −1 steadier, 0 overlapping, +1 more; BatchNorm helped?)
_SHIFT_VERDICT = {
    (-1, True): "BatchNorm holds its block outputs steadier and ends more accurate: "
    "consistent with the covariate-shift account.",
    (-1, False): "BatchNorm holds its block outputs steadier, without an accuracy gain.",
    (1, True): "BatchNorm's block outputs drift more, not less, yet it ends more accurate: "
    "less covariate shift cannot be what helps here.",
    (1, False): "BatchNorm's block outputs drift more, not less.",
    (0, True): "The intervals of the drift overlap: no difference in shift can be read here.",
    (0, False): "The intervals of the drift overlap: no difference in shift can be read here.",
}


def _verdict(verdicts: dict, bn: stats.CI, none: stats.CI, acc: int) -> str:
    """The verdict on BatchNorm's measure against none's; with one seed there is none (the
    paragraph's first sentence has said why)."""
    if bn["ci95"] is None or none["ci95"] is None:
        return ""
    return verdicts[_compare(bn, none), acc > 0]


def _leaning(bn: stats.CI, none: stats.CI, higher: str, lower: str) -> str:
    """Where the intervals overlap, which way the means lean, so the text never hides a
    difference that goes against the textbook; nothing where the intervals already decide
    or where one seed gives no interval (there is no noise to be within)."""
    if bn["ci95"] is None or none["ci95"] is None:
        return ""
    if _compare(bn, none) != 0 or bn["mean"] == none["mean"]:
        return ""
    way = higher if stats.mean_of(bn) > stats.mean_of(none) else lower
    return f" BatchNorm's mean leans {way}, within the noise of these runs."


def _pct(ci: stats.CI) -> str:
    return stats.describe_ci(ci)


def _num(ci: stats.CI) -> str:
    """A measure that cannot be negative (β, a loss range), its interval stopped at 0."""
    if ci["mean"] is None:
        return "—"
    interval = stats.bounded_interval(ci, 0.0)
    if interval is None:
        return f"{ci['mean']:.3g}"
    return f"{ci['mean']:.3g} (95% CI {interval[0]:.3g}–{interval[1]:.3g})"


# --- charts, by the page's tab ----------------------------------------------------------------
LANDSCAPE_TITLES = {
    "beta": ("Effective β-smoothness over training", "max ‖∇L(θ − ηg) − g‖ / ‖ηg‖"),
    "loss_range": ("Loss-landscape variation over training", "loss max − min along −g"),
}
DRIFT_AXIS = "mean |Δstd| / std per epoch"


def charts(cfg: Config, results: Results) -> dict:
    """The page's charts, by name (also what `python -m cnnexp export` writes)."""
    if results.runs.empty:
        return {}
    out = _main_charts(cfg, results) | _why_charts(cfg, results)
    for sweep in SWEEPS:
        out |= _sweep_charts(cfg, results, sweep)
    return out | _inside_charts(cfg, results)


def _main_charts(cfg: Config, results: Results) -> dict:
    """The variants at the main settings: final accuracy, and training loss and test accuracy
    per epoch."""
    from cnnexp import figures

    order, main = list(cfg.norms), where(cfg)
    metrics = select(results.metrics(), main)
    return {
        "final_accuracy": figures.dots_ci(
            select(results.runs, main),
            "norm",
            "test_acc",
            "norm",
            x_order=order,
            colour_order=order,
            title="Final test accuracy",
            x_title="normalization",
            y_title="test accuracy",
        ),
        "train_loss": figures.curves(
            metrics,
            "loss",
            colour="norm",
            splits=("train",),
            colour_order=order,
            title="Training loss per epoch",
        ),
        "test_accuracy": figures.curves(
            metrics,
            "acc",
            colour="norm",
            splits=("test",),
            colour_order=order,
            title="Test accuracy per epoch",
        ),
    }


def _why_charts(cfg: Config, results: Results) -> dict:
    """The two explanations' measures at the main settings: the landscape over training, and
    the drift per variant. Neither can be negative, so their intervals stop at 0."""
    from cnnexp import figures

    order, out = list(cfg.norms), {}
    land = select(results.table("landscape"), where(cfg))
    for m, (title, y_title) in [] if land.empty else LANDSCAPE_TITLES.items():
        out[f"landscape_{m}"] = figures.points_ci(
            land[land["measure"] == m],
            "epochs_done",
            "value",
            "norm",
            colour_order=order,
            title=title,
            x_title="epoch (checkpoint of training)",
            y_title=y_title,
            percent=False,
            nonnegative=True,
        )
    drift = drift_by_run(results, [where(cfg)])
    if not drift.empty:
        out["drift"] = figures.dots_ci(
            drift,
            "norm",
            "drift",
            "norm",
            x_order=order,
            colour_order=order,
            title="Covariate shift: epoch-to-epoch change of block outputs' spread",
            x_title="normalization",
            y_title=DRIFT_AXIS,
            percent=False,  # a ratio, not an accuracy: no percent axis, no cap at 1
            nonnegative=True,
        )
    return out


def _sweep_charts(cfg: Config, results: Results, sweep: Sweep) -> dict:
    """A sweep's tab: the accuracy across it (a single depth: its training loss too), and both
    explanations' measures across it (β: each run's mean over its checkpoints)."""
    from cnnexp import figures

    wheres = sweep.points(cfg)
    if not wheres:
        return {}
    # Each point's own runs (a batch size at its scaled rate): the learning-rate sweep's runs
    # share the base batch size, and pooling them in put failed high-rate runs among its seeds.
    runs = select(results.runs, *wheres)
    out = {
        sweep.chart: _across(cfg, sweep, runs, "test_acc", "Final test accuracy", "test accuracy")
    }
    if sweep.x_title is None:
        out[f"{sweep.key}_loss"] = figures.curves(
            select(results.metrics(), *wheres),
            "loss",
            colour="norm",
            splits=("train",),
            colour_order=list(cfg.norms),
            title=f"Training loss at {sweep.noun} {sweep.values(cfg)[0]}",
        )
    land = landscape_by_run(results, wheres)
    measures = {
        "beta": (
            land[land["measure"] == "beta"] if not land.empty else land,
            "value",
            "Effective β-smoothness",
            "β (lower is smoother)",
        ),
        "drift": (drift_by_run(results, wheres), "drift", "Covariate shift", DRIFT_AXIS),
    }
    for name, (df, y, title, y_title) in measures.items():
        if not df.empty:
            out[f"{sweep.key}_{name}"] = _across(cfg, sweep, df, y, title, y_title, share=False)
    return out


def _across(cfg: Config, sweep: Sweep, df, y: str, title: str, y_title: str, share: bool = True):
    """One measure per variant across a sweep: against its values, or at its single value.
    A share's intervals stop at 0 and 100%; any other measure here cannot be negative."""
    from cnnexp import figures

    order = list(cfg.norms)
    style: dict[str, Any] = {
        "percent": share,
        "nonnegative": not share,
        "colour_order": order,
        "y_title": y_title,
    }
    if sweep.x_title is None:
        return figures.dots_ci(
            df,
            "norm",
            y,
            "norm",
            x_order=order,
            title=f"{title} at {sweep.noun} {sweep.values(cfg)[0]}",
            x_title="normalization",
            **style,
        )
    return figures.points_ci(
        df,
        sweep.axis,
        y,
        "norm",
        log_x=True,
        ticks_at_x=True,
        title=f"{title} against {sweep.noun}",
        x_title=sweep.x_title,
        **style,
    )


def _inside_charts(cfg: Config, results: Results) -> dict:
    """Each block's output statistics over training, at the main settings."""
    from cnnexp import figures

    acts = select(results.table("activations"), where(cfg))
    if acts.empty:
        return {}
    order = list(cfg.norms)
    return {
        "activation_std": figures.facet_lines(
            acts[acts["stat"] == "std"],
            "norm",
            "epoch",
            "layer",
            facet_order=order,
            log_y=True,
            title="Spread (std) of each block's output over training",
            x_title="epoch",
            y_title="std (log)",
        ),
        "activation_mean": figures.facet_lines(
            acts[acts["stat"] == "mean"],
            "norm",
            "epoch",
            "layer",
            facet_order=order,
            title="Mean of each block's output over training",
            x_title="epoch",
            y_title="mean",
        ),
    }


def tables(cfg: Config, results: Results) -> dict:
    return results.tidy("activations", "landscape")
