"""cnnexp/priors.py: the ends of each metric (a window holding everything, weights spread
evenly, one weight, one filter bank everywhere) and the random baseline of weight sharing."""

import numpy as np
import pytest
import torch

from cnnexp import models, priors

K, H, W = 5, 28, 28


# --- locality ---------------------------------------------------------------------------------
def test_a_unit_inside_one_window_has_share_1_and_one_spread_evenly_k2_over_d():
    rng = np.random.default_rng(0)
    inside = np.zeros((1, 1, H, W))
    inside[0, 0, 10 : 10 + K, 3 : 3 + K] = rng.standard_normal((K, K))
    even = np.ones((1, 1, H, W))
    share = priors.window_share(np.concatenate([inside, even]), K)
    assert share[0] == pytest.approx(1.0, abs=1e-12)
    assert share[1] == pytest.approx(K * K / (H * W), abs=1e-12)  # 25/784: every window alike
    # colour: a pixel's energy is its channels' together
    rgb = np.zeros((1, 3, H, W))
    rgb[0, :, 0:K, 0:K] = 1.0
    assert priors.window_share(rgb, K)[0] == pytest.approx(1.0)


def test_the_ipr_is_1_on_one_weight_and_1_over_d_spread_evenly():
    one = np.zeros((1, 1, H, W))
    one[0, 0, 7, 7] = -3.0
    ipr = priors.ipr(np.concatenate([one, np.full((1, 1, H, W), 0.2)]))
    assert ipr[0] == pytest.approx(1.0) and ipr[1] == pytest.approx(1 / (H * W))


def test_a_window_larger_than_the_image_is_refused():
    with pytest.raises(ValueError, match="allowed: 1 to 8"):
        priors.window_share(np.ones((2, 1, 8, 8)), 9)


def test_local_and_conv_layers_are_local_by_construction():
    conv = np.random.default_rng(1).standard_normal((8, 1, K, K))
    local = np.random.default_rng(2).standard_normal((36, 8, 1, K, K))
    assert priors.measure("conv", conv, K)["locality"] == 1.0
    assert priors.measure("local", local, K, (6, 6))["locality"] == 1.0


# --- weight sharing ---------------------------------------------------------------------------
def test_a_convolutions_sharing_is_1_exactly():
    conv = np.random.default_rng(3).standard_normal((16, 1, K, K))
    assert priors.measure("conv", conv, K)["sharing"] == 1.0


def test_one_filter_bank_at_every_position_shares_1_whatever_the_order_of_its_channels():
    rng = np.random.default_rng(4)
    bank = rng.standard_normal((16, 1, K, K))
    grid = (24, 24)
    banks = np.stack([bank[rng.permutation(16)] for _ in range(grid[0] * grid[1])])
    assert priors.sharing(banks, grid) == pytest.approx(1.0, abs=1e-12)
    # scaled per position (a norm layer would not care): still the same filters
    scaled = banks * rng.uniform(0.1, 10, size=(len(banks), 1, 1, 1, 1))
    assert priors.sharing(scaled, grid) == pytest.approx(1.0, abs=1e-12)


def test_a_fresh_locally_connected_layer_sits_at_the_random_baseline():
    """The baseline of 16 filters of 5×5: 0.349, the mean of the best of 16 cosines between a
    fixed direction and random ones in 25 dimensions (priors.chance_sharing). PyTorch draws
    the weights uniformly, not isotropically; measured, that moves it by less than 0.005."""
    chance = priors.chance_sharing(16, 25)
    assert chance == pytest.approx(0.349, abs=0.001)
    torch.manual_seed(0)
    layer = models.LocallyConnected2d(1, 16, K, 28)  # PyTorch's uniform initialisation
    banks = layer.weight.detach().numpy().reshape(24 * 24, 16, 1, K, K)
    assert priors.sharing(banks, (24, 24)) == pytest.approx(chance, abs=0.005)
    gauss = np.random.default_rng(5).standard_normal(banks.shape)
    assert priors.sharing(gauss, (24, 24)) == pytest.approx(chance, abs=0.005)
    # fewer, larger filters are less likely to find a close match: the baseline falls
    assert priors.chance_sharing(4, 25) < chance < priors.chance_sharing(16, 9)


def test_sharing_compares_at_most_max_filters_at_once():
    for channels in (1, 8, 16, 32, 64):
        side = priors.sharing_side(channels)
        assert 2 <= side <= priors.SHARING_GRID
        assert side * side * channels <= max(priors.MAX_FILTERS, 4 * channels)
    assert list(priors.grid_positions(3, 4)) == list(range(12))  # small grids: every position
    assert len(priors.grid_positions(24, 24)) == 144
