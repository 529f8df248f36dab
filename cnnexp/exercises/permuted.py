"""Permuted pixels: predict the gap (how much more the CNN loses than the MLP) before the
saved result is shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cnnexp.config import Config
from cnnexp.exercises.core import (
    Prediction,
)
from cnnexp.experiments import permuted


@dataclass(frozen=True)
class PredictGap(Prediction):
    page: ClassVar[str] = permuted.NAME
    name: ClassVar[str] = "predict_gap"
    source: ClassVar[type[Config]] = permuted.Config
    unit: ClassVar[str] = "points"

    @staticmethod
    def cnn(cfg: permuted.Config) -> str | None:
        return next((m for m in cfg.models if m in permuted.CNNS), None)

    def applies(self, cfg: permuted.Config) -> str | None:
        if "mlp" in cfg.models and self.cnn(cfg):
            return None
        return "the gap needs mlp and a CNN among the models"

    def prompt(self, cfg: permuted.Config) -> str:
        n = permuted.images(cfg.dataset, cfg.n_train)
        return (
            f"**Predict before you look.** Every {cfg.dataset} image's pixels go through one "
            f"fixed permutation, and each model is trained from scratch on {n:,} such images. "
            f"By how many points more than the MLP's will **{self.cnn(cfg)}**'s test accuracy "
            "drop? (The gap: CNN drop − MLP drop, in percentage points.)"
        )

    def measured(self, cfg: permuted.Config, headline: dict | None) -> dict | None:
        return headline.get("gap") if headline else None
