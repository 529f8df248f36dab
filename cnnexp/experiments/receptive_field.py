"""Receptive field: the analytic core (not yet a registered experiment; see the report).

The theoretical field of a stack follows one recurrence per layer: a layer of kernel k,
dilation d (effective kernel d·(k − 1) + 1) and stride s grows the side by (d·(k − 1)) times
the jump so far, and multiplies the jump (the input distance between neighbouring units) by
s. With stride 1 and no pooling this is R_L = 1 + L(k − 1); pooling and strides make it grow
multiplicatively. The effective field (Luo et al., NeurIPS 2016) is where the gradient mass
actually lies: `mass_side` measures it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Layer:
    kind: str  # "conv" or "pool" (average pooling: its gradient reaches its whole window)
    kernel: int
    stride: int = 1
    dilation: int = 1


def stack(
    depth: int, kernel: int, stride: int = 1, dilation: int = 1, pool_every: int = 0
) -> list[Layer]:
    """The slider stack: `depth` conv layers, a 2×2 pool after every `pool_every` (0: none)."""
    out = []
    for i in range(1, depth + 1):
        out.append(Layer("conv", kernel, stride, dilation))
        if pool_every and i % pool_every == 0:
            out.append(Layer("pool", 2, 2))
    return out


def theoretical(layers: list[Layer]) -> list[dict]:
    """Per layer: the field's side in input pixels and the jump (effective stride)."""
    side, jump, rows = 1, 1, []
    for i, layer in enumerate(layers, 1):
        side += layer.dilation * (layer.kernel - 1) * jump
        jump *= layer.stride
        rows.append({"layer": i, "kind": layer.kind, "side": side, "jump": jump})
    return rows


def torch_stack(layers: list[Layer], channels: int = 2, positive: bool = True):
    """The real PyTorch stack, linear (no ReLU dead zones). Positive weights make an exact
    cancellation impossible, so a zero gradient means "outside the field"."""
    import torch
    from torch import nn

    mods, c_in = [], 1
    for layer in layers:
        if layer.kind == "pool":
            mods.append(nn.AvgPool2d(layer.kernel, layer.stride))
            continue
        conv = nn.Conv2d(
            c_in, channels, layer.kernel, layer.stride, dilation=layer.dilation, bias=False
        )
        if positive:
            with torch.no_grad():
                conv.weight.uniform_(0.1, 1.0)
        mods.append(conv)
        c_in = channels
    return nn.Sequential(*mods)


def input_gradient(net, size: int, unit: tuple[int, int]) -> np.ndarray:
    """|d output[0, 0, unit] / d input| for one random image of side `size`."""
    import torch

    x = torch.rand(1, 1, size, size, requires_grad=True)
    net(x)[0, 0, unit[0], unit[1]].backward()
    return x.grad[0, 0].abs().numpy()


def mass_side(grad: np.ndarray, fraction: float) -> int:
    """Side of the smallest square centred on the map's centre pixel that holds at least
    `fraction` of the total mass (odd sides: 1, 3, 5, ...)."""
    h, w = grad.shape
    cy, cx, total = h // 2, w // 2, grad.sum()
    for r in range(max(h, w)):
        window = grad[max(cy - r, 0) : cy + r + 1, max(cx - r, 0) : cx + r + 1]
        if window.sum() >= fraction * total * (1 - 1e-9):
            return 2 * r + 1
    return 2 * max(h, w) - 1


def effective_map(layers: list[Layer], size: int, draws: int = 8, seed: int = 0) -> np.ndarray:
    """Mean |input gradient| of the centre unit over `draws` random stacks (PyTorch's default
    signed initialisation, padding that keeps the centre at the centre, no nonlinearity)."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    total = np.zeros((size, size))
    for _ in range(draws):
        net = torch_stack(layers, positive=False)
        for m in net:
            if isinstance(m, nn.Conv2d):
                m.padding = (m.dilation[0] * (m.kernel_size[0] - 1) // 2,) * 2
        x = torch.rand(1, 1, size, size, requires_grad=True)
        y = net(x)
        y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
        total += x.grad[0, 0].abs().numpy()
    return total / draws


def depth_exponent(
    depths: list[int], kernel: int = 3, fraction: float = 0.5, seed: int = 0
) -> tuple[float, list[int]]:
    """Slope of log(effective side) against log(depth) for stride-1 stacks, and the sides.
    Luo et al. predict about 0.5 (the field's mass spreads like a random walk); the
    theoretical side grows with slope about 1."""
    size = 2 * (1 + max(depths) * (kernel - 1)) + 1  # the whole theoretical field fits
    sides = [mass_side(effective_map(stack(d, kernel), size, seed=seed), fraction) for d in depths]
    slope = float(np.polyfit(np.log(depths), np.log(sides), 1)[0])
    return slope, sides
