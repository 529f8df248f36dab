"""Pixel permutations: scramble every image's pixel grid the same way (numpy only, so pages
can show scrambled images without importing torch)."""

from __future__ import annotations

import numpy as np


def permute_pixels(x, perm):
    """Scramble every image's pixel grid with one permutation of its H·W positions.

    The same permutation moves every channel alike, so a colour pixel stays a colour pixel.
    Works on numpy arrays and torch tensors.
    """
    n, c, h, w = x.shape
    return x.reshape(n, c, h * w)[:, :, perm].reshape(n, c, h, w)


def pixel_permutation(h: int, w: int, seed: int, block: int | None = None) -> np.ndarray:
    """A permutation of the h·w pixel positions, drawn from `seed`.

    With `block` = b, pixels are only shuffled within each b×b tile, so b = 1 leaves the image
    intact and b >= max(h, w) is a full permutation: locality is taken away gradually.
    """
    rng = np.random.default_rng(seed)
    index = np.arange(h * w).reshape(h, w)
    if block is None or block >= max(h, w):
        return rng.permutation(h * w)
    perm = index.copy()
    for top in range(0, h, block):
        for left in range(0, w, block):
            tile = index[top : top + block, left : left + block]
            perm[top : top + block, left : left + block] = rng.permutation(tile.ravel()).reshape(
                tile.shape
            )
    return perm.ravel()
