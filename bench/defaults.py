"""python -m bench.defaults: what an experiment's default plan costs, against a reference plan.

Trains both plans in this process, one run after another into a temporary store (a run the
two plans share is trained once and counted in both), and prints each plan's seconds by
label group, its total, and the ratio of the two totals: the ratio holds up on a busy
machine far better than either total. Each run is timed in wall and CPU seconds.

    python -m bench.defaults permuted                                  # the defaults alone
    python -m bench.defaults permuted --against epochs=8 --against n_trains=300 \\
        --against sweep_steps=150                                      # vs an older default
    python -m bench.defaults receptive_field --set seeds=1 --against seeds=1 --against epochs=5

Settings are `name=value` (a list: comma-separated), checked by the experiment's config.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict

import torch

from cnnexp import experiments
from cnnexp.cli import config_values
from cnnexp.config import describe, parse
from cnnexp.results import Results
from cnnexp.runner import execute
from cnnexp.runspec import RunContext
from cnnexp.store import Store


def settings(mod, pairs: list[str]) -> dict:
    """`name=value` strings as the experiment's config, with the CLI's parsing of lists."""
    raw = dict(p.split("=", 1) for p in pairs)
    known = {s.name for s in describe(mod.Config)}
    values = config_values(argparse.Namespace(**{k: raw.get(k) for k in known}), mod.Config)
    unknown = set(raw) - known
    if unknown:
        raise SystemExit(f"unknown setting(s) {sorted(unknown)}; known: {sorted(known)}")
    return parse(mod.Config, values)


def group(label: str) -> str:
    """The label without its condition: 'cnn_flatten · permuted · 300 images' → the model and
    size, so intact and scrambled runs of one kind add up together."""
    parts = label.split(" · ")
    return " · ".join([parts[0], *parts[2:]]) if len(parts) > 1 else label


def time_plan(mod, cfg, store: Store, timed: dict) -> dict:
    for spec in mod.plan(cfg):
        if spec.run_id in timed:
            continue
        wall, cpu = time.perf_counter(), time.process_time()
        rec = execute(spec, store, RunContext(device="cpu"))
        timed[spec.run_id] = {
            "label": spec.label,
            "wall": time.perf_counter() - wall,
            "cpu": time.process_time() - cpu,
            "status": rec["status"],
        }
    rows = [timed[s.run_id] for s in mod.plan(cfg)]
    by = defaultdict(lambda: [0, 0.0, 0.0])
    for r in rows:
        g = by[group(r["label"])]
        g[0] += 1
        g[1] += r["wall"]
        g[2] += r["cpu"]
    return {
        "groups": dict(by),
        "wall": sum(r["wall"] for r in rows),
        "cpu": sum(r["cpu"] for r in rows),
        "runs": len(rows),
        "headline": mod.summarize(cfg, Results(mod.plan(cfg), store)),
    }


def show(name: str, out: dict) -> None:
    print(f"\n{name}: {out['runs']} runs, {out['wall']:.1f} s wall, {out['cpu']:.1f} s CPU")
    for g, (n, wall, cpu) in out["groups"].items():
        print(f"  {g:<40} {n:>3} runs  {wall:7.1f} s wall  {cpu:7.1f} s CPU")
    print("  headline: " + json.dumps(out["headline"], default=float)[:1500])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("experiment", choices=experiments.names())
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--against", action="append", default=None, metavar="NAME=VALUE")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    mod = experiments.get(a.experiment)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {a.experiment}")
    timed: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        ref = None
        if a.against is not None:
            ref = time_plan(mod, settings(mod, a.against), store, timed)
            show("reference " + " ".join(a.against), ref)
        new = time_plan(mod, settings(mod, a.set), store, timed)
        show("settings " + (" ".join(a.set) or "(defaults)"), new)
        if ref is not None:
            print(
                f"\nratio settings / reference: {new['wall'] / ref['wall']:.2f} wall, "
                f"{new['cpu'] / ref['cpu']:.2f} CPU"
            )


if __name__ == "__main__":
    main()
