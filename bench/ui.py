"""python -m bench.ui: how fast the dashboard paints, in headless Chromium (Debian's package).

1. Home, first complete paint on a cold server (fresh process, empty results folder),
   against a reference measured the same way in the same run: a one-line Streamlit app.
2. Runs page with 1,000 saved runs (8 epochs of metrics each): time until the table is
   drawn and until the first chart of a linked 3-run selection is drawn; on a cold server,
   and on a warm server with the browser's HTTP cache warm. Reference: a Streamlit app that
   draws one small Plotly chart, measured the same way. The ratios are what to compare
   across machines: the references are the floor Streamlit and Plotly.js set on this one.
   A second reference draws the kinds of element the Runs page shows before its chart (two
   multiselects, a text input, a range slider, a toggle, a table, a segmented control) and
   the same small chart: the floor for a page with those widgets, whatever its script does.

Each figure is the median of --repeats starts. Record results with the machine in
BENCHMARKS.md.

With --kinds: what each kind of element costs the chart after it: the one-chart reference
with one element of a kind before its chart, for each kind the Runs page draws, and the
widgets reference with its chart drawn first (the other elements filled in above it through
a container), each as a ratio to the one-chart reference (warm server and browser cache).

With --script: the Runs page's own script time on a rerun (no browser; AppTest, warm
server-side caches), with --runs saved runs (the issue's target: 10,000 runs, ≤ 0.3 s),
against a one-line page run the same way in the same process. Two views: the default
(grouped over seeds, nothing selected) and 500 linked runs, one per row, with their curves
(downsampled to the page's MAX_CURVES). AppTest compiles the page on every run, which a server
does once; with Streamlit's magic off (.streamlit/config.toml) that costs about 0.01 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cnnexp.store import Store
from tests.browser import launch, settled, streamlit_server
from tests.conftest import ROOT


def fill(root: Path, n: int) -> list[str]:
    store = Store(root)
    rows = [
        {"epoch": e, "split": s, "metric": m, "value": 0.9 - 0.5 / e}
        for e in range(1, 9)
        for s in ("train", "test")
        for m in ("loss", "acc")
    ]

    def save(i: int) -> str:
        rid = f"{i:016x}"
        store.save(
            {
                "run_id": rid,
                "experiment": ("baseline", "permuted", "scaling")[i % 3],
                "version": 1,
                "seed": i % 3,
                "label": f"cnn · w{4 + i % 5}",
                "status": "done",
                "ended_at": f"2026-01-01T{i % 24:02d}:00:00",
                "test_acc": 0.9,
                "device": "cpu",
                "duration_s": 3.0,
                "config": {"model": "cnn", "width": 4 + i % 5, "dataset": "mnist5k"},
            },
            rows,
        )
        return rid

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(save, range(n)))


def time_page(url: str, wait_for: list[str], visits: int = 1) -> list[list[float]]:
    """For each visit (same browser, so later visits have a warm HTTP cache): the seconds
    until each selector appeared, then until the page settled."""
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        for _ in range(visits):
            page = context.new_page()
            t0 = time.perf_counter()
            page.goto(url)
            marks = []
            for selector in wait_for:
                page.wait_for_selector(selector, timeout=120_000)
                marks.append(time.perf_counter() - t0)
            settled(page)
            marks.append(time.perf_counter() - t0)
            out.append(marks)
            page.close()
        browser.close()
    return out


# The references get the socket setting the dashboard makes for itself (ui/server_tuning.py):
# without it each of their messages after the first waited ~40 ms, a delay of Streamlit's, not
# the dashboard's, to measure against.
TUNED = (
    f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
    "from ui import server_tuning\nserver_tuning.tune_once()\n"
)
REFERENCE = TUNED + 'import streamlit as st\nst.title("reference")\n'
CHART_REFERENCE = TUNED + (
    "import streamlit as st\nimport plotly.graph_objects as go\nst.title('chart')\n"
    "st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])))\n"
)

# Each kind of element the Runs page draws before its chart, once, then the chart: the browser
# must load each kind's code before drawing it (the table's and the slider's the most).
WIDGETS_REFERENCE = TUNED + (
    "import streamlit as st\nimport pandas as pd\nimport plotly.graph_objects as go\n"
    "st.title('widgets')\nst.multiselect('a', ['x', 'y'])\nst.multiselect('b', ['x', 'y'])\n"
    "st.text_input('c')\nst.slider('d', 0, 10, (2, 5))\nst.toggle('e')\n"
    "st.dataframe(pd.DataFrame({'x': range(100), 'y': range(100)}))\n"
    "st.segmented_control('f', ['p', 'q'])\n"
    "st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])))\n"
)


_HEAD = TUNED + (
    "import streamlit as st\nimport pandas as pd\nimport plotly.graph_objects as go\n"
    "st.title('kinds')\n"
)
_CHART = "st.plotly_chart(go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3, 2])))\n"
KINDS = {  # one element of each kind the Runs page draws before its chart
    "table": "st.dataframe(pd.DataFrame({'x': range(100), 'y': range(100)}))\n",
    "multiselect": "st.multiselect('a', ['x', 'y'])\n",
    "segmented control": "st.segmented_control('f', ['p', 'q'])\n",
    "range slider": "st.slider('d', 0, 10, (2, 5))\n",
    "range slider in an expander": "with st.expander('r'):\n    st.slider('d', 0, 10, (2, 5))\n",
    "toggle and text input": "st.toggle('e')\nst.text_input('c')\n",
    "selectbox": "st.selectbox('s', ['x', 'y'])\n",
}
CHART_FIRST = (
    _HEAD
    + "top = st.container()\n"
    + _CHART
    + "".join(
        f"top.{line.removeprefix('st.')}"
        for line in WIDGETS_REFERENCE.splitlines(keepends=True)
        if line.startswith("st.") and "plotly_chart" not in line and "title" not in line
    )
)


def kinds_main(args: argparse.Namespace) -> int:
    apps = {
        "one-chart reference": CHART_REFERENCE,
        **{f"+ {k}": _HEAD + line + _CHART for k, line in KINDS.items()},
        "widgets reference": WIDGETS_REFERENCE,
        "widgets reference, chart drawn first": CHART_FIRST,
    }
    times: dict[str, list[float]] = {name: [] for name in apps}
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty"
        empty.mkdir()
        for _ in range(args.repeats):  # interleaved: a slow minute hits every app alike
            for i, (name, source) in enumerate(apps.items()):
                script = Path(tmp) / f"app{i}.py"
                script.write_text(source)
                with streamlit_server(empty, script=str(script)) as url:
                    times[name].append(time_page(url + "/", [".js-plotly-plot"], visits=2)[1][0])
    med = statistics.median
    ref = med(times["one-chart reference"])
    print(f"{args.repeats} repeats; chart drawn (warm server and browser cache), median [each]")
    for name, xs in times.items():
        each = ", ".join(f"{x:.2f}" for x in xs)
        print(f"  {name}: {med(xs):.2f} s [{each}]; ratio {med(xs) / ref:.2f}")
    return 0


def script_seconds(script: str, results: Path, query: dict, repeats: int) -> list[float]:
    """Wall and CPU time (this process's: the script's thread and AppTest's) of AppTest runs
    of `script` (app.py's navigation when it is a page) after a first, cold run: a warm
    server's rerun. The CPU time is what a busy machine distorts least."""
    from streamlit.testing.v1 import AppTest

    os.environ["CNNEXP_RESULTS"] = str(results)
    if script.startswith("pages/"):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        at.switch_page(script)
    else:
        at = AppTest.from_string(script, default_timeout=600)
    at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    out = []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        at.run()
        out.append((time.perf_counter() - t0, time.process_time() - c0))
    return out


def script_main(args: argparse.Namespace) -> int:
    med = statistics.median
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "full"
        ids = fill(full, args.runs)
        ref = script_seconds(REFERENCE, full, {}, args.repeats)
        print(
            f"{args.repeats} reruns each; Runs page with {args.runs:,} saved runs, script on a "
            f"rerun (AppTest), median wall [each] and CPU time; reference one-line page "
            f"{med(w for w, _ in ref):.3f} s wall, {med(c for _, c in ref):.3f} s CPU"
        )
        views = {
            "grouped over seeds, nothing selected": {},
            "500 linked runs one per row, curves": {"group": "off", "runs": ",".join(ids[:500])},
        }
        for name, query in views.items():
            t = script_seconds("pages/runs.py", full, query, args.repeats)
            wall, cpu = med(w for w, _ in t), med(c for _, c in t)
            print(
                f"  {name}: {wall:.3f} s wall [{', '.join(f'{w:.3f}' for w, _ in t)}], "
                f"{cpu:.3f} s CPU; ratio to the one-line page "
                f"{wall / med(w for w, _ in ref):.0f} (wall)"
            )
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.ui", description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=1000, help="saved runs for the Runs page")
    ap.add_argument("--repeats", type=int, default=5, help="cold starts per figure (median)")
    ap.add_argument(
        "--script",
        action="store_true",
        help="the Runs page's script time on a rerun instead of the browser (use --runs 10000)",
    )
    ap.add_argument(
        "--kinds",
        action="store_true",
        help="what each kind of element before a chart costs its paint, and the chart first",
    )
    args = ap.parse_args()
    if args.script:
        return script_main(args)
    if args.kinds:
        return kinds_main(args)
    with tempfile.TemporaryDirectory() as tmp:
        empty, full = Path(tmp) / "empty", Path(tmp) / "full"
        ids = fill(full, args.runs)
        reference, chart_ref = Path(tmp) / "reference_app.py", Path(tmp) / "chart_app.py"
        widgets_ref = Path(tmp) / "widgets_app.py"
        reference.write_text(REFERENCE)
        chart_ref.write_text(CHART_REFERENCE)
        widgets_ref.write_text(WIDGETS_REFERENCE)
        ref, ref_chart, ref_widgets, home, cold, warm = [], [], [], [], [], []
        runs_url = "/runs?runs=" + ",".join(ids[:3])
        selectors = ["[data-testid='stDataFrame']", ".js-plotly-plot"]
        for _ in range(args.repeats):
            with streamlit_server(empty, script=str(reference)) as url:
                ref.append(time_page(url + "/", ["h1"])[0][-1])
            with streamlit_server(empty, script=str(chart_ref)) as url:
                ref_chart.append(time_page(url + "/", [".js-plotly-plot"], visits=2)[1][0])
            with streamlit_server(empty, script=str(widgets_ref)) as url:
                ref_widgets.append(time_page(url + "/", [".js-plotly-plot"], visits=2)[1][0])
            with streamlit_server(empty) as url:
                home.append(time_page(url + "/", ["h1"])[0][-1])
            with streamlit_server(full) as url:
                cold.append(time_page(url + runs_url, selectors)[0])
                warm.append(time_page(url + runs_url, selectors, visits=2)[1])
    med = statistics.median

    def each(xs: list[float]) -> str:  # every repeat, so the spread behind a median shows
        return "[" + ", ".join(f"{x:.2f}" for x in xs) + "]"

    print(f"{args.repeats} repeats, interleaved; figures are medians, [each repeat]")
    print(
        f"Home first complete paint, cold server: {med(home):.2f} s {each(home)}; reference "
        f"one-line app {med(ref):.2f} s {each(ref)}; ratio {med(home) / med(ref):.2f}"
    )
    print(
        f"Reference one-chart app, chart drawn (warm server and browser cache): "
        f"{med(ref_chart):.2f} s {each(ref_chart)}"
    )
    print(
        f"Reference app with the Runs page's kinds of widget, then the chart (warm): "
        f"{med(ref_widgets):.2f} s {each(ref_widgets)}; ratio to the one-chart reference "
        f"{med(ref_widgets) / med(ref_chart):.2f}"
    )
    for name, marks in (("cold server", cold), ("warm server and browser cache", warm)):
        t, c = med(m[0] for m in marks), med(m[1] for m in marks)
        print(
            f"Runs page, {args.runs:,} saved runs, {name}: table {t:.2f} s, first chart "
            f"{c:.2f} s {each([m[1] for m in marks])}; ratio to the one-chart reference "
            f"{c / med(ref_chart):.2f}, to the widgets reference {c / med(ref_widgets):.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
