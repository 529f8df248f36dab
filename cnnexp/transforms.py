"""Image transforms that act on whole batches, on whatever device the batch is on.

Images are (N, C, H, W) in [0, 1] with 0 as background, so a shift's zero fill is blank
canvas. Positive dx moves content right, positive dy moves it down.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def shift(x: torch.Tensor, dx: int, dy: int, mode: str = "zero") -> torch.Tensor:
    """Translate every image by (dx, dy) pixels.

    circular: content leaving one edge re-enters at the opposite edge (a roll);
    zero: a roll whose wrapped-around band is blanked, as a camera that moved would see.
    """
    out = torch.roll(x, shifts=(dy, dx), dims=(-2, -1))
    if mode == "circular":
        return out
    if mode != "zero":
        raise ValueError(f"shift mode '{mode}' unknown; allowed: zero, circular")
    out = out.clone()
    if dy > 0:
        out[..., :dy, :] = 0
    elif dy < 0:
        out[..., dy:, :] = 0
    if dx > 0:
        out[..., :, :dx] = 0
    elif dx < 0:
        out[..., :, dx:] = 0
    return out


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Each image moved by its own random (dx, dy) in [-max_shift, max_shift], zero fill."""
    if max_shift <= 0:
        return x
    n, _, h, w = x.shape
    k = max_shift
    # Drawn on the generator's device (the batch's, in training): no per-batch host copy.
    dx = torch.randint(-k, k + 1, (n,), generator=generator, device=generator.device)
    dy = torch.randint(-k, k + 1, (n,), generator=generator, device=generator.device)
    dx, dy = dx.to(x.device), dy.to(x.device)  # a no-op when the devices already match
    padded = F.pad(x, (k, k, k, k))
    rows = (
        torch.arange(h, device=x.device) + k - dy[:, None]
    )  # (n, h): source row of each output row
    cols = torch.arange(w, device=x.device) + k - dx[:, None]  # (n, w)
    batch = torch.arange(n, device=x.device)[:, None, None]
    out = padded[batch, :, rows[:, :, None], cols[:, None, :]]  # (n, h, w, c): advanced dims first
    return out.permute(0, 3, 1, 2)  # the caller picks the memory format (convnets only)


def random_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image mirrored left-right with probability 1/2."""
    flip = torch.rand(x.shape[0], generator=generator, device=generator.device) < 0.5
    flip = flip.to(x.device)  # a no-op when the generator is on the batch's device
    return torch.where(flip[:, None, None, None], x.flip(-1), x)
