"""Receptive field: the theoretical side of the stack on the sliders, and the side holding half
of its effective field.

The arithmetic comes from cnnexp/fields.py (theoretical, stack, Window) and the field probe
from cnnexp/probes/field.py (Config, describe_layer, effective, budget_problem), where the
Receptive field page takes them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from cnnexp import fields, policy, stats
from cnnexp.config import Config
from cnnexp.exercises.core import (
    Answer,
    Exercise,
    Kind,
    Mistake,
    close,
    known,
    many,
)
from cnnexp.experiments import receptive_field
from cnnexp.probes import field as field_probe

STACK = ("rf_depth", "rf_kernel", "rf_stride", "rf_dilation", "rf_pool_every")


def _stack_words(cfg: field_probe.Config) -> str:
    extra = "".join(
        [
            f", stride {cfg.rf_stride}" if cfg.rf_stride > 1 else "",
            f", dilation {cfg.rf_dilation}" if cfg.rf_dilation > 1 else "",
            f", a 2×2 average pool (stride 2) after every {cfg.rf_pool_every}"
            if cfg.rf_pool_every
            else "",
        ]
    )
    return f"{many(cfg.rf_depth, 'conv layer')} of {cfg.rf_kernel}×{cfg.rf_kernel}{extra}"


def _field_side(layers: list[fields.Window]) -> int:
    return fields.theoretical(layers)[-1]["side"]


@dataclass(frozen=True)
class TheoreticalField(Exercise):
    page: ClassVar[str] = receptive_field.NAME
    name: ClassVar[str] = "theoretical_side"
    source: ClassVar[type[Config]] = field_probe.Config
    keys: ClassVar[tuple[str, ...]] = STACK
    kind: ClassVar[Kind] = "integer"
    unit: ClassVar[str] = "pixels"

    def prompt(self, cfg: field_probe.Config) -> str:
        return (
            f"A stack of {_stack_words(cfg)}. **How many input pixels wide is the receptive "
            "field of a unit after the last layer?**"
        )

    def solve(self, cfg: field_probe.Config) -> Answer:
        layers = cfg.layers()
        right = _field_side(layers)
        d, k = cfg.rf_dilation, cfg.rf_kernel
        # each conv adding k instead of k − 1 (the pools as they are)
        wide = [replace(x, kernel=x.kernel + 1) if x.kind == "conv" else x for x in layers]
        no_jump = [replace(x, stride=1) for x in layers]
        undilated = fields.stack(cfg.rf_depth, k, cfg.rf_stride, 1, cfg.rf_pool_every)
        mistakes = [
            Mistake(
                "forgot_the_one",
                right - 1,
                "The field starts as the unit's own pixel: 1 plus what the layers add.",
            ),
            Mistake(
                "k_per_layer",
                _field_side(wide),
                f"A {k}×{k} layer adds {k} − 1 = {k - 1} pixels (times the jump), not {k}: "
                "neighbouring windows overlap.",
            ),
            Mistake(
                "ignored_jump",
                _field_side(no_jump),
                "Strides and pooling multiply the jump, the input distance between neighbouring "
                "units: every later layer adds (k − 1) × jump pixels.",
            ),
            Mistake(
                "ignored_dilation",
                _field_side(undilated),
                f"A dilation of {d} spreads the taps {d} pixels apart: each layer adds "
                f"{d} × ({k} − 1) pixels (times the jump).",
            ),
        ]
        return Answer(
            right,
            self._derivation(layers),
            known(right, mistakes),
            hint="Start from 1 pixel; each layer adds dilation × (kernel − 1) × the jump so far.",
        )

    @staticmethod
    def _derivation(layers: list[fields.Window]) -> str:
        rows = fields.theoretical(layers)
        side, jump, steps = 1, 1, []
        for row, layer in zip(rows, layers, strict=True):
            added = row["side"] - side
            steps.append(
                f"layer {row['layer']} ({field_probe.describe_layer(layer)}) adds "
                f"{layer.dilation} × ({layer.kernel} − 1) × {jump} = {added}"
            )
            side, jump = row["side"], row["jump"]
        return (
            "Start from the unit's own pixel, 1; "
            + "; ".join(steps)
            + f". In all: **{side}** pixels. The recurrence of the Receptive field page "
            "(side += dilation × (kernel − 1) × jump; jump ×= stride), which the tests check "
            "against the gradient support of the real PyTorch stack."
        )


@dataclass(frozen=True)
class EffectiveField(Exercise):
    page: ClassVar[str] = receptive_field.NAME
    name: ClassVar[str] = "effective_50"
    source: ClassVar[type[Config]] = field_probe.Config
    keys: ClassVar[tuple[str, ...]] = (*STACK, "rf_seeds")
    kind: ClassVar[Kind] = "number"
    unit: ClassVar[str] = "pixels"

    def prompt(self, cfg: field_probe.Config) -> str:
        return (
            f"A stack of {_stack_words(cfg)}. The *Effective field* tab measures where its "
            "centre unit actually looks: the mean |gradient| over random weights and inputs. "
            "**What is the side, in pixels, of the centred square that holds 50% of that "
            f"mass** (the mean over {many(cfg.rf_seeds, 'probe seed')})? Any value inside the "
            "measurement's 95% interval counts."
        )

    def problem(self, cfg: field_probe.Config, caps: policy.Caps) -> str | None:
        return field_probe.budget_problem(cfg, caps.probe_gflop)

    def solve(self, cfg: field_probe.Config) -> Answer:
        eff = field_probe.effective(cfg)
        half, ninety, theory = eff["effective_50"], eff["effective_90"], eff["theoretical"]
        lo_hi = half["ci95"]
        width = (lo_hi[1] - lo_hi[0]) / 2 if lo_hi else 0.0
        px = {"scale": 1.0, "unit": " px"}
        mistakes = [
            Mistake(
                "theoretical",
                theory,
                f"That is the theoretical field, {theory} pixels: where the unit *can* look. "
                "The gradient piles up in the middle (many more paths lead there), so half of "
                "it lies in a much smaller square.",
            ),
            Mistake(
                "ninety",
                ninety["mean"],
                "That is the square holding 90% of the mass; half of it lies closer in.",
            ),
        ]
        answer = Answer(half["mean"], "", atol=width)
        same = lambda a, b: close(a, b, answer, False)  # noqa: E731
        return Answer(
            half["mean"],
            f"Measured: 50% of the gradient mass within {stats.describe_ci(half, **px)}, 90% "
            f"within {stats.describe_ci(ninety, **px)}, against a theoretical side of {theory}. "
            "The mass spreads like a random walk, about as √depth, while the theoretical side "
            "grows with depth (Luo et al., NeurIPS 2016). Computed by the probe of the "
            "Effective field tab.",
            known(half["mean"], mistakes, same),
            atol=width,
            hint="Look at the Effective field tab: the 50% square is drawn on the map.",
        )
