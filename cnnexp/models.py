"""Model families as nn.Modules, built from an architecture blueprint.

`build(layers)` turns architecture.blueprint(...) into an nn.Sequential, one module per
blueprint layer, so the shapes, parameter counts and FLOPs the pages show before training
are those of the model that trains. The families (mlp, local, cnn) are registered in
architecture.FAMILIES; this module supplies the layers they are made of.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnexp.architecture import Layer


class LocallyConnected2d(nn.Module):
    """A convolution without weight sharing: every output position has its own filter.

    Output (N, C_out, H_out, W_out) as for nn.Conv2d with the same arguments; with bias it
    holds H_out·W_out·C_out·(C_in·k²+1) parameters. Setting every position's weights to one
    conv filter bank makes it compute exactly what nn.Conv2d computes.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        in_size: int | Sequence[int],
        stride: int = 1,
        padding: int = 0,
        bias: bool = True,
        padding_mode: str = "zeros",
    ):
        super().__init__()
        h, w = (in_size, in_size) if isinstance(in_size, int) else tuple(in_size)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.padding_mode = padding_mode
        self.out_size = (
            (h + 2 * padding - kernel_size) // stride + 1,
            (w + 2 * padding - kernel_size) // stride + 1,
        )
        if min(self.out_size) < 1:
            raise ValueError(
                f"kernel {kernel_size} does not fit the {h}×{w} input with padding {padding}"
            )
        positions = self.out_size[0] * self.out_size[1]
        fan_in = in_channels * kernel_size**2
        # weight[l] is the (C_out, C_in·k·k) filter bank of output position l, in unfold order.
        self.weight = nn.Parameter(torch.empty(positions, out_channels, fan_in))
        self.bias = nn.Parameter(torch.empty(out_channels, *self.out_size)) if bias else None
        bound = 1 / math.sqrt(fan_in)  # the same range nn.Conv2d initialises from
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = self.padding
        if pad and self.padding_mode != "zeros":
            x = F.pad(x, (pad,) * 4, mode=self.padding_mode)
            pad = 0
        cols = F.unfold(x, self.kernel_size, padding=pad, stride=self.stride)  # (N, C_in·k², L)
        # One small matrix product per position: (L, N, C_in·k²) @ (L, C_in·k², C_out).
        # Contiguous operands: on views, CPU bmm clones every one of the L small matrices.
        out = torch.bmm(
            cols.permute(2, 0, 1).contiguous(), self.weight.transpose(1, 2).contiguous()
        )
        out = out.permute(1, 2, 0).reshape(x.shape[0], -1, *self.out_size)
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        o, _, k = self.weight.shape
        return f"positions={o}, out_size={self.out_size}, fan_in={k}, stride={self.stride}"


class BlurPool2d(nn.Module):
    """Anti-aliased downsampling (Zhang 2019): a 3×3 binomial low-pass, then stride 2.

    Removing frequencies above the new Nyquist limit before subsampling is what makes a
    shifted input give a (nearly) shifted output; plain subsampling aliases them.
    """

    def __init__(self, channels: int, padding_mode: str = "zeros"):
        super().__init__()
        k = torch.tensor([1.0, 2.0, 1.0])
        kernel = (k[:, None] * k[None, :]) / 16.0
        self.register_buffer("kernel", kernel.expand(channels, 1, 3, 3).clone())
        self.mode = {"zeros": "constant", "valid": "constant"}.get(padding_mode, padding_mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (1, 1, 1, 1), mode=self.mode)
        return F.conv2d(x, self.kernel, stride=2, groups=x.shape[1])


class Normalize(nn.Module):
    """Standardise inputs with the training split's per-channel mean and std.

    Part of the model so that data transforms (shifts, permutations) act on raw [0, 1]
    images, where 0 is the background a shift fills in.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def _norm(a: dict) -> nn.Module:
    c, g = a["channels"], a["groups"]
    if a["spatial"]:
        return {
            "batch": lambda: nn.BatchNorm2d(c),
            "layer": lambda: nn.GroupNorm(1, c),
            "group": lambda: nn.GroupNorm(g, c),
            "instance": lambda: nn.InstanceNorm2d(c, affine=True),
        }[a["norm"]]()
    return {
        "batch": lambda: nn.BatchNorm1d(c),
        "layer": lambda: nn.LayerNorm(c),
        "group": lambda: nn.GroupNorm(g, c),
    }[a["norm"]]()


def _module(layer: Layer, mean: Sequence[float], std: Sequence[float]) -> nn.Module:
    a = layer.args
    match layer.kind:
        case "normalize":
            return Normalize(mean, std)
        case "conv":
            mode = "zeros" if a["padding_mode"] == "valid" else a["padding_mode"]
            return nn.Conv2d(
                a["in_channels"],
                a["out_channels"],
                a["kernel_size"],
                a["stride"],
                a["padding"],
                bias=a["bias"],
                padding_mode=mode,
            )
        case "local":
            mode = "zeros" if a["padding_mode"] == "valid" else a["padding_mode"]
            return LocallyConnected2d(
                a["in_channels"],
                a["out_channels"],
                a["kernel_size"],
                a["in_size"],
                a["stride"],
                a["padding"],
                a["bias"],
                mode,
            )
        case "linear":
            return nn.Linear(a["in_features"], a["out_features"], bias=a["bias"])
        case "norm":
            return _norm(a)
        case "relu":
            return nn.ReLU(inplace=True)
        case "pool":
            return {
                "max": lambda: nn.MaxPool2d(2),
                "avg": lambda: nn.AvgPool2d(2),
                "blur": lambda: BlurPool2d(a["channels"], a["padding_mode"]),
            }[a["pool"]]()
        case "flatten":
            return nn.Flatten()
        case "gap":
            return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
    raise ValueError(f"unknown layer kind '{layer.kind}'")


def build(
    layers: list[Layer], mean: Sequence[float] | None = None, std: Sequence[float] | None = None
) -> nn.Sequential:
    """The nn.Sequential for a blueprint; mean/std default to 0 and 1 (no standardising)."""
    channels = layers[0].out_shape[0]
    mean = mean if mean is not None else [0.0] * channels
    std = std if std is not None else [1.0] * channels
    return nn.Sequential(*(_module(layer, mean, std) for layer in layers))


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _meta_input(in_shape: Sequence[int]) -> torch.Tensor:
    return torch.zeros(1, *in_shape, device="meta")


def measure_flops(model: nn.Module, in_shape: Sequence[int]) -> int:
    """Forward FLOPs for one input, counted by torch's FlopCounterMode on the meta device."""
    meta = _on_meta(model)
    with FlopCounterMode(display=False) as counter:
        meta(_meta_input(in_shape))
    return int(counter.get_total_flops())


def _on_meta(model: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(model).to("meta").eval()


def shape_table(model: nn.Sequential, in_shape: Sequence[int]) -> list[dict]:
    """Layer, output shape and parameters of each module: the table to print when debugging."""
    meta = _on_meta(model)
    rows = []
    x = _meta_input(in_shape)
    for i, module in enumerate(meta):
        x = module(x)
        rows.append(
            {
                "layer": i,
                "module": type(module).__name__
                if not isinstance(module, nn.Sequential)
                else "GlobalAvgPool",
                "output": tuple(x.shape[1:]),
                "params": count_params(module),
            }
        )
    return rows
