"""cnnexp/permutation.py: pixel permutations, whole-image and within tiles."""

import numpy as np

from cnnexp import permutation


def test_pixel_permutation_is_a_bijection_from_its_seed():
    p = permutation.pixel_permutation(6, 6, seed=4)
    assert sorted(p) == list(range(36))
    assert np.array_equal(p, permutation.pixel_permutation(6, 6, seed=4))
    assert not np.array_equal(p, permutation.pixel_permutation(6, 6, seed=5))


def test_block_permutation_stays_inside_its_tiles():
    assert np.array_equal(permutation.pixel_permutation(8, 8, 0, block=1), np.arange(64))
    p = permutation.pixel_permutation(8, 8, 0, block=4).reshape(8, 8)
    for top in (0, 4):
        for left in (0, 4):
            tile = p[top : top + 4, left : left + 4].ravel()
            rows, cols = tile // 8, tile % 8
            assert rows.min() >= top and rows.max() < top + 4
            assert cols.min() >= left and cols.max() < left + 4


def test_permute_pixels_moves_every_channel_alike():
    x = np.arange(2 * 3 * 4).reshape(1, 2, 3, 4)
    p = permutation.pixel_permutation(3, 4, 0)
    y = permutation.permute_pixels(x, p)
    assert np.array_equal(y[0, 1] - y[0, 0], np.full((3, 4), 12))
    assert sorted(y[0, 0].ravel()) == list(range(12))
