"""python -m bench.estimates: how close the run panel's estimates come to the time a plan takes.

For each experiment: an empty results folder, its default plan, the estimate the dashboard
would show (the step costs measured first, as a page's first visit does; no past runs to
calibrate with), then the plan trained by the dashboard's own pool (runner.LocalRunner:
worker start-up included) and timed from submit to the last run's end. One line each:

    NAME: estimated X s, took Y s, ratio R        (R = Y / X; the goal: 0.67 to 1.5)

    python -m bench.estimates                                   # every experiment's defaults
    python -m bench.estimates --experiments permuted,baseline   # some of them
    python -m bench.estimates --scale 0.25                      # a quarter of each plan's runs

--scale trains every k-th run of a plan (at least one), and estimates the same runs: the mix
of models stays, the total shrinks. The machine's load average is printed before and after:
on a shared machine both numbers stretch with it, and not alike.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

from cnnexp import estimate, experiments, timing
from cnnexp.config import parse
from cnnexp.runner import ACTIVE, LocalRunner, default_workers
from cnnexp.store import Store


def subset(specs: list, scale: float) -> list:
    """Every k-th run of a plan, k = 1/scale (at least one run)."""
    if scale >= 1:
        return specs
    step = max(1, round(1 / scale))
    return specs[::step][: max(1, math.ceil(len(specs) * scale))]


def measure(root: str, machine: timing.Machine, specs: list) -> int:
    """Measure the plan's model shapes as the dashboard does: in the background timing
    process (`python -m cnnexp.timing`), at a worker's priority and threads, a minute at a
    time until all are measured. Measured in this process instead, at the normal priority,
    on the loaded 2-core VM the baseline trained 18 times slower than its estimate."""
    timings, done = timing.Timings(root, machine), 0
    for _ in range(20):
        todo = timings.unmeasured(specs)
        if not todo:
            break
        lines = "".join(
            json.dumps({"experiment": s.experiment, "version": s.version, "config": s.config})
            + "\n"
            for s in todo[: timing.MAX_SHAPES]
        )
        cmd = [sys.executable, "-m", "cnnexp.timing", "--results", root, "--device"]
        cmd += [machine.device, "--threads", str(machine.threads)]
        subprocess.run(cmd, input=lines.encode(), check=True)
        done += len(todo) - len(timings.unmeasured(specs))
    return done


def estimated(root: str, machine: timing.Machine, specs: list, workers: int) -> tuple:
    """The estimate a first visitor would see, after the step costs are measured."""
    t0 = time.perf_counter()
    measured = measure(root, machine, specs)
    took = time.perf_counter() - t0
    timings = timing.Timings(root, machine)
    plan = estimate.plan_estimate(
        specs, Store(root).runs(), timings, machine.device, workers, timings.startup() or 0.0
    )
    return plan.total, measured, took


def trained(root: str, specs: list, device: str, workers: int) -> float:
    """Seconds from submitting the plan to its last run's end, on a fresh pool."""
    runner = LocalRunner(root, device=device, workers=workers, keep_queued_on_close=False)
    try:
        t0 = time.perf_counter()
        runner.submit(specs)
        while any(s.status in ACTIVE for s in runner.snapshot().values()):
            time.sleep(0.2)
        return time.perf_counter() - t0
    finally:
        runner.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--experiments",
        default=",".join(experiments.names()),
        help="comma-separated experiment names (default: all)",
    )
    p.add_argument("--scale", type=float, default=1.0, help="share of each plan's runs to train")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default cpu)")
    p.add_argument("--workers", type=int, default=0, help="pool size (0: the dashboard's default)")
    a = p.parse_args()
    workers = a.workers or default_workers(a.device)
    machine = timing.Machine.here(a.device, workers=workers)
    print(
        f"{machine.device}, {workers} worker(s) × {machine.threads} thread(s), torch "
        f"{machine.torch}, load average {os.getloadavg()[0]:.1f}, scale {a.scale:g}"
    )
    for name in a.experiments.split(","):
        mod = experiments.get(name.strip())
        specs = subset(mod.plan(parse(mod.Config, {})), a.scale)
        with tempfile.TemporaryDirectory() as root:
            total, measured, cost = estimated(root, machine, specs, workers)
            took = trained(root, specs, a.device, workers)
        x = total.seconds if total else float("nan")
        span = f"{total.low:.0f}–{total.high:.0f}" if total else "none"
        print(
            f"{mod.NAME}: estimated {x:.0f} s, took {took:.0f} s, ratio {took / x:.2f}  "
            f"[{len(specs)} runs; range {span} s; {measured} shapes measured in {cost:.1f} s; "
            f"load {os.getloadavg()[0]:.1f}]",
            flush=True,
        )


if __name__ == "__main__":
    main()
