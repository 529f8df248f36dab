"""python -m bench.landscape: what the Normalization page's loss-landscape measurements cost.

Trains the page's default model (width 16, depth 2, AdamW one-cycle) for each variant twice
in this process, without the measurements and with them (cnnexp/landscape.py at the experiment's
checkpoints), and prints the training seconds of each, their ratio, and the share of the
measured run spent measuring (the share is read from the measured run alone, so it
holds up better on a busy machine than the ratio of two runs).

    python -m bench.landscape                      # the page's defaults: mnist5k, 8 epochs
    python -m bench.landscape --dataset digits --epochs 2 --norms batch   # a smoke run
"""

from __future__ import annotations

import argparse
import time

import torch

from cnnexp import engine, landscape
from cnnexp.config import TrainSetup
from cnnexp.experiments import normalization
from cnnexp.runspec import RunContext


def measure(setup: TrainSetup, seed: int = 0) -> dict:
    dd = engine.load_device_data(setup, seed, RunContext(device="cpu"))
    plain = engine.train(setup, dd, seed)
    rows: list[dict] = []
    record = landscape.recorder(
        rows, [m * setup.lr for m in normalization.LANDSCAPE_STEPS], normalization.LANDSCAPE_POINTS
    )
    inside = 0.0

    def timed(step, total, model, loss):
        nonlocal inside
        t = time.perf_counter()
        record(step, total, model, loss)
        inside += time.perf_counter() - t

    measured = engine.train(setup, dd, seed, step_hook=timed)
    return {
        "plain_s": plain.train_seconds,
        "measured_s": measured.train_seconds,
        "ratio": measured.train_seconds / plain.train_seconds,
        "share": inside / measured.train_seconds,
        "measurements": len(rows) // len(landscape.MEASURES),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="mnist5k")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--norms", default="none,batch,group")
    a = p.parse_args()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {a.dataset}, "
        f"{a.epochs} epochs, {normalization.LANDSCAPE_POINTS} checkpoints"
    )
    print(f"{'norm':8} {'plain s':>8} {'measured s':>10} {'ratio':>6} {'measuring':>10}")
    for norm in a.norms.split(","):
        setup = TrainSetup(
            dataset=a.dataset, model="cnn", width=16, depth=2, norm=norm, epochs=a.epochs
        ).normalized()
        r = measure(setup)
        print(
            f"{norm:8} {r['plain_s']:8.1f} {r['measured_s']:10.1f} {r['ratio']:6.2f} "
            f"{r['share']:10.1%}"
        )


if __name__ == "__main__":
    main()
