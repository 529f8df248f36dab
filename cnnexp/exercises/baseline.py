"""Baseline: the parameters of the first layer of the model on the page, counted on the
module cnnexp/models.py builds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cnnexp import data
from cnnexp.config import Config, TrainSetup, setup_fields
from cnnexp.exercises.core import (
    Answer,
    Exercise,
    Kind,
    Mistake,
    known,
)
from cnnexp.experiments import baseline

MODEL_KEYS = (
    "dataset",
    "model",
    "width",
    "depth",
    "kernel",
    "padding",
    "pool",
    "pool_every",
    "head",
    "norm",
    "groups",
)


@dataclass(frozen=True)
class FirstLayer(Exercise):
    page: ClassVar[str] = baseline.NAME
    name: ClassVar[str] = "first_layer_params"
    source: ClassVar[type[Config]] = baseline.Config
    keys: ClassVar[tuple[str, ...]] = MODEL_KEYS
    kind: ClassVar[Kind] = "integer"
    unit: ClassVar[str] = "parameters"

    @staticmethod
    def _first(cfg: baseline.Config):
        """The setup, and the index and blueprint layer of its first layer with weights."""
        setup = TrainSetup(**setup_fields(cfg)).normalized()
        layers = setup.layers()
        i = next(i for i, x in enumerate(layers) if x.kind in ("conv", "local", "linear"))
        return setup, i, layers[i]

    def prompt(self, cfg: baseline.Config) -> str:
        setup, _, layer = self._first(cfg)
        c, h, w = data.info(setup.dataset).shape
        a = layer.args
        what = {
            "conv": f"a convolution with {a.get('out_channels')} filters of "
            f"{a.get('kernel_size')}×{a.get('kernel_size')} (padding {setup.padding})",
            "local": f"a locally connected layer with {a.get('out_channels')} channels and "
            f"{a.get('kernel_size')}×{a.get('kernel_size')} windows, its own weights at each "
            f"of its {layer.out_shape[1]}×{layer.out_shape[2]} positions",
            "linear": f"a dense layer of {a.get('out_features')} units over the flattened image",
        }[layer.kind]
        after = (
            "Nothing normalises its output."
            if setup.norm == "none"
            else f"A {setup.norm} normalization layer follows it."
        )
        return (
            f"This {setup.model} on {setup.dataset} ({c}×{h}×{w} images) starts with {what}. "
            f"{after} **How many trainable parameters does that first layer hold?**"
        )

    def solve(self, cfg: baseline.Config) -> Answer:
        import torch

        from cnnexp import models

        setup, i, layer = self._first(cfg)
        with torch.device("meta"):
            module = models.build(setup.layers())[i]
        right = models.count_params(module)
        weights = module.weight.numel()
        units = (
            layer.out_shape[0]
            if layer.kind != "local"
            else layer.out_shape[0] * (layer.out_shape[1] * layer.out_shape[2])
        )  # biases: one per filter or unit; per filter and position when local
        channels = data.info(setup.dataset).shape[0]
        bias_words = (
            f" + {units:,} biases"
            if module.bias is not None
            else "; no biases: the normalization after it shifts each channel itself, which "
            "makes a bias redundant"
        )
        mistakes = [
            Mistake("forgot_bias", weights, "You left out the biases: one per filter or unit.")
            if module.bias is not None
            else Mistake(
                "added_bias",
                weights + units,
                "This layer has no biases: the normalization after it adds a learned shift per "
                "channel, which makes a bias redundant (cnnexp/architecture.py leaves it out).",
            ),
            Mistake(
                "forgot_input_channels",
                weights // channels + (right - weights),
                f"The images have {channels} channels: each weight window covers all of them.",
            ),
        ]
        if layer.kind == "conv":
            h, w = layer.out_shape[1:]
            mistakes.append(
                Mistake(
                    "per_position",
                    right * h * w,
                    "That gives each of the output's positions its own filters (a locally "
                    "connected layer); a convolution shares them.",
                )
            )
        shape = " × ".join(map(str, module.weight.shape))
        return Answer(
            right,
            f"{type(module).__name__} weights {shape} = {weights:,}{bias_words}: **{right:,}**. "
            "Counted on the model cnnexp/models.py builds for these settings, on PyTorch's "
            "meta device; the page's Model tab lists every layer.",
            known(right, mistakes),
            hint="Weights per filter (or unit) times filters, then the biases, if any.",
        )
