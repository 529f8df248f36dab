"""python -m cnnexp: run experiments headless into the same results folder the dashboard reads.

    python -m cnnexp list                          experiments, their settings and ranges
    python -m cnnexp run baseline --model mlp      train (or reuse cached runs) and summarise
    python -m cnnexp run permuted --seeds 5 --json one JSON object on stdout
    python -m cnnexp export permuted --out figs/   its charts (PNG, SVG) and data (CSV, parquet)
    python -m cnnexp runs --experiment baseline    the saved runs
    python -m cnnexp model --model cnn --depth 3   the layer table of a model
    python -m cnnexp inspect RUN_ID --json         inside a saved run (cnnexp/inspection_cli.py)
    python -m cnnexp exercise list --page scaling  the Check yourself exercises and answers
    python -m cnnexp probe shift --shift 3         the shift probe of a layer stack, as JSON
    python -m cnnexp probe field --rf-depth 8      the field probe: theoretical and effective field

Every experiment setting is a flag named after its config field (--batch-size 64). Bad
input exits with status 2 and a message naming the setting and what is allowed, before any
work starts; a run that failed, was cancelled (`queue --cancel`) or was interrupted exits
with status 1, Ctrl-C with 130. Progress goes to stderr; with --json, stdout holds exactly
one JSON value (a list of rows for `runs` and `queue`, an object otherwise). In `run`'s
headline a mean over seeds comes with its 95% interval (`ci95`, a t-interval; null for one
seed); an accuracy's stops at 0 and 1, as on the pages (cnnexp/stats.py: share_ci).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import warnings
from dataclasses import replace
from typing import Any

from cnnexp import data, experiments, inspection_cli
from cnnexp.config import Config, ConfigError, ParamSpec, TrainSetup, describe, parse
from cnnexp.data import DataError
from cnnexp.exercises import command as exercise_command
from cnnexp.experiments import equivariance
from cnnexp.probes import field, shift
from cnnexp.results import FINISHED, Results
from cnnexp.runqueue import ACTIVE
from cnnexp.runspec import RunContext, precision_for
from cnnexp.store import Store, check_folder, check_writable

DEVICE_RE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
DEVICES = "auto, cpu, cuda, cuda:N, mps"


def _metavar(p: ParamSpec) -> str:
    return {
        "bool": "true|false",
        "choice": "{" + ",".join(map(str, p.choices)) + "}",
        "multi": ",".join(map(str, p.choices)),
        "ints": "N[,N...]",
        "floats": "X[,X...]",
    }.get(p.kind, p.kind.upper())


def add_config_flags(parser: argparse.ArgumentParser, cls: type[Config]) -> None:
    """One flag per config field, help from the field, values validated by the config."""
    groups: dict[str, Any] = {}
    for p in describe(cls):
        group = groups.setdefault(p.group, parser.add_argument_group(p.group or "settings"))
        group.add_argument(
            p.flag,
            dest=p.name,
            metavar=_metavar(p),
            default=None,
            # argparse formats help with %: a "95%" in a field's help must be escaped
            help=f"{p.help} (allowed: {p.allowed()}; default: {_flag_value(p.default)})".replace(
                "%", "%%"
            ),
        )


def config_values(args: argparse.Namespace, cls: type[Config]) -> dict[str, Any]:
    """The flags the user gave, as raw values for the config to check."""
    values = {}
    for p in describe(cls):
        raw = getattr(args, p.name, None)
        if raw is None:
            continue
        if p.kind == "bool" and raw.lower() not in ("true", "false"):  # pydantic took 1, yes
            raise ConfigError(f"--{p.name.replace('_', '-')} {raw!r}: allowed: true or false")
        values[p.name] = (
            [x.strip() for x in raw.split(",") if x.strip()]
            if p.kind in ("multi", "ints", "floats")
            else raw
        )
    return values


RUN_JSON = (  # argparse formats help with %: a literal % is written %%
    "print one JSON object on stdout: the settings, each run and the headline, whose means over "
    "seeds carry a 95%% interval (ci95; an accuracy's stops at 0 and 1, as on the pages)"
)


def _common(
    parser: argparse.ArgumentParser,
    json_help: str = "print one JSON value on stdout (a list for runs and queue, else an object)",
) -> None:
    parser.add_argument(
        "--results",
        metavar="DIR",
        default=None,
        help="results folder (default: $CNNEXP_RESULTS or ./results)",
    )
    parser.add_argument("--json", action="store_true", help=json_help)


class Parser(argparse.ArgumentParser):
    """A parser that takes no abbreviations: `--epoch 2` was silently `--epochs 2`. Its
    subcommands' parsers are of the same class (argparse's default)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **{**kwargs, "allow_abbrev": False})


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="python -m cnnexp",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list experiments with their settings and allowed ranges")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    run = sub.add_parser("run", help="run an experiment (cached runs are reused)")
    exps = run.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    for name, mod in experiments.REGISTRY.items():
        e = exps.add_parser(name, help=mod.SUMMARY, description=mod.SUMMARY)
        add_config_flags(e, mod.Config)
        e.add_argument(
            "--device",
            default="auto",
            help="where to train: auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps",
        )
        e.add_argument(
            "--data-dir",
            metavar="DIR",
            default=None,
            help="folder of torchvision datasets (default: $CNNEXP_DATA or ./data)",
        )
        e.add_argument(
            "--download",
            action="store_true",
            help="download a torchvision dataset that is not in the data folder",
        )
        e.add_argument(
            "--force", action="store_true", help="train again even when a finished run is saved"
        )
        e.add_argument(
            "--workers",
            type=int,
            default=1,
            metavar="N",
            help="train N runs at once, one process each (default 1: one after another, inline)",
        )
        e.add_argument(
            "--backend",
            choices=("local", "ray"),
            default="local",
            help="local: this machine; ray: a Ray cluster (needs `pip install 'ray[default]'`)",
        )
        e.add_argument(
            "--ray-address",
            metavar="ADDR",
            default=None,
            help="the Ray cluster's head (default: $RAY_ADDRESS, else a local Ray cluster)",
        )
        _common(e, RUN_JSON)

    q = sub.add_parser("queue", help="list queued and running runs, or cancel them")
    q.add_argument(
        "--cancel", metavar="RUN_ID|all", default=None, help="cancel this run, or all of them"
    )
    _common(q)

    x = sub.add_parser("export", help="write an experiment's charts and data (saved runs only)")
    xs = x.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    for name, mod in experiments.REGISTRY.items():
        e = xs.add_parser(name, help=f"export {mod.TITLE}", description=mod.SUMMARY)
        add_config_flags(e, mod.Config)
        e.add_argument("--out", metavar="DIR", required=True, help="folder to write the files into")
        e.add_argument(
            "--formats",
            default="png,svg,csv,parquet",
            help="comma-separated: png, svg (need Chrome or Chromium), html, csv, parquet "
            "(default: png,svg,csv,parquet)",
        )
        e.add_argument(
            "--partial",
            action="store_true",
            help="export what is saved even when some runs of these settings are missing",
        )
        _common(e)

    b = sub.add_parser(
        "bundle", help="(re)make the bundle of saved runs shipped with the dashboard"
    )
    b.add_argument("--out", metavar="DIR", default=None, help="bundle folder (default: ./bundle)")
    b.add_argument(
        "--device", default="auto", help="where to train: auto, cpu, cuda, cuda:N or mps"
    )

    rd = sub.add_parser(
        "readme", help="rewrite README.md's experiment table from the bundle's headlines"
    )
    rd.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if README.md is stale"
    )

    r = sub.add_parser("runs", help="list saved runs")
    r.add_argument("--experiment", default=None, help="only runs of this experiment")
    _common(r)

    m = sub.add_parser("model", help="print the layer table of a model (shapes and parameters)")
    add_config_flags(m, TrainSetup)
    m.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    inspection_cli.add_parser(sub)
    exercise_command.add_parser(sub)  # `exercise list|check`: cnnexp/exercises/command.py
    _probe_parsers(sub)
    return parser


def _jsonable(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if hasattr(x, "item"):  # numpy scalars
        return _jsonable(x.item())
    return x


def _emit(obj: Any) -> None:
    print(json.dumps(_jsonable(obj), indent=None))


def _flag_value(v):
    """A default as the flag would take it: tuples comma-separated, booleans in lower case."""
    if isinstance(v, tuple):
        return ",".join(map(str, v))
    return str(v).lower() if isinstance(v, bool) else v


def cmd_list(args) -> int:
    out = {
        name: {
            "title": m.TITLE,
            "summary": m.SUMMARY,
            "settings": [
                {
                    "flag": p.flag,
                    "kind": p.kind,
                    "default": _flag_value(p.default),
                    "allowed": p.allowed(),
                    "help": p.help,
                }
                for p in describe(m.Config)
            ],
        }
        for name, m in experiments.REGISTRY.items()
    }
    if args.json:
        _emit(out)
        return 0
    for name, e in out.items():
        print(f"{name}: {e['summary']}")
        for s in e["settings"]:
            print(f"    {s['flag']:<18} {str(s['default']):<10} {s['allowed']}")
        print()
    return 0


def _progress(label: str, total: int):
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=label,
        unit="epoch",
        file=sys.stderr,
        leave=True,
        bar_format="{desc} {bar:20} {n_fmt}/{total_fmt} epochs [{elapsed}] {postfix}",
    )


def cmd_run(args) -> int:
    mod = experiments.get(args.experiment)
    cfg = parse(mod.Config, config_values(args, mod.Config))
    if not DEVICE_RE.match(args.device):
        raise ConfigError(f"device '{args.device}' unknown; allowed: {DEVICES}")
    # An accelerator asked for on the local backend (a Ray cluster's GPUs are on its nodes,
    # not necessarily here); auto and cpu always work, and need no torch import to say so.
    if args.backend == "local" and args.device.startswith(("cuda", "mps")):
        from cnnexp.engine import pick_device

        try:  # before any work: it failed each run instead, and saved them as failed
            pick_device(args.device)
        except RuntimeError as e:
            raise ConfigError(str(e)) from None
    if args.workers < 1:
        raise ConfigError(f"--workers {args.workers}: must be at least 1")
    if (args.workers > 1 or args.backend == "ray") and args.force:
        raise ConfigError("--force trains inline: use it with --workers 1 --backend local")
    store = Store(args.results)
    check_writable(store.root, "results folder")
    # The precision is part of each run's id and follows the device this command trains on.
    precision = precision_for(args.device)
    specs = [replace(s, precision=precision) for s in mod.plan(cfg)]
    for name in sorted({s.config["dataset"] for s in specs if "dataset" in s.config}):
        data.check_available(name, args.data_dir, args.download)
    run = _run_pool if args.workers > 1 or args.backend == "ray" else _run_inline
    rows = run(args, store, specs)
    results = Results(specs, store)
    headline = mod.summarize(cfg, results)
    if results.complete and specs:
        store.save_headline(mod.NAME, cfg.canonical(), headline, results.saved_at())
    if args.json:
        _emit(
            {"experiment": mod.NAME, "config": cfg.canonical(), "runs": rows, "headline": headline}
        )
    else:
        print(json.dumps(_jsonable(headline), indent=2))
    return 1 if any(r["status"] in ("failed", "cancelled", "interrupted") for r in rows) else 0


def _run_pool(args, store: Store, specs) -> list[dict]:
    """Train the plan on a pool of worker processes, one progress bar for all of it."""
    import time

    from cnnexp.runner import LocalRunner

    saved = store.records(s.run_id for s in specs)
    cached = {s.run_id for s in specs if saved.get(s.run_id, {}).get("status") in FINISHED}
    todo = [s for s in specs if s.run_id not in cached]
    kw = {"workers": args.workers if args.workers > 1 else None, "keep_queued_on_close": False}
    if args.backend == "ray":
        from cnnexp.ray_backend import RayRunner

        try:
            pool = RayRunner(
                store.root, args.device, address=args.ray_address, data_dir=args.data_dir, **kw
            )
        except RuntimeError as e:  # Ray missing: the install hint
            raise ConfigError(str(e)) from e
    else:
        pool = LocalRunner(store.root, args.device, args.data_dir, **kw)
    if pool.notice:  # fewer workers than asked for: the GPU's free memory holds no more
        print(f"warning: {pool.notice}", file=sys.stderr)
    bar = None
    try:
        ids = pool.submit(todo, owner="cli")
        elsewhere = [s.run_id for s in todo if s.run_id not in ids]
        if elsewhere:
            print(f"{len(elsewhere)} run(s) already queued by another process", file=sys.stderr)
        bar = _progress(f"{len(ids)} runs on {pool.workers} workers", sum(s.epochs for s in todo))
        while True:
            snap = pool.snapshot()
            states = [snap[i] for i in ids if i in snap]
            epochs = sum(st.epoch for st in states)
            done = sum(st.status not in ACTIVE for st in states)
            if epochs != bar.n:
                bar.set_postfix_str(f"{done}/{len(ids)} runs ended", refresh=False)
                bar.update(epochs - bar.n)
            if done == len(states):
                break
            time.sleep(0.2)
    finally:
        if bar is not None:  # before Ctrl-C's line, not redrawn after it
            bar.close()
        pool.close()
    records = store.records(s.run_id for s in specs)
    rows = []
    for s in specs:
        rec = records.get(s.run_id)
        if rec is None:
            st = snap.get(s.run_id)
            rec = {"run_id": s.run_id, "seed": s.seed, "label": s.label,
                   "status": st.status if st else "queued elsewhere",
                   "error": st.error if st else None}  # fmt: skip
        if rec["status"] not in ("done", "queued elsewhere"):  # a run cancelled early: no record
            why = f": {rec['error']}" if rec.get("error") else ""  # a cancel gives no reason
            print(f"{s.label} · seed {s.seed}: {rec['status']}{why}", file=sys.stderr)
        rows.append({**_run_row(rec), "cached": s.run_id in cached})
    return rows


def _run_inline(args, store: Store, specs) -> list[dict]:
    from cnnexp import runner

    saved = store.records(s.run_id for s in specs)
    rows = []
    for i, spec in enumerate(specs, 1):
        label = f"[{i}/{len(specs)}] {spec.label} · seed {spec.seed}"
        rec = saved.get(spec.run_id)
        if rec is not None and rec.get("status") in FINISHED and not args.force:
            print(f"{label}: cached ({spec.run_id})", file=sys.stderr)
            rows.append({**_run_row(rec), "cached": True})
            continue
        bar = _progress(label, spec.epochs)

        def on_epoch(row: dict, bar=bar) -> None:
            bar.update(1)
            if row["test_acc"] is not None:  # evaluated epochs only
                bar.set_postfix_str(f"test acc {row['test_acc']:.3f}")

        ctx = RunContext(
            device=args.device, data_dir=args.data_dir, download=args.download, on_epoch=on_epoch
        )
        try:
            rec = runner.execute(spec, store, ctx)
        finally:
            bar.close()  # before Ctrl-C's line, not redrawn after it
        if rec["status"] != "done":
            print(
                f"{label}: {rec['status']}{': ' + rec['error'] if rec.get('error') else ''}",
                file=sys.stderr,
            )
        rows.append({**_run_row(rec), "cached": False})
    return rows


def cmd_queue(args) -> int:
    """The durable queue as the CLI sees it: list it, or cancel runs in it."""
    from cnnexp.runqueue import RunQueue, spec_from_json

    root = Store(args.results).root
    check_writable(root, "results folder")  # the queue's database is written even to list it
    q = RunQueue(root)
    if args.cancel is not None:
        ids = None if args.cancel == "all" else [args.cancel]
        known = {r["run_id"] for r in q.rows()}
        if ids is not None and args.cancel not in known:
            raise ConfigError(
                f"run {args.cancel!r} is not queued or running; allowed: all, or one of: "
                + (", ".join(sorted(known)) or "(the queue is empty)")
            )
        dropped, flagged = q.cancel(ids)
        out = {"dropped": dropped, "stopping": flagged}
        if args.json:
            _emit(out)
        else:
            print(
                f"{len(dropped)} queued run(s) dropped, {len(flagged)} running run(s) asked to stop"
            )
        return 0
    rows = []
    for r in q.rows():
        spec = spec_from_json(r["spec"])
        rows.append(
            {
                "run_id": r["run_id"],
                "experiment": spec.experiment,
                "label": spec.label,
                "seed": spec.seed,
                "status": r["status"],
                "owner": r["owner"],
                "precision": spec.precision,
            }
        )
    if args.json:
        _emit(rows)
    elif not rows:
        print("the queue is empty", file=sys.stderr)
    else:
        for r in rows:
            print(
                f"{r['run_id']}  {r['status']:<8} {r['experiment']:<14} {r['label']} · seed {r['seed']}"
            )
    return 0


def cmd_export(args) -> int:
    from pathlib import Path

    from cnnexp import export

    mod = experiments.get(args.experiment)
    cfg = parse(mod.Config, config_values(args, mod.Config))
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    unknown = [f for f in formats if f not in export.FORMATS]
    if unknown or not formats:
        what = f"{', '.join(unknown)} not known" if unknown else "none given"
        raise ConfigError(
            f"--formats: {what}; allowed: one or more of " + ", ".join(export.FORMATS)
        )
    if any(f in export.IMAGE_FORMATS for f in formats) and export.browser() is None:
        raise ConfigError(export.NO_BROWSER + " Or export --formats html,csv,parquet.")
    check_folder(Path(args.out), "--out")
    store = Store(args.results)
    results = Results(mod.plan(cfg), store)
    if results.missing and not args.partial:
        raise ConfigError(
            f"{len(results.missing)} of {len(results.specs)} runs of these settings are not "
            f"saved in {store.root}; run them first with `python -m cnnexp run "
            f"{mod.NAME}` and the same settings, or pass --partial"
        )
    check_writable(Path(args.out), "--out")  # made only now: a refused export leaves nothing
    written = export.write(
        Path(args.out),
        mod.charts(cfg, results),
        mod.tables(cfg, results),
        mod.summarize(cfg, results),
        formats,
    )
    if args.json:
        _emit({"experiment": mod.NAME, "files": [str(p) for p in written]})
    else:
        for p in written:
            print(p)
    return 0


def cmd_bundle(args) -> int:
    from pathlib import Path

    from cnnexp import bundle

    if not DEVICE_RE.match(args.device):
        raise ConfigError(f"device '{args.device}' unknown; allowed: {DEVICES}")
    out = Path(args.out) if args.out else bundle.ROOT / "bundle"
    check_writable(out, "--out")
    trained = bundle.make(out, args.device, log=lambda line: print(line, file=sys.stderr))
    print(f"{trained} run(s) trained; the bundle in {out} is complete")
    return 0


def cmd_readme(args) -> int:
    from cnnexp import readme

    path = readme.ROOT / "README.md"
    if args.check:
        stale = readme.expected(path, readme.ROOT / "bundle") != path.read_text()
        print("README.md's table is stale: run python -m cnnexp readme" if stale else "up to date")
        return 1 if stale else 0
    print("README.md rewritten" if readme.write(path) else "README.md already up to date")
    return 0


def _run_row(rec: dict) -> dict:
    keep = ("run_id", "seed", "label", "status", "duration_s", "test_acc", "error")
    return {k: rec.get(k) for k in keep}


def cmd_runs(args) -> int:
    if args.experiment is not None and args.experiment not in experiments.names():
        raise ConfigError(
            f"--experiment {args.experiment!r} unknown; allowed: {', '.join(experiments.names())}"
        )
    runs = Store(args.results).runs(args.experiment)
    cols = [
        c
        for c in (
            "run_id",
            "experiment",
            "label",
            "seed",
            "status",
            "test_acc",
            "duration_s",
            "ended_at",
        )
        if c in runs.columns
    ]
    if args.json:
        _emit(
            runs.drop(columns=[c for c in runs.columns if c.startswith("_")])
            .astype(object)
            .where(runs.notna(), None)
            .to_dict("records")
        )
    elif runs.empty:
        print("no saved runs", file=sys.stderr)
    else:
        differ = _telling_apart(runs)
        at = cols.index("label") + 1 if "label" in cols else len(cols)
        cols[at:at] = differ
        print(runs[cols].to_string(index=False))
    return 0


def _telling_apart(runs) -> list[str]:
    """The settings that tell one experiment's runs apart (a label is shared across a
    sweep), over every experiment listed: a setting that only differs from one experiment
    to the next (each page's own dataset) tells nothing the experiment column does not."""
    from cnnexp import analysis

    out: list[str] = []
    for _, sub in runs.groupby("experiment", sort=False):
        sub = sub.dropna(axis=1, how="all")  # another experiment's settings
        out += [c for c in analysis.varying(sub, analysis.settings(sub)) if c not in out]
    return [c for c in out if c != "experiment"]


def cmd_model(args) -> int:
    from cnnexp import models

    setup = parse(TrainSetup, config_values(args, TrainSetup))
    info = data.info(setup.dataset)
    model = models.build(setup.layers())
    table = models.shape_table(model, info.shape)
    if args.json:
        _emit(
            {
                "input": info.shape,
                "layers": table,
                "params": models.count_params(model),
                "flops": models.measure_flops(model, info.shape),
            }
        )
        return 0
    print(f"input {info.shape}  ({setup.dataset})")
    for r in table:
        print(f"{r['layer']:>3}  {r['module']:<18} {str(r['output']):<16} {r['params']:>10,}")
    print(
        f"parameters {models.count_params(model):,}   forward FLOPs/image "
        f"{models.measure_flops(model, info.shape):,}"
    )
    return 0


# --- python -m cnnexp probe shift|field: the probes of cnnexp/probes/ -------------------------
def _probe_parsers(sub) -> None:
    from cnnexp import policy

    pr = sub.add_parser(
        "probe", help="measure a layer stack at once, with no training (nothing is saved)"
    )
    probes = pr.add_subparsers(dest="probe", required=True, metavar="PROBE")
    about = shift.__doc__.split("\n\n")[0]
    p = probes.add_parser(
        "shift",
        help="the shift probe (Equivariance page): errors of a stack on a shifted input, as JSON",
        description=about,
        conflict_handler="resolve",  # the trained settings' --seed is the probe's
    )
    # The probe's flags, and the trained experiment's that name the run whose weights
    # --weights trained borrows (--seed is one flag for both).
    add_config_flags(p, equivariance.Config)
    add_config_flags(p, shift.Config)
    p.add_argument("--results", metavar="DIR", default=None, help="results folder")
    p.add_argument(  # as the field probe takes it; JSON is this one's only output
        "--json", action="store_true", help="print one JSON object on stdout (always)"
    )

    laptop = policy.Caps.defaults("launch").probe_gflop
    about = field.__doc__.split("\n\n")[0]
    f = probes.add_parser(
        "field",
        help="the field probe (Receptive field page): theoretical and effective field of a stack",
        description=about,
    )
    add_config_flags(f, field.Config)
    f.add_argument(
        "--sweep",
        action="store_true",
        help="also sweep depth (1 to 16) for plain, dilated and pooled 3×3 stacks and fit the "
        "exponent of each field's growth, with an interval over the seeds (a few seconds)",
    )
    f.add_argument(
        "--map",
        action="store_true",
        help="include the effective field's map (mean |gradient| per input pixel) in --json",
    )
    f.add_argument(
        "--max-gflop",
        type=float,
        default=laptop,
        metavar="X",
        help=f"refuse a probe that would compute more than X GFLOP (default: {laptop:g}, the "
        "dashboard's probe budget on a laptop)",
    )
    f.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def cmd_probe(args) -> int:
    return {"shift": _probe_shift, "field": _probe_field}[args.probe](args)


def _probe_shift(args) -> int:
    """The shift probe's headline as JSON; with --weights trained, on a saved run's weights."""
    cfg = parse(shift.Config, config_values(args, shift.Config))
    trained = parse(equivariance.Config, config_values(args, equivariance.Config))
    grey = shift.colour_ignored(cfg)
    if grey:  # found: ignored without a word
        raise ConfigError(
            f"--colour true: {grey}; allowed: --colour true with --weights random and a "
            f"photograph as --image ({', '.join(data.PHOTOS)})"
        )
    headline = shift.headline(cfg, Store(args.results), trained)
    print(json.dumps({"config": cfg.canonical(), "headline": headline}, default=float))
    return 0


def _probe_field(args) -> int:
    """The Receptive field page's probe without the page. Bounded like the page's: the
    settings' own ranges (a map of at most field.MAX_MAP pixels, at most 5 seeds) and a
    compute budget, by default the laptop's probe budget."""
    cfg = parse(field.Config, config_values(args, field.Config))
    if not args.max_gflop > 0:
        raise ConfigError(f"--max-gflop {args.max_gflop:g}: allowed: a number > 0")
    if args.map and not args.json:
        raise ConfigError("--map adds the map to the JSON output: use it with --json")
    cost = field.report_gflop(cfg, args.sweep)
    if cost > args.max_gflop:
        raise ConfigError(
            f"this probe needs {cost:,.3g} GFLOP of compute, more than --max-gflop "
            f"{args.max_gflop:g}; lower the depth, kernel or seeds, or raise --max-gflop"
        )
    out = field.report(cfg, args.sweep, args.map)
    if args.json:
        _emit({"config": cfg.canonical(), "gflop": cost, **out})
    else:
        print(field.report_text(cfg, out))
    return 0


def _plain_warning(message, category, filename, lineno, line=None) -> str:
    """A warning as one line a user reads (`warning: ...`), without Python's source line."""
    return f"warning: {message}\n"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    warnings.formatwarning = _plain_warning
    try:
        commands = {
            "list": cmd_list,
            "run": cmd_run,
            "export": cmd_export,
            "runs": cmd_runs,
            "model": cmd_model,
            "bundle": cmd_bundle,
            "readme": cmd_readme,
            "queue": cmd_queue,
            "inspect": lambda a: inspection_cli.run(a, _emit),
            "exercise": exercise_command.command,
            "probe": cmd_probe,
        }
        return commands[args.command](args)
    except (ConfigError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "\ninterrupted: the runs that finished are saved, any in progress are not; the "
            "same command trains what is missing",
            file=sys.stderr,
        )
        return 130
    except BrokenPipeError:  # `python -m cnnexp list | head`: the reader has had enough
        sys.stderr.close()
        return 0
