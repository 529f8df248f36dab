"""Normalization: whose statistics ignore the batch, and what a normalization layer learns,
measured on the layers cnnexp/models.py builds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cnnexp import data
from cnnexp.config import Config, TrainSetup
from cnnexp.exercises.core import (
    Answer,
    Exercise,
    Kind,
    Mistake,
    Option,
    known,
)
from cnnexp.experiments import normalization

VARIANTS = ("batch", "layer", "group", "instance")
BATCH = 8  # images in the batch the independence question measures


def _groups(cfg: normalization.Config) -> int:
    """The page's GroupNorm groups where they divide the width (the page checks that only when
    group is among its variants), else 1."""
    return cfg.groups if cfg.width % cfg.groups == 0 else 1


def _block(cfg: normalization.Config, norm: str) -> TrainSetup:
    """One conv block of the page's width, with `norm`, on the page's dataset."""
    return TrainSetup(
        dataset=cfg.dataset, model="cnn", width=cfg.width, depth=1, norm=norm, groups=_groups(cfg)
    ).normalized()


@dataclass(frozen=True)
class BatchIndependent(Exercise):
    page: ClassVar[str] = normalization.NAME
    name: ClassVar[str] = "batch_independent"
    source: ClassVar[type[Config]] = normalization.Config
    keys: ClassVar[tuple[str, ...]] = ("dataset", "width", "groups")
    kind: ClassVar[Kind] = "choices"

    def prompt(self, cfg: normalization.Config) -> str:
        return (
            f"A conv block of width {cfg.width} on {cfg.dataset}, in training mode, with each "
            "normalization in turn. **Whose output for one image does not depend on the other "
            "images in its batch?** (Choose all.)"
        )

    def options(self, cfg: normalization.Config) -> tuple[Option, ...]:
        return tuple(Option(v, v) for v in VARIANTS)

    def solve(self, cfg: normalization.Config) -> Answer:
        import torch

        from cnnexp import models

        shape = data.info(cfg.dataset).shape
        change = {}
        for v in VARIANTS:
            torch.manual_seed(0)
            model = models.build(_block(cfg, v).layers()).train()
            gen = torch.Generator().manual_seed(0)
            x = torch.rand(BATCH, *shape, generator=gen)
            others = torch.rand(BATCH - 1, *shape, generator=gen)
            with torch.no_grad():
                a, b = model(x)[0], model(torch.cat([x[:1], others]))[0]
            change[v] = float((a - b).abs().max())
        right = frozenset(v for v in VARIANTS if change[v] < 1e-5)
        over = {
            "batch": "every image in the batch, per channel",
            "layer": "all channels and pixels of the one image",
            "group": f"groups of channels of the one image ({_groups(cfg)} groups)",
            "instance": "each channel's pixels of the one image",
        }
        why = {
            v: f"{v}: the first image's output changed by {change[v]:.2g} when the other {BATCH - 1} "
            f"images of its batch were replaced; its statistics are taken over {over[v]}."
            for v in VARIANTS
        }
        return Answer(
            right,
            " ".join(why.values())
            + " At test time BatchNorm uses running averages instead, which is why it needs "
            "batches of several images while training. Measured on the blocks cnnexp/models.py "
            "builds.",
            why=why,
        )


def _norm_module(setup: TrainSetup):
    """The first normalization layer of the model models.build makes for setup, on the meta
    device."""
    import torch
    from torch import nn

    from cnnexp import models

    kinds = (nn.BatchNorm2d, nn.GroupNorm, nn.InstanceNorm2d)
    with torch.device("meta"):
        model = models.build(setup.layers())
    return next(m for m in model.modules() if isinstance(m, kinds))


@dataclass(frozen=True)
class NormParams(Exercise):
    page: ClassVar[str] = normalization.NAME
    name: ClassVar[str] = "norm_params"
    source: ClassVar[type[Config]] = normalization.Config
    keys: ClassVar[tuple[str, ...]] = ("dataset", "width", "groups", "norms")
    kind: ClassVar[Kind] = "integer"
    unit: ClassVar[str] = "parameters"

    @staticmethod
    def variant(cfg: normalization.Config) -> str | None:
        return next((n for n in cfg.norms if n != "none"), None)

    def applies(self, cfg: normalization.Config) -> str | None:
        return None if self.variant(cfg) else "no variant with a normalization layer is chosen"

    def prompt(self, cfg: normalization.Config) -> str:
        return (
            f"The first conv layer has {cfg.width} channels, followed by **{self.variant(cfg)}** "
            "normalization. **How many trainable parameters does that normalization layer hold?**"
        )

    def solve(self, cfg: normalization.Config) -> Answer:
        from cnnexp import models

        v, w, g = self.variant(cfg), cfg.width, _groups(cfg)
        module = _norm_module(_block(cfg, v))
        right = models.count_params(module)
        buffers = sum(
            b.numel() for name, b in module.named_buffers() if name.startswith("running_")
        )
        mistakes = [
            Mistake(
                "scale_only",
                module.weight.numel(),
                "It learns a shift β per channel as well as a scale γ.",
            ),
            Mistake(
                "running_stats",
                right + buffers,
                "The running mean and variance are buffers: updated by averaging during "
                "training, not by gradients, so they are not trainable.",
            ),
            Mistake(
                "per_group",
                2 * g,
                "GroupNorm takes its statistics per group, but keeps a scale and a shift per "
                "channel.",
            ),
        ]
        if v != "group":
            mistakes = mistakes[:2]
        kept = " Its running mean and variance are buffers, not trained." if buffers else ""
        return Answer(
            right,
            f"{type(module).__name__}: a learned scale γ and shift β per channel, 2 × {w} = "
            f"**{right:,}**.{kept} Counted on the layer cnnexp/models.py builds for {v}, on "
            "PyTorch's meta device.",
            known(right, mistakes),
            hint="What does the layer learn per channel after it has normalised?",
        )
