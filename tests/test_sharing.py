"""Sharing (ui/access.py, ui/settings.py, cnnexp/export.py, cnnexp/bundle.py): links reproduce
settings and survive hostile values, viewer and guarded modes refuse launches on the server,
hosted caps say their limit, exports are real files, and the bundle seeds a fresh server."""

import json
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from cnnexp import bundle, experiments, export
from cnnexp.results import Results
from cnnexp.store import Store
from tests.conftest import ROOT, TINY, cli_env
from tests.test_app import RUN_TAB, open_page
from tests.test_cli import cli
from ui import access
from ui.links import query_for

EXPERIMENT_PAGES = [f"pages/{n}.py" for n in experiments.names()]


def launch_buttons(at: AppTest) -> list:
    return [b for b in at.button if b.label == "Launch"]


# --- modes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("page", EXPERIMENT_PAGES)
def test_viewer_mode_offers_no_launch(results, monkeypatch, page):
    monkeypatch.setenv("CNNEXP_MODE", "viewer")
    name = page.removeprefix("pages/").removesuffix(".py")
    at = open_page(page, query_for(experiments.get(name).TINY), RUN_TAB.get(name))
    assert not at.exception, at.exception
    assert not launch_buttons(at)
    assert any("Viewing only" in c.value for c in at.caption)


def test_viewer_mode_hides_delete_on_the_runs_page(results, monkeypatch):
    monkeypatch.setenv("CNNEXP_MODE", "viewer")
    cli(results, "run", "baseline", "--dataset", "digits", "--epochs", "1", "--width", "4")
    ids = Store(results).runs()["run_id"].tolist()
    at = open_page("pages/runs.py", {"runs": ids})
    assert not at.exception and at.get("plotly_chart")
    assert not [b for b in at.button if "Delete" in b.label]


def forged_launch():
    import streamlit as st

    from cnnexp.config import parse
    from cnnexp.experiments import baseline
    from ui import access, resources

    specs = baseline.plan(parse(baseline.Config, baseline.TINY))
    try:
        access.launch(specs)
        st.write("launched")
    except access.LaunchRefused as e:
        st.error(str(e))
    st.write(f"queued: {len(resources.runner().snapshot())}")


def test_a_forged_launch_is_refused_on_the_server(results, monkeypatch):
    monkeypatch.setenv("CNNEXP_MODE", "viewer")
    at = AppTest.from_function(forged_launch, default_timeout=60).run()
    assert not at.exception, at.exception
    assert "not open to you" in at.error[0].value
    assert [m.value for m in at.markdown] == ["queued: 0"]


def test_an_unknown_mode_fails_closed(monkeypatch):
    monkeypatch.setenv("CNNEXP_MODE", "lanuch")  # a typo must not open the server
    assert access.mode() == "viewer"


def test_guarded_mode_opens_with_the_shared_token(results, monkeypatch):
    monkeypatch.setenv("CNNEXP_MODE", "guarded")
    monkeypatch.setenv("CNNEXP_ACCESS_TOKEN", "correct horse")
    at = open_page("pages/baseline.py", query_for(TINY))
    assert not launch_buttons(at)
    at.text_input(key="access-token").input("wrong").run()
    assert any("not right" in e.value for e in at.error) and not launch_buttons(at)
    at.text_input(key="access-token").input("correct horse").run()
    assert launch_buttons(at)


# --- caps ------------------------------------------------------------------------------------
def test_a_cap_blocks_the_launch_with_its_limit(results, monkeypatch):
    monkeypatch.setenv("CNNEXP_MAX_EPOCHS", "1")
    assert launch_buttons(open_page("pages/baseline.py", query_for(TINY)))  # 1 epoch: allowed
    at = open_page("pages/baseline.py", query_for({**TINY, "epochs": 2}))
    assert not launch_buttons(at)
    assert any("at most 1 epochs" in e.value for e in at.error)


# --- links -----------------------------------------------------------------------------------
ROUND_TRIP = {
    "baseline": {
        "dataset": "shapes",
        "model": "local",
        "width": 8,
        "norm": "group",
        "groups": 2,
        "epochs": 3,
        "lr": 0.01,
        "augment_flip": True,
        "seeds": 2,
    },
    "normalization": {
        "norms": ("batch", "group"),
        "batch_sizes": (4, 32),
        "deep_depth": 6,
        "epochs": 3,
    },
    "scaling": {"image_size": 128, "kernel": 5, "padding": 2, "bias": False, "cnn_widths": (4, 8)},
    "permuted": {"dataset": "digits", "models": ("cnn_flatten", "mlp"), "block": 4, "perm_seed": 9},
    "equivariance": {"image": "coffee", "shift": -3, "shift_y": 2, "pool": "blur", "gap": False},
}


@pytest.mark.parametrize("name", list(ROUND_TRIP))
def test_a_link_reproduces_the_settings(results, name):
    values = ROUND_TRIP[name]
    at = open_page(f"pages/{name}.py", query_for(values))
    assert not at.exception, at.exception
    assert not at.warning, [w.value for w in at.warning]
    for key, value in values.items():
        got = at.get_by_key(key).value if hasattr(at, "get_by_key") else None
        got = list(got) if isinstance(got, list | tuple) else got
        assert got == (list(value) if isinstance(value, tuple) else value), (key, got, value)


HOSTILE = {
    "dataset": "../../../etc/passwd",
    "model": "<script>alert(1)</script>",
    "epochs": "1e30",
    "width": "99999999999999999999999",
    "lr": "NaN",
    "seeds": "1.5",
    "augment_flip": "maybe",
    "batch_size": "-64",
    "n_train": "'; DROP TABLE runs; --",
    "unknown_key": "whatever",
}


def test_hostile_link_values_are_refused_visibly_and_change_nothing(results, tmp_path):
    at = open_page("pages/baseline.py", HOSTILE)
    assert not at.exception, at.exception
    said = " ".join([w.value for w in at.warning] + [t.value for t in at.text])
    for key in (
        "dataset",
        "model",
        "epochs",
        "width",
        "lr",
        "seeds",
        "augment_flip",
        "batch_size",
        "n_train",
    ):
        assert f"({key})" in said, key
    assert "unknown_key" not in said  # unknown keys are simply ignored
    assert at.selectbox(key="dataset").value == "mnist5k"  # the defaults stand in
    # The values are data: shown as literal text, never as markdown or HTML of the page.
    assert "<script>alert(1)</script>" in " ".join(t.value for t in at.text)
    rendered = [*at.markdown, *at.warning, *at.error, *at.info, *at.caption, *at.title]
    assert not any("<script>" in e.value or "DROP TABLE" in e.value for e in rendered)
    # Every setting, refused or not, is exactly what a link without values shows: nothing of
    # the hostile values reached a widget, so nothing of them can reach a launch.
    assert settings_shown(at) == settings_shown(open_page("pages/baseline.py"))


def settings_shown(at: AppTest) -> dict:
    kinds = ("selectbox", "number_input", "checkbox", "toggle", "slider", "select_slider")
    shown = {w.key: w.value for kind in kinds for w in at.get(kind) if w.key}
    assert len(shown) >= 9, shown  # the page's settings, not an empty panel
    return shown


def test_hostile_run_ids_in_a_runs_link(results):
    cli(results, "run", "baseline", "--dataset", "digits", "--epochs", "1", "--width", "4")
    good = Store(results).runs()["run_id"].iloc[0]
    at = open_page("pages/runs.py", {"runs": [f"{good},../../etc/passwd,<b>x</b>", "9" * 5000]})
    assert not at.exception, at.exception
    assert any("not saved runs here" in t.value for t in at.text)  # literal, not markdown
    assert at.get("plotly_chart")  # the one real id is still selected


# --- export ----------------------------------------------------------------------------------
def test_cli_export_writes_real_files(results, tmp_path):
    cli(
        results,
        "run",
        "baseline",
        "--dataset",
        "digits",
        "--epochs",
        "2",
        "--width",
        "4",
        "--seeds",
        "2",
    )
    formats = "png,svg,html,csv,parquet" if export.browser() else "html,csv,parquet"
    out = tmp_path / "figs"
    files = json.loads(
        cli(
            results,
            "export",
            "baseline",
            "--dataset",
            "digits",
            "--epochs",
            "2",
            "--width",
            "4",
            "--seeds",
            "2",
            "--out",
            str(out),
            "--formats",
            formats,
            "--json",
        ).stdout
    )["files"]
    assert {p.rsplit("/", 1)[1] for p in files} >= {
        "accuracy.html",
        "runs.csv",
        "metrics.parquet",
        "headline.json",
    }
    import pandas as pd

    assert len(pd.read_parquet(out / "metrics.parquet")) == 2 * 2 * 5
    # The charts open offline: each names the one copy of Plotly's code beside it.
    assert 'src="plotly.min.js"' in (out / "accuracy.html").read_text()
    assert "plotly.js v" in (out / "plotly.min.js").read_text()[:200]
    if export.browser():
        assert (out / "accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (out / "loss.svg").read_text().lstrip().startswith("<svg")


def test_cli_export_refuses_unsaved_settings_and_unknown_formats(results, tmp_path):
    p = cli(results, "export", "baseline", "--out", str(tmp_path), check=False)
    assert p.returncode == 2 and "not saved" in p.stderr and "--partial" in p.stderr
    p = cli(results, "export", "baseline", "--out", str(tmp_path), "--formats", "gif", check=False)
    assert p.returncode == 2 and "gif" in p.stderr and "png, svg" in p.stderr
    (tmp_path / "a-file").write_text("hi")  # found: FileExistsError and a traceback
    p = cli(results, "export", "baseline", "--out", str(tmp_path / "a-file"), check=False)
    assert p.returncode == 2 and "is a file; allowed: a folder" in p.stderr
    assert "Traceback" not in p.stderr and (tmp_path / "a-file").read_text() == "hi"
    p = cli(results, "export", "baseline", "--out", str(tmp_path / "a-file" / "x"), check=False)
    assert p.returncode == 2 and "is inside the file" in p.stderr, p.stderr  # found: a traceback
    assert not (tmp_path / "never").exists()
    cli(results, "export", "baseline", "--out", str(tmp_path / "never"), check=False)
    assert not (tmp_path / "never").exists()  # refused (not saved): no folder made for it


def test_without_a_browser_image_export_says_what_to_install(monkeypatch):
    monkeypatch.setattr(export, "browser", lambda: None)
    import plotly.graph_objects as go

    with pytest.raises(RuntimeError, match="apt-get install chromium"):
        export.figure_bytes(go.Figure(), "png")
    html = export.figure_bytes(go.Figure(), "html")
    assert b"<html>" in html[:100]
    assert b'src="https://cdn.plot.ly' not in html and b"plotly.js v" in html  # offline: code in


# --- the bundle --------------------------------------------------------------------------------
def test_the_shipped_bundle_matches_the_current_code():
    """A version bump that invalidates the bundle fails here until `python -m cnnexp bundle`."""
    shipped = Store(ROOT / "bundle")
    for mod, _cfg, specs in bundle.plans():
        saved = shipped.records(s.run_id for s in specs)
        missing = [s.label for s in specs if saved.get(s.run_id, {}).get("status") != "done"]
        assert not missing, (
            f"{mod.NAME}: {len(missing)} bundled runs are stale or missing, e.g. {missing[:3]}"
        )
    size = sum(p.stat().st_size for p in (ROOT / "bundle").rglob("*") if p.is_file())
    assert size < 5 * 2**20, f"the bundle is {size / 2**20:.1f} MB"


def test_a_fresh_results_folder_is_seeded_from_the_bundle(tmp_path):
    results = tmp_path / "fresh"
    env = {**cli_env(results), "CNNEXP_BUNDLE": str(ROOT / "bundle")}
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=60).run()\n"
        "assert not at.exception, at.exception\n"
        "print(sum('saved run' in c.value for c in at.caption))"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert p.returncode == 0, p.stderr[-2000:]
    assert Store(results).runs().shape[0] == Store(ROOT / "bundle").runs().shape[0]
    assert bundle.seed(results, ROOT / "bundle") == 0  # never twice, never over a result
    # The home page's headlines come from these files: every experiment's, copied whole.
    shipped = {p.name: p.read_bytes() for p in (ROOT / "bundle" / "headlines").glob("*.json")}
    assert set(shipped) == {f"{name}.json" for name in experiments.names()}, sorted(shipped)
    copied = {p.name: p.read_bytes() for p in (results / "headlines").glob("*.json")}
    assert copied == shipped


def test_the_bundled_headlines_are_the_summaries_of_the_bundled_defaults():
    """Home shows these files: each must be its experiment's summary of the bundled runs at
    the settings bundled last (the page's defaults), not a stale or hand-edited copy."""
    shipped = Store(ROOT / "bundle")
    files = shipped.headlines()
    last = {mod.NAME: (mod, cfg, specs) for mod, cfg, specs in bundle.plans()}
    assert set(files) == set(last) == set(experiments.names())
    for name, (mod, cfg, specs) in last.items():
        saved = files[name]
        assert saved["config"] == json.loads(json.dumps(cfg.canonical())), name
        now = mod.summarize(cfg, Results(specs, shipped))
        # NaN-safe: compare the JSON text the store writes
        assert json.dumps(saved["headline"], sort_keys=True) == json.dumps(
            json.loads(json.dumps(now, default=str)), sort_keys=True
        ), f"{name}: bundle/headlines/{name}.json is not the summary of its bundled runs"
