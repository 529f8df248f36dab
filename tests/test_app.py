"""The dashboard through streamlit.testing.v1.AppTest: every page renders with an empty
results folder and with saved runs; a tiny run launched from the Baseline page trains in the
worker process and its results appear."""

import json
import re
import shutil
import time
import urllib.parse

import pytest
from streamlit.testing.v1 import AppTest

from cnnexp import catalog, experiments
from cnnexp.config import parse
from cnnexp.store import Store
from tests.conftest import ROOT, TINY
from ui.links import query_for

PAGES = ["pages/home.py", *[f"pages/{n}.py" for n in experiments.names()], "pages/runs.py"]


def open_page(page: str, query: dict | None = None, tab: tuple[str, str] | None = None) -> AppTest:
    """The page as a visitor's link opens it; then, if given, the tab (its set's key in
    ui.page.tabs, its label), as a click on it does: only the open tab is built."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update(query or {})
    at.switch_page(page)
    at.run()
    return open_tab(at, *tab) if tab else at


def open_tab(at: AppTest, key: str, label: str) -> AppTest:
    """Click the tab with this label in the page's tabs made by ui.page.tabs(labels, key)."""
    assert label in [t.label for t in at.tabs], [t.label for t in at.tabs]
    at.session_state[f"tabs-{key}"] = label
    return at.run()


# The tab that holds an experiment page's saved runs and Launch, where it is not the first
# (the pages take its label from the catalog too).
RUN_TAB = {e.name: (e.tabs_key, e.runs_tab) for e in catalog.ENTRIES.values() if e.runs_tab}
assert set(RUN_TAB) == {"equivariance", "receptive_field"}


@pytest.fixture(scope="module")
def saved(tiny_saved):
    """A results folder with finished runs of every experiment's tiny settings at two seeds
    (trained once per test run: tests/conftest.py)."""
    return tiny_saved()


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_an_empty_results_folder(results, page):
    at = open_page(page)
    assert not at.exception, at.exception
    assert at.title[0].value


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_saved_runs(saved, monkeypatch, page):
    monkeypatch.setenv("CNNEXP_RESULTS", str(saved))
    name = page.removeprefix("pages/").removesuffix(".py")
    query = query_for(experiments.get(name).TINY) if name in experiments.REGISTRY else {}
    at = open_page(page, {**query, "seeds": "2"}, RUN_TAB.get(name))
    assert not at.exception, at.exception
    if name in experiments.REGISTRY:
        assert any("Cached" in c.value for c in at.caption), [c.value for c in at.caption]
        assert len(at.get("plotly_chart")) >= 1
    # Every tab, opened as a click does: only the open one is built on a view.
    key = name.replace("_", "-")
    for label in [t.label for t in at.tabs]:
        open_tab(at, key, label)
        assert not at.exception, (label, at.exception)
        assert at.get("plotly_chart") or at.dataframe or at.info, label  # it shows something


def _parts(specs: list) -> list[list]:
    """Parts of a plan a visitor may find saved: each half, and for every setting that varies
    in it, the runs at that setting's rarest value (a changed setting leaves those cached)."""
    parts = [specs[: len(specs) // 2], specs[len(specs) // 2 :]]
    for key in sorted({k for s in specs for k in s.config}):
        values = [repr(s.config.get(key)) for s in specs]
        if len(set(values)) > 1:
            rarest = min(set(values), key=lambda v: (values.count(v), v))
            parts.append([s for s, v in zip(specs, values, strict=True) if v == rarest])
    return parts


@pytest.mark.parametrize("name", experiments.names())
def test_page_shows_any_part_of_its_plan_saved(saved, tmp_path, monkeypatch, name):
    """Before Launch a page shows what is saved of its plan, whatever part that is. Found:
    Permuted pixels raised when only its size sweep was saved (after a change of epochs)."""
    mod = experiments.get(name)
    query = {**query_for(mod.TINY), "seeds": "2"}
    specs = mod.plan(parse(mod.Config, {**mod.TINY, "seeds": 2}))
    for part, kept in enumerate(_parts(specs)):
        root = tmp_path / f"part{part}"
        shutil.copytree(saved, root)
        gone = [s.run_id for s in specs if s not in kept]
        assert Store(root).delete(gone) == len(gone)
        monkeypatch.setenv("CNNEXP_RESULTS", str(root))
        at = open_page(f"pages/{name}.py", query, RUN_TAB.get(name))
        assert not at.exception, (kept[0].label, at.exception)
        offer = f"**{len(gone)} of {len(specs)} runs to train** ({len(kept)} cached)"
        assert any(offer in box.value for box in at.info), [box.value for box in at.info]
        for label in ["", *[t.label for t in at.tabs][1:]]:
            if label:
                open_tab(at, name.replace("_", "-"), label)
            assert not at.exception, (kept[0].label, label, at.exception)
            for chart in at.get("plotly_chart"):  # found: empty axes for a missing comparison
                fig = json.loads(chart.proto.spec)
                assert any(_points(t) for t in fig["data"]), (
                    part,
                    label,
                    fig["layout"].get("title"),
                )


def _points(trace: dict) -> bool:
    """Whether a Plotly trace (as sent to the browser) draws anything."""
    values = [trace.get(k) for k in ("x", "y", "z", "source", "dimensions")]
    return any(v is not None and v != [] and v != {} for v in values)


def test_home_shows_saved_headlines(saved, monkeypatch):
    monkeypatch.setenv("CNNEXP_RESULTS", str(saved))
    open_page("pages/baseline.py", {**query_for(TINY), "seeds": "2"})
    at = open_page("pages/home.py")
    assert any("test accuracy" in m.value for m in at.markdown)
    # Its card links to the settings the headline was measured with (found: the link opened
    # the page's defaults, one seed, beside a headline of three), and they open cleanly.
    # Recently finished, apart from the card (which shows what is pinned: nothing here).
    recent = [p.proto for p in at.get("page_link") if "with these settings" in p.proto.label]
    link = next(p for p in recent if "Baseline" in p.label)
    assert link.label == "Open Baseline with these settings"
    query = urllib.parse.parse_qs(link.query_string)
    assert query["seeds"] == ["2"] and query["dataset"] == [TINY["dataset"]], query
    page = open_page("pages/baseline.py", query)
    assert not page.exception and not page.warning, [w.value for w in page.warning]
    assert any("Cached" in c.value for c in page.caption), [c.value for c in page.caption]


def test_a_viewers_browsing_leaves_homes_headlines_alone(saved, monkeypatch):
    """Found: in viewer mode, visiting a saved configuration made it the headline Home shows
    everyone (a visit wrote headlines/baseline.json)."""
    monkeypatch.setenv("CNNEXP_RESULTS", str(saved))
    headline = saved / "headlines" / "baseline.json"
    headline.unlink(missing_ok=True)
    monkeypatch.setenv("CNNEXP_MODE", "viewer")
    at = open_page("pages/baseline.py", {**query_for(TINY), "seeds": "2"})
    assert any("Cached" in c.value for c in at.caption), [c.value for c in at.caption]
    assert not headline.exists()
    at = open_page("pages/baseline.py", {**query_for(TINY), "lr": "0.0123"})  # never run
    said = " ".join(i.value for i in at.info)  # a viewer is not told to launch
    assert "Home's links open the saved ones" in said and "Launch them" not in said, said
    monkeypatch.setenv("CNNEXP_MODE", "launch")  # the laptop's owner: their latest result
    open_page("pages/baseline.py", {**query_for(TINY), "seeds": "2"})
    assert headline.exists()


def test_home_says_a_headline_saved_in_an_older_shape_is_old_and_the_same_plan_renews_it(
    results,
):
    """Before version 2 the permuted headline held its models beside "gap"; Home, reading
    h["models"], must not fail on such a file in a results folder, nor show its numbers."""
    ci = {"mean": 0.05, "ci95": [0.04, 0.06], "n": 3}
    old = {"mlp": {"original": ci, "permuted": ci, "drop": ci}, "gap": ci}
    saved = {"experiment": "permuted", "config": {"seeds": 3}, "headline": old}
    (results / "headlines").mkdir(parents=True)
    (results / "headlines" / "permuted.json").write_text(
        json.dumps({**saved, "saved_at": "2026-01-02T00:00:00+00:00"})
    )
    at = open_page("pages/home.py")
    assert not at.exception, at.exception
    said = [c.value for c in at.caption]
    assert any("saved by an older version of cnnexp" in c for c in said), said
    assert not any("scrambled pixels" in m.value for m in at.markdown)
    # The same plan's headline in the current shape replaces it, though it finished earlier.
    now = {"models": {"mlp": {"original": ci, "permuted": ci, "drop": ci}}, "gap": ci}
    Store(results).save_headline("permuted", {"seeds": 3}, now, "2026-01-01T00:00:00+00:00")
    at = open_page("pages/home.py")
    assert any("scrambled pixels: mlp loses 5.0 points" in m.value for m in at.markdown)


def test_home_opens_a_headline_on_the_tab_that_holds_its_runs(saved, monkeypatch):
    monkeypatch.setenv("CNNEXP_RESULTS", str(saved))
    mod = experiments.get("equivariance")
    open_page("pages/equivariance.py", {**query_for(mod.TINY), "seeds": "2"}, RUN_TAB[mod.NAME])
    home = open_page("pages/home.py")
    recent = [p.proto for p in home.get("page_link") if "with these settings" in p.proto.label]
    link = next(p for p in recent if "Equivariance" in p.label)
    query = urllib.parse.parse_qs(link.query_string)
    assert query["tabs-equivariance"] == ["Trained models on shifted digits"], query
    at = open_page("pages/equivariance.py", query)  # no click on a tab: the link opens it
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    assert any("Cached" in c.value for c in at.caption), [c.value for c in at.caption]


def test_a_link_keeps_an_empty_multiple_choice_empty(results):
    """Found: an empty sweep, (), became no parameter at all, and the page opened with the
    field's default sweep instead. Empty is `?n_trains=`, as Streamlit writes it."""
    query = query_for({"n_trains": ()})
    assert query == {"n_trains": [""]}
    at = open_page("pages/permuted.py", query)
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    assert at.multiselect(key="n_trains").value == []


def test_bad_settings_show_the_config_message_and_no_launch(results):
    at = open_page("pages/baseline.py", {"dataset": "digits", "depth": "5"})
    assert not at.exception
    assert any("below 1×1" in e.value for e in at.error)
    assert not [b for b in at.button if b.label == "Launch"]


def test_launch_a_tiny_run_from_the_baseline_page(results):
    at = open_page("pages/baseline.py", {**query_for(TINY), "seeds": "1"})  # one run: one result
    launch = [b for b in at.button if b.label == "Launch"]
    assert launch, [i.value for i in at.info]
    launch[0].click().run()
    deadline = time.time() + 120
    while time.time() < deadline:
        # While it trains the page says so (found: "No saved runs … Launch them" under the
        # progress bar of the runs just launched).
        said = [i.value for i in at.info]
        assert not any("No saved runs" in s for s in said), said
        at.run()
        assert not at.exception, at.exception
        if any(m.label == "Test accuracy" for m in at.metric):
            break
        assert any("Training: the charts appear here" in i.value for i in at.info), [
            i.value for i in at.info
        ]
        time.sleep(0.5)
    else:
        raise AssertionError("the launched run never showed its result")
    assert any("Cached" in c.value for c in at.caption)
    assert Store(results).runs()["status"].tolist() == ["done"]


NO_TORCH = """
import sys
sys.path.insert(0, {root!r})
from streamlit.testing.v1 import AppTest
for page in {pages!r}:
    at = AppTest.from_file({app!r}, default_timeout=60)
    at.switch_page(page)
    at.run()
    assert not at.exception, (page, at.exception)
print("torch" in sys.modules)
"""


def test_pages_that_show_saved_results_do_not_import_torch(saved):
    import subprocess
    import sys

    from tests.conftest import cli_env

    # These compute with torch by design: scaling checks its formulas against modules,
    # equivariance and receptive_field run their probes live, learned builds its layers at
    # initialisation from the seeds while its runs are not saved (with them saved it reads
    # them: tests/test_learned.py). The others only show saved results.
    live = (
        "pages/scaling.py",
        "pages/equivariance.py",
        "pages/receptive_field.py",
        "pages/learned.py",
    )
    pages = [p for p in PAGES if p not in live]
    code = NO_TORCH.format(root=str(ROOT), pages=pages, app=str(ROOT / "app.py"))
    p = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=cli_env(saved),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    assert p.stdout.strip().splitlines()[-1] == "False"


NO_TABLES = """
import sys
sys.path.insert(0, {root!r})
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({app!r}, default_timeout=60)
at.run()
assert not at.exception, at.exception
print(" | ".join(c.value for c in at.caption))
print(sorted(m for m in {heavy!r} if m in sys.modules))
"""


def test_home_paints_without_loading_pandas_pydantic_or_torch(saved):
    """Home's first paint (app.py's sidebar and navigation included) reads headlines and counts
    run files, and takes the experiments' titles from cnnexp.catalog: importing pandas and
    pyarrow would add about a second to a fresh server's first page, the experiment modules
    (pydantic, numpy, their configs) a few tenths more."""
    import subprocess
    import sys

    from tests.conftest import cli_env

    # Not plotly: AppTest imports it itself (the catalog does not: tests/test_catalog.py).
    heavy = ("numpy", "pandas", "pyarrow", "pydantic", "scipy", "sklearn", "torch")
    code = NO_TABLES.format(root=str(ROOT), app=str(ROOT / "app.py"), heavy=heavy)
    # A viewer: no run queue in the sidebar (a launcher's starts on a thread, or in line
    # under AppTest, and that one does read tables).
    env = {**cli_env(saved), "CNNEXP_MODE": "viewer"}
    p = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert p.returncode == 0, p.stderr[-3000:]
    captions, loaded = p.stdout.strip().splitlines()[-2:]
    assert loaded == "[]"
    # Counted from the folder listing, they add up to the store's runs table.
    shown = [int(n) for n in re.findall(r"(\d+) saved run\(s\)", captions)]
    assert len(shown) == len(experiments.REGISTRY), captions
    assert sum(shown) == len(Store(saved).runs()) > 0, captions


WITHOUT_TORCH = """
import importlib.abc
import sys


class NotInstalled(importlib.abc.MetaPathFinder):  # as on a viewer from requirements-viewer.txt
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "torchvision"):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)


sys.meta_path.insert(0, NotInstalled())
sys.path.insert(0, {root!r})
from streamlit.testing.v1 import AppTest
for page, query in {pages!r}:
    at = AppTest.from_file({app!r}, default_timeout=60)
    at.query_params.update(query)
    at.switch_page(page)
    at.run()
    assert not at.exception, (page, at.exception)
    print(page, " | ".join(e.value for e in [*at.info, *at.caption]))
"""


def test_a_viewer_without_pytorch_shows_every_page(saved):
    import subprocess
    import sys

    from tests.conftest import cli_env

    pages = [
        (p, query_for(experiments.get(p[6:-3]).TINY) if p[6:-3] in experiments.REGISTRY else {})
        for p in PAGES
    ]
    code = WITHOUT_TORCH.format(root=str(ROOT), pages=pages, app=str(ROOT / "app.py"))
    env = {**cli_env(saved), "CNNEXP_MODE": "viewer"}
    p = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert p.returncode == 0, p.stderr[-3000:]
    assert "formulas are shown unchecked" in p.stdout  # scaling, politely
    assert "computes with PyTorch" in p.stdout  # the equivariance probe, politely


def _wait(at: AppTest, done, what: str, seconds: float = 180) -> None:
    """Rerun the page until done(at) says so; AppTest does not wait for the worker itself."""
    deadline = time.time() + seconds
    while not done(at):
        assert time.time() < deadline, f"timed out waiting for {what}"
        assert not at.exception, at.exception
        time.sleep(0.3)
        at.run()


def _epochs_shown(at: AppTest) -> list[str]:
    """The epoch column of the run panel's live table ("3/60"), one cell per run."""
    tables = [d.value for d in at.dataframe if "epoch" in d.value.columns]
    return [str(e) for t in tables for e in t["epoch"]]


def test_cancel_a_launched_run_from_the_page(results):
    # Two seeds on one worker: the first trains while the second waits in the queue.
    query = query_for({"dataset": "mnist5k", "epochs": 60, "width": 8, "seeds": 2})
    at = open_page("pages/baseline.py", query)
    [b for b in at.button if b.label == "Launch"][0].click().run()
    # An epoch has finished when the live table says so: the runner reports it after the
    # epoch's numbers exist, so the cancelled run has something to keep.
    _wait(at, lambda at: any(not e.startswith("0/") for e in _epochs_shown(at)), "an epoch")
    [b for b in at.button if b.label == "Cancel"][0].click().run()
    # The queued run is cancelled at once, the running one at its next batch: wait for both.
    _wait(at, lambda at: [b for b in at.button if b.label == "Launch"], "both runs to end")
    text = " ".join(i.value for i in at.info)
    assert "2 run(s) were cancelled" in text, text
    # The running one keeps its finished epochs; the queued one never started: nothing saved.
    assert "seed 0: stopped after" in text and "seed 1: stopped before it trained; nothing" in text
    runs = Store(results).runs()
    assert runs["status"].tolist() == ["cancelled"] and runs["seed"].tolist() == [0], runs
    assert runs["epochs_run"].iloc[0] >= 1


def test_a_link_opens_its_tab_and_a_bad_tab_value_leaves_the_first(saved, monkeypatch):
    # Only the open tab is built: the Model tab holds the page's one table, Accuracy a chart.
    monkeypatch.setenv("CNNEXP_RESULTS", str(saved))
    query = {**query_for(TINY), "seeds": "2"}
    at = open_page("pages/baseline.py", {**query, "tabs-baseline": "Model"})
    assert not at.exception, at.exception
    assert len(at.dataframe) == 1 and not at.get("plotly_chart")
    for bad in ("[Sign in](https://example.org)", "Nope", "x" * 5000):
        at = open_page("pages/baseline.py", {**query, "tabs-baseline": bad})
        assert not at.exception, at.exception
        assert len(at.get("plotly_chart")) == 1 and not at.dataframe  # the first tab
        assert not any("example.org" in m.value for m in at.markdown)
