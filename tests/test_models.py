"""cnnexp/models.py: every family builds, trains (gradients reach every parameter), and the
locally connected layer is a convolution without weight sharing."""

import pytest
import torch

from cnnexp import models
from cnnexp.config import TrainSetup
from tests.test_architecture import VARIANTS


@pytest.mark.parametrize("kw", VARIANTS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_every_variant_runs_forward_and_backward(kw):
    torch.manual_seed(0)
    model = models.build(TrainSetup(dataset="digits", width=4, **kw).layers())
    out = model(torch.rand(3, 1, 8, 8))
    assert out.shape == (3, 10)
    assert torch.isfinite(out).all()
    out.square().mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize(
    "k, stride, padding, mode",
    [
        (3, 1, 1, "zeros"),
        (3, 2, 1, "zeros"),
        (5, 1, 0, "zeros"),
        (3, 1, 1, "circular"),
        (3, 1, 1, "reflect"),
        (1, 1, 0, "zeros"),
        (5, 2, 2, "circular"),
    ],
)
def test_locally_connected_with_tied_weights_is_a_convolution(k, stride, padding, mode):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 5, k, stride, padding, padding_mode=mode)
    local = models.LocallyConnected2d(3, 5, k, (9, 11), stride, padding, padding_mode=mode)
    with torch.no_grad():
        local.weight.copy_(conv.weight.reshape(5, -1).expand_as(local.weight))
        local.bias.copy_(conv.bias[:, None, None].expand_as(local.bias))
    x = torch.randn(2, 3, 9, 11)
    torch.testing.assert_close(local(x), conv(x), rtol=1e-5, atol=1e-5)


def test_locally_connected_parameter_count():
    layer = models.LocallyConnected2d(3, 8, 5, 12, stride=1, padding=0)
    h = w = 12 - 5 + 1
    assert models.count_params(layer) == h * w * 8 * (3 * 5 * 5 + 1)
    assert models.count_params(models.LocallyConnected2d(3, 8, 5, 12, bias=False)) == h * w * 8 * 75


def test_untied_positions_differ():
    torch.manual_seed(0)
    layer = models.LocallyConnected2d(1, 1, 3, 6, padding=1)
    x = torch.zeros(1, 1, 6, 6)
    x[0, 0, 1, 1] = x[0, 0, 4, 4] = 1.0  # the same local pattern at two places
    y = layer(x)
    assert not torch.isclose(
        y[0, 0, 1, 1] - layer.bias[0, 1, 1], y[0, 0, 4, 4] - layer.bias[0, 4, 4]
    )


def test_blurpool_halves_and_preserves_constants():
    pool = models.BlurPool2d(2)
    x = torch.ones(1, 2, 8, 8)
    assert pool(x).shape == (1, 2, 4, 4)
    assert torch.allclose(pool(x)[..., 1:-1, 1:-1], torch.ones(1, 2, 2, 2))
