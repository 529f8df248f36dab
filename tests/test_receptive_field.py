"""cnnexp/experiments/receptive_field.py: the theoretical field is exactly where the real
PyTorch stack's input gradient lives, and the effective-field mass measure."""

import numpy as np
import pytest
import torch

from cnnexp.experiments import receptive_field as rf


def test_stride_one_field_is_one_plus_depth_times_kernel_minus_one():
    for depth, k in ((1, 3), (3, 3), (4, 5)):
        assert rf.theoretical(rf.stack(depth, k))[-1]["side"] == 1 + depth * (k - 1)


def test_pooling_and_stride_make_the_field_grow_multiplicatively():
    rows = rf.theoretical(rf.stack(4, 3, pool_every=1))  # conv, pool, conv, pool, ...
    assert [r["side"] for r in rows] == [3, 4, 8, 10, 18, 22, 38, 46]
    assert [r["jump"] for r in rows][-1] == 16
    assert rf.theoretical(rf.stack(2, 3, dilation=2))[-1]["side"] == 9


def _support(grad):
    ys, xs = np.nonzero(grad)
    return ys.min(), ys.max() + 1, xs.min(), xs.max() + 1


@pytest.mark.parametrize(
    ("depth", "kernel", "stride", "dilation", "pool_every"),
    [
        (1, 3, 1, 1, 0),
        (3, 3, 1, 1, 0),
        (2, 5, 2, 1, 0),
        (3, 3, 1, 1, 1),
        (2, 3, 1, 2, 0),
        (3, 3, 2, 1, 2),
        (3, 3, 1, 3, 1),
    ],
)
def test_gradient_support_is_the_theoretical_field(depth, kernel, stride, dilation, pool_every):
    torch.manual_seed(0)
    layers = rf.stack(depth, kernel, stride, dilation, pool_every)
    rows = rf.theoretical(layers)
    side, jump = rows[-1]["side"], rows[-1]["jump"]
    size = side + 3 * jump + 4  # room for a unit away from the border (padding 0)
    unit = (1, 2)
    grad = rf.input_gradient(rf.torch_stack(layers), size, unit)
    top, left = unit[0] * jump, unit[1] * jump  # padding 0: unit i starts at pixel i·jump
    assert _support(grad) == (top, top + side, left, left + side)
    if dilation == 1:  # without holes the field is filled, not only bounded
        assert (grad[top : top + side, left : left + side] > 0).all()


def test_mass_side_on_known_maps():
    g = np.zeros((11, 11))
    g[5, 5] = 1.0
    assert rf.mass_side(g, 0.5) == rf.mass_side(g, 0.9) == 1
    g[3, 3] = g[3, 7] = g[7, 3] = g[7, 7] = 0.25  # as much mass on a ring at distance 2
    assert rf.mass_side(g, 0.5) == 1 and rf.mass_side(g, 0.9) == 5
    assert rf.mass_side(np.ones((7, 7)), 1.0) == 7


def test_effective_field_grows_like_the_square_root_of_depth():
    depths = [2, 4, 8, 16]
    slopes = [rf.depth_exponent(depths, fraction=0.9, seed=s)[0] for s in range(2)]
    theory = [rf.theoretical(rf.stack(d, 3))[-1]["side"] for d in depths]
    theory_slope = np.polyfit(np.log(depths), np.log(theory), 1)[0]
    assert theory_slope > 0.9  # linear in depth
    assert all(0.3 < s < 0.75 for s in slopes), slopes  # about √depth, far below linear
