"""Equivariance: which shifts a stride-2 convolution follows, what global pooling does to a
shift (both measured by the shift probe, cnnexp/probes/shift_errors.py), and a prediction of a trained
model's accuracy on shifted digits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from cnnexp import policy
from cnnexp.config import Config
from cnnexp.exercises.core import (
    Answer,
    Exercise,
    Kind,
    Option,
    Prediction,
    many,
)
from cnnexp.experiments import equivariance
from cnnexp.probes import shift as shift_probe

EXACT = 1e-5  # relative error of float32 round-off: a shift followed exactly
STRIDE_SIDE = 32  # side of the random image the stride question probes (even: whole output shifts)


def _odd(k: int) -> int:
    return k if k % 2 else k + 1


def shift_options(cfg: shift_probe.Config) -> list[tuple[int, int]]:
    """Shifts to choose from, near the page's shift: horizontal, vertical and both."""
    a, b = abs(cfg.shift) or 3, abs(cfg.shift_y) or 2
    out: list[tuple[int, int]] = []
    for s in ((a, 0), (a + 1, 0), (0, b), (0, b + 1), (a, b)):
        if s not in out:
            out.append(s)
    return out


def _shift_words(dx: int, dy: int) -> str:
    parts = [f"{dx} px right" if dx else "", f"{dy} px down" if dy else ""]
    return " and ".join(p for p in parts if p) or "no shift"


@dataclass(frozen=True)
class StrideShifts(Exercise):
    """Which shifts a stride-2 convolution follows exactly (aliasing), vertical ones too."""

    page: ClassVar[str] = equivariance.NAME
    name: ClassVar[str] = "stride_shifts"
    source: ClassVar[type[Config]] = shift_probe.Config
    keys: ClassVar[tuple[str, ...]] = ("kernel", "channels", "seed", "shift", "shift_y")
    fixed: ClassVar[dict[str, Any]] = {"weights": "random"}
    kind: ClassVar[Kind] = "choices"

    def params_of(self, cfg: Config) -> dict[str, Any]:
        # An even kernel (allowed with 'valid' padding) becomes the next odd one: circular
        # padding that keeps the centre needs an odd kernel.
        return {**super().params_of(cfg), "kernel": _odd(cfg.kernel)}

    def prompt(self, cfg: shift_probe.Config) -> str:
        k = cfg.kernel
        return (
            f"One convolution, {k}×{k} with **stride 2**, circular padding and random weights "
            f"(seed {cfg.seed}), sees a {STRIDE_SIDE}×{STRIDE_SIDE} image shifted circularly. "
            "**For which shifts is its output exactly the original output, shifted by the "
            "shift ÷ 2?** (Choose all.)"
        )

    def options(self, cfg: shift_probe.Config) -> tuple[Option, ...]:
        return tuple(
            Option("abcde"[i], _shift_words(dx, dy))
            for i, (dx, dy) in enumerate(shift_options(cfg))
        )

    def solve(self, cfg: shift_probe.Config) -> Answer:
        import torch

        from cnnexp.probes import shift_errors as probe

        shifts = shift_options(cfg)
        blocks = probe.random_stack(1, cfg.channels, 1, cfg.kernel, "circular", 2, "none", cfg.seed)
        gen = torch.Generator().manual_seed(cfg.seed)
        x = torch.rand(1, 1, STRIDE_SIDE, STRIDE_SIDE, generator=gen)
        error = {
            (r["dx"], r["dy"]): r["full_error"] or 0.0
            for r in probe.equivariance(blocks, x, shifts)
        }
        keys = "abcde"
        right = frozenset(keys[i] for i, s in enumerate(shifts) if error[s] < EXACT)
        why = {}
        for i, (dx, dy) in enumerate(shifts):
            e, odd = error[(dx, dy)], [n for n in (dx, dy) if n % 2]
            why[keys[i]] = (
                f"{_shift_words(dx, dy).capitalize()}: the output moves by exactly "
                f"({dx // 2}, {dy // 2}) (measured error {e:.1e})."
                if e < EXACT
                else f"{_shift_words(dx, dy).capitalize()}: {odd[0]} is not a multiple of the "
                f"stride, so the output would have to move {odd[0] / 2:g} pixels; it cannot "
                f"(aliasing; measured error {e:.0%})."
            )
        return Answer(
            right,
            " ".join(why.values())
            + " A vertical shift behaves like a horizontal one: the filter slides both ways. "
            "Measured by the shift probe (cnnexp/probes/shift_errors.py) on a random image.",
            why=why,
        )


POOLED = (
    Option("same", "It stays the same (changes by less than 0.01%)"),
    Option("close", "It changes a little (0.01% to 5%)"),
    Option("changes", "It changes a lot (5% or more)"),
    Option("moves", "It moves by the same shift, as the feature maps do"),
)
PROBE_STACK = (
    "image",
    "image_index",
    "colour",
    "image_size",
    "shift",
    "shift_y",
    "shift_kind",
    "depth",
    "kernel",
    "padding",
    "stride",
    "pool",
    "channels",
    "seed",
)


def _pool_shift(cfg: shift_probe.Config) -> tuple[int, int]:
    return (cfg.shift, cfg.shift_y) if (cfg.shift, cfg.shift_y) != (0, 0) else (3, 0)


@dataclass(frozen=True)
class GlobalPooling(Exercise):
    """What global average pooling does to a shift, for the page's probe stack."""

    page: ClassVar[str] = equivariance.NAME
    name: ClassVar[str] = "global_pooling"
    source: ClassVar[type[Config]] = shift_probe.Config
    keys: ClassVar[tuple[str, ...]] = PROBE_STACK
    fixed: ClassVar[dict[str, Any]] = {"weights": "random"}
    kind: ClassVar[Kind] = "choice"

    def prompt(self, cfg: shift_probe.Config) -> str:
        dx, dy = _pool_shift(cfg)
        pool = "no pooling" if cfg.pool == "none" else f"{cfg.pool} pooling"
        return (
            f"The probe's stack ({many(cfg.depth, 'conv layer')} of {cfg.kernel}×{cfg.kernel}, "
            f"padding {cfg.padding}, stride {cfg.stride}, {pool}, random weights of seed "
            f"{cfg.seed}) ends in a global average over positions. The input moves "
            f"{_shift_words(dx, dy)} ({cfg.shift_kind} shift). **What happens to the pooled "
            "output?**"
        )

    def options(self, cfg: shift_probe.Config) -> tuple[Option, ...]:
        return POOLED

    def problem(self, cfg: shift_probe.Config, caps: policy.Caps) -> str | None:
        return policy.shift_probe_problem(
            caps, cfg.image_size, cfg.channels, cfg.kernel, cfg.depth, cfg.colour
        )

    def solve(self, cfg: shift_probe.Config) -> Answer:
        from cnnexp.probes import shift_errors as probe

        blocks, x = shift_probe.stack(cfg)
        rows = probe.invariance(blocks, x, [_pool_shift(cfg)], cfg.shift_kind)
        e = next(r["error"] for r in rows if r["pooling"] == "average") or 0.0
        right = "same" if e < 1e-4 else "close" if e < 0.05 else "changes"
        measured = f"Measured: the pooled output changed by {e:.2%}."
        cause = {
            "same": "Every position's features are still there, only elsewhere, so their "
            "average is the same: equivariance has become invariance.",
            "close": "Most positions' features are the same features, moved; the border "
            "(padding, or the band a shift blanks) or a stride the shift does not divide "
            "changes a few, and the average a little.",
            "changes": "Strides or pooling that the shift does not divide change the features "
            "themselves (aliasing), and their average follows.",
        }
        why = {o.key: f"{measured} {cause[right]}" for o in POOLED if o.key != "moves"}
        why["moves"] = (
            "After global pooling there are no positions left to move: one number per channel. "
            "That is how pooling turns equivariance into invariance."
        )
        return Answer(
            frozenset([right]),
            f"{measured} {cause[right]} That is why classification heads end with global "
            "pooling: a digit moved a few pixels gives the classifier (nearly) the same vector. "
            "Measured by the shift probe on the page's image.",
            why=why,
        )


@dataclass(frozen=True)
class PredictShifted(Prediction):
    page: ClassVar[str] = equivariance.NAME
    name: ClassVar[str] = "predict_shifted"
    source: ClassVar[type[Config]] = equivariance.Config
    unit: ClassVar[str] = "%"
    share: ClassVar[bool] = True

    @staticmethod
    def model(cfg: equivariance.Config) -> str | None:
        return next((m for m in ("cnn_flatten", "cnn_gap", "mlp") if m in cfg.models), None)

    def applies(self, cfg: equivariance.Config) -> str | None:
        return None if self.model(cfg) else "no model to predict"

    def prompt(self, cfg: equivariance.Config) -> str:
        return (
            f"**Predict before you look.** **{self.model(cfg)}** is trained on centred "
            f"{cfg.dataset} images, without shift augmentation. What test accuracy (%) will it "
            f"reach when the test images move by **{cfg.max_shift} pixels** (the blank band "
            "entering from the edge)?"
        )

    def measured(self, cfg: equivariance.Config, headline: dict | None) -> dict | None:
        rows = (headline or {}).get("shift_accuracy", {}).get(self.model(cfg)) or []
        return rows[-1]["test_acc"] if rows else None
