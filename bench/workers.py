"""python -m bench.workers: a sweep on a pool of 1 worker, then of N, repeated and interleaved.

Both pools train the same plan from an empty results folder in this process, so the printed
ratio (time with N workers / time with 1) is what to compare across machines; it must not
pass 1 (more workers never slower). Worker start-up is included: a user waits for it too.
Trials alternate (1, N, N, 1, 1, N, ...) so a machine whose load drifts does not favour
either pool, and the ratio is of the medians; the load average is printed with them (on a
shared machine it decides the figures). `--set key=value` picks the sweep, e.g. issue 25's
16 tiny runs:

    python -m bench.workers --experiment baseline --set dataset=digits --set epochs=1 \\
        --set width=4 --set seeds=16

Record results with the machine, load and torch version in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time

import torch

from cnnexp import experiments
from cnnexp.config import parse
from cnnexp.runner import LocalRunner


def sweep_seconds(specs, workers: int, device: str) -> tuple[float, int]:
    """Wall time for a pool of `workers` to train every spec into an empty folder, and how
    many worker processes it started."""
    with tempfile.TemporaryDirectory() as root:
        t0 = time.perf_counter()
        pool = LocalRunner(root, device=device, workers=workers, keep_queued_on_close=False)
        if pool.notice:  # the GPU's free memory holds fewer workers: the ratio would mislead
            print(f"warning: {pool.notice}")
        try:
            ids = pool.submit(specs)
            while any(s.status in ("queued", "running") for s in pool.snapshot().values()):
                time.sleep(0.05)
            bad = {i: s.status for i, s in pool.snapshot().items() if s.status != "done"}
            if bad:
                raise RuntimeError(f"runs did not finish: {bad}")
            started = sum(state != "off" for state in pool.worker_states())
            return (time.perf_counter() - t0 if ids else 0.0), started
        finally:
            pool.close()


def _value(text: str):
    """A --set value as JSON when it is JSON (numbers, [lists]), else the plain string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _load() -> str:
    return "load {:.1f}/{:.1f}/{:.1f}".format(*os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.workers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--experiment", default="scaling", help="whose default sweep to train")
    p.add_argument("--workers", type=int, default=2, help="pool size to compare with 1")
    p.add_argument("--device", default="cpu", help="device the workers train on")
    p.add_argument("--repeat", type=int, default=3, help="trials of each pool (median taken)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting, value as JSON (e.g. cnn_widths=[4]) to check on a small sweep")  # fmt: skip
    args = p.parse_args(argv)
    mod = experiments.get(args.experiment)
    overrides = {k: _value(v) for k, v in (kv.split("=", 1) for kv in args.set)}
    specs = mod.plan(parse(mod.Config, overrides))
    n = args.workers
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch "
          f"{torch.__version__}, {args.experiment} sweep of {len(specs)} runs, device "
          f"{args.device}, {_load()}")  # fmt: skip
    times: dict[int, list[float]] = {1: [], n: []}
    for i in range(args.repeat):
        for w in (1, n) if i % 2 == 0 else (n, 1):
            seconds, started = sweep_seconds(specs, w, args.device)
            times[w].append(seconds)
            print(f"  {w} worker(s): {seconds:.1f} s ({started} started), {_load()}")
    one, many = statistics.median(times[1]), statistics.median(times[n])
    print(f"median: 1 worker {one:.1f} s, {n} workers {many:.1f} s; "
          f"time ratio ({n} / 1) {many / one:.2f}, speed-up {one / many:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
