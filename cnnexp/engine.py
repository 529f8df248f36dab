"""The training engine: dataset on the device once, batches indexed there, one sync per epoch.

Why it is fast on small data: no DataLoader or per-sample Python in the hot path (the whole
dataset is a tensor on the device and a batch is one index operation), channels_last
convolutions (mkldnn on CPU, tensor cores on CUDA), bf16 autocast on CUDA, and metrics summed
on the device and read once per epoch. `python -m bench.engine` measures the gain against a
textbook DataLoader loop.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnexp import architecture, data, models, transforms
from cnnexp.config import TrainSetup
from cnnexp.data import ImageSet, batch_slices
from cnnexp.runspec import RunContext, RunOutput

EVAL_BATCH = 1000
MAX_EVALS = 16  # test-set passes per run: runs of hundreds of tiny epochs stay cheap


def eval_epochs(epochs: int, most: int = MAX_EVALS) -> set[int]:
    """The epochs after which the test set is evaluated: all of them, or `most` evenly spaced
    (the last always: it gives the run's final accuracy)."""
    if epochs <= most:
        return set(range(1, epochs + 1))
    if most <= 1:
        return {epochs}
    return {round(1 + i * (epochs - 1) / (most - 1)) for i in range(most)}


def pick_device(name: str = "auto") -> torch.device:
    """auto picks cuda, then mps, then cpu; an explicit name must be available."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' asked for, but no CUDA GPU is available; use auto or cpu")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError("device 'mps' asked for, but MPS is not available; use auto or cpu")
    return dev


@dataclass
class DeviceData:
    """A dataset as float tensors in [0, 1] on one device, plus its standardisation stats."""

    x_train: torch.Tensor  # (N, C, H, W) float32, channels_last
    y_train: torch.Tensor  # (N,) int64
    x_test: torch.Tensor
    y_test: torch.Tensor
    mean: list[float]  # per channel, from the training split
    std: list[float]
    precision: str = "fp32"  # fp32, or bf16 autocast (part of the run id, see runspec)

    @classmethod
    def from_images(cls, ds: ImageSet, device: torch.device, precision: str = "fp32") -> DeviceData:
        def images(x: np.ndarray) -> torch.Tensor:
            t = torch.from_numpy(np.ascontiguousarray(x)).to(device).float().div_(255.0)
            return t.contiguous(memory_format=torch.channels_last)

        x_train = images(ds.x_train)
        mean = x_train.mean(dim=(0, 2, 3))
        std = x_train.std(dim=(0, 2, 3)).clamp_min(1e-3)
        return cls(
            x_train,
            torch.from_numpy(ds.y_train).to(device),
            images(ds.x_test),
            torch.from_numpy(ds.y_test).to(device),
            mean.tolist(),
            std.tolist(),
            precision,
        )


@dataclass
class TrainResult:
    model: nn.Module
    status: str  # done, diverged or cancelled
    history: list[dict] = field(default_factory=list)  # one row per epoch
    train_seconds: float = 0.0

    @property
    def final(self) -> dict:
        return self.history[-1] if self.history else {}


def memory_format(setup: TrainSetup, device: torch.device) -> torch.memory_format:
    """channels_last only for convnets: on CUDA (tensor cores) and for wide convnets on the
    CPU, where mkldnn's channels_last convolutions are faster; below 16 channels the CPU's
    channels_last BatchNorm is slower than everything it saves (measured: width 2, 7.5 vs
    2.8 ms a step). An MLP flattens its input at once: a layout change is pure copying."""
    if setup.model != "cnn":
        return torch.contiguous_format
    if device.type == "cuda":
        return torch.channels_last
    if setup.model == "cnn" and setup.width >= 16 and setup.norm != "instance":
        return torch.channels_last  # instance norm is the exception: 3.2 vs 3.5 s in NCHW
    return torch.contiguous_format


def make_model(setup: TrainSetup, data: DeviceData, device: torch.device) -> nn.Module:
    model = models.build(setup.layers(), data.mean, data.std).to(device)
    return model.to(memory_format=memory_format(setup, device))


def _optimizer(setup: TrainSetup, model: nn.Module, steps: int):
    params = model.parameters()
    if setup.optimizer == "sgd":
        opt = torch.optim.SGD(
            params, lr=setup.lr, momentum=0.9, nesterov=True, weight_decay=setup.weight_decay
        )
    else:  # the fused kernel updates all tensors at once: ~0.3 ms a step less on the CPU
        opt = torch.optim.AdamW(params, lr=setup.lr, weight_decay=setup.weight_decay, fused=True)
    if setup.schedule == "onecycle":
        # torch divides by (pct_start × steps − 1): zero for a 4-step run, so warm up a bit longer.
        pct = 0.25 if steps != 4 else 0.3
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=setup.lr, total_steps=steps, pct_start=pct
        )
    elif setup.schedule == "cosine":
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))
        )
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    return opt, sched


def _autocast(device: torch.device, precision: str):
    # bf16 keeps fp32's range, so no loss scaling is needed; the run id carries the precision.
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


@torch.inference_mode()
def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, precision: str = "fp32"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean loss and accuracy over (x, y) as device tensors (no host sync)."""
    was_training = model.training
    model.eval()
    loss = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device)
    with _autocast(x.device, precision):
        for i in range(0, len(y), EVAL_BATCH):
            out = model(x[i : i + EVAL_BATCH]).float()
            loss += F.cross_entropy(out, y[i : i + EVAL_BATCH], reduction="sum")
            correct += (out.argmax(1) == y[i : i + EVAL_BATCH]).sum()
    model.train(was_training)
    return loss / len(y), correct / len(y)


def predict(model: nn.Module, x: torch.Tensor, precision: str = "fp32") -> torch.Tensor:
    """Predicted class of every image (eval mode, batched)."""
    model.eval()
    with torch.inference_mode(), _autocast(x.device, precision):
        return torch.cat(
            [model(x[i : i + EVAL_BATCH]).argmax(1) for i in range(0, len(x), EVAL_BATCH)]
        )


class StepHook(Protocol):
    """Called before optimisation step `step` (0 to total − 1) with the model and the batch it
    is about to train on; `loss()` is that batch's training loss at the current weights (a
    graph to differentiate). A hook measures and decides itself at which steps to do so."""

    def __call__(
        self, step: int, total: int, model: nn.Module, loss: Callable[[], torch.Tensor]
    ) -> None: ...


def _at_step(
    hook: StepHook,
    step: int,
    total: int,
    model: nn.Module,
    xb: torch.Tensor,
    yb: torch.Tensor,
    precision: str,
) -> None:
    """Run a step hook so that it cannot change the run: the forward passes it makes in
    train mode would move BatchNorm's running statistics, so every buffer is put back."""

    def loss() -> torch.Tensor:
        with _autocast(xb.device, precision):
            return F.cross_entropy(model(xb).float(), yb)

    buffers = [b.detach().clone() for b in model.buffers()]
    try:
        hook(step, total, model, loss)
    finally:
        with torch.no_grad():
            for b, saved in zip(model.buffers(), buffers, strict=True):
                b.copy_(saved)


def train(
    setup: TrainSetup,
    data: DeviceData,
    seed: int,
    *,
    on_epoch: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    epoch_hook: Callable[[int, nn.Module, DeviceData], None] | None = None,
    build: Callable[[], nn.Module] | None = None,
    step_hook: StepHook | None = None,
    evals: int = MAX_EVALS,
) -> TrainResult:
    """Train setup's model on data with `seed` (weights, order and augmentation all follow it).

    on_epoch gets {epoch, train_loss, train_acc, test_loss, test_acc, seconds} after each
    epoch. A loss that turns NaN/inf ends the run as 'diverged'; should_stop() returning True
    ends it as 'cancelled'. epoch_hook(epoch, model, data) runs before training (epoch 0) and
    after every epoch, for measurements inside the network. build() makes a model the
    blueprint cannot describe (dilated stacks), seeded like any other; setup then only gives
    the training settings. step_hook, see StepHook. evals: at most this many test-set passes
    (eval_epochs); evaluating never changes the training, so it only saves time.
    """
    device = data.x_train.device
    torch.manual_seed(seed)
    # Order and augmentation are drawn where the data is: no host-to-device copy per batch.
    # On the CPU this is the same generator as always, so CPU results stay reproducible.
    gen = torch.Generator(device=device).manual_seed(seed)
    model = build().to(device) if build is not None else make_model(setup, data, device)
    fmt = memory_format(setup, device)
    n = len(data.y_train)
    slices = batch_slices(n, setup.batch_size)
    total = setup.epochs * len(slices)
    opt, sched = _optimizer(setup, model, total)
    step = 0
    eval_at = eval_epochs(setup.epochs, evals)
    if epoch_hook is not None:
        epoch_hook(0, model, data)
    result = TrainResult(model, "done")
    start = time.perf_counter()
    for epoch in range(1, setup.epochs + 1):
        model.train()
        order = torch.randperm(n, generator=gen, device=device)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device)
        for s in slices:
            if should_stop is not None and should_stop():
                result.status = "cancelled"
                break
            idx = order[s]
            xb, yb = data.x_train[idx], data.y_train[idx]
            xb = transforms.random_shift(xb, setup.augment_shift, gen)
            if setup.augment_flip:
                xb = transforms.random_flip(xb, gen)
            xb = xb.contiguous(memory_format=fmt)
            if step_hook is not None:
                _at_step(step_hook, step, total, model, xb, yb, data.precision)
            step += 1
            with _autocast(device, data.precision):
                out = model(xb)
                loss = F.cross_entropy(out.float(), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.detach() * len(yb)
            correct += (out.argmax(1) == yb).sum()
        if result.status == "cancelled":
            break
        stats = [loss_sum / n, correct / n]
        if epoch in eval_at:
            stats += evaluate(model, data.x_test, data.y_test, data.precision)
        # The one host sync of the epoch: every number below is read in a single transfer.
        tl, ta, vl, va = [*torch.stack(stats).tolist(), None, None][:4]
        row = {
            "epoch": epoch,
            "train_loss": tl,
            "train_acc": ta,
            "test_loss": vl,
            "test_acc": va,
            "seconds": time.perf_counter() - start,
        }
        result.history.append(row)
        if epoch_hook is not None:
            epoch_hook(epoch, model, data)
        if on_epoch is not None:
            on_epoch(row)
        if not math.isfinite(tl) or (vl is not None and not math.isfinite(vl)):
            result.status = "diverged"
            break
    result.train_seconds = time.perf_counter() - start
    return result


def history_to_metrics(history: list[dict]) -> list[dict]:
    """Epoch rows as tidy (epoch, split, metric, value) rows for the store."""
    rows = []
    for h in history:
        for split in ("train", "test"):
            for metric in ("loss", "acc"):
                value = h[f"{split}_{metric}"]
                if value is not None:  # test metrics exist only for evaluated epochs
                    rows.append(
                        {"epoch": h["epoch"], "split": split, "metric": metric, "value": value}
                    )
        rows.append(
            {"epoch": h["epoch"], "split": "train", "metric": "seconds", "value": h["seconds"]}
        )
    return rows


def load_device_data(
    setup: TrainSetup,
    seed: int,
    ctx: RunContext,
    prepare: Callable[[ImageSet], ImageSet] | None = None,
) -> DeviceData:
    """The setup's dataset (its n_train subset for this seed), optionally transformed, on the device."""
    ds = data.load(setup.dataset, ctx.data_dir, ctx.download).take_train(setup.n_train, seed)
    if prepare is not None:
        ds = prepare(ds)
    return DeviceData.from_images(ds, pick_device(ctx.device), ctx.precision)


def run_training(
    setup: TrainSetup,
    seed: int,
    ctx: RunContext,
    prepare: Callable[[ImageSet], ImageSet] | None = None,
    epoch_hook: Callable[[int, nn.Module, DeviceData], None] | None = None,
    step_hook: StepHook | None = None,
    evals: int = MAX_EVALS,
) -> tuple[TrainResult, DeviceData, RunOutput]:
    """The common per-run work: load data, train, and fill a RunOutput with the standard
    metrics and summary. Experiments add their own measurements to the output."""
    dd = load_device_data(setup, seed, ctx, prepare)
    result = train(
        setup,
        dd,
        seed,
        on_epoch=ctx.on_epoch,
        should_stop=ctx.should_stop,
        epoch_hook=epoch_hook,
        step_hook=step_hook,
        evals=evals,
    )
    layers = setup.layers()
    extra = {"params": architecture.count_params(layers), "flops": architecture.count_flops(layers)}
    return result, dd, run_output(result, dd, **extra)


def weights_blob(model: nn.Module) -> bytes:
    """A trained model's state_dict as torch.save bytes, its parameters in fp16 (half the
    size; enough to look at and to predict with) and its buffers (input mean and std,
    BatchNorm's running statistics: small, and divided by) as they are."""
    buffers = {name for name, _ in model.named_buffers()}
    state = {
        k: (v if k in buffers or not v.is_floating_point() else v.half())
        .detach()
        .cpu()
        .contiguous()
        for k, v in model.state_dict().items()
    }
    out = io.BytesIO()
    torch.save(state, out)
    return out.getvalue()


def run_output(result: TrainResult, dd: DeviceData, **extra) -> RunOutput:
    """A trained run's RunOutput: its metrics and the standard summary, with `extra` figures
    (parameters, FLOPs, field, ...) placed before the training-set size. A finished run
    carries its trained weights (blob "weights", saved beside the run's file) for
    cnnexp.inspection; they change neither the run's id nor its results."""
    final = result.final
    summary = {
        "test_acc": final.get("test_acc"),
        "train_acc": final.get("train_acc"),
        "test_loss": final.get("test_loss"),
        "train_loss": final.get("train_loss"),
        "train_seconds": result.train_seconds,
        "epochs_run": len(result.history),
        **extra,
        "n_train_images": len(dd.y_train),
    }
    return RunOutput(
        status=result.status,
        metrics=history_to_metrics(result.history),
        summary=summary,
        blobs={"weights": weights_blob(result.model)} if result.status == "done" else {},
        device=str(dd.x_train.device),
        precision=dd.precision,
    )
