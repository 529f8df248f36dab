"""Learned priors: where an evenly spread MLP unit's window share sits (priors.window_share
on such a unit), and a prediction of how local the MLP's units become with training."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cnnexp import data
from cnnexp.config import Config
from cnnexp.exercises.core import Answer, Exercise, Kind, Mistake, Prediction, known
from cnnexp.experiments import learned


@dataclass(frozen=True)
class EvenShare(Exercise):
    page: ClassVar[str] = learned.NAME
    name: ClassVar[str] = "even_window_share"
    source: ClassVar[type[Config]] = learned.Config
    keys: ClassVar[tuple[str, ...]] = ("dataset", "kernel")
    kind: ClassVar[Kind] = "number"

    def prompt(self, cfg: learned.Config) -> str:
        c, h, w = data.info(cfg.dataset).shape
        k = cfg.kernel
        return (
            f"An MLP unit on {cfg.dataset} ({c}×{h}×{w} images) has its weight energy w² spread "
            f"**evenly** over every pixel. What share of that energy lies in its best "
            f"**{k}×{k} window** (the page's locality, as a fraction between 0 and 1)?"
        )

    def solve(self, cfg: learned.Config) -> Answer:
        import numpy as np

        from cnnexp import priors

        c, h, w = data.info(cfg.dataset).shape
        k = cfg.kernel
        right = float(priors.window_share(np.ones((1, c, h, w)), k)[0])
        mistakes = [
            Mistake(
                "side_not_area",
                k / (h * w),
                f"A {k}×{k} window holds {k * k} pixels, not {k}.",
            ),
            Mistake(
                "one_pixel",
                1 / (h * w),
                "That is one pixel's share (the IPR of an even spread); the window holds k² of "
                "them.",
            ),
            Mistake(
                "per_channel",
                k * k / (c * h * w),
                f"A pixel's energy is its {c} channels' together: the window covers all of them.",
            ),
        ]
        return Answer(
            right,
            f"Every pixel holds the same share 1/{h * w}, and a window holds {k}² = {k * k} "
            f"pixels (all channels): {k * k}/{h * w} = **{right:.4f}**. Computed by "
            "cnnexp.priors.window_share on such a unit. A trained MLP unit well above this "
            "has gathered its weights in one place.",
            known(right, mistakes, same=lambda a, b: abs(a - b) <= 0.01 * abs(b)),
            hint="The share of the pixels that one k×k window covers.",
        )


@dataclass(frozen=True)
class PredictLocality(Prediction):
    page: ClassVar[str] = learned.NAME
    name: ClassVar[str] = "predict_locality"
    source: ClassVar[type[Config]] = learned.Config
    unit: ClassVar[str] = "%"
    share: ClassVar[bool] = True  # a share of weight energy: its interval stops at 0 and 100%

    def applies(self, cfg: learned.Config) -> str | None:
        return None if "mlp" in cfg.models else "the locality question needs mlp among the models"

    def prompt(self, cfg: learned.Config) -> str:
        _, h, w = data.info(cfg.dataset).shape
        k, n = cfg.kernel, learned.images(cfg.dataset, learned.sizes(cfg)[-1])
        return (
            f"**Predict before you look.** The MLP's hidden units see the whole {h}×{w} image; "
            f"spread evenly, a unit would hold {k * k / (h * w):.1%} of its weight energy in one "
            f"{k}×{k} window, and a convolution's unit holds 100%. After training on {n:,} "
            f"images ({learned.shift_label(min(cfg.shifts))}), what share (%) will the MLP's "
            "units hold in their best window, on average?"
        )

    def measured(self, cfg: learned.Config, headline: dict | None) -> dict | None:
        got = (headline or {}).get("locality", {}).get("mlp")
        return got["trained"] if got else None
