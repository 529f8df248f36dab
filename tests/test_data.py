"""cnnexp/data.py and cnnexp/shapes.py: offline datasets, splits, subsets, clear errors."""

import numpy as np
import pytest

from cnnexp import data, shapes


@pytest.mark.parametrize("name", ["digits", "mnist5k", "shapes"])
def test_offline_datasets_match_their_catalog_entry(name):
    ds = data.load(name)
    info = data.DATASETS[name]
    assert ds.x_train.shape == (info.n_train, *info.shape)
    assert ds.x_test.shape == (info.n_test, *info.shape)
    assert ds.x_train.dtype == np.uint8 and ds.y_train.dtype == np.int64
    assert set(np.unique(ds.y_train)) == set(range(info.n_classes)) == set(np.unique(ds.y_test))
    assert ds.x_train.max() > 200  # real images use the range, not an all-black stub


def test_mnist5k_is_the_real_500_per_class_set():
    ds = data.load("mnist5k")
    y = np.concatenate([ds.y_train, ds.y_test])
    assert np.bincount(y).tolist() == [500] * 10
    assert np.bincount(ds.y_test).tolist() == [100] * 10


def test_split_is_disjoint_and_fixed():
    y = np.repeat(np.arange(5), 20)
    tr, te = data.stratified_split(y, 0.2, seed=0)
    assert len(set(tr) & set(te)) == 0 and len(tr) + len(te) == 100
    assert np.bincount(y[te]).tolist() == [4] * 5
    assert np.array_equal(tr, data.stratified_split(y, 0.2, seed=0)[0])


def test_subset_is_balanced_and_follows_the_seed():
    ds = data.load("mnist5k")
    a, b, c = (ds.take_train(100, s) for s in (1, 1, 2))
    assert np.bincount(a.y_train).tolist() == [10] * 10
    assert np.array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)
    assert ds.take_train(0, 1) is ds


def test_shapes_are_reproducible_and_position_varies():
    x1, y1 = shapes.generate(60, seed=3)
    x2, y2 = shapes.generate(60, seed=3)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
    centres = [np.argwhere(img[0] > 128).mean(0) for img in x1]
    assert np.std([c[0] for c in centres]) > 3  # glyphs are not all in one place
    assert set(y1) == set(range(len(shapes.CLASSES)))


def test_missing_torchvision_files_name_the_folder_and_files(tmp_path):
    with pytest.raises(data.DataError) as e:
        data.load("cifar10", str(tmp_path))
    msg = str(e.value)
    assert str(tmp_path) in msg and "data_batch_1" in msg and "--download" in msg


def test_unknown_dataset():
    with pytest.raises(data.DataError, match="known: digits"):
        data.load("imagenet")
