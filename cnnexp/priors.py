"""How much of a convolution's two priors a first layer has: locality and weight sharing.

Pure numpy on weight arrays (cnnexp.inspection.first_weights gives them from a model): the
`learned` experiment measures its trained networks and the same networks at initialisation
with these, and the tests pin their ends.

Locality, per unit of the first layer (a unit: an MLP's hidden unit, or one filter at one
position of a locally connected or convolutional layer), from its weights w over the image:
- window share: the share of its weight energy Σw² inside its best k×k window (the channels'
  energies summed per pixel). 1 when all its weights lie in one k×k window; k²/D when they are
  spread evenly over the D pixels of an image (every window then holds k² of them).
  A locally connected or convolutional unit sees one k×k window by construction: share 1.
- inverse participation ratio, IPR = Σw⁴ / (Σw²)² over all its weights: 1 when one weight
  holds everything, 1/D when D weights are equal. It needs no window side, so it also says
  how concentrated a local filter is within its window (zeros outside it add nothing).

Weight sharing, for a layer with positions (locally connected: a filter bank at each output
position): for a filter f at position p and another position q, the best cosine similarity
between f and the filters of q (the largest over q's channels, so the order of channels does
not matter); averaged over the filters, and over every pair of positions p ≠ q of a grid of at
most SHARING_GRID × SHARING_GRID positions spread over the layer (all of them when the layer
has fewer; fewer for a wide layer, see sharing_side). A convolution uses one bank at every position: 1 by construction. Random filters
score `chance_sharing(C, d)` (about 0.35 for 16 filters of 5×5), not 0: the best of C random
cosines is positive. The best match among *all* other filters would not work as a measure:
among thousands of random filters some lie close to any one (about 0.75 for 5×5 filters).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SHARING_GRID = 12  # positions a side compared for weight sharing: 144 positions, 20,592 pairs
# Filters compared at once: a 2,304² matrix of cosines (42 MB in float64), 144 positions of 16
# filters; a wider layer is compared on a coarser grid of positions (sharing_side).
MAX_FILTERS = 2304
EPS = 1e-12  # a filter of zero norm has cosine 0 with everything

Kind = Literal["linear", "local", "conv"]  # cnnexp.inspection.FirstWeights.kind


# --- locality --------------------------------------------------------------------------------
def window_share(units: np.ndarray, k: int) -> np.ndarray:
    """Per unit, the share of Σw² inside its best k×k window. units: (n, C, H, W), one unit's
    weights over the image each; the k×k windows lie wholly inside the image."""
    energy = np.square(units, dtype=np.float64).sum(1)  # (n, H, W): channels summed per pixel
    h, w = energy.shape[1:]
    if not 1 <= k <= min(h, w):
        raise ValueError(
            f"window side {k} does not fit the {h}×{w} image; allowed: 1 to {min(h, w)}"
        )
    windows = sliding_window_view(energy, (k, k), axis=(1, 2)).sum((-2, -1))  # (n, H-k+1, W-k+1)
    total = energy.sum((1, 2))
    best = windows.reshape(len(units), -1).max(1)
    return np.divide(best, total, out=np.zeros_like(total), where=total > 0)


def ipr(units: np.ndarray) -> np.ndarray:
    """Per unit, the inverse participation ratio Σw⁴ / (Σw²)² of all its weights (units: (n, ...))."""
    w2 = np.square(units.reshape(len(units), -1), dtype=np.float64)
    total = w2.sum(1)
    return np.divide((w2**2).sum(1), total**2, out=np.zeros_like(total), where=total > 0)


# --- weight sharing ----------------------------------------------------------------------------
def grid_positions(rows: int, cols: int, side: int = SHARING_GRID) -> np.ndarray:
    """Flat indices (row-major) of at most side × side positions spread evenly over a
    rows × cols grid (every position when the grid is that small)."""
    r = np.unique(np.linspace(0, rows - 1, min(rows, side)).round().astype(int))
    c = np.unique(np.linspace(0, cols - 1, min(cols, side)).round().astype(int))
    return (r[:, None] * cols + c[None, :]).ravel()


def sharing_side(channels: int) -> int:
    """Positions a side that sharing compares for a layer of `channels` filters a position:
    SHARING_GRID, or fewer so that at most MAX_FILTERS filters are compared (never below 2)."""
    return max(2, min(SHARING_GRID, math.isqrt(MAX_FILTERS // max(1, channels))))


def sharing(banks: np.ndarray, grid: tuple[int, int], side: int | None = None) -> float:
    """Mean best-match cosine of each filter with the filters at other positions.

    banks: (P, C, ...) the C filters at each of P = rows·cols positions (row-major, as
    cnnexp.inspection.first_weights gives a locally connected layer's); grid: (rows, cols).
    Compares the positions of grid_positions(rows, cols, side), every ordered pair p ≠ q
    (side: sharing_side of the layer's filters unless given).
    """
    rows, cols = grid
    side = sharing_side(banks.shape[1]) if side is None else side
    if banks.shape[0] != rows * cols:
        raise ValueError(f"{banks.shape[0]} filter banks do not fill a {rows}×{cols} grid")
    at = grid_positions(rows, cols, side)
    if len(at) < 2:
        raise ValueError("weight sharing needs at least two positions")
    f = banks[at].reshape(len(at), banks.shape[1], -1).astype(np.float64)  # (m, C, d)
    f /= np.maximum(np.linalg.norm(f, axis=2, keepdims=True), EPS)
    m, c, _ = f.shape
    flat = f.reshape(m * c, -1)
    cos = (flat @ flat.T).reshape(m, c, m, c)  # cos[p, i, q, j]: filter i at p, j at q
    best = cos.max(3)  # (m, C, m): the best match of (p, i) among q's filters
    others = ~np.eye(m, dtype=bool)  # pairs p ≠ q
    return float(best.transpose(0, 2, 1)[others].mean())


def chance_sharing(filters: int, dim: int) -> float:
    """The expected sharing of random filters: the mean of the largest of `filters` cosines
    between a fixed direction and independent isotropic random vectors in `dim` dimensions.

    One such cosine t has (t + 1)/2 ~ Beta((dim − 1)/2, (dim − 1)/2); the largest of C has CDF
    F(t)^C, so its mean is 1 − ∫₋₁¹ F(t)^C dt (integrated numerically). PyTorch draws a
    layer's weights uniformly, not isotropically; for 25 weights or more the difference is
    under 0.005 (tests/test_priors.py measures it).
    """
    from scipy.special import betainc  # the Beta CDF; scipy is where stats.py gets its t

    a = (dim - 1) / 2
    t = np.linspace(-1.0, 1.0, 20001)
    cdf = betainc(a, a, (t + 1) / 2) ** filters
    return float(1.0 - np.trapezoid(cdf, t))


# --- one layer ---------------------------------------------------------------------------------
def measure(
    kind: Kind, weights: np.ndarray, kernel: int, grid: tuple[int, int] | None = None
) -> dict[str, float]:
    """The layer's mean window share ("locality"), mean IPR ("ipr") and, for a layer with
    positions, its weight sharing ("sharing"), from its weights as
    cnnexp.inspection.FirstWeights holds them: linear (units, C, H, W); conv (out, C, k, k);
    local (positions, out, C, k, k) on a `grid` of positions."""
    match kind:
        case "linear":
            return {
                "locality": float(window_share(weights, kernel).mean()),
                "ipr": float(ipr(weights).mean()),
            }
        case "conv":  # one bank at every position: local and shared by construction
            return {"locality": 1.0, "ipr": float(ipr(weights).mean()), "sharing": 1.0}
        case "local":
            if grid is None:
                raise ValueError("a locally connected layer's sharing needs its grid of positions")
            filters = weights.reshape(-1, *weights.shape[2:])
            return {
                "locality": 1.0,
                "ipr": float(ipr(filters).mean()),
                "sharing": sharing(weights, grid),
            }
    raise ValueError(f"unknown first layer kind {kind!r}; allowed: linear, local, conv")
