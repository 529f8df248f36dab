"""cnnexp/transforms.py: shifts, random shifts and flips of whole batches."""

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
