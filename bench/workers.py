"""python -m bench.workers: the default scaling sweep on a pool of 1 worker, then of N.

Both pools train the same plan from an empty results folder in this process's run, so the
printed ratio (time with 1 worker / time with N) is what to compare across machines; on the
2-core CPU it must not drop below 1. Worker start-up is included: a user waits for it too.
`--set key=value` shrinks the sweep to check the script quickly. Record results with the
machine and torch version in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time

import torch

from cnnexp import experiments
from cnnexp.config import parse
from cnnexp.runner import LocalRunner


def sweep_seconds(specs, workers: int, device: str) -> float:
    """Wall time for a pool of `workers` to train every spec into an empty folder."""
    with tempfile.TemporaryDirectory() as root:
        t0 = time.perf_counter()
        pool = LocalRunner(root, device=device, workers=workers, keep_queued_on_close=False)
        if pool.notice:  # the GPU's free memory holds fewer workers: the ratio would mislead
            print(f"warning: {pool.notice}")
        try:
            ids = pool.submit(specs)
            while any(s.status in ("queued", "running") for s in pool.snapshot().values()):
                time.sleep(0.1)
            bad = {i: s.status for i, s in pool.snapshot().items() if s.status != "done"}
            if bad:
                raise RuntimeError(f"runs did not finish: {bad}")
            return time.perf_counter() - t0 if ids else 0.0
        finally:
            pool.close()


def _value(text: str):
    """A --set value as JSON when it is JSON (numbers, [lists]), else the plain string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.workers", description=__doc__)
    p.add_argument("--experiment", default="scaling")
    p.add_argument("--workers", type=int, default=2, help="pool size to compare with 1")
    p.add_argument("--device", default="cpu")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting, value as JSON (e.g. cnn_widths=[4]) to check on a small sweep")  # fmt: skip
    args = p.parse_args(argv)
    mod = experiments.get(args.experiment)
    overrides = {k: _value(v) for k, v in (kv.split("=", 1) for kv in args.set)}
    specs = mod.plan(parse(mod.Config, overrides))
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{args.experiment} sweep of {len(specs)} runs, device {args.device}")  # fmt: skip
    one = sweep_seconds(specs, 1, args.device)
    many = sweep_seconds(specs, args.workers, args.device)
    print(f"1 worker: {one:.1f} s   {args.workers} workers: {many:.1f} s   "
          f"speed-up (1 / {args.workers}): {one / many:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
