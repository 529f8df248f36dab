"""python -m bench.engine: where the time goes, as ratios against references run in this process.

1. Epoch time of the engine against a textbook loop (a torchvision-style Dataset with
   per-sample transforms, a DataLoader, the same model, batch size and data, loss.item()
   every step, a test pass every epoch as in pytorch/examples), for the CNN and the MLP
   on mnist5k. Both epochs include evaluating the 1,000 test images.
2. Training FLOP/s the engine reaches, as a fraction of this machine's fp32 matrix-multiply
   peak measured here (forward + backward taken as 3× the forward FLOPs).
3. Loading the summary of 10,000 saved runs: cold (no index), warm (index on disk, new
   process state) and hot (same Store object).

Absolute numbers differ between machines; the ratios are what to compare. Record results
with the machine in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
import torch.nn.functional as F

from cnnexp import architecture, data, engine, models
from cnnexp.config import TrainSetup
from cnnexp.store import Store

CASES = {
    "cnn": TrainSetup(model="cnn", dataset="mnist5k"),
    "mlp": TrainSetup(model="mlp", dataset="mnist5k", width=256),
}


class TextbookDataset(torch.utils.data.Dataset):
    """The tutorial pattern: one PIL image at a time through ToTensor and Normalize."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, mean: float, std: float):
        from torchvision import transforms as T

        self.images, self.labels = images, labels
        self.transform = T.Compose([T.ToTensor(), T.Normalize((mean,), (std,))])

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        from PIL import Image

        return self.transform(Image.fromarray(self.images[i, 0])), int(self.labels[i])


def textbook_epochs(setup: TrainSetup, ds: data.ImageSet, epochs: int, device) -> list[float]:
    """pytorch/examples' mnist pattern: train over a DataLoader, then test, every epoch."""
    mean, std = ds.x_train.mean() / 255, ds.x_train.std() / 255
    train = torch.utils.data.DataLoader(
        TextbookDataset(ds.x_train, ds.y_train, mean, std),
        batch_size=setup.batch_size,
        shuffle=True,
    )
    test = torch.utils.data.DataLoader(
        TextbookDataset(ds.x_test, ds.y_test, mean, std), batch_size=1000
    )
    torch.manual_seed(0)
    model = models.build(setup.layers()).to(device)  # standardised by the dataset instead
    opt = torch.optim.AdamW(model.parameters(), lr=setup.lr, weight_decay=setup.weight_decay)
    times = []
    for _ in range(epochs):
        start, running, correct = time.perf_counter(), 0.0, 0
        model.train()
        for x, y in train:
            x, y = x.to(device), y.to(device)
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            running += loss.item()
        model.eval()
        with torch.no_grad():
            for x, y in test:
                x, y = x.to(device), y.to(device)
                correct += (model(x).argmax(1) == y).sum().item()
        times.append(time.perf_counter() - start)
    return times


def engine_epochs(setup: TrainSetup, ds: data.ImageSet, epochs: int, device) -> list[float]:
    dd = engine.DeviceData.from_images(ds, device)
    rows = []
    engine.train(setup.model_copy(update={"epochs": epochs}), dd, 0, on_epoch=rows.append)
    ends = [r["seconds"] for r in rows]
    return [b - a for a, b in zip([0.0] + ends, ends, strict=False)]


def matmul_peak(device, n: int = 2048, repeats: int = 10) -> float:
    """fp32 FLOP/s of a large square matrix product on this device."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    for _ in range(2):
        a @ b
    _sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    _sync(device)
    return 2 * n**3 * repeats / (time.perf_counter() - start)


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench_training(device, epochs: int) -> dict:
    ds = data.load("mnist5k")
    peak = matmul_peak(device)
    out = {"matmul_peak_gflops": peak / 1e9}
    for name, setup in CASES.items():
        engine_epochs(setup, ds, 1, device)  # warm-up: kernels, allocator, caches
        textbook_epochs(setup, ds, 1, device)
        e = statistics.median(engine_epochs(setup, ds, epochs, device))
        t = statistics.median(textbook_epochs(setup, ds, epochs, device))
        flops = 3 * architecture.count_flops(setup.layers()) * len(ds.y_train) / e
        out[name] = {
            "engine_epoch_s": e,
            "textbook_epoch_s": t,
            "speedup": t / e,
            "train_gflops": flops / 1e9,
            "fraction_of_peak": flops / peak,
        }
    return out


def _fill(store: Store, n: int) -> None:
    rows = [
        {"epoch": e, "split": s, "metric": m, "value": 0.5}
        for e in (1, 2)
        for s in ("train", "test")
        for m in ("loss", "acc")
    ]

    def save(i: int) -> None:
        store.save(
            {
                "run_id": f"bench{i:06d}",
                "experiment": ("baseline", "permuted")[i % 2],
                "version": 1,
                "seed": i % 5,
                "label": "cnn",
                "status": "done",
                "ended_at": "2026-01-01T00:00:00",
                "test_acc": 0.9,
                "config": {"model": "cnn", "width": 4 + i % 7, "dataset": "digits"},
            },
            rows,
        )

    with ThreadPoolExecutor(8) as pool:  # fsync-bound: threads overlap the waits
        list(pool.map(save, range(n)))


def bench_store(n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        t0 = time.perf_counter()
        _fill(store, n)
        fill = time.perf_counter() - t0

        def timed(fn) -> float:
            start = time.perf_counter()
            assert len(fn()) == n
            return time.perf_counter() - start

        cold = timed(lambda: Store(tmp).runs())  # no index yet: reads every file's footer
        warm = timed(lambda: Store(tmp).runs())  # index on disk, a fresh Store object
        s = Store(tmp)
        s.runs()
        hot = timed(s.runs)  # same object: a directory scan only
        return {"runs": n, "write_s": fill, "cold_s": cold, "warm_s": warm, "hot_s": hot}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    p.add_argument(
        "--epochs", type=int, default=3, help="timed epochs per loop (median is reported)"
    )
    p.add_argument("--runs", type=int, default=10_000, help="saved runs for the store benchmark")
    p.add_argument(
        "--repeat", type=int, default=1, help="run the training comparison this many times"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error(f"--repeat {args.repeat}: allowed: 1 or more")
    device = engine.pick_device(args.device)
    repeats = [bench_training(device, args.epochs) for _ in range(args.repeat)]
    result = {
        "machine": _machine(device),
        "training": repeats[0],
        "ranges": _ranges(repeats),
        "store": bench_store(args.runs),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    m, tr, st = result["machine"], result["training"], result["store"]
    print(f"machine: {m['device_name']} · {m['cpu_threads']} threads · torch {m['torch']}")
    print(f"fp32 matmul peak: {tr['matmul_peak_gflops']:.1f} GFLOP/s")
    for name in CASES:
        r = tr[name]
        print(
            f"{name}: engine {r['engine_epoch_s'] * 1e3:.0f} ms/epoch, textbook "
            f"{r['textbook_epoch_s'] * 1e3:.0f} ms/epoch -> {r['speedup']:.1f}x faster; "
            f"{r['train_gflops']:.2f} GFLOP/s = {r['fraction_of_peak']:.1%} of peak"
        )
    if args.repeat > 1:
        for name, r in result["ranges"].items():
            print(
                f"{name} over {args.repeat} repeats (min-median-max): speedup "
                f"{_span(r['speedup'], '.1f')}x, {_span(r['fraction_of_peak'], '.1%')} of peak"
            )
    print(
        f"store, {st['runs']:,} runs: summary cold {st['cold_s']:.2f} s, warm {st['warm_s']:.2f} s, "
        f"hot {st['hot_s']:.3f} s (writing them took {st['write_s']:.1f} s)"
    )
    return 0


def _ranges(repeats: list[dict]) -> dict:
    """Min, median and max of each case's ratios over repeated comparisons: one run of a
    ratio on a shared machine is a sample, not a figure."""
    out = {}
    for name in CASES:
        out[name] = {}
        for key in ("speedup", "fraction_of_peak"):
            v = [r[name][key] for r in repeats]
            out[name][key] = [min(v), statistics.median(v), max(v)]
    return out


def _span(v: list[float], fmt: str) -> str:
    return "–".join(format(x, fmt) for x in v)


def _machine(device) -> dict:
    name = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else platform.processor() or "cpu"
    )
    return {
        "device": str(device),
        "device_name": name,
        "cpu_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


if __name__ == "__main__":
    raise SystemExit(main())
