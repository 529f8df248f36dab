"""cnnexp/landscape.py on losses whose landscape is known in closed form."""

import pytest
import torch

from cnnexp import data, landscape


def test_a_quadratic_has_beta_equal_to_its_curvature():
    w = torch.nn.Parameter(torch.tensor([3.0, -4.0]))  # ‖w‖ = 5
    a = 2.0

    def loss():
        return 0.5 * a * (w * w).sum()

    out = landscape.measure([w], loss, [0.1, 0.25])
    assert out["beta"] == pytest.approx(a)  # ∇ changes by a·η·‖g‖ over a step of η·‖g‖
    # L(w − ηaw) = 0.5·a·(1 − ηa)²·25: 16.0 at η = 0.1, 6.25 at η = 0.25
    assert out["losses"] == pytest.approx([16.0, 6.25])
    assert out["loss_range"] == pytest.approx(9.75)
    assert w.tolist() == [3.0, -4.0]  # parameters restored


def test_a_sharper_landscape_reads_less_smooth():
    w = torch.nn.Parameter(torch.tensor([1.0]))
    flat = landscape.measure([w], lambda: (w**2).sum(), [0.1])
    sharp = landscape.measure([w], lambda: (w**4).sum(), [0.1])  # curvature grows away from 0
    assert flat["beta"] == pytest.approx(2.0)
    # w⁴ at 1: g = 4, a step of 0.4 to w = 0.6 where g = 0.864: (4 − 0.864) / 0.4
    assert sharp["beta"] == pytest.approx(7.84)


def test_checkpoints_spread_over_training_from_the_first_step_to_the_last():
    assert landscape.checkpoints(100, 5) == {0, 25, 50, 74, 99}
    assert landscape.checkpoints(3, 8) == {0, 1, 2}  # fewer steps than points: every step
    assert landscape.checkpoints(10, 1) == {0}
    assert landscape.checkpoints(10, 0) == frozenset()


@pytest.fixture(scope="module")
def digits():
    from cnnexp import engine

    return engine.DeviceData.from_images(data.load("digits"), torch.device("cpu"))


def _bn_setup():
    from cnnexp.config import TrainSetup

    # BatchNorm: measuring's forward passes in train mode would move its running statistics.
    return TrainSetup(dataset="digits", model="cnn", width=4, norm="batch", epochs=2, lr=3e-3)


def test_probing_during_training_leaves_the_run_unchanged(digits):
    from cnnexp import engine

    setup = _bn_setup()
    plain = engine.train(setup, digits, seed=1)
    rows: list[dict] = []
    measured = engine.train(
        setup, digits, seed=1, step_hook=landscape.recorder(rows, [1e-3, 4e-3], points=4)
    )

    def strip(h):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in h]

    assert strip(measured.history) == strip(plain.history)
    a, b = plain.model.state_dict(), measured.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)  # weights and running statistics alike
    total = setup.epochs * len(data.batch_slices(len(digits.y_train), setup.batch_size))
    assert sorted({r["step"] for r in rows}) == sorted(landscape.checkpoints(total, 4))
    assert {r["measure"] for r in rows} == set(landscape.MEASURES)
    assert all(r["value"] > 0 for r in rows)
    assert rows[0]["progress"] == 0.0


def test_a_hook_that_moves_batchnorm_statistics_is_undone(digits):
    """The engine puts buffers back itself: a hook cannot leak a change into the run."""
    from cnnexp import engine

    setup = _bn_setup()
    plain = engine.train(setup, digits, seed=2)

    def meddle(step, total, model, loss):
        for _ in range(3):
            loss()  # train-mode forward passes: running mean and variance move

    meddled = engine.train(setup, digits, seed=2, step_hook=meddle)
    assert meddled.history[-1]["test_loss"] == plain.history[-1]["test_loss"]
