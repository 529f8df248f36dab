"""Receptive fields: how far a unit of a layer stack sees, in theory and in its gradient.

The theoretical field follows one recurrence per layer (Araujo et al., Distill 2019): a layer
of kernel k, dilation d (effective kernel d·(k − 1) + 1) and stride s grows the side by
d·(k − 1) times the jump so far, and multiplies the jump (the input distance between
neighbouring units) by s. So r = 1 + Σ_l d_l·(k_l − 1)·Π_{i<l} s_i; with stride 1 and no
pooling, R_L = 1 + L(k − 1); strides and pooling make it grow multiplicatively.

The effective field (Luo et al., NeurIPS 2016) is where a unit's input gradient actually lies:
`mass_side` measures it on a gradient map. The field probe (cnnexp/probes/field.py), the
trained receptive-field experiment and the shift probe's interior masks all count with this
module. Pure Python and numpy: no torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from cnnexp.architecture import ArchitectureError, Layer


@dataclass(frozen=True)
class Window:
    """The positions one layer reads: all the field arithmetic needs of it. Not a layer (that
    is cnnexp.architecture.Layer, whose window `window()` gives)."""

    kind: Literal["conv", "pool"]  # a pool's gradient reaches its whole window too
    kernel: int
    stride: int = 1
    dilation: int = 1  # the gap between a kernel's taps
    padding: int = 0


def window(layer: Layer) -> Window | None:
    """The window of a blueprint layer; None for layers that read one position (norm, relu,
    normalize) or end the map (flatten, gap, linear)."""
    a = layer.args
    if layer.kind in ("conv", "local"):
        return Window("conv", a["kernel_size"], a["stride"], a.get("dilation", 1), a["padding"])
    if layer.kind == "pool":  # blur: a 3×3 low-pass, then every second pixel
        return Window("pool", 3, 2, padding=1) if a["pool"] == "blur" else Window("pool", 2, 2)
    return None


def stack(
    depth: int,
    kernel: int,
    stride: int = 1,
    dilation: int = 1,
    pool_every: int = 0,
    *,
    dilation_growth: int = 1,
    pool_after_last: bool = True,
) -> list[Window]:
    """`depth` convolutions that keep the map's size (padding d·(k − 1)/2), a 2×2 pool after
    every `pool_every`-th (0: none; not after the last one unless pool_after_last), layer i's
    dilation dilation·dilation_growth^i. Every stack the field probe and the trained
    experiment measure is one of these."""
    for name, value, least in (
        ("depth", depth, 1),
        ("kernel", kernel, 1),
        ("stride", stride, 1),
        ("dilation", dilation, 1),
        ("dilation_growth", dilation_growth, 1),
        ("pool_every", pool_every, 0),
    ):
        if value < least:
            raise ArchitectureError(f"{name} {value}: allowed: {least} or more")
    if kernel % 2 == 0:
        raise ArchitectureError(f"kernel {kernel} is even; size-keeping padding needs an odd one")
    out = []
    for i in range(depth):
        d = dilation * dilation_growth**i
        out.append(Window("conv", kernel, stride, d, d * (kernel - 1) // 2))
        if pool_every and (i + 1) % pool_every == 0 and (pool_after_last or i < depth - 1):
            out.append(Window("pool", 2, 2))
    return out


def theoretical(windows: Sequence[Window]) -> list[dict]:
    """Per layer: the field's side in input pixels and the jump (effective stride)."""
    side, jump, rows = 1, 1, []
    for i, w in enumerate(windows, 1):
        side += w.dilation * (w.kernel - 1) * jump
        jump *= w.stride
        rows.append({"layer": i, "kind": w.kind, "side": side, "jump": jump})
    return rows


def mass_side(grad: np.ndarray, fraction: float, centre: tuple[int, int] | None = None) -> int:
    """Side of the smallest square centred on `centre` (default: the map's centre pixel) that
    holds at least `fraction` of the total mass (odd sides: 1, 3, 5, ...)."""
    h, w = grad.shape
    cy, cx = centre if centre is not None else (h // 2, w // 2)
    total = grad.sum()
    for r in range(max(h, w)):
        window = grad[max(cy - r, 0) : cy + r + 1, max(cx - r, 0) : cx + r + 1]
        if window.sum() >= fraction * total * (1 - 1e-9):
            return 2 * r + 1
    return 2 * max(h, w) - 1


def centroid(grad: np.ndarray) -> tuple[int, int]:
    """The gradient's centre of mass, rounded: where a pooled stack's centre unit looks (floor
    division in pooling moves it off the map's centre by a few pixels)."""
    ys, xs = np.indices(grad.shape)
    total = grad.sum()
    if total <= 0:  # no gradient at all (every ReLU dead): the map's centre
        return grad.shape[0] // 2, grad.shape[1] // 2
    return int(round((ys * grad).sum() / total)), int(round((xs * grad).sum() / total))
