"""python -m bench.inside: how fast the Inside page shows a run (issue 26: first view ≤ 2 s on
the 2-core CPU, a cached revisit ≤ 0.3 s).

One run per model is trained first (the Baseline page's defaults on mnist5k, one epoch: the
epochs change nothing of what is measured here) into a temporary results folder. Then, with
torch, Captum and plotly already imported (a server has them loaded after its first such page;
the import itself is printed apart):

1. Library, first view: what the page computes on its first view of a run, through the
   library (cnnexp/inspection.py): load the weights into the rebuilt model and the test
   images, predictions on the test set, the first layer at initialisation and trained, one
   image's feature maps, saliency and Grad-CAM, and every figure. Each repeat on a fresh
   process-level cache (the dataset loader's cache cleared).
2. Page, first view and cached revisit: the page through AppTest (app.py's navigation,
   ?run=<id>&image=3): a first run on empty Streamlit caches, then reruns (the revisit).
   Reference: a one-line page run the same way in the same process.

References measured in the same process: reading the run's parquet file (pyarrow), and one
forward pass of the same model on one test image. Ratios are what to compare across machines.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from tests.conftest import ROOT

MODELS = {"cnn": {}, "mlp": {"model": "mlp", "width": 256}}
REFERENCE = "import streamlit as st\nst.write('hello')\n"


def train(root: Path, settings: dict) -> str:
    from cnnexp import experiments
    from cnnexp.config import parse
    from cnnexp.runner import execute
    from cnnexp.runspec import RunContext
    from cnnexp.store import Store

    mod = experiments.get("baseline")
    spec = mod.plan(parse(mod.Config, {"epochs": 1, **settings}))[0]
    execute(spec, Store(root), RunContext(device="cpu"))
    return spec.run_id


CPU: list[float] = []  # the process's CPU seconds of each timed call, beside its wall time


def timed(fn, repeats: int) -> list[float]:
    """Wall seconds of each call; their CPU seconds (this process, all threads) go to CPU:
    on a machine shared with others' work, CPU time is what load distorts least."""
    out = []
    CPU.clear()
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        out.append(time.perf_counter() - t0)
        CPU.append(time.process_time() - c0)
    return out


def library_first_view(root: Path, run_id: str) -> None:
    from cnnexp import data, inspection, inspection_figures
    from cnnexp.policy import Caps
    from cnnexp.store import Store

    data.load.cache_clear()  # the test images are read again, as on a fresh server
    subj, model = inspection.load(Store(root), run_id)
    run = inspection.run_view(subj, model, Caps.defaults("viewer"))
    image = inspection.image_view(subj, model, 3)
    inspection_figures.every(run, image, "bench")


def references(root: Path, run_id: str, repeats: int) -> dict[str, float]:
    import pyarrow.parquet as pq
    import torch

    from cnnexp import inspection
    from cnnexp.store import Store

    store = Store(root)
    path = store.path("baseline", run_id)
    subj, model = inspection.load(store, run_id)
    x = inspection.images(subj, 3)

    def forward() -> None:
        with torch.inference_mode():
            model(x)

    forward()  # the first call pays for lazy initialisation
    return {
        "parquet": statistics.median(timed(lambda: pq.read_table(path), repeats)),
        "forward": statistics.median(timed(forward, 20 * repeats)),
    }


def page_times(root: Path, run_id: str, repeats: int) -> tuple[float, list[float]]:
    """The Inside page's first run (empty Streamlit caches) and its reruns."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from cnnexp import data

    data.load.cache_clear()  # the test images are read again, as on a fresh server
    st.cache_data.clear()
    st.cache_resource.clear()
    os.environ["CNNEXP_RESULTS"] = str(root)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.switch_page("pages/inside.py")
    at.query_params.update({"run": run_id, "image": "3"})
    t0, c0 = time.perf_counter(), time.process_time()
    at.run()
    first, first_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert not at.exception, at.exception
    assert [h.value for h in at.header][-1] == "Where it looks", [h.value for h in at.header]
    again = timed(at.run, repeats)
    return (first, first_cpu), again


def reference_page(repeats: int) -> tuple[float, list[float]]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(REFERENCE, default_timeout=600)
    t0 = time.perf_counter()
    at.run()
    return time.perf_counter() - t0, timed(at.run, repeats)


def main() -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.inside", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--repeats", type=int, default=5, help="measurements per figure (median)")
    args = ap.parse_args()
    med = statistics.median
    os.environ["CNNEXP_BUNDLE"] = ""
    t0 = time.perf_counter()
    import captum.attr  # noqa: F401
    import plotly.graph_objects  # noqa: F401
    import torch  # noqa: F401

    print(f"imports (torch, Captum, plotly), once per server: {time.perf_counter() - t0:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "results"
        ids = {name: train(root, settings) for name, settings in MODELS.items()}
        first_ref, ref = reference_page(args.repeats)
        print(
            f"reference one-line page (AppTest): first {first_ref:.3f} s, rerun "
            f"{med(ref):.3f} s; medians of {args.repeats}"
        )
        for name, run_id in ids.items():
            r = references(root, run_id, args.repeats)
            lib = timed(lambda run_id=run_id: library_first_view(root, run_id), args.repeats)
            lib_cpu = med(CPU)
            (first, first_cpu), again = page_times(root, run_id, args.repeats)
            again_cpu = med(CPU)
            print(f"baseline {name} on mnist5k ({run_id}):")
            print(
                f"  references: read its parquet file {r['parquet'] * 1e3:.2f} ms; one forward "
                f"pass of one image {r['forward'] * 1e3:.2f} ms"
            )
            print(
                f"  library, first view: {med(lib):.3f} s [{', '.join(f'{x:.3f}' for x in lib)}]"
                f" = {med(lib) / r['parquet']:.0f} parquet reads = "
                f"{med(lib) / r['forward']:.0f} forward passes; CPU {lib_cpu:.3f} s"
            )
            print(
                f"  page, first view: {first:.3f} s, CPU {first_cpu:.3f} s ({first / first_ref:.1f}×"
                f" the one-line page's first run); cached revisit {med(again):.3f} s "
                f"[{', '.join(f'{x:.3f}' for x in again)}], CPU {again_cpu:.3f} s "
                f"({med(again) / med(ref):.1f}× its rerun)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
