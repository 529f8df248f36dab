"""The bundle: saved runs of every experiment, shipped in bundle/ so that a fresh deployment
(a hosted viewer, a new clone) opens with results to look at.

    python -m cnnexp bundle --out bundle     (re)make it: trains what is not saved yet

The dashboard copies the bundle into an empty results folder on start (CNNEXP_BUNDLE names
another folder; an empty value turns this off). Run files are immutable and named by run id,
so copying never overwrites a result. Remake the bundle when an experiment's VERSION or the
ENGINE_VERSION changes: the test suite checks that it matches the current code.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from cnnexp.runspec import RunSpec
from cnnexp.store import Store

ROOT = Path(__file__).resolve().parents[1]

# (experiment, settings): the defaults of every page, and a sweep or two worth showing. Each
# experiment's defaults come last, so theirs is the headline Home shows.
SETTINGS: list[tuple[str, dict]] = [
    ("scaling", {}),
    ("equivariance", {}),
    ("permuted", {"dataset": "digits"}),
    ("permuted", {}),
    # The main comparison and all three sweeps: the batch-size sweep is where Wu & He's
    # result (BatchNorm degrades as the batch shrinks, GroupNorm does not) can show.
    (
        "normalization",
        {"batch_sizes": [4, 64, 256], "lrs": [0.003, 0.03, 0.1], "deep_depth": 8},
    ),
    ("normalization", {}),
    ("baseline", {"model": "mlp", "width": 256, "seeds": 3}),
    ("baseline", {}),
    ("receptive_field", {}),
    ("learned", {}),
]


# Every run saves its weights; the bundle (shipped in git) keeps those the pages read for every
# seed (the shift probe's centred CNNs, the trained receptive fields) and, for the Inside page,
# the first seed's of every configuration up to this many parameters (2 bytes each in fp16):
# ~3 MB more in all, where every run's would be ~42 MB.
WEIGHTS_MAX_PARAMS = 100_000


def keeps_weights(record: dict) -> bool:
    """Whether the bundle ships the weights of the run this saved record describes."""
    config = record.get("config") or json.loads(record.get("config_json") or "{}")
    if record["experiment"] == "receptive_field":
        return True
    centred_cnn = config.get("model") == "cnn" and not config.get("augment_shift")
    if record["experiment"] == "equivariance" and centred_cnn:
        return True
    if record["experiment"] == "learned":  # what its First-layer weights tab opens on
        return (
            record.get("seed") == 0
            and not config.get("n_train")
            and not config.get("augment_shift")
        )
    return record.get("seed") == 0 and (record.get("params") or 0) <= WEIGHTS_MAX_PARAMS


def shipped_with(experiment: str, setting: str) -> dict | None:
    """The settings of a bundled plan of `experiment` that sets `setting` (a sweep), so a page
    can offer the shipped runs of a sweep its defaults leave off; None if none does."""
    return next((v for e, v in SETTINGS if e == experiment and v.get(setting)), None)


def shipped_plan(experiment: str, cfg, setting: str):
    """The config of the bundled sweep of `setting` that a link from `cfg` can open: `cfg`
    leaves the sweep off and matches the shipped plan in every other setting (a link carries
    only the shipped settings; the rest stay as the visitor set them). None otherwise."""
    shipped = shipped_with(experiment, setting)
    if shipped is None or getattr(cfg, setting):
        return None
    plan = cfg.model_validate(shipped)  # its settings, the rest at their defaults
    # Compared without the shipped settings: the visitor's with the sweeps added need not be
    # valid (digits at depth 8 shrinks below one pixel).
    rest = set(shipped)
    return plan if cfg.model_dump(exclude=rest) == plan.model_dump(exclude=rest) else None


def default_dir() -> Path | None:
    value = os.environ.get("CNNEXP_BUNDLE")
    if value == "":
        return None
    return Path(value) if value else ROOT / "bundle"


def plans() -> list[tuple[object, object, list[RunSpec]]]:
    # The experiments are imported here, not at the top: a fresh server seeds its results
    # folder (seed) before its first page, which should not wait for their configs.
    from cnnexp import experiments
    from cnnexp.config import parse

    out = []
    for name, values in SETTINGS:
        mod = experiments.get(name)
        cfg = parse(mod.Config, values)
        out.append((mod, cfg, mod.plan(cfg)))
    return out


def make(out: Path, device: str = "auto", log=print) -> int:
    """Train every bundled run not yet saved in `out`; save each plan's headline. Returns how
    many runs were trained."""
    from cnnexp.results import FINISHED, Results
    from cnnexp.runner import execute
    from cnnexp.runspec import RunContext

    store, trained = Store(out), 0
    last = {name: i for i, (name, _) in enumerate(SETTINGS)}  # whose headline Home shows
    for i, (mod, cfg, specs) in enumerate(plans()):
        saved = store.records(s.run_id for s in specs)
        for spec in specs:
            rec = saved.get(spec.run_id, {})
            lacks = bool(rec) and keeps_weights(rec)
            lacks = lacks and store.blob(mod.NAME, spec.run_id, "weights") is None
            if rec.get("status") in FINISHED and not lacks:  # trained again for its weights
                continue
            rec = execute(spec, store, RunContext(device=device))
            if not keeps_weights({**rec, "config": spec.config}):
                store.blob_path(mod.NAME, spec.run_id, "weights").unlink(missing_ok=True)
            trained += 1
            log(f"{mod.NAME}: {spec.label} · seed {spec.seed}: {rec['status']}")
        results = Results(specs, store)
        if results.complete and last[mod.NAME] == i:  # an earlier one's would be replaced
            store.save_headline(mod.NAME, cfg.canonical(), mod.summarize(cfg, results))
    return trained


def seed(results: Path, bundle: Path | None) -> int:
    """Copy the bundle's runs and headlines into `results` if it holds no runs yet."""
    if bundle is None or not (bundle / "runs").is_dir() or Store(results).counts():
        return 0
    copied = 0
    files = [
        *sorted((bundle / "runs").glob("*/*.bin")),
        *sorted((bundle / "runs").glob("*/*.parquet")),
    ]
    for src in files + sorted((bundle / "headlines").glob("*.json")):  # blobs before their runs
        dst = results / src.relative_to(bundle)
        if dst.exists():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        _place(src, dst)
        copied += 1
    return copied


def _place(src: Path, dst: Path) -> None:
    """`src` at `dst`, whole or not at all. A hard link where the two folders share a disk:
    it writes no data (copying 200 files was a fifth of a cold server's first page), and is
    safe because the store never writes into a saved file, it replaces it (and deleting a run
    unlinks only its own name). A copy elsewhere, under a temporary name first."""
    try:
        os.link(src, dst)
        return
    except FileExistsError:
        return
    except OSError:  # another disk, or links not allowed there
        pass
    tmp = dst.with_name(f".{dst.name}.bundle.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)  # whole files only, as the store writes them


if __name__ == "__main__":
    sys.exit(0 if make(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bundle") >= 0 else 1)
