"""The blueprint of a model, layer by layer: output shapes, parameters and FLOPs.

Pure Python (no torch), so a config can be checked and priced before any work starts, and
the parameter-scaling page can count layers as large as 512×512 instantly. models.py
builds nn.Modules from the same blueprint, and the tests check that every module's real
parameter count and measured FLOPs equal the blueprint's.

FLOPs are 2 × multiply-accumulates of convolutions and matrix products (bias additions,
activations and normalisation are not counted), the convention of
torch.utils.flop_counter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol


class ArchitectureError(ValueError):
    """A model that cannot be built on this input; the message names the setting to change."""


class ModelSettings(Protocol):
    model: str
    width: int
    depth: int
    kernel: int
    padding: str
    pool: str
    pool_every: int
    head: str
    norm: str
    groups: int


@dataclass(frozen=True)
class Layer:
    kind: str  # normalize, conv, local, linear, norm, relu, pool, flatten, gap
    out_shape: tuple[int, ...]  # per sample: (C, H, W) or (features,)
    params: int = 0
    flops: int = 0
    args: dict = field(default_factory=dict)  # what models.py needs to build it


def conv_out(size: int, kernel: int, stride: int = 1, pad: int = 0) -> int:
    """Output side of a convolution: floor((n + 2p - k) / s) + 1."""
    return (size + 2 * pad - kernel) // stride + 1


@dataclass(frozen=True)
class LayerCost:
    params: int
    flops: int


def single_layer_costs(
    side: int, c_in: int, c_out: int, kernel: int, stride: int = 1, pad: int = 0, bias: bool = True
) -> dict[str, LayerCost]:
    """One layer mapping side×side×c_in to c_out channels, in three families.

    fc: every output unit sees every input unit (a dense layer with the same output size).
    local: each output position has its own kernel×kernel×c_in weights (no sharing).
    conv: one kernel×kernel×c_in filter per output channel, shared by all positions.
    """
    out = conv_out(side, kernel, stride, pad)
    if out < 1:
        raise ArchitectureError(
            f"kernel {kernel} is larger than the padded input "
            f"({side}+2·{pad}); use kernel <= {side + 2 * pad}"
        )
    n_in, n_out, positions = side * side * c_in, out * out * c_out, out * out
    b = int(bias)
    return {
        "fc": LayerCost(n_out * (n_in + b), 2 * n_in * n_out),
        "local": LayerCost(
            positions * c_out * (c_in * kernel**2 + b), 2 * positions * c_out * c_in * kernel**2
        ),
        "conv": LayerCost(c_out * (c_in * kernel**2 + b), 2 * positions * c_out * c_in * kernel**2),
    }


def _norm_layer(norm: str, channels: int, groups: int, shape: tuple[int, ...], where: str) -> Layer:
    if norm == "group" and channels % groups:
        raise ArchitectureError(
            f"groups {groups} does not divide the {channels} channels of {where}; "
            f"GroupNorm needs groups that divide every layer's width"
        )
    if norm == "instance" and len(shape) == 3 and shape[1] * shape[2] < 2:
        raise ArchitectureError(
            f"norm 'instance' needs more than one pixel per channel, but {where} outputs "
            f"{shape[1]}×{shape[2]}; use fewer layers, less downsampling or another norm"
        )
    return Layer(
        "norm",
        shape,
        params=2 * channels,
        args={"norm": norm, "channels": channels, "groups": groups, "spatial": len(shape) == 3},
    )


def _linear(features: int, out: int, bias: bool) -> Layer:
    return Layer(
        "linear",
        (out,),
        params=out * (features + bias),
        flops=2 * features * out,
        args={"in_features": features, "out_features": out, "bias": bias},
    )


def _mlp(m: ModelSettings, in_shape: tuple[int, int, int], n_classes: int) -> list[Layer]:
    if m.norm == "instance":
        raise ArchitectureError(
            "norm 'instance' normalises each channel over its pixels, which an "
            "MLP does not have; for model 'mlp' use none, batch, layer or group"
        )
    features = math.prod(in_shape)
    layers = [Layer("normalize", in_shape), Layer("flatten", (features,))]
    bias = m.norm == "none"  # a normalisation layer's shift makes a bias redundant
    for i in range(m.depth):
        layers.append(_linear(features, m.width, bias))
        if m.norm != "none":
            layers.append(
                _norm_layer(m.norm, m.width, m.groups, (m.width,), f"hidden layer {i + 1}")
            )
        layers.append(Layer("relu", (m.width,)))
        features = m.width
    layers.append(_linear(features, n_classes, bias=True))
    return layers


def _check_conv_input(m: ModelSettings, h: int, w: int, i: int) -> int:
    """Padding amount for conv layer i, after checking that its input admits the kernel."""
    k = m.kernel
    if m.padding == "valid":
        if min(h, w) < k:
            raise ArchitectureError(
                f"kernel {k} is larger than the {h}×{w} input of conv layer {i + 1} (padding "
                f"'valid'); use kernel <= {min(h, w)}, a smaller depth, or padding 'zeros'"
            )
        return 0
    if k % 2 == 0:
        raise ArchitectureError(
            f"kernel {k} is even; size-preserving padding needs an odd kernel "
            f"(1, 3, 5, ...); use an odd kernel or padding 'valid'"
        )
    p = k // 2
    if m.padding == "reflect" and p >= min(h, w):
        raise ArchitectureError(
            f"padding 'reflect' needs an input larger than kernel // 2 = {p}, but conv layer "
            f"{i + 1} gets {h}×{w}; use a smaller kernel, a smaller depth, or padding 'zeros'"
        )
    if m.padding == "circular" and p > min(h, w):
        raise ArchitectureError(
            f"padding 'circular' needs kernel // 2 = {p} <= the input side, but conv layer "
            f"{i + 1} gets {h}×{w}; use a smaller kernel, a smaller depth, or padding 'zeros'"
        )
    return p


def _too_small(m: ModelSettings, in_shape: tuple[int, int, int], i: int) -> ArchitectureError:
    return ArchitectureError(
        f"depth {m.depth} with '{m.pool}' downsampling after every {m.pool_every} layer(s) shrinks "
        f"the {in_shape[1]}×{in_shape[2]} input below 1×1 at layer {i + 1}; use depth <= {i}, "
        f"a larger pool_every, or pool 'none'"
    )


def _conv_net(m: ModelSettings, in_shape: tuple[int, int, int], n_classes: int) -> list[Layer]:
    c, h, w = in_shape
    layers = [Layer("normalize", in_shape)]
    bias = m.norm == "none"
    k = m.kernel
    width = m.width
    for i in range(m.depth):
        down = (i + 1) % m.pool_every == 0 and m.pool != "none"
        pad = _check_conv_input(m, h, w, i)
        stride = 2 if down and m.pool == "stride" else 1
        oh, ow = conv_out(h, k, stride, pad), conv_out(w, k, stride, pad)
        if min(oh, ow) < 1:
            raise _too_small(m, in_shape, i)
        positions = oh * ow if m.model == "local" else 1
        args = {
            "in_channels": c,
            "out_channels": width,
            "kernel_size": k,
            "stride": stride,
            "padding": pad,
            "padding_mode": m.padding,
            "bias": bias,
            "in_size": (h, w),
        }
        layers.append(
            Layer(
                m.model if m.model == "local" else "conv",
                (width, oh, ow),
                params=positions * width * (c * k * k + bias),
                flops=2 * oh * ow * width * c * k * k,
                args=args,
            )
        )
        if m.norm != "none":
            layers.append(
                _norm_layer(m.norm, width, m.groups, (width, oh, ow), f"conv layer {i + 1}")
            )
        layers.append(Layer("relu", (width, oh, ow)))
        c, h, w = width, oh, ow
        if down and m.pool != "stride":
            if m.pool == "blur":  # 3×3 binomial low-pass, then keep every second pixel
                h, w = conv_out(h, 3, 2, 1), conv_out(w, 3, 2, 1)
                flops = 2 * c * 9 * h * w  # a depthwise convolution
            else:
                h, w, flops = h // 2, w // 2, 0
            if min(h, w) < 1:
                raise _too_small(m, in_shape, i)
            layers.append(
                Layer(
                    "pool",
                    (c, h, w),
                    flops=flops,
                    args={"pool": m.pool, "channels": c, "padding_mode": m.padding},
                )
            )
        if down:
            width = width * 2  # channels double whenever the map is downsampled
    if m.head == "gap":
        layers.append(Layer("gap", (c,)))
        features = c
    else:
        features = c * h * w
        layers.append(Layer("flatten", (features,)))
    layers.append(_linear(features, n_classes, bias=True))
    return layers


# The model families: name -> blueprint function. Tests cover every entry.
FAMILIES = {"mlp": _mlp, "local": _conv_net, "cnn": _conv_net}


def blueprint(m: ModelSettings, in_shape: tuple[int, int, int], n_classes: int) -> list[Layer]:
    """Every layer of the model `m` describes, on inputs of in_shape = (C, H, W)."""
    if m.model not in FAMILIES:
        raise ArchitectureError(f"unknown model '{m.model}'; known: {', '.join(FAMILIES)}")
    return FAMILIES[m.model](m, in_shape, n_classes)


def count_params(layers: list[Layer]) -> int:
    return sum(layer.params for layer in layers)


def count_flops(layers: list[Layer]) -> int:
    """Forward FLOPs for one image."""
    return sum(layer.flops for layer in layers)
