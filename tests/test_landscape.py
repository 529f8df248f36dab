"""cnnexp/landscape.py on losses whose landscape is known in closed form."""

import pytest
import torch

from cnnexp import landscape


def test_a_quadratic_has_beta_equal_to_its_curvature():
    w = torch.nn.Parameter(torch.tensor([3.0, -4.0]))  # ‖w‖ = 5
    a = 2.0

    def loss():
        return 0.5 * a * (w * w).sum()

    out = landscape.probe([w], loss, [0.1, 0.25])
    assert out["beta"] == pytest.approx(a)  # ∇ changes by a·η·‖g‖ over a step of η·‖g‖
    # L(w − ηaw) = 0.5·a·(1 − ηa)²·25: 16.0 at η = 0.1, 6.25 at η = 0.25
    assert out["losses"] == pytest.approx([16.0, 6.25])
    assert out["loss_range"] == pytest.approx(9.75)
    assert w.tolist() == [3.0, -4.0]  # parameters restored


def test_a_sharper_landscape_reads_less_smooth():
    w = torch.nn.Parameter(torch.tensor([1.0]))
    flat = landscape.probe([w], lambda: (w**2).sum(), [0.1])
    sharp = landscape.probe([w], lambda: (w**4).sum(), [0.1])  # curvature grows away from 0
    assert flat["beta"] == pytest.approx(2.0)
    # w⁴ at 1: g = 4, a step of 0.4 to w = 0.6 where g = 0.864: (4 − 0.864) / 0.4
    assert sharp["beta"] == pytest.approx(7.84)
