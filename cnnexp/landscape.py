"""Loss-landscape measurements of Santurkar et al. (NeurIPS 2018, "How Does Batch Normalization Help
Optimization?"): at a point of training, step along the current gradient by several step
sizes and record how much the loss varies (loss-landscape variation) and how much the
gradient changes per unit of distance moved (effective β-smoothness; the smaller, the more the
gradient predicts the loss nearby). The parameters are restored afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache


def measure(params: Sequence, loss: Callable[[], object], step_sizes: Sequence[float]) -> dict:
    """Loss at each step size along −gradient; `loss_range` (max − min of those losses),
    `grad_change` (largest ‖∇L(θ − ηg) − g‖) and `beta` (largest ‖∇L(θ − ηg) − g‖ / ‖ηg‖)."""
    import torch

    params = [p for p in params if p.requires_grad]
    start = [p.detach().clone() for p in params]
    g = torch.autograd.grad(loss(), params)
    g_norm = torch.sqrt(sum((x * x).sum() for x in g))
    losses, changes, betas = [], [], []
    try:
        for eta in step_sizes:
            with torch.no_grad():
                for p, p0, gi in zip(params, start, g, strict=True):
                    p.copy_(p0 - eta * gi)
            value = loss()
            g2 = torch.autograd.grad(value, params)
            change = torch.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(g2, g, strict=True)))
            losses.append(float(value.detach()))
            changes.append(float(change))
            betas.append(float(change / (eta * g_norm)) if g_norm > 0 else 0.0)
    finally:
        with torch.no_grad():  # leave the model where training had it
            for p, p0 in zip(params, start, strict=True):
                p.copy_(p0)
    return {
        "losses": losses,
        "loss_range": max(losses) - min(losses),
        "grad_change": max(changes),
        "beta": max(betas),
    }


MEASURES = ("loss_range", "grad_change", "beta")


@cache
def checkpoints(total: int, points: int) -> frozenset[int]:
    """`points` steps spread evenly over 0 … total − 1: the first step, the last, and between."""
    if points <= 0 or total <= 0:
        return frozenset()
    if points == 1 or total == 1:
        return frozenset({0})
    return frozenset(round(i * (total - 1) / (points - 1)) for i in range(points))


def recorder(rows: list[dict], step_sizes: Sequence[float], points: int):
    """An engine step hook that measures the landscape at `points` checkpoints of training and
    appends one tidy row per measure: {step, progress (0 to 1), measure, value}."""

    def hook(step: int, total: int, model, loss) -> None:
        if step not in checkpoints(total, points):
            return
        r = measure(list(model.parameters()), loss, step_sizes)
        rows.extend(
            {"step": step, "progress": step / total, "measure": m, "value": r[m]} for m in MEASURES
        )

    return hook
