"""Measurements inside a network: per-layer activation statistics, and BatchNorm's accuracy
with batch statistics (train mode) against running statistics (eval mode)."""

from __future__ import annotations

import copy

import torch
from torch import nn


def block_stats(model: nn.Module, x: torch.Tensor) -> list[dict]:
    """Mean and standard deviation of every block's output (after its ReLU) on x, eval mode.

    The output of one block is the input of the next: how its scale drifts with depth and
    over training is what normalisation is meant to hold steady.
    """
    outs: list[torch.Tensor] = []
    hooks = [
        m.register_forward_hook(lambda _m, _i, o: outs.append(o.float()))
        for m in model.modules()
        if isinstance(m, nn.ReLU)
    ]
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            model(x)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    stats = torch.stack([torch.stack([o.mean(), o.std()]) for o in outs]).tolist()  # one sync
    return [
        {"layer": i + 1, "stat": name, "value": v}
        for i, pair in enumerate(stats)
        for name, v in zip(("mean", "std"), pair, strict=True)
    ]


def train_mode_accuracy(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int
) -> float:
    """Accuracy when BatchNorm normalises each test batch (of the training batch size) with
    that batch's own statistics instead of the running averages used at test time."""
    batch_stats = copy.deepcopy(model).train()  # a copy: train mode would update running stats
    correct, seen = torch.zeros((), device=x.device), 0
    with torch.no_grad():
        for i in range(0, len(y), batch_size):
            xb, yb = x[i : i + batch_size], y[i : i + batch_size]
            if len(yb) < 2:  # a single image has no batch statistics
                break
            correct += (batch_stats(xb).argmax(1) == yb).sum()
            seen += len(yb)
    return float(correct) / seen
