"""`shapes`: a procedural dataset of small glyphs placed at random positions.

The class is the glyph; its position, stroke brightness and background noise vary. Since
position carries no information about the class, this is the natural test bed for
translation experiments: a model that keys on absolute position has nothing to gain.
Everything is generated from a seed, so the dataset is identical on every machine.
"""

from __future__ import annotations

import numpy as np

GLYPH = 9  # side of the box a glyph is drawn in (pixels)


def _glyphs() -> dict[str, np.ndarray]:
    g = GLYPH
    c = g // 2
    yy, xx = np.mgrid[:g, :g]
    r = np.hypot(yy - c, xx - c)
    masks = {
        "cross": (np.abs(yy - c) <= 0) | (np.abs(xx - c) <= 0),
        "ring": (r >= c - 1.2) & (r <= c + 0.2),
        "hbar": (np.abs(yy - c) <= 1),
        "vbar": (np.abs(xx - c) <= 1),
        "corner": ((xx <= 1) | (yy >= g - 2)),
        "diagonal": (np.abs(yy - xx) <= 0) | (np.abs(yy + xx - (g - 1)) <= 0),
    }
    return {k: v.astype(np.float32) for k, v in masks.items()}


CLASSES: tuple[str, ...] = tuple(_glyphs())


def generate(
    n: int, seed: int, size: int = 28, noise: float = 0.08
) -> tuple[np.ndarray, np.ndarray]:
    """n images of shape (n, 1, size, size) as uint8 and their labels (balanced classes)."""
    rng = np.random.default_rng(seed)
    glyphs = np.stack(list(_glyphs().values()))  # (K, G, G)
    labels = np.arange(n) % len(CLASSES)
    rng.shuffle(labels)
    top = rng.integers(0, size - GLYPH + 1, n)
    left = rng.integers(0, size - GLYPH + 1, n)
    brightness = rng.uniform(0.6, 1.0, n).astype(np.float32)
    images = rng.normal(0.0, noise, (n, size, size)).astype(np.float32)
    for i in range(n):
        images[i, top[i] : top[i] + GLYPH, left[i] : left[i] + GLYPH] += (
            brightness[i] * glyphs[labels[i]]
        )
    images = np.clip(images, 0.0, 1.0)
    return (images[:, None] * 255).round().astype(np.uint8), labels.astype(np.int64)


def generate_pairs(
    n: int, seed: int, distance: int, size: int = 40, noise: float = 0.08, height: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A task that needs range: two glyphs on one row, `distance` pixels apart (left edge to
    left edge); the label is 1 when they are the same glyph, 0 when not (half each).

    Returns images (n, 1, height, size) uint8 (height 0: square), labels, and each image's
    (top, left_a, left_b). A model can only answer if some unit sees both glyphs: its field
    must cover the distance. A low strip (height < size) keeps the range horizontal and
    costs less to train on.
    """
    height = height or size
    if not GLYPH <= height <= size:
        raise ValueError(
            f"height {height} must hold a glyph and not exceed the width {size}; "
            f"allowed: {GLYPH} to {size}"
        )
    if not GLYPH <= distance <= size - GLYPH:
        raise ValueError(
            f"distance {distance} does not fit two {GLYPH}-pixel glyphs in a {size}-pixel "
            f"image; allowed: {GLYPH} to {size - GLYPH}"
        )
    rng = np.random.default_rng(seed)
    glyphs = np.stack(list(_glyphs().values()))
    labels = np.arange(n) % 2
    rng.shuffle(labels)
    k = len(CLASSES)
    first = rng.integers(0, k, n)
    other = (first + rng.integers(1, k, n)) % k  # any glyph but the first
    second = np.where(labels == 1, first, other)
    top = rng.integers(0, height - GLYPH + 1, n)
    left = rng.integers(0, size - GLYPH - distance + 1, n)
    brightness = rng.uniform(0.6, 1.0, n).astype(np.float32)
    images = rng.normal(0.0, noise, (n, height, size)).astype(np.float32)
    for i in range(n):
        for g, x in ((first[i], left[i]), (second[i], left[i] + distance)):
            images[i, top[i] : top[i] + GLYPH, x : x + GLYPH] += brightness[i] * glyphs[g]
    images = np.clip(images, 0.0, 1.0)
    positions = np.stack([top, left, left + distance], axis=1)
    return (images[:, None] * 255).round().astype(np.uint8), labels.astype(np.int64), positions
