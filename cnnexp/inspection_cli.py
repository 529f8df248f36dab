"""python -m cnnexp inspect RUN_ID: what is inside a saved run, headless (cnnexp/inspection.py).

    python -m cnnexp inspect 0123456789abcdef                    a summary on stdout
    python -m cnnexp inspect 0123456789abcdef --image-index 7 --json   one JSON object
    python -m cnnexp inspect 0123456789abcdef --out figs/        the Inside page's figures as PNGs

An unknown run id, a run without saved weights or an image index past the test set exits
with status 2 and one line naming what is allowed, before any work.
"""

from __future__ import annotations

import argparse
import sys

from cnnexp.errors import ConfigError


def add_parser(sub) -> None:
    """The `inspect` subcommand on cli.py's subparsers."""
    p = sub.add_parser(
        "inspect",
        help="look inside a saved run: predictions, mistakes, first layer, feature maps, "
        "saliency and Grad-CAM",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument(
        "run_id", metavar="RUN_ID", help="the run's id (python -m cnnexp runs lists them)"
    )
    p.add_argument(
        "--image-index",
        metavar="N",
        default="0",
        help="the test image whose feature maps and attributions are computed (default: 0)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="write the figures as PNGs into this folder (needs Chrome or Chromium)",
    )
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        default=None,
        help="folder of torchvision datasets (default: $CNNEXP_DATA or ./data)",
    )
    p.add_argument(
        "--results",
        metavar="DIR",
        default=None,
        help="results folder (default: $CNNEXP_RESULTS or ./results)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _index(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(
            f"--image-index {raw[:40]!r} is not a whole number; allowed: 0 up to the test "
            "set's size - 1"
        ) from None


def run(args: argparse.Namespace, emit) -> int:
    from pathlib import Path

    from cnnexp import inspection
    from cnnexp.export import NO_BROWSER, browser
    from cnnexp.policy import Caps
    from cnnexp.store import Store, check_folder

    index = _index(args.image_index)
    if args.out is not None:
        check_folder(Path(args.out), "--out")
        if browser() is None:
            raise ConfigError(NO_BROWSER + " Or leave out --out (--json prints every number).")
    store = Store(args.results)
    subj, model = inspection.load(store, args.run_id, args.data_dir)
    inspection.check_index(subj, index)
    run_view = inspection.run_view(subj, model, Caps.defaults("launch"))
    image_view = inspection.image_view(subj, model, index)
    report = inspection.report(subj, run_view, image_view)
    if args.out is not None:
        _write_pngs(Path(args.out), subj, run_view, image_view)
    if args.json:
        emit(report)
    else:
        _print(report)
    return 0


def _write_pngs(out, subj, run_view, image_view) -> None:
    import plotly.io as pio

    from cnnexp import inspection_figures
    from cnnexp.store import check_writable

    check_writable(out, "--out")  # made only now: a refused inspect leaves nothing
    figs = inspection_figures.every(run_view, image_view, subj.spec.label or subj.spec.run_id)
    paths = [out / f"{name}.png" for name in figs]
    heights = [int(f.layout.height or 450) for f in figs.values()]  # each its page's height
    pio.write_images(list(figs.values()), paths, format="png", width=1000, height=heights, scale=2)
    for p in paths:
        print(p, file=sys.stderr)


def _print(r: dict) -> None:
    run = r["run"]
    print(f"{run['experiment']} · {run['label']} · seed {run['seed']} ({run['run_id']})")
    print(
        f"accuracy {r['accuracy']:.1%} on the first {r['images_evaluated']:,} of "
        f"{r['test_images']:,} test images"
    )
    for c in r["per_class"]:
        acc = "—" if c["accuracy"] is None else f"{c['accuracy']:.1%}"
        print(f"    {c['class']:<12} {acc:>7}  ({c['correct']} of {c['images']})")
    print("most confident mistakes (test image: true → predicted, probability):")
    for m in r["mistakes"]:
        print(f"    #{m['index']}: {m['true']} → {m['predicted']}, {m['probability']:.1%}")
    first = r["first_layer"]
    print(f"first layer: {first['kind']} {' × '.join(map(str, first['shape']))}")
    img = r["image"]
    print(
        f"test image {img['index']}: true {img['true']}, predicted {img['predicted']} "
        f"({img['probability']:.1%}); feature maps:"
    )
    for m in r["feature_maps"]:
        print(f"    {m['layer']:>3} {m['kind']:<10} {' × '.join(map(str, m['shape']))}")
    cam = (
        "Grad-CAM on the last conv layer"
        if r["grad_cam"] is not None
        else "no Grad-CAM (no conv layer)"
    )
    print(f"saliency and {cam}: in --json, or as PNGs with --out")
