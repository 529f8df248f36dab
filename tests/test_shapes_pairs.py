"""cnnexp/shapes.py generate_pairs: the two-glyph distance task's labels and distance."""

import numpy as np
import pytest

from cnnexp import shapes


def _patch(img, top, left):
    return img[0, top : top + shapes.GLYPH, left : left + shapes.GLYPH]


def test_labels_say_whether_the_two_glyphs_are_the_same_at_the_distance_asked():
    x, y, pos = shapes.generate_pairs(200, seed=3, distance=17, noise=0.0)
    assert x.shape == (200, 1, 40, 40) and set(np.unique(y)) == {0, 1}
    assert (y == 1).sum() == (y == 0).sum() == 100  # class-balanced
    assert (pos[:, 2] - pos[:, 1] == 17).all()
    for img, label, (top, a, b) in zip(x, y, pos, strict=True):
        same = np.array_equal(_patch(img, top, a), _patch(img, top, b))
        assert same == bool(label)


def test_pairs_are_deterministic_per_seed():
    a = shapes.generate_pairs(50, seed=1, distance=12)
    b = shapes.generate_pairs(50, seed=1, distance=12)
    c = shapes.generate_pairs(50, seed=2, distance=12)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


def test_a_distance_that_does_not_fit_names_the_allowed_range():
    with pytest.raises(ValueError, match="allowed: 9 to 31"):
        shapes.generate_pairs(10, seed=0, distance=35)


def test_a_strip_keeps_both_glyphs_inside_its_height():
    x, y, pos = shapes.generate_pairs(100, seed=4, distance=16, size=32, height=16, noise=0.0)
    assert x.shape == (100, 1, 16, 32)
    assert (pos[:, 0] + shapes.GLYPH <= 16).all()
    for img, label, (top, a, b) in zip(x, y, pos, strict=True):
        assert np.array_equal(_patch(img, top, a), _patch(img, top, b)) == bool(label)
    with pytest.raises(ValueError, match="allowed: 9 to 32"):
        shapes.generate_pairs(10, seed=0, distance=16, size=32, height=8)
