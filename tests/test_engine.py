"""cnnexp/engine.py: deterministic training, divergence, cancellation, batching."""

import numpy as np
import pytest
import torch

from cnnexp import data, engine
from cnnexp.config import TrainSetup
from tests.conftest import TINY


@pytest.fixture(scope="module")
def digits():
    return engine.DeviceData.from_images(data.load("digits"), torch.device("cpu"))


def test_same_config_same_numbers(digits):
    setup = TrainSetup(**{**TINY, "epochs": 2, "augment_shift": 1})
    a, b = (engine.train(setup, digits, seed=3).history for _ in range(2))
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in a]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in b]
    c = engine.train(setup, digits, seed=4).history
    assert c[-1]["train_loss"] != a[-1]["train_loss"]


def test_training_learns(digits):
    r = engine.train(TrainSetup(**{**TINY, "epochs": 4, "width": 8}), digits, seed=0)
    assert r.status == "done" and len(r.history) == 4
    assert r.history[-1]["test_acc"] > 0.85
    assert r.history[-1]["train_loss"] < r.history[0]["train_loss"]


def test_nan_loss_is_recorded_as_diverged(digits):
    setup = TrainSetup(
        **{**TINY, "epochs": 5}, norm="none", optimizer="sgd", lr=10.0, schedule="constant"
    )
    r = engine.train(setup, digits, seed=0)
    assert r.status == "diverged"
    assert len(r.history) < 5


def test_cancel_stops_within_a_step(digits):
    calls = []
    r = engine.train(
        TrainSetup(**{**TINY, "epochs": 3}),
        digits,
        0,
        should_stop=lambda: calls.append(1) or len(calls) > 5,
    )
    assert r.status == "cancelled" and r.history == []


def test_epoch_callback_gets_every_epoch(digits):
    rows = []
    engine.train(TrainSetup(**{**TINY, "epochs": 2}), digits, 0, on_epoch=rows.append)
    assert [r["epoch"] for r in rows] == [1, 2]
    assert set(rows[0]) == {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds"}


def test_a_last_batch_of_one_joins_the_previous():
    assert data.batch_slices(129, 64) == [slice(0, 64), slice(64, 129)]
    assert data.batch_slices(128, 64) == [slice(0, 64), slice(64, 128)]
    assert data.batch_slices(1, 64) == [slice(0, 1)]


def test_device_data_stats_come_from_the_training_split():
    # Three channels with different levels, and a test split unlike the training one: the
    # per-channel stats must be the training split's, and channels_last must really put the
    # channel innermost (with one channel any contiguous tensor would pass).
    rng = np.random.default_rng(0)
    levels = np.array([20, 120, 220]).reshape(1, 3, 1, 1)
    x_train = (levels + rng.integers(0, 30, (40, 3, 8, 8))).astype(np.uint8)
    x_test = np.full((10, 3, 8, 8), 255, np.uint8)
    info = data.load("digits").info
    ds = data.ImageSet(info, x_train, np.zeros(40, np.int64), x_test, np.zeros(10, np.int64), ())
    dd = engine.DeviceData.from_images(ds, torch.device("cpu"))
    want = x_train.mean(axis=(0, 2, 3)) / 255
    assert dd.mean == pytest.approx(want.tolist(), rel=1e-4)
    assert dd.x_train.stride(1) == 1 and dd.x_test.stride(1) == 1  # channel innermost
    assert dd.x_train.is_contiguous(memory_format=torch.channels_last)
    assert float(dd.x_train.max()) <= 1.0 and float(dd.x_test.max()) == 1.0


def test_history_to_metrics_is_tidy():
    rows = engine.history_to_metrics(
        [
            {
                "epoch": 1,
                "train_loss": 1.0,
                "train_acc": 0.5,
                "test_loss": 2.0,
                "test_acc": 0.4,
                "seconds": 0.1,
            }
        ]
    )
    assert {(r["split"], r["metric"]) for r in rows} == {
        ("train", "loss"),
        ("train", "acc"),
        ("test", "loss"),
        ("test", "acc"),
        ("train", "seconds"),
    }
    assert np.isclose(sum(r["value"] for r in rows), 4.0)


def test_explicit_cuda_without_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        engine.pick_device("cuda")


def test_long_runs_evaluate_a_few_epochs_always_the_last():
    assert engine.eval_epochs(8) == set(range(1, 9))
    many = engine.eval_epochs(320)
    assert len(many) == engine.MAX_EVALS and {1, 320} <= many


def test_skipped_evaluations_leave_no_test_rows(digits):
    setup = TrainSetup(**{**TINY, "epochs": 30, "n_train": 64})
    r = engine.train(setup, digits, 0)
    rows = engine.history_to_metrics(r.history)
    tested = {row["epoch"] for row in rows if row["split"] == "test"}
    assert tested == engine.eval_epochs(30) and r.history[-1]["test_acc"] is not None


needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")


def test_channels_last_only_for_convnets():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    mlp = TrainSetup(**{**TINY, "model": "mlp"})
    wide = TrainSetup(**{**TINY, "width": 16})
    assert engine.memory_format(mlp, cuda) == torch.contiguous_format
    assert engine.memory_format(mlp, cpu) == torch.contiguous_format
    assert engine.memory_format(wide, cuda) == torch.channels_last
    assert engine.memory_format(wide, cpu) == torch.channels_last


def test_precision_decides_autocast(digits):
    """fp32 runs never autocast; bf16 runs do (on the CPU too: the id promises it)."""
    setup = TrainSetup(**TINY)
    bf16 = engine.DeviceData(**{**digits.__dict__, "precision": "bf16"})
    a = engine.train(setup, digits, seed=0).final["train_loss"]
    b = engine.train(setup, bf16, seed=0).final["train_loss"]
    assert a != b  # bf16 rounding changes the numbers: the two must not share a run id


@pytest.mark.gpu
@needs_gpu
def test_gpu_training_is_deterministic_and_draws_on_the_device():
    ds = data.load("digits")
    dd = engine.DeviceData.from_images(ds, torch.device("cuda"), "bf16")
    setup = TrainSetup(**{**TINY, "epochs": 2, "augment_shift": 2, "augment_flip": True})
    a, b = (engine.train(setup, dd, seed=1).history for _ in range(2))
    assert [r["train_loss"] for r in a] == pytest.approx([r["train_loss"] for r in b], rel=1e-2)
    gen = torch.Generator(device="cuda").manual_seed(0)
    from cnnexp import transforms

    out = transforms.random_shift(dd.x_train[:8], 2, gen)
    assert out.device.type == "cuda" and out.shape == dd.x_train[:8].shape


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 5])
def test_very_short_runs_train_with_the_onecycle_schedule(steps):
    # A 4-step run made torch's OneCycleLR divide by zero; every short run must train.
    few = data.load("digits").take_train(32 * steps, seed=0)
    dd = engine.DeviceData.from_images(few, torch.device("cpu"))
    setup = TrainSetup(**{**TINY, "batch_size": 32, "schedule": "onecycle"})
    r = engine.train(setup, dd, seed=0)
    assert r.status == "done" and len(r.history) == 1
