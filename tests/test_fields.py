"""cnnexp/fields.py: the theoretical field is exactly where the real PyTorch stack's input
gradient lives, stacks are built and checked in one place, blueprint layers give their windows,
and the effective-field mass measure."""

import numpy as np
import pytest
import torch
from torch import nn

from cnnexp import fields
from cnnexp.architecture import ArchitectureError
from cnnexp.config import TrainSetup


def torch_stack(windows: list[fields.Window], channels: int = 2) -> nn.Sequential:
    """The real PyTorch stack, linear (no ReLU dead zones) and unpadded, so unit i's field
    starts at input pixel i·jump. Positive weights make an exact cancellation impossible, so a
    zero gradient means "outside the field"."""
    mods, c_in = [], 1
    for w in windows:
        if w.kind == "pool":
            mods.append(nn.AvgPool2d(w.kernel, w.stride))
            continue
        conv = nn.Conv2d(c_in, channels, w.kernel, w.stride, dilation=w.dilation, bias=False)
        with torch.no_grad():
            conv.weight.uniform_(0.1, 1.0)
        mods.append(conv)
        c_in = channels
    return nn.Sequential(*mods)


def input_gradient(net, size: int, unit: tuple[int, int]) -> np.ndarray:
    """|d output[0, 0, unit] / d input| for one random image of side `size`."""
    x = torch.rand(1, 1, size, size, requires_grad=True)
    net(x)[0, 0, unit[0], unit[1]].backward()
    return x.grad[0, 0].abs().numpy()


def test_stride_one_field_is_one_plus_depth_times_kernel_minus_one():
    for depth, k in ((1, 3), (3, 3), (4, 5)):
        assert fields.theoretical(fields.stack(depth, k))[-1]["side"] == 1 + depth * (k - 1)


def test_pooling_and_stride_make_the_field_grow_multiplicatively():
    rows = fields.theoretical(fields.stack(4, 3, pool_every=1))  # conv, pool, conv, pool, ...
    assert [r["side"] for r in rows] == [3, 4, 8, 10, 18, 22, 38, 46]
    assert [r["jump"] for r in rows][-1] == 16
    assert fields.theoretical(fields.stack(2, 3, dilation=2))[-1]["side"] == 9


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
    layers = fields.stack(depth, kernel, stride, dilation, pool_every)
    rows = fields.theoretical(layers)
    side, jump = rows[-1]["side"], rows[-1]["jump"]
    size = side + 3 * jump + 4  # room for a unit away from the border (padding 0)
    unit = (1, 2)
    grad = input_gradient(torch_stack(layers), size, unit)
    top, left = unit[0] * jump, unit[1] * jump  # padding 0: unit i starts at pixel i·jump
    assert _support(grad) == (top, top + side, left, left + side)
    if dilation == 1:  # without holes the field is filled, not only bounded
        assert (grad[top : top + side, left : left + side] > 0).all()


def test_mass_side_on_known_maps():
    g = np.zeros((11, 11))
    g[5, 5] = 1.0
    assert fields.mass_side(g, 0.5) == fields.mass_side(g, 0.9) == 1
    g[3, 3] = g[3, 7] = g[7, 3] = g[7, 7] = 0.25  # as much mass on a ring at distance 2
    assert fields.mass_side(g, 0.5) == 1 and fields.mass_side(g, 0.9) == 5
    assert fields.mass_side(np.ones((7, 7)), 1.0) == 7


def test_the_stacks_of_both_the_probe_and_the_trained_task_come_from_one_builder():
    dilated = fields.stack(4, 3, dilation_growth=2)
    assert [w.dilation for w in dilated] == [1, 2, 4, 8]
    assert [w.padding for w in dilated] == [1, 2, 4, 8]  # each keeps the map's size
    pooled = fields.stack(3, 3, pool_every=1, pool_after_last=False)
    assert [w.kind for w in pooled] == ["conv", "pool", "conv", "pool", "conv"]
    assert [w.kind for w in fields.stack(2, 3, pool_every=1)][-1] == "pool"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((0, 3), "depth 0: allowed: 1 or more"),
        ((2, 4), "kernel 4 is even"),
        ((2, 3, 0), "stride 0"),
        ((2, 3, 1, 0), "dilation 0"),
        ((2, 3, 1, 1, -1), "pool_every -1"),
    ],
)
def test_a_stack_that_cannot_be_built_says_why(args, words):
    with pytest.raises(ArchitectureError, match=words):
        fields.stack(*args)


def test_a_blueprint_gives_the_windows_its_layers_read():
    setup = TrainSetup(dataset="digits", depth=2, kernel=5, pool="blur", norm="batch")
    windows = [fields.window(layer) for layer in setup.layers()]
    kinds = [layer.kind for layer in setup.layers()]
    assert kinds[:5] == ["normalize", "conv", "norm", "relu", "pool"]
    conv, blur = fields.Window("conv", 5, 1, 1, 2), fields.Window("pool", 3, 2, 1, 1)
    assert windows[:5] == [None, conv, None, None, blur]
    strided = TrainSetup(dataset="digits", depth=1, pool="stride", padding="valid", kernel=3)
    conv = next(layer for layer in strided.layers() if layer.kind == "conv")
    assert fields.window(conv) == fields.Window("conv", 3, 2, 1, 0)
    maxed = TrainSetup(dataset="digits", depth=1, pool="max")
    pool = next(layer for layer in maxed.layers() if layer.kind == "pool")
    assert fields.window(pool) == fields.Window("pool", 2, 2)
