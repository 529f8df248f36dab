"""cnnexp/probes/shift_errors.py: the mathematical facts of convolution and shifts, to float32
rounding."""

import pytest
import torch

from cnnexp.probes import shift_errors

TOL = 1e-5


@pytest.fixture(scope="module")
def image():
    torch.manual_seed(0)
    return torch.rand(1, 3, 32, 32)


SHIFTS = [(1, 0), (0, 2), (3, -1), (-5, 4), (8, 8)]


@pytest.mark.parametrize("kernel", [1, 3, 5])
def test_circular_padding_and_shift_are_equivariant_everywhere(image, kernel):
    blocks = shift_errors.random_stack(3, 6, 3, kernel, "circular", 1, "none", seed=kernel)
    for r in shift_errors.equivariance(blocks, image, SHIFTS, "circular"):
        assert r["full_error"] < TOL and r["interior_error"] < TOL, r


@pytest.mark.parametrize("kernel", [3, 5])
@pytest.mark.parametrize("kind", ["circular", "zero"])
def test_zero_padding_breaks_equivariance_only_at_the_border(image, kernel, kind):
    blocks = shift_errors.random_stack(3, 6, 2, kernel, "zeros", 1, "none", seed=1)
    for r in shift_errors.equivariance(blocks, image, SHIFTS, kind):
        assert r["interior_error"] < TOL, r
        assert r["full_error"] > 1e-3, r
        assert 0 < r["interior_fraction"] < 1


@pytest.mark.parametrize("kernel", [3, 5])
def test_global_average_pooling_after_circular_convs_is_invariant(image, kernel):
    blocks = shift_errors.random_stack(3, 6, 3, kernel, "circular", 1, "none", seed=2)
    rows = shift_errors.invariance(blocks, image, SHIFTS, "circular")
    assert all(r["error"] < TOL for r in rows if r["pooling"] in ("average", "max"))


def test_stride_two_aliases_odd_shifts_but_follows_even_ones(image):
    blocks = shift_errors.random_stack(3, 6, 1, 3, "circular", 2, "none", seed=3)
    rows = {
        (r["dx"], r["dy"]): r
        for r in shift_errors.equivariance(blocks, image, [(1, 0), (3, 0), (2, 0), (4, 2)])
    }
    assert rows[(2, 0)]["full_error"] < TOL and rows[(4, 2)]["full_error"] < TOL
    assert rows[(1, 0)]["interior_error"] > 0.05 and rows[(3, 0)]["interior_error"] > 0.05
    assert rows[(1, 0)]["aliased"] and not rows[(2, 0)]["aliased"]


def test_blur_pooling_aliases_less_than_max_pooling(image):
    def mean_error(pool: str, seed: int) -> float:
        blocks = shift_errors.random_stack(3, 8, 2, 3, "circular", 1, pool, seed)
        rows = [
            r
            for r in shift_errors.equivariance(blocks, image, [(t, 0) for t in range(1, 9)])
            if r["layer"] == 2
        ]
        return sum(r["interior_error"] for r in rows) / len(rows)

    for seed in range(3):
        assert mean_error("blur", seed) < mean_error("max", seed)


def test_interior_masks_shrink_with_depth_and_shift():
    blocks = shift_errors.random_stack(1, 2, 3, 5, "zeros", 1, "none", seed=0)
    small, large = (shift_errors.interior_masks(blocks, 32, 32, dx, 0) for dx in (1, 6))
    assert [m.sum() for m in small] == sorted((m.sum() for m in small), reverse=True)
    assert all(a.sum() > b.sum() for a, b in zip(small, large, strict=True))


def test_shifts_along_follow_the_chosen_direction():
    assert shift_errors.shifts_along(3, 0, 4) == [
        (0, (0, 0)),
        (1, (1, 0)),
        (2, (2, 0)),
        (3, (3, 0)),
        (4, (4, 0)),
    ]
    assert shift_errors.shifts_along(-2, 2, 2) == [(0, (0, 0)), (1, (-1, 1)), (2, (-2, 2))]
    assert shift_errors.shifts_along(0, 0, 1) == [(0, (0, 0)), (1, (1, 0))]
