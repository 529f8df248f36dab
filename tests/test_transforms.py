"""cnnexp/transforms.py: shifts, random shifts, flips and pixel permutations."""

import numpy as np
import torch

from cnnexp import transforms


def test_shift_moves_content_right_and_down():
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 1, 1] = 1
    y = transforms.shift(x, dx=2, dy=1)
    assert y[0, 0, 2, 3] == 1 and y.sum() == 1


def test_zero_shift_blanks_the_wrapped_band_circular_keeps_it():
    x = torch.ones(1, 1, 4, 6)
    z = transforms.shift(x, dx=-2, dy=1, mode="zero")
    assert z[0, 0, 0].sum() == 0 and z[0, 0, :, -2:].sum() == 0 and z.sum() == 3 * 4
    assert transforms.shift(x, -2, 1, mode="circular").sum() == 24


def test_random_shift_gives_each_image_some_shift_of_itself():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(16, 1, 7, 7)
    y = transforms.random_shift(x, 2, g)
    for i in range(16):
        candidates = [
            transforms.shift(x[i : i + 1], dx, dy) for dx in range(-2, 3) for dy in range(-2, 3)
        ]
        assert any(torch.equal(y[i : i + 1], c) for c in candidates)
    assert not all(torch.equal(y[i], x[i]) for i in range(16))


def test_random_flip_mirrors_some_images():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(32, 1, 4, 4)
    y = transforms.random_flip(x, g)
    flipped = [torch.equal(y[i], x[i].flip(-1)) for i in range(32)]
    assert 4 < sum(flipped) < 28
    assert all(f or torch.equal(y[i], x[i]) for i, f in enumerate(flipped))


def test_pixel_permutation_is_a_bijection_from_its_seed():
    p = transforms.pixel_permutation(6, 6, seed=4)
    assert sorted(p) == list(range(36))
    assert np.array_equal(p, transforms.pixel_permutation(6, 6, seed=4))
    assert not np.array_equal(p, transforms.pixel_permutation(6, 6, seed=5))


def test_block_permutation_stays_inside_its_tiles():
    assert np.array_equal(transforms.pixel_permutation(8, 8, 0, block=1), np.arange(64))
    p = transforms.pixel_permutation(8, 8, 0, block=4).reshape(8, 8)
    for top in (0, 4):
        for left in (0, 4):
            tile = p[top : top + 4, left : left + 4].ravel()
            rows, cols = tile // 8, tile % 8
            assert rows.min() >= top and rows.max() < top + 4
            assert cols.min() >= left and cols.max() < left + 4


def test_permute_pixels_moves_every_channel_alike():
    x = np.arange(2 * 3 * 4).reshape(1, 2, 3, 4)
    p = transforms.pixel_permutation(3, 4, 0)
    y = transforms.permute_pixels(x, p)
    assert np.array_equal(y[0, 1] - y[0, 0], np.full((3, 4), 12))
    assert sorted(y[0, 0].ravel()) == list(range(12))
