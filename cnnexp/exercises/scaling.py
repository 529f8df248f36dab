"""Parameter scaling: the weights of a dense, a locally connected and a convolutional layer
(the first exercise of the textbook section behind the page), and which of them grows with the
image."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from cnnexp.config import Config
from cnnexp.exercises.core import (
    Answer,
    Exercise,
    Kind,
    Mistake,
    Option,
    known,
    many,
)
from cnnexp.experiments import scaling

ONE_LAYER = ("image_size", "in_channels", "out_channels", "kernel", "stride", "padding", "bias")
FAMILY_WORDS = {
    "fc": "**fully connected layer** (every output unit sees every input value)",
    "local": "**locally connected layer** (a window per output position, with weights of its own)",
    "conv": "**convolution** (one bank of filters shared by every position)",
}
FAMILY_NAMES = {"fc": "fully connected", "local": "locally connected", "conv": "convolution"}


def layer_params(cfg: scaling.Config, **change: Any) -> dict[str, int]:
    """Parameters of the three layers, counted on nn.Linear, LocallyConnected2d and nn.Conv2d
    built on PyTorch's meta device (the Scaling page's formula check), with `change` applied
    to the settings: how a mistake is computed."""
    counts = scaling.module_counts(cfg.model_copy(update=change))
    return {f: c["params"] for f, c in counts.items()}


def _one_layer(cfg: scaling.Config) -> str:
    o = scaling.architecture.conv_out(cfg.image_size, cfg.kernel, cfg.stride, cfg.padding)
    side, cin, cout = cfg.image_size, cfg.in_channels, cfg.out_channels
    return (
        f"One layer maps a {side}×{side}×{cin} input to a {o}×{o}×{cout} output (window "
        f"{cfg.kernel}×{cfg.kernel}, stride {cfg.stride}, zero padding {cfg.padding}, "
        + ("a bias per output unit or filter)." if cfg.bias else "no biases).")
    )


@dataclass(frozen=True)
class LayerWeights(Exercise):
    """The trainable parameters of one of the three layers (the seed's first exercise)."""

    family: str = "fc"
    page: ClassVar[str] = scaling.NAME
    source: ClassVar[type[Config]] = scaling.Config
    keys: ClassVar[tuple[str, ...]] = ONE_LAYER
    fixed: ClassVar[dict[str, Any]] = {"mode": "analytic"}
    kind: ClassVar[Kind] = "integer"
    unit: ClassVar[str] = "parameters"

    @property
    def id(self) -> str:
        return f"{self.page}.{self.family}_weights"

    def prompt(self, cfg: scaling.Config) -> str:
        return (
            f"{_one_layer(cfg)} How many trainable parameters has the {FAMILY_WORDS[self.family]}?"
        )

    def solve(self, cfg: scaling.Config) -> Answer:
        count = layer_params(cfg)
        right = count[self.family]
        side, cin, cout, k = cfg.image_size, cfg.in_channels, cfg.out_channels, cfg.kernel
        o = scaling.architecture.conv_out(side, k, cfg.stride, cfg.padding)
        n_in, n_out = side * side * cin, o * o * cout
        mistakes = [
            Mistake(
                "forgot_bias",
                layer_params(cfg, bias=False)[self.family],
                "You left out the biases: one per output unit of a dense or locally connected "
                "layer, one per filter of a convolution.",
            )
            if cfg.bias
            else Mistake(
                "added_bias",
                layer_params(cfg, bias=True)[self.family],
                "This layer has no biases (the bias setting is off): count the weights only.",
            ),
            Mistake(
                "forgot_input_channels",
                layer_params(cfg, in_channels=1)[self.family],
                f"The input has {cin} channels: every pixel is {cin} values, and a window "
                f"covers all of them ({k}×{k}×{cin}).",
            ),
            Mistake(
                "forgot_output_channels",
                layer_params(cfg, out_channels=1)[self.family],
                f"There are {cout} output channels, each with weights of its own.",
            ),
        ]
        if self.family == "fc":
            b = int(cfg.bias)
            mistakes.append(
                Mistake(
                    "output_side_as_input",
                    n_out * (o * o * cin + b),
                    f"You counted the output's side ({o}) on the input side: every output unit "
                    f"sees all {side}×{side}×{cin} = {n_in:,} input values.",
                )
            )
        if self.family == "local":
            mistakes += [
                Mistake(
                    "shared_weights",
                    count["conv"],
                    "That is one filter bank shared by every position: a convolution. A "
                    f"locally connected layer has its own at each of the {o}×{o} positions.",
                ),
                Mistake(
                    "input_positions",
                    side * side * count["conv"],
                    f"There is one window per output position ({o}×{o}), not per input pixel "
                    f"({side}×{side}).",
                ),
            ]
        if self.family == "conv":
            mistakes.append(
                Mistake(
                    "per_position",
                    count["local"],
                    "That gives every output position its own filters: a locally connected "
                    "layer. A convolution shares one bank of filters across all positions.",
                )
            )
        return Answer(
            right,
            self._derivation(cfg, right, n_in, n_out, o),
            known(right, mistakes),
            hint="Count the weights one output unit (or one filter) needs, then how many of "
            "them there are.",
        )

    def _derivation(self, cfg: scaling.Config, right: int, n_in: int, n_out: int, o: int) -> str:
        k, cin, cout, b = cfg.kernel, cfg.in_channels, cfg.out_channels, int(cfg.bias)
        plus = " + 1 bias" if b else ""
        window = k * k * cin
        per = lambda n: f"({n:,} + 1)" if b else f"{n:,}"  # noqa: E731
        if self.family == "fc":
            how = (
                f"each of the {o}×{o}×{cout} = {n_out:,} output units has a weight for each of "
                f"the {cfg.image_size}×{cfg.image_size}×{cin} = {n_in:,} input values{plus}: "
                f"{n_out:,} × {per(n_in)} = **{right:,}**"
            )
            module = f"nn.Linear({n_in}, {n_out}, bias={cfg.bias})"
        elif self.family == "local":
            how = (
                f"each of the {o}×{o} = {o * o:,} output positions has {many(cout, 'filter')} of "
                f"{k}×{k}×{cin} = {window:,} weights{plus} of its own: {o * o:,} × {cout} × "
                f"{per(window)} = **{right:,}**"
            )
            module = "LocallyConnected2d (cnnexp/models.py)"
        else:
            how = (
                f"{many(cout, 'filter')} of {k}×{k}×{cin} = {window:,} weights{plus}, shared by every "
                f"position: {cout} × {per(window)} = **{right:,}**, whatever "
                "the size of the image"
            )
            module = f"nn.Conv2d({cin}, {cout}, {k})"
        return (
            f"The {FAMILY_NAMES[self.family]} layer: {how}. Counted on {module} built on "
            "PyTorch's meta device (shapes only, no memory)."
        )


@dataclass(frozen=True)
class GrowsWithImage(Exercise):
    """Which counts grow when the image grows (the seed's second part), from counts at two
    sizes."""

    page: ClassVar[str] = scaling.NAME
    name: ClassVar[str] = "grows_with_image"
    source: ClassVar[type[Config]] = scaling.Config
    keys: ClassVar[tuple[str, ...]] = ONE_LAYER
    fixed: ClassVar[dict[str, Any]] = {"mode": "analytic"}
    kind: ClassVar[Kind] = "choices"

    def prompt(self, cfg: scaling.Config) -> str:
        s = cfg.image_size
        return (
            f"{_one_layer(cfg)} Now the image side doubles, from {s} to {2 * s}; window, "
            "stride, padding and channels stay as they are. **Whose parameter count grows?** "
            "(Choose all that do.)"
        )

    def options(self, cfg: scaling.Config) -> tuple[Option, ...]:
        return tuple(Option(f, FAMILY_NAMES[f]) for f in FAMILY_NAMES)

    def solve(self, cfg: scaling.Config) -> Answer:
        now, big = layer_params(cfg), layer_params(cfg, image_size=2 * cfg.image_size)
        grows = frozenset(f for f in now if big[f] > now[f])
        reason = {
            "fc": "every output unit sees every input value, and there are more of both",
            "local": "it keeps a window of weights per output position, and there are more "
            "positions",
            "conv": "its one bank of filters is shared by every position, however many",
        }
        why = {}
        for f in now:
            change = f"×{big[f] / now[f]:,.0f}" if f in grows else "the same"
            why[f] = (
                f"The {FAMILY_NAMES[f]} layer goes from {now[f]:,} to {big[f]:,} parameters "
                f"({change}): {reason[f]}."
            )
        stays = [FAMILY_NAMES[f] for f in now if f not in grows]
        lesson = (
            f" Only the {' and '.join(stays)} keeps its count: its parameters follow the window "
            "and the channels, not the image, which is why convolutions scale to large images."
            if stays
            else ""
        )
        return Answer(
            grows,
            " ".join(why.values())
            + lesson
            + " Counted at both sizes on modules built on PyTorch's meta device.",
            why=why,
        )
