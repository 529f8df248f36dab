"""Normalization variants: none, batch, layer, group and instance, in the same CNN.

The main comparison trains the five variants with everything else identical. Optional sweeps
repeat it across batch sizes (with the learning rate scaled linearly with the batch), across
learning rates, and at a deeper stack. Inside the network, each block's output statistics
are recorded over training, and for BatchNorm the accuracy with batch statistics (train
mode) is set against the running statistics used at test time.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from cnnexp import stats
from cnnexp.config import EpochFields, ExperimentFields, Norm, TrainSetup, param
from cnnexp.data import DatasetName
from cnnexp.results import Results
from cnnexp.runspec import RunContext, RunOutput, RunSpec

NAME = "normalization"
TITLE = "Normalization variants"
VERSION = 1
SUMMARY = (
    "Batch, layer, group, instance or no normalization: accuracy, batch size, learning rate, depth."
)
NORMS: tuple[str, ...] = ("none", "batch", "layer", "group", "instance")
PROBE_IMAGES = 256  # test images whose activations are measured every epoch
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
        raise ValueError(f"{where}: {e}") from None


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
    from cnnexp import activations, engine

    setup = TrainSetup.model_validate(spec.config)
    rows: list[dict] = []

    def measure(epoch: int, model, dd) -> None:
        rows.extend(
            {"epoch": epoch, **r} for r in activations.block_stats(model, dd.x_test[:PROBE_IMAGES])
        )

    result, dd, out = engine.run_training(setup, spec.seed, ctx, epoch_hook=measure)
    out.tables["activations"] = rows
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


def summarize(cfg: Config, results: Results) -> dict:
    runs = results.runs
    out: dict = {"final_acc": {n: _acc(runs, n, **_main(cfg)) for n in cfg.norms}}
    if cfg.batch_sizes:
        out["batch_size"] = [
            {
                "batch_size": b,
                "lr": scaled_lr(cfg, b),
                **{n: _acc(runs, n, depth=cfg.depth, batch_size=b) for n in cfg.norms},
            }
            for b in sorted(cfg.batch_sizes)
        ]
    if cfg.lrs:
        out["lr"] = [
            {
                "lr": lr,
                **{
                    n: _acc(runs, n, depth=cfg.depth, batch_size=cfg.batch_size, lr=lr)
                    for n in cfg.norms
                },
            }
            for lr in sorted(cfg.lrs)
        ]
    if cfg.deep_depth:
        out["deep"] = {
            "depth": cfg.deep_depth,
            **{n: _acc(runs, n, depth=cfg.deep_depth) for n in cfg.norms},
        }
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


def headline_text(h: dict) -> str:
    parts = [f"{n} {c['mean']:.1%}" for n, c in h["final_acc"].items() if c["mean"] is not None]
    return "test accuracy: " + ", ".join(parts)


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
    return " ".join(out)


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
        sweep = _where(runs, depth=cfg.depth)
        out["batch_size"] = figures.points_ci(
            sweep[sweep["batch_size"].isin(cfg.batch_sizes)],
            "batch_size",
            "test_acc",
            "norm",
            log_x=True,
            colour_order=order,
            title="Final test accuracy against batch size",
            x_title="images per batch (log); lr scaled with the batch",
            y_title="test accuracy",
        )
    if cfg.lrs:
        sweep = _where(runs, depth=cfg.depth, batch_size=cfg.batch_size)
        out["learning_rate"] = figures.points_ci(
            sweep[sweep["lr"].isin(cfg.lrs)],
            "lr",
            "test_acc",
            "norm",
            log_x=True,
            colour_order=order,
            title="Final test accuracy against learning rate",
            x_title="peak learning rate (log)",
            y_title="test accuracy",
        )
    if cfg.deep_depth:
        d = cfg.deep_depth
        out["deep_accuracy"] = figures.dots_ci(
            _where(runs, depth=d),
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
            _where(metrics, depth=d),
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
    return out


def tables(cfg: Config, results: Results) -> dict:
    return results.tidy("activations")
