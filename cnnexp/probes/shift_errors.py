"""Equivariance and invariance errors: what a stack of layers does to a shifted input. The
mathematics of the shift probe (cnnexp/probes/shift.py); no training needed.

For a stack f and a shift S, equivariance means f(Sx) = S' f(x), where S' is the shift
divided by the layer's total stride; invariance of a pooled output g means g(Sx) = g(x).
The probe measures the relative error ‖f(Sx) − S'f(x)‖ / ‖S'f(x)‖ on the whole map and on
its interior: the positions whose receptive field lies inside the image and avoids the band
the shift wrapped around (or blanked). There, zero padding cannot show and the error is the
layer's own; at the border it is padding's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnexp import transforms
from cnnexp.fields import Window, window


@dataclass
class Block:
    """One layer of the probed stack: a module and the windows of its spatial steps."""

    module: nn.Module
    windows: list[Window]
    stride: int  # total stride from the input to this block's output


def random_stack(
    in_channels: int,
    channels: int,
    depth: int,
    kernel: int,
    padding: str,
    stride: int,
    pool: str,
    seed: int,
) -> list[Block]:
    """Conv → ReLU → optional pool, `depth` times, with seeded random (Kaiming) weights."""
    from cnnexp.models import BlurPool2d

    torch.manual_seed(seed)
    blocks, total, c = [], 1, in_channels
    pad = 0 if padding == "valid" else kernel // 2
    mode = "zeros" if padding == "valid" else padding
    for _ in range(depth):
        layers: list[nn.Module] = [
            nn.Conv2d(c, channels, kernel, stride, pad, padding_mode=mode),
            nn.ReLU(),
        ]
        windows = [Window("conv", kernel, stride, padding=pad)]
        if pool in ("max", "avg"):
            layers.append(nn.MaxPool2d(2) if pool == "max" else nn.AvgPool2d(2))
            windows.append(Window("pool", 2, 2))
        elif pool == "blur":
            layers.append(BlurPool2d(channels, mode))
            windows.append(Window("pool", 3, 2, padding=1))
        for m in layers:
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        total *= int(np.prod([w.stride for w in windows]))
        blocks.append(Block(nn.Sequential(*layers).eval(), windows, total))
        c = channels
    return blocks


def stack_from_model(model: nn.Sequential, layers) -> list[Block]:
    """The conv blocks of a built model (cnnexp.models.build) as blocks, the input
    standardisation folded into the first."""
    blocks, current, windows, total = [], [model[0]], [], 1  # model[0] standardises the input
    for module, layer in zip(list(model)[1:], layers[1:], strict=False):
        if layer.kind in ("conv", "local") and windows:
            blocks.append(Block(nn.Sequential(*current).eval(), windows, total))
            current, windows = [], []
        if layer.kind in ("flatten", "gap", "linear"):
            break
        current.append(module)
        w = window(layer)
        if w is not None:
            windows.append(w)
            total *= w.stride
    blocks.append(Block(nn.Sequential(*current).eval(), windows, total))
    return blocks


@torch.inference_mode()
def features(blocks: list[Block], x: torch.Tensor) -> list[torch.Tensor]:
    """Every block's output for the batch x."""
    outs = []
    for b in blocks:
        x = b.module(x)
        outs.append(x)
    return outs


def shifts_along(dx: int, dy: int, steps: int = 8) -> list[tuple[int, tuple[int, int]]]:
    """(t, (dx_t, dy_t)) for t = 0..steps along the direction of (dx, dy) (x if both are 0)."""
    m = max(abs(dx), abs(dy))
    ux, uy = (dx / m, dy / m) if m else (1.0, 0.0)
    return [(t, (round(t * ux), round(t * uy))) for t in range(steps + 1)]


def _band(h: int, w: int, dx: int, dy: int) -> torch.Tensor:
    """1 where the shifted image holds wrapped-around or blanked content, else 0."""
    band = torch.zeros(1, 1, h, w)
    if dy > 0:
        band[..., :dy, :] = 1
    elif dy < 0:
        band[..., dy:, :] = 1
    if dx > 0:
        band[..., :dx] = 1
    elif dx < 0:
        band[..., dx:] = 1
    return band


def interior_masks(blocks: list[Block], h: int, w: int, dx: int, dy: int) -> list[torch.Tensor]:
    """For each block, 1 where the output's receptive field lies inside the image and avoids
    the shifted band; padding counts as outside."""
    invalid, masks = _band(h, w, dx, dy), []
    for b in blocks:
        for w in b.windows:
            p = w.padding
            invalid = F.max_pool2d(
                F.pad(invalid, (p, p, p, p), value=1.0), w.kernel, w.stride, dilation=w.dilation
            )
        masks.append(1.0 - invalid)
    return masks


def _rel(diff: torch.Tensor, ref: torch.Tensor) -> float | None:
    denom = float(ref.norm())
    return float(diff.norm()) / denom if denom > 0 else None


def equivariance(
    blocks: list[Block], x: torch.Tensor, shifts: list[tuple[int, int]], kind: str = "circular"
) -> list[dict]:
    """Per shift and block: relative error of f(Sx) against S'f(x) on the whole map and on
    the interior. x is one image (1, C, H, W); all shifted copies run as one batch."""
    _, _, h, w = x.shape
    batch = torch.cat([x] + [transforms.shift(x, dx, dy, kind) for dx, dy in shifts])
    outs = features(blocks, batch)
    rows = []
    for i, (dx, dy) in enumerate(shifts, start=1):
        masks = interior_masks(blocks, h, w, dx, dy)
        for layer, (b, out, mask) in enumerate(zip(blocks, outs, masks, strict=True), start=1):
            sdx, sdy = round(dx / b.stride), round(dy / b.stride)  # aliasing when not whole
            expected = transforms.shift(out[:1], sdx, sdy, kind)
            got = out[i : i + 1]
            diff = got - expected
            inside = mask.sum() > 0
            rows.append(
                {
                    "layer": layer,
                    "dx": dx,
                    "dy": dy,
                    "stride": b.stride,
                    "aliased": dx % b.stride != 0 or dy % b.stride != 0,
                    "full_error": _rel(diff, expected),
                    "interior_error": _rel(diff * mask, expected * mask) if inside else None,
                    "interior_fraction": float(mask.mean()),
                }
            )
    return rows


def invariance(
    blocks: list[Block], x: torch.Tensor, shifts: list[tuple[int, int]], kind: str = "circular"
) -> list[dict]:
    """Relative change of the globally pooled output (average and max over positions)."""
    batch = torch.cat([x] + [transforms.shift(x, dx, dy, kind) for dx, dy in shifts])
    last = features(blocks, batch)[-1]
    rows = []
    for pooling, g in (("average", last.mean(dim=(2, 3))), ("max", last.amax(dim=(2, 3)))):
        for i, (dx, dy) in enumerate(shifts, start=1):
            rows.append({"pooling": pooling, "dx": dx, "dy": dy, "error": _rel(g[i] - g[0], g[0])})
    return rows


def maps(
    blocks: list[Block],
    x: torch.Tensor,
    layer: int,
    channel: int,
    dx: int,
    dy: int,
    kind: str = "circular",
) -> dict[str, np.ndarray]:
    """The shift probe's pictures of one layer and channel: x, Sx, f(x), f(Sx), S'f(x) and
    |f(Sx) − S'f(x)|, as 2-D arrays (images as their channel mean)."""
    sx = transforms.shift(x, dx, dy, kind)
    fx, fsx = (features(blocks, t)[layer - 1][0] for t in (x, sx))
    channel = min(channel, fx.shape[0] - 1)  # a trained stack may be narrower or wider
    fx, fsx = fx[channel], fsx[channel]
    b = blocks[layer - 1]
    sfx = transforms.shift(fx[None, None], round(dx / b.stride), round(dy / b.stride), kind)[0, 0]
    out = {
        "x": x[0],
        "Sx": sx[0],
        "f(x)": fx,
        "f(Sx)": fsx,
        "S f(x)": sfx,
        "|f(Sx) − S f(x)|": (fsx - sfx).abs(),
    }
    return {k: (v.mean(0) if v.dim() == 3 else v).numpy() for k, v in out.items()}
