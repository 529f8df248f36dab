"""The learned-prior experiment (cnnexp/experiments/learned.py) and its page: every size's
step budget, the layers at initialisation re-created exactly, the tiny plan end to end, the
explanation both ways, the page with and without saved runs. Its metrics: tests/test_priors.py."""

import json

import numpy as np
import pytest

from cnnexp import bundle, data, engine, inspection
from cnnexp.config import ConfigError, TrainSetup, parse
from cnnexp.experiments import learned
from cnnexp.results import Results
from cnnexp.runspec import RunContext
from cnnexp.store import Store
from tests.test_app import open_page, open_tab
from ui.links import query_for


# --- the experiment ---------------------------------------------------------------------------
def test_every_size_trains_about_the_same_number_of_steps():
    cfg = parse(learned.Config, {"n_trains": (100, 1000, 4000), "epochs": 4})
    steps = learned.steps(cfg)
    assert steps == 4 * 63  # 4,000 images in batches of 64
    for n in learned.sizes(cfg):
        batches = len(data.batch_slices(learned.images(cfg.dataset, n), cfg.batch_size))
        assert steps <= learned.epochs_for(cfg, n) * batches < steps + batches
    assert learned.sizes(cfg) == [100, 1000, 0]  # 4,000 is the whole split: 0


def test_bad_settings_are_refused_with_what_is_allowed():
    with pytest.raises(ConfigError, match="models is empty; allowed"):
        parse(learned.Config, {"models": ()})
    with pytest.raises(ConfigError, match="kernel"):
        parse(learned.Config, {"dataset": "digits", "kernel": 9})  # no 9×9 window in 8×8


def test_the_layers_at_initialisation_are_those_the_engine_trains_from():
    """init_rows (the page, without training) and execute re-create the first layer from the
    seed; the engine's own model before its first step is the reference."""
    cfg = parse(learned.Config, {**learned.TINY, "seeds": 1, "seed": 7})
    for spec in learned.plan(cfg)[:: len(cfg.shifts)]:
        setup = TrainSetup.model_validate({k: v for k, v in spec.config.items() if k != "window"})
        dd = engine.load_device_data(setup, spec.seed, RunContext(device="cpu"))
        seen = {}

        def at_epoch(epoch, model, _dd, seen=seen):
            if epoch == 0:
                seen["w"] = inspection.first_weights(model.cpu(), (1, 8, 8)).weights.copy()

        engine.train(setup.model_copy(update={"epochs": 1}), dd, spec.seed, epoch_hook=at_epoch)
        np.testing.assert_array_equal(learned.initial_first_layer(spec).weights, seen["w"])


def test_the_tiny_plan_end_to_end(tiny_saved):
    cfg = parse(learned.Config, {**learned.TINY, "seeds": 2})
    store = Store(tiny_saved("learned"))
    results = Results(learned.plan(cfg), store)
    assert results.complete
    prior = results.table("prior")
    assert {"run_id", "model", "metric", "stage", "value"} <= set(prior.columns)
    assert set(prior["stage"]) == {"init", "trained", "change"}
    h = learned.summarize(cfg, results)
    for model in cfg.models:
        assert set(h["locality"][model]) == {"init", "trained", "change"}
        assert h["accuracy"][model]["n"] == 2
    assert set(h["sharing"]) == {"local", "cnn"}  # an MLP's layer has no positions
    assert h["sharing"]["cnn"]["trained"]["mean"] == 1.0
    assert h["locality"]["local"]["trained"]["mean"] == 1.0
    assert 0 < h["locality"]["mlp"]["init"]["mean"] < 1
    assert len(h["conditions"]) == 2 and {c["shift"] for c in h["conditions"]} == {0, 1}
    # the page's instant numbers: computed from the seeds, or read from the saved runs, agree
    live = learned.init_summary(cfg, learned.init_rows(cfg))
    saved = learned.init_summary(cfg, learned.saved_init_rows(cfg, results))
    assert json.dumps(live, sort_keys=True) == json.dumps(saved, sort_keys=True)
    assert live["locality"]["mlp"] == h["locality"]["mlp"]["init"]
    # any condition's runs give them: here only the augmented ones are saved
    part = Results([s for s in results.specs if s.config["augment_shift"]], store)
    assert learned.saved_init_rows(cfg, part) == learned.saved_init_rows(cfg, results) or (
        learned.init_summary(cfg, learned.saved_init_rows(cfg, part)) == saved
    )
    text = learned.explain(cfg, h)
    assert f"{h['locality']['mlp']['init']['mean']:.3f}" in text and "Ingrosso" in text
    charts = learned.charts(cfg, results)
    assert {"locality", "sharing", "ipr", "locality_by_size", "sharing_by_size"} <= set(charts)
    assert "random filters" in json.dumps(charts["sharing"].to_plotly_json()["layout"])
    names = {t.name for c in charts.values() for t in c.data if t.name}
    assert any("±1 px" in n for n in names), names
    assert learned.headline_text(h).startswith("mlp's weight energy in its best 3×3 window")
    spec = results.specs[0]
    fig = learned.weights_chart(learned.first_layers(store, spec))
    assert [a.text for a in fig.layout.annotations][:2] == ["at initialisation", "trained"]


def test_shifts_read_as_whole_pixels_where_a_table_holds_them_as_floats():
    """A results folder shared with other experiments' runs holds augment_shift as a float
    column (NaN where a run has none): the legends said "±3.0 px"."""
    import pandas as pd

    runs = pd.DataFrame({"n_train": [1000, 1000], "augment_shift": [0.0, 3.0]})
    named = learned._named(learned.Config(), runs)
    assert list(named["augmentation"]) == ["no augmentation", "shifts up to ±3 px"]


def ci(mean, lo=None, hi=None):
    return {"mean": mean, "ci95": None if lo is None else [lo, hi], "n": 1 if lo is None else 3}


def headline(loc: tuple, share: tuple) -> dict:
    """A headline written by hand: (init, trained, change) CIs of MLP locality, local sharing."""
    stages = dict(zip(learned.STAGES, loc, strict=True))
    cond = {
        "images": 4000,
        "shift": 0,
        "locality": {"mlp": stages, "cnn": {s: ci(1.0, 1.0, 1.0) for s in learned.STAGES}},
        "ipr": {"mlp": {s: ci(0.003, 0.002, 0.004) for s in learned.STAGES}},
        "sharing": {"local": dict(zip(learned.STAGES, share, strict=True))},
        "accuracy": {"mlp": ci(0.9, 0.89, 0.91)},
    }
    return {**cond, "window": 5, "chance_sharing": 0.285, "conditions": [cond]}


def test_the_explanation_turns_with_the_numbers():
    cfg = parse(learned.Config, {})
    rose = headline(
        (ci(0.049, 0.048, 0.050), ci(0.092, 0.088, 0.096), ci(0.2, 0.19, 0.21)),
        (ci(0.285, 0.284, 0.286), ci(0.287, 0.283, 0.291), ci(0.5, 0.49, 0.51)),
    )
    text = learned.explain(cfg, rose)
    assert "0.049 (95% CI 0.048–0.050, 3 seeds)" in text
    assert "0.092 (95% CI 0.088–0.096, 3 seeds) trained: it rose clearly" in text
    assert "the update itself is local" in text
    assert "and 0.287 (95% CI 0.283–0.291, 3 seeds) trained: the intervals overlap" in text
    assert "pushed the filters at different positions in similar directions" in text
    flat = headline(
        (ci(0.049, 0.048, 0.050), ci(0.049, 0.047, 0.051), ci(0.05, 0.04, 0.06)),
        (ci(0.285), ci(0.285), ci(0.28)),
    )
    text = learned.explain(cfg, flat)
    assert "it rose" not in text and "the update itself is local" not in text
    assert "one seed gives no interval" in text and "no more alike than random filters" in text


def test_the_init_part_is_bounded_by_the_probe_budget():
    cfg = parse(learned.Config, {"seeds": 100, "width": 32, "mlp_width": 1024})
    assert learned.init_problem(cfg, None) is None
    said = learned.init_problem(cfg, 1.0)
    assert said and "this server allows 1.0 per view" in said and "Lower the seeds" in said
    assert learned.init_problem(parse(learned.Config, {}), 1.0) is None  # the defaults fit


def test_the_bundle_keeps_the_weights_the_weights_tab_opens_on():
    def kept(**config):
        return bundle.keeps_weights({"experiment": "learned", "params": 10**6, **config})

    assert kept(seed=0, config={"n_train": 0, "augment_shift": 0})
    assert not kept(seed=1, config={"n_train": 0, "augment_shift": 0})
    assert not kept(seed=0, config={"n_train": 1000, "augment_shift": 0})
    assert not kept(seed=0, config={"n_train": 0, "augment_shift": 3})


# --- the page ---------------------------------------------------------------------------------
PAGE = "pages/learned.py"


def test_the_page_shows_the_layers_at_initialisation_before_any_training(results):
    at = open_page(PAGE, {**query_for(learned.TINY), "seeds": "2"})
    assert not at.exception, at.exception
    said = " ".join(m.value for m in at.markdown)
    assert "At initialisation, before any training" in said and "best 3×3 window" in said
    assert any("runs to train" in i.value for i in at.info)


def test_the_page_with_saved_runs(tiny_saved, monkeypatch):
    monkeypatch.setenv("CNNEXP_RESULTS", str(tiny_saved("learned")))
    at = open_page(PAGE, {**query_for(learned.TINY), "seeds": "2"})
    assert not at.exception, at.exception
    assert any("Cached" in c.value for c in at.caption)
    said = " ".join(m.value for m in at.markdown)
    # complete: the explanation sets the layers at initialisation beside the trained ones
    assert "At initialisation, before any training" not in said
    assert "at initialisation" in said and "Ingrosso & Goldt" in said
    assert len(at.get("plotly_chart")) == 3  # locality, sharing, IPR
    at = open_tab(at, "learned", "First-layer weights")
    assert not at.exception, at.exception
    links = [p.proto for p in at.get("page_link")]
    assert links and "Look inside this run (mlp · 200 images · no augmentation" in links[0].label
    assert links[0].page.endswith("inside") or "run=" in links[0].query_string
    assert len(at.get("plotly_chart")) == 1


def test_the_page_on_its_bundled_runs_loads_no_torch(tmp_path):
    """With the defaults' runs saved, the layers at initialisation come from them: a viewer's
    server needs no PyTorch for this page (its weights tab aside)."""
    import subprocess
    import sys

    from tests.conftest import ROOT, cli_env
    from tests.test_app import NO_TORCH

    results = tmp_path / "results"
    bundle.seed(results, ROOT / "bundle")
    code = NO_TORCH.format(root=str(ROOT), pages=[PAGE], app=str(ROOT / "app.py"))
    p = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=cli_env(results),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    assert p.stdout.strip().splitlines()[-1] == "False"
