"""Equivariance vs invariance, trained: does a model's answer survive a shifted input?

An MLP and CNNs with a flatten head or a global-average-pool head, trained on
centred digits with and without random-shift augmentation, then tested on shifted test
images: accuracy against shift, and consistency (Zhang 2019): the share of test images whose
predicted class survives two random shifts. The CNNs trained on centred images save their
weights (a file beside the run) for the shift probe (cnnexp/probes/shift.py), which measures
the same question layer by layer, without training.
"""

from __future__ import annotations

import io
from typing import Literal, TypedDict

import numpy as np
from pydantic import model_validator

from cnnexp import catalog, data, stats
from cnnexp.config import MAX_AUGMENT_SHIFT, EpochFields, ExperimentFields, TrainSetup, param
from cnnexp.results import Results
from cnnexp.runspec import RunContext, RunOutput, RunSpec

NAME = "equivariance"
TITLE, SUMMARY, headline_text = catalog.identity(NAME)  # cnnexp/catalog.py: Home reads it
VERSION = 2  # 2: weights in a file beside the run, no probe mode
TINY = {
    "dataset": "digits",
    "epochs": 2,
    "max_shift": 2,
    "models": ("mlp", "cnn_gap"),
    "width": 4,
}

Variant = Literal["mlp", "cnn_flatten", "cnn_gap", "cnn_gap_blur"]


class Config(ExperimentFields, EpochFields):
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
        if not self.models:
            raise ValueError(
                "models is empty; allowed: one or more of mlp, cnn_flatten, cnn_gap, cnn_gap_blur"
            )
        if self.augment and self.max_shift > MAX_AUGMENT_SHIFT:
            raise ValueError(
                f"max_shift {self.max_shift} with augment: the training shifts reach at most "
                f"{MAX_AUGMENT_SHIFT} pixels; allowed: max_shift <= {MAX_AUGMENT_SHIFT}, or "
                "augment false"
            )
        for v in self.models:
            setup_for(self, v, False)  # raises if a model does not fit the dataset
        return self


def setup_for(cfg: Config, variant: str, augment: bool) -> TrainSetup:
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


def spec_for(cfg: Config, variant: str, augment: bool, seed: int) -> RunSpec:
    run = {
        **setup_for(cfg, variant, augment).canonical(),
        "variant": variant,
        "max_shift": cfg.max_shift,
    }
    label = f"{variant}" + (f" · shifted ±{cfg.max_shift}" if augment else " · centred")
    return RunSpec(NAME, VERSION, run, seed, label)


def plan(cfg: Config) -> list[RunSpec]:
    conditions = (False, True) if cfg.augment else (False,)
    return [spec_for(cfg, v, a, s) for v in cfg.models for a in conditions for s in cfg.seed_list()]


def extra_test_passes(config: dict) -> int:
    """Passes over the test set `execute` makes after training (for cnnexp.estimate): each
    shift in four directions, the unshifted set, and the two of the consistency measure."""
    return 1 + 4 * int(config["max_shift"]) + 2


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
        buffer = io.BytesIO()
        torch.save(model.state_dict(), buffer)
        out.blobs["weights"] = buffer.getvalue()
    return out


class ShiftPoint(TypedDict):
    shift: int  # pixels the test images moved
    test_acc: stats.CI


class Headline(TypedDict):
    """Each trained model (model_name: with "_augmented" when trained on shifted images):
    its accuracy against shift, and its consistency (catalog.py, readme.py, explain_trained)."""

    shift_accuracy: dict[str, list[ShiftPoint]]
    consistency: dict[str, stats.CI]


def summarize(cfg: Config, results: Results) -> Headline:
    runs, table = results.runs, results.table("shift_eval")
    conditions = (False, True) if cfg.augment else (False,)
    shift_acc: dict[str, list[ShiftPoint]] = {}
    consistency: dict[str, stats.CI] = {}
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
                    "test_acc": stats.share_ci(
                        sub.loc[sub["shift"] == t, "value"] if len(sub) else []
                    ),
                }
                for t in range(cfg.max_shift + 1)
            ]
            consistency[name] = stats.share_ci(mine["consistency"] if len(mine) else [])
    return {"shift_accuracy": shift_acc, "consistency": consistency}


def explain_trained(cfg: Config, h: Headline) -> str:
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
        + ", ".join(f"**{shown_name(m, k)}** {base[m]:.1%} → {acc[m]:.1%}" for m in acc)
        + "."
    ]
    # A model at chance on unshifted images has learned nothing whose loss could be measured
    # (and one that always answers the same class is trivially consistent): left out.
    chance = 1 / data.info(cfg.dataset).n_classes
    idle = [m for m in acc if base[m] <= chance + 0.05]
    if idle:
        out.append(
            f"{', '.join(shown_name(m, k) for m in idle)} {'is' if len(idle) == 1 else 'are'} "
            "at chance on unshifted "
            f"images ({', '.join(f'{base[m]:.1%}' for m in idle)}; chance {chance:.0%}): not "
            "learned at these settings (train longer or on more images), so "
            f"{'its' if len(idle) == 1 else 'their'} losses and consistency say nothing and "
            "are left out below."
        )
        acc = {m: a for m, a in acc.items() if m not in idle}
    # Losses in points from the accuracies as printed above: a reader subtracts those.
    loss = {m: stats.shown_points(base[m], acc[m]) for m in acc}
    centred = {m: loss[m] for m in acc if not m.endswith("_augmented")}
    if len(centred) == 1:  # one model left to compare: its loss, not a ranking
        ((only, points),) = centred.items()
        change = f"loses {points:.1f}" if points >= 0 else f"gains {-points:.1f}"
        out.append(f"Trained on centred images, {only} {change} points.")
    elif centred:
        worst, best = max(centred, key=centred.__getitem__), min(centred, key=centred.__getitem__)
        out.append(
            f"Trained on centred images, {worst} loses the most ({centred[worst]:.1f} "
            f"points) and {best} the least ({centred[best]:.1f})."
        )
    if "cnn_gap" in centred and "cnn_flatten" in centred:
        out.append(
            "The global-average-pool head keeps more of its accuracy than the flatten head, "
            "as invariance after pooling predicts."
            if centred["cnn_gap"] < centred["cnn_flatten"]
            else "The global-average-pool head does not keep more of its accuracy than the "
            "flatten head here, although pooling over positions should make it more invariant."
        )
    aug = {m.removesuffix("_augmented"): loss[m] for m in acc if m.endswith("_augmented")}
    if aug:
        out.append(
            f"{trained_on(k).capitalize()} instead, the losses at the largest shift become "
            + ", ".join(f"{m} {d:.1f}" for m, d in aug.items())
            + " points: the data teaches what the "
            "architecture does not guarantee."
        )
    return " ".join(out)


def charts(cfg: Config, results: Results) -> dict:
    """Accuracy against shift, and consistency."""
    from cnnexp import figures

    if results.runs.empty:
        return {}
    table = results.table("shift_eval")  # joined with each run's settings
    table = table.assign(
        model=table["variant"],
        training=[trained_on(a) for a in table["augment_shift"]],
    )
    runs = results.runs.assign(training=[trained_on(a) for a in results.runs["augment_shift"]])
    shift_accuracy = figures.lines_ci(
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
    )
    # The whole 0–100% with a tick every 20: left alone, 50% and 100% were its only ticks.
    shift_accuracy.update_yaxes(range=[0, 1.02], dtick=0.2)
    consistency = figures.dots_ci(
        runs,
        "variant",
        "consistency",
        "training",
        x_order=list(cfg.models),
        title="Consistency under two random shifts",
        x_title="model",
        y_title="same prediction",
    )
    for fig in (shift_accuracy, consistency):  # side by side; six legend rows need the room
        fig.update_layout(height=500)
    return {"shift_accuracy": shift_accuracy, "consistency": consistency}


def trained_on(augment_shift: int) -> str:
    """The legends' name for the training images (the x axes shift the test images)."""
    return f"trained shifted ±{augment_shift:g}" if augment_shift > 0 else "trained centred"


def shown_name(name: str, max_shift: int) -> str:
    """A headline's model (model_name: "mlp_augmented") as the accuracy chart's legend names
    it ("mlp · trained shifted ±6"): one name per thing in the legend and the text."""
    augmented = name.endswith("_augmented")
    return f"{name.removesuffix('_augmented')} · {trained_on(max_shift if augmented else 0)}"


def tables(cfg: Config, results: Results) -> dict:
    return results.tidy("shift_eval")
