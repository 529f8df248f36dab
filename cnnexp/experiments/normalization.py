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

from typing import Annotated

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


def _setups(cfg: Config) -> list[tuple[str, TrainSetup]]:
    out = [(n, _setup(cfg, n)) for n in cfg.norms]
    out += [
        (f"{n} · batch {b}", _setup(cfg, n, batch_size=b, lr=scaled_lr(cfg, b)))
        for b in cfg.batch_sizes
        for n in cfg.norms
    ]
    out += [(f"{n} · lr {lr:g}", _setup(cfg, n, lr=lr)) for lr in cfg.lrs for n in cfg.norms]
    if cfg.deep_depth:
        out += [
            (f"{n} · depth {cfg.deep_depth}", _setup(cfg, n, depth=cfg.deep_depth, pool_every=2))
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
def _acc(runs, norm: str, **where) -> dict:
    if runs.empty:
        return stats.mean_ci([])
    mask = runs["norm"] == norm
    for k, v in where.items():
        mask &= runs[k] == v
    return stats.mean_ci(runs.loc[mask, "test_acc"])


def _main(cfg: Config) -> dict:
    return {"depth": cfg.depth, "batch_size": cfg.batch_size, "lr": cfg.lr}


def comparisons(cfg: Config) -> list[tuple[str, float | int | None, dict]]:
    """Every comparison of the plan as (sweep, its x value, the settings that pick its runs):
    the main one, each batch size (at its scaled rate), each learning rate, the deep stack.
    Every run measures the landscape and records its activations, so each has both measures."""
    out: list[tuple[str, float | int | None, dict]] = [("main", None, _main(cfg))]
    out += [
        ("batch_size", b, {"depth": cfg.depth, "batch_size": b, "lr": scaled_lr(cfg, b)})
        for b in sorted(cfg.batch_sizes)
    ]
    out += [
        ("lr", lr, {"depth": cfg.depth, "batch_size": cfg.batch_size, "lr": lr})
        for lr in sorted(cfg.lrs)
    ]
    if cfg.deep_depth:
        deep = {"depth": cfg.deep_depth, "batch_size": cfg.batch_size, "lr": cfg.lr}
        out.append(("deep", cfg.deep_depth, deep))
    return out


SWEEP_AXES = {"batch_size": "batch_size", "lr": "lr", "deep": "depth"}  # sweep: its x column


def _sweep_runs(cfg: Config, sweep: str) -> list[dict]:
    return [where for name, _, where in comparisons(cfg) if name == sweep]


def _where_any(df, wheres: list[dict]):
    """Rows matching any of the settings in `wheres` (each a dict of column == value)."""
    if df.empty or not wheres:
        return df.iloc[0:0]
    mask = False
    for where in wheres:
        m = True
        for k, v in where.items():
            m = m & (df[k] == v)
        mask = mask | m
    return df[mask]


def landscape_by_run(cfg: Config, results: Results, wheres: list[dict] | None = None):
    """Each run's landscape measures averaged over its checkpoints: one row per run and
    measure, with its norm, seed and settings (the main comparison's runs unless `wheres`)."""
    t = _where_any(results.table("landscape"), wheres or [_main(cfg)])
    if t.empty:
        return t
    keys = ["run_id", "norm", "seed", "depth", "batch_size", "lr", "measure"]
    return t.groupby(keys, as_index=False)["value"].mean()


def drift_by_run(cfg: Config, results: Results, wheres: list[dict] | None = None):
    """Covariate shift, measured: how far each block's output spread moves from one epoch
    to the next, |std_e − std_(e−1)| / std_(e−1), averaged over blocks and epochs per run
    (the main comparison's runs unless `wheres`). From epoch 1 on: at epoch 0 BatchNorm's
    running statistics (used in eval mode, where the statistics are taken) are not yet
    estimated, and that first jump is not a shift."""
    t = _where_any(results.table("activations"), wheres or [_main(cfg)])
    if t.empty:
        return t
    s = t[(t["stat"] == "std") & (t["epoch"] >= 1)].sort_values("epoch")
    g = s.groupby(["run_id", "layer"])["value"]
    s = s.assign(drift=(g.diff().abs() / g.shift()).to_numpy())
    keys = ["run_id", "norm", "seed", "depth", "batch_size", "lr"]
    per_run = s.groupby(keys, as_index=False)["drift"].mean()
    return per_run.dropna(subset=["drift"])  # one epoch: no change to measure


def _why(cfg: Config, results: Results, where: dict | None = None) -> dict:
    """The two explanations' measures per variant, each a mean over seeds with its interval
    (the main comparison, or the runs `where` picks)."""
    wheres = [where or _main(cfg)]
    land, drift = landscape_by_run(cfg, results, wheres), drift_by_run(cfg, results, wheres)
    out: dict = {}
    for n in cfg.norms:
        row = {}
        for m in ("loss_range", "beta"):
            vals = [] if land.empty else land[(land["norm"] == n) & (land["measure"] == m)]["value"]
            row[m] = stats.mean_ci(vals)
        row["drift"] = stats.mean_ci([] if drift.empty else drift[drift["norm"] == n]["drift"])
        out[n] = row
    return out


def summarize(cfg: Config, results: Results) -> dict:
    runs = results.runs
    out: dict = {"final_acc": {n: _acc(runs, n, **_main(cfg)) for n in cfg.norms}}
    out["why"] = _why(cfg, results)
    # Each sweep point: accuracy per variant and, under "why", both explanations' measures.
    for sweep, x, where in comparisons(cfg)[1:]:
        point = {
            SWEEP_AXES[sweep]: x,
            **({"lr": where["lr"]} if sweep == "batch_size" else {}),
            **{n: _acc(runs, n, **where) for n in cfg.norms},
            "why": _why(cfg, results, where),
        }
        if sweep == "deep":
            out["deep"] = point
        else:
            out.setdefault(sweep, []).append(point)
    if "batch" in cfg.norms and "test_acc_train_mode" in runs:
        bn = runs[
            (runs["norm"] == "batch")
            & (runs["depth"] == cfg.depth)
            & (runs["batch_size"] == cfg.batch_size)
            & (runs["lr"] == cfg.lr)
        ]
        out["batchnorm_modes"] = {
            "eval": stats.mean_ci(bn["test_acc"]),
            "train": stats.mean_ci(bn["test_acc_train_mode"]),
        }
    return out


def explain(cfg: Config, h: dict) -> str:
    """What the numbers on screen say, whichever way they fall."""
    out = []
    final = {n: c for n, c in h["final_acc"].items() if c["mean"] is not None}
    if final:
        best, worst = (
            max(final, key=lambda n: final[n]["mean"]),
            min(final, key=lambda n: final[n]["mean"]),
        )
        out.append(
            f"At depth {cfg.depth} the variants end between {final[worst]['mean']:.1%} "
            f"({worst}) and {final[best]['mean']:.1%} ({best})."
        )
    sweep = h.get("batch_size")
    if sweep and len(sweep) >= 2:
        small, large = sweep[0], sweep[-1]
        drops = {
            n: large[n]["mean"] - small[n]["mean"]
            for n in cfg.norms
            if small[n]["mean"] is not None and large[n]["mean"] is not None
        }
        if drops:
            said = ", ".join(
                f"{n} {'loses' if d > 0 else 'gains'} {abs(d) * 100:.1f}" for n, d in drops.items()
            )
            out.append(
                f"Going from batch {large['batch_size']} down to batch {small['batch_size']} "
                f"(points of test accuracy): {said}."
            )
            if drops.get("none", 0) > 0.01:
                out.append(
                    "The unnormalized model loses accuracy too, so part of the small-batch "
                    "penalty here comes from the schedule (the linearly scaled learning "
                    "rate over the same epochs), not from batch statistics."
                )
            if "batch" in drops and "group" in drops:
                shape = drops["batch"] > drops["group"] + 0.01
                out.append(
                    "BatchNorm suffers more from small batches than GroupNorm, the shape "
                    "Wu & He report on ImageNet."
                    if shape
                    else "Here BatchNorm does not suffer more from small batches than GroupNorm: "
                    "the shape Wu & He report on ImageNet does not show at these settings."
                )
    lrs = h.get("lr")
    if lrs:
        best = max(
            (row[n]["mean"] for row in lrs for n in cfg.norms if row[n]["mean"] is not None),
            default=None,
        )
        if best is not None:
            ok = {
                n: sum(
                    1 for row in lrs if row[n]["mean"] is not None and row[n]["mean"] >= best - 0.02
                )
                for n in cfg.norms
            }
            out.append(
                "Learning rates within 2 points of the best result: "
                + ", ".join(f"{n} {k} of {len(lrs)}" for n, k in ok.items())
                + "."
            )
    deep = h.get("deep")
    if deep:
        vals = {n: deep[n] for n in cfg.norms if deep[n]["mean"] is not None}
        if vals:
            out.append(
                f"At depth {deep['depth']}: "
                + ", ".join(f"{n} {c['mean']:.1%}" for n, c in vals.items())
                + "."
            )
    modes = h.get("batchnorm_modes")
    if modes and modes["eval"]["mean"] is not None and modes["train"]["mean"] is not None:
        out.append(
            f"BatchNorm with its running statistics (eval mode) scores "
            f"{modes['eval']['mean']:.1%}; normalising each test batch of "
            f"{cfg.batch_size} with its own statistics (train mode) scores "
            f"{modes['train']['mean']:.1%}."
        )
    return " ".join(out + _explain_why(h) + _explain_why_sweeps(h))


def _compare(a: dict, b: dict) -> int:
    """−1 if a is clearly below b (the intervals do not overlap), +1 if clearly above, else 0."""
    if a["ci95"] is None or b["ci95"] is None:
        return 0
    return -1 if a["ci95"][1] < b["ci95"][0] else 1 if a["ci95"][0] > b["ci95"][1] else 0


def _explain_why(h: dict) -> list[str]:
    """What the two measures say about the two explanations of why BatchNorm helps."""
    why = h.get("why", {})
    if not {"none", "batch"} <= why.keys() or h["final_acc"]["batch"]["mean"] is None:
        return []
    none, bn = why["none"], why["batch"]
    final_bn, final_none = h["final_acc"]["batch"], h["final_acc"]["none"]
    acc = _compare(final_bn, final_none)
    if final_bn["ci95"] is None or final_none["ci95"] is None:
        out = [
            f"Why would BatchNorm help? It ends at {stats.describe_ci(final_bn)} against "
            f"{stats.describe_ci(final_none)} without: with one seed on a side there is no "
            "interval to compare, so the differences below cannot be told from seed noise "
            "(more seeds would)."
        ]
    else:
        out = [
            {
                1: "Why does BatchNorm help? Here it ends more accurate than no normalization.",
                0: "Why would BatchNorm help? Here it ends within no normalization's interval.",
                -1: "Here BatchNorm ends less accurate than no normalization.",
            }[acc]
        ]
    if none["beta"]["mean"] is not None and bn["beta"]["mean"] is not None:
        out.append(
            f"Along the gradient, the gradient changes by {_num(none['beta'])} without and "
            f"{_num(bn['beta'])} with BatchNorm per unit of distance moved (effective "
            f"β-smoothness; lower is smoother), and the loss varies by "
            f"{_num(none['loss_range'])} and {_num(bn['loss_range'])}."
        )
        out.append(
            _verdict(_LANDSCAPE_VERDICT, bn["beta"], none["beta"], acc)
            + _leaning(bn["beta"], none["beta"], "towards rougher, not smoother", "smoother")
        )
    if none["drift"]["mean"] is not None and bn["drift"]["mean"] is not None:
        out.append(
            f"From one epoch to the next, block outputs' spread moves by "
            f"{_pct(none['drift'])} without normalization and {_pct(bn['drift'])} with "
            f"BatchNorm (internal covariate shift)."
        )
        out.append(
            _verdict(_SHIFT_VERDICT, bn["drift"], none["drift"], acc)
            + _leaning(bn["drift"], none["drift"], "towards more drift, not less", "steadier")
        )
    out.append(
        "Both measures change together with the normalization layer, so these runs show "
        "which explanation the numbers are consistent with, not which one causes a gain: "
        "Santurkar et al. separated them by adding noise after BatchNorm (shift back, "
        "benefit kept)."
    )
    return [line for line in out if line]  # one seed: no verdicts


SWEEP_WORDS = {"batch_size": ("batch size", "batch"), "lr": ("learning rate", "lr")}


def _explain_why_sweeps(h: dict) -> list[str]:
    """Whether BatchNorm's smoother landscape and steadier outputs hold across each sweep:
    at how many of its points BatchNorm is clearly below, clearly above or within none's
    interval, for β and for the drift."""
    points = [
        (f"{SWEEP_WORDS[k][1]} {r[k]:g}", r.get("why", {}))
        for k in SWEEP_WORDS
        for r in h.get(k, [])
    ]  # a headline saved before sweeps measured the landscape has no "why": nothing to say
    if "deep" in h:
        points.append((f"depth {h['deep']['depth']}", h["deep"].get("why", {})))
    points = [(name, w) for name, w in points if {"none", "batch"} <= w.keys()]
    out = []
    for measure, low, high in (
        ("beta", "smoother", "rougher"),
        ("drift", "steadier", "drifting more"),
    ):
        verdicts = {-1: [], 0: [], 1: []}
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
        out.append(f"Across the sweeps, BatchNorm's {what}: " + "; ".join(said) + ".")
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


def _verdict(verdicts: dict, bn: dict, none: dict, acc: int) -> str:
    """The verdict on BatchNorm's measure against none's; with one seed there is none (the
    paragraph's first sentence has said why)."""
    if bn["ci95"] is None or none["ci95"] is None:
        return ""
    return verdicts[_compare(bn, none), acc > 0]


def _leaning(bn: dict, none: dict, higher: str, lower: str) -> str:
    """Where the intervals overlap, which way the means lean, so the text never hides a
    difference that goes against the textbook; nothing where the intervals already decide
    or where one seed gives no interval (there is no noise to be within)."""
    if bn["ci95"] is None or none["ci95"] is None:
        return ""
    if _compare(bn, none) != 0 or bn["mean"] == none["mean"]:
        return ""
    way = higher if bn["mean"] > none["mean"] else lower
    return f" BatchNorm's mean leans {way}, within the noise of these runs."


def _pct(ci: dict) -> str:
    return stats.describe_ci(ci)


def _num(ci: dict) -> str:
    if ci["mean"] is None:
        return "—"
    if ci["ci95"] is None:
        return f"{ci['mean']:.3g}"
    return f"{ci['mean']:.3g} (95% CI {ci['ci95'][0]:.3g}–{ci['ci95'][1]:.3g})"


def _where(df, **kv):
    for k, v in kv.items():
        df = df[df[k] == v]
    return df


def charts(cfg: Config, results: Results) -> dict:
    from cnnexp import figures

    runs = results.runs
    if runs.empty:
        return {}
    metrics, order = results.metrics(), list(cfg.norms)
    main = {"depth": cfg.depth, "batch_size": cfg.batch_size, "lr": cfg.lr}
    m = _where(metrics, **main)
    out = {
        "final_accuracy": figures.dots_ci(
            _where(runs, **main),
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
            m,
            "loss",
            colour="norm",
            splits=("train",),
            colour_order=order,
            title="Training loss per epoch",
        ),
        "test_accuracy": figures.curves(
            m,
            "acc",
            colour="norm",
            splits=("test",),
            colour_order=order,
            title="Test accuracy per epoch",
        ),
    }
    if cfg.batch_sizes:
        # Each batch size at its own scaled rate: the learning-rate sweep's runs share the
        # base batch size, and pooling them in put failed high-rate runs among its seeds.
        out["batch_size"] = figures.points_ci(
            _where_any(runs, _sweep_runs(cfg, "batch_size")),
            "batch_size",
            "test_acc",
            "norm",
            log_x=True,
            ticks_at_x=True,
            colour_order=order,
            title="Final test accuracy against batch size",
            x_title="images per batch (log); lr scaled with the batch",
            y_title="test accuracy",
        )
    if cfg.lrs:
        out["learning_rate"] = figures.points_ci(
            _where_any(runs, _sweep_runs(cfg, "lr")),
            "lr",
            "test_acc",
            "norm",
            log_x=True,
            ticks_at_x=True,
            colour_order=order,
            title="Final test accuracy against learning rate",
            x_title="peak learning rate (log)",
            y_title="test accuracy",
        )
    if cfg.deep_depth:
        d = cfg.deep_depth
        deep = _sweep_runs(cfg, "deep")
        out["deep_accuracy"] = figures.dots_ci(
            _where_any(runs, deep),
            "norm",
            "test_acc",
            "norm",
            x_order=order,
            colour_order=order,
            title=f"Final test accuracy at depth {d}",
            x_title="normalization",
            y_title="test accuracy",
        )
        out["deep_loss"] = figures.curves(
            _where_any(metrics, deep),
            "loss",
            colour="norm",
            splits=("train",),
            colour_order=order,
            title=f"Training loss at depth {d}",
        )
    acts = _where(results.table("activations"), **main)
    if not acts.empty:
        out["activation_std"] = figures.facet_lines(
            acts[acts["stat"] == "std"],
            "norm",
            "epoch",
            "layer",
            facet_order=order,
            log_y=True,
            title="Spread (std) of each block's output over training",
            x_title="epoch",
            y_title="std (log)",
        )
        out["activation_mean"] = figures.facet_lines(
            acts[acts["stat"] == "mean"],
            "norm",
            "epoch",
            "layer",
            facet_order=order,
            title="Mean of each block's output over training",
            x_title="epoch",
            y_title="mean",
        )
    return out | _why_charts(cfg, results) | _why_sweep_charts(cfg, results)


LANDSCAPE_TITLES = {
    "beta": ("Effective β-smoothness over training", "max ‖∇L(θ − ηg) − g‖ / ‖ηg‖"),
    "loss_range": ("Loss-landscape variation over training", "loss max − min along −g"),
}


def _why_charts(cfg: Config, results: Results) -> dict:
    """The two explanations' measures: landscape over training, and drift per variant."""
    from cnnexp import figures

    order, out = list(cfg.norms), {}
    land = _where(results.table("landscape"), **_main(cfg))
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
        )
    drift = drift_by_run(cfg, results)
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
            y_title="mean |Δstd| / std per epoch",
            percent=False,  # a ratio, not an accuracy: no percent axis, no cap at 1
        )
    return out


SWEEP_X = {  # sweep: its words and x-axis title
    "batch_size": ("batch size", "images per batch (log); lr scaled with the batch"),
    "lr": ("learning rate", "peak learning rate (log)"),
}


def _why_sweep_charts(cfg: Config, results: Results) -> dict:
    """Both explanations' measures across each sweep that ran: effective β-smoothness (each
    run's mean over its checkpoints) and the drift, per variant, with seeds and intervals."""
    from cnnexp import figures

    order, out = list(cfg.norms), {}
    for sweep in ("batch_size", "lr", "deep"):
        wheres = _sweep_runs(cfg, sweep)
        if not wheres:
            continue
        land = landscape_by_run(cfg, results, wheres)
        frames = {
            "beta": (
                land[land["measure"] == "beta"] if not land.empty else land,
                "value",
                "Effective β-smoothness",
                "β (lower is smoother)",
            ),
            "drift": (
                drift_by_run(cfg, results, wheres),
                "drift",
                "Covariate shift",
                "mean |Δstd| / std per epoch",
            ),
        }
        for name, (df, y, title, y_title) in frames.items():
            if df.empty:
                continue
            if sweep == "deep":
                fig = figures.dots_ci(
                    df,
                    "norm",
                    y,
                    "norm",
                    x_order=order,
                    colour_order=order,
                    title=f"{title} at depth {cfg.deep_depth}",
                    x_title="normalization",
                    y_title=y_title,
                    percent=False,
                )
            else:
                what, x_title = SWEEP_X[sweep]
                fig = figures.points_ci(
                    df,
                    SWEEP_AXES[sweep],
                    y,
                    "norm",
                    log_x=True,
                    ticks_at_x=True,
                    colour_order=order,
                    title=f"{title} against {what}",
                    x_title=x_title,
                    y_title=y_title,
                    percent=False,
                )
            out[f"{sweep}_{name}"] = fig
    return out


def tables(cfg: Config, results: Results) -> dict:
    return results.tidy("activations", "landscape")
