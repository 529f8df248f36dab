"""cnnexp/experiments/normalization.py (and the norm layers of cnnexp/models.py): each
variant normalises over the axes it should; BatchNorm refuses batch size 1; activation
statistics are recorded; a tiny sweep runs end to end through the CLI."""

import json
import urllib.parse

import pytest
import torch

from cnnexp import activations, bundle, models, stats
from cnnexp.config import ConfigError, TrainSetup, parse
from cnnexp.experiments import normalization
from cnnexp.results import Results
from cnnexp.store import Store
from tests.test_app import open_page, open_tab
from tests.test_cli import cli
from ui.links import query_for

# The axes each variant averages over, for a (N, C, H, W) batch, and its group shape.
AXES = {
    "batch": "over N, H, W per channel",
    "layer": "over C, H, W per image",
    "group": "over 4 channels and H, W per image",
    "instance": "over H, W per image and channel",
}


def norm_layer(kind: str, channels: int = 8) -> torch.nn.Module:
    return models._norm({"norm": kind, "channels": channels, "groups": 4, "spatial": True}).train()


@pytest.mark.parametrize("kind", list(AXES))
def test_each_variant_normalises_over_its_axes(kind):
    torch.manual_seed(0)
    x = torch.randn(6, 8, 5, 5) * torch.linspace(0.5, 5, 8).view(1, 8, 1, 1) + 3.0
    y = norm_layer(kind)(x)
    groups = {
        "batch": y.transpose(0, 1).reshape(8, -1),  # channel: N·H·W values
        "layer": y.reshape(6, -1),  # image: C·H·W values
        "group": y.reshape(6, 4, -1).reshape(24, -1),  # (image, group of 2 channels)
        "instance": y.reshape(48, -1),
    }[kind]  # (image, channel): H·W values
    torch.testing.assert_close(groups.mean(1), torch.zeros(len(groups)), atol=1e-5, rtol=0)
    torch.testing.assert_close(
        groups.var(1, unbiased=False), torch.ones(len(groups)), atol=1e-3, rtol=0
    )


def test_the_variants_differ():
    x = torch.randn(6, 8, 5, 5) * 3 + 1
    outs = {k: norm_layer(k)(x) for k in AXES}
    assert not torch.allclose(outs["batch"], outs["layer"])
    assert not torch.allclose(outs["group"], outs["instance"])


def test_batchnorm_refuses_batch_size_one_with_a_clear_message():
    with pytest.raises(ConfigError, match="norm 'batch' needs batch_size >= 2"):
        parse(normalization.Config, {"batch_sizes": (1, 8)})
    parse(normalization.Config, {"batch_sizes": (1, 8), "norms": ("group", "layer")})
    with pytest.raises(ValueError, match="batch_size >= 2"):  # pydantic's, before parse()
        TrainSetup(norm="batch", batch_size=1)


def test_groups_that_do_not_divide_the_width_say_so_in_a_sentence():
    """Found: pydantic's own text ("1 validation error for TrainSetup … For further
    information visit https://errors.pydantic.dev …") inside the message."""
    with pytest.raises(ConfigError) as e:
        parse(normalization.Config, {"norms": ("group",), "groups": 3})
    said = str(e.value)
    assert "main comparison: groups 3 does not divide the 16 channels" in said
    assert "pydantic" not in said and "validation error" not in said


def test_learning_rate_scales_linearly_with_the_batch():
    cfg = parse(normalization.Config, {"batch_sizes": (8, 256), "lr": 0.002, "batch_size": 64})
    assert normalization.scaled_lr(cfg, 8) == pytest.approx(0.00025)
    lrs = {s.label: s.config["lr"] for s in normalization.plan(cfg)}
    assert lrs["batch · batch 256"] == pytest.approx(0.008)


def test_block_stats_cover_every_block_and_batchnorm_train_mode_differs():
    torch.manual_seed(0)
    model = models.build(TrainSetup(dataset="digits", width=4, depth=2).layers())
    x, y = torch.rand(64, 1, 8, 8), torch.randint(0, 10, (64,))
    rows = activations.block_stats(model, x)
    assert [(r["layer"], r["stat"]) for r in rows] == [
        (1, "mean"),
        (1, "std"),
        (2, "mean"),
        (2, "std"),
    ]
    assert model.training  # restored
    before = {k: v.clone() for k, v in model.state_dict().items()}
    acc = activations.train_mode_accuracy(model, x, y, batch_size=8)
    assert 0.0 <= acc <= 1.0
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # untouched


def test_cli_tiny_sweep_end_to_end(results):
    out = json.loads(
        cli(
            results,
            "run",
            "normalization",
            "--dataset",
            "digits",
            "--epochs",
            "2",
            "--width",
            "4",
            "--groups",
            "2",
            "--norms",
            "none,batch,group",
            "--batch-sizes",
            "4,16,64",  # 64: the main comparison's batch, also the learning-rate sweep's
            "--lrs",
            "0.001,0.01",
            "--seeds",
            "2",
            "--json",
        ).stdout
    )
    h = out["headline"]
    assert set(h["final_acc"]) == {"none", "batch", "group"}
    assert [r["batch_size"] for r in h["batch_size"]] == [4, 16, 64]
    assert [r["lr"] for r in h["lr"]] == [0.001, 0.01]
    assert h["batchnorm_modes"]["train"]["n"] == 2
    runs = Store(results).runs("normalization")
    acts = Store(results).table("activations", runs["run_id"][:1])
    assert set(acts["epoch"]) == {0, 1, 2} and set(acts["layer"]) == {1, 2}
    # Every run measures the landscape, so every sweep point carries both explanations'
    # measures, with seeds and intervals, on the page and in the explanation.
    for row in [*h["batch_size"], *h["lr"]]:
        for n in ("none", "batch", "group"):
            assert row["why"][n]["beta"]["n"] == 2 and row["why"][n]["drift"]["n"] == 2
    cfg = parse(normalization.Config, out["config"])
    assert "Across the sweeps, BatchNorm's landscape (β):" in normalization.explain(cfg, h)
    charts = normalization.charts(cfg, Results(normalization.plan(cfg), Store(results)))
    assert {"batch_size_beta", "batch_size_drift", "lr_beta", "lr_drift"} <= set(charts)
    # Each batch size at its own scaled rate: found, the point at 64 pooled the learning-rate
    # sweep's runs at that batch (6 "seeds" of three rates, one interval over all).
    for chart in ("batch_size", "learning_rate"):
        assert {t.name.split(" (")[1] for t in charts[chart].data} == {"2 seeds)"}, chart
    at = open_page("pages/normalization.py", {**query_for(out["config"]), "seeds": "2"})
    assert not at.exception, at.exception
    for tab in ("Batch size", "Learning rate"):  # each sweep's tab explains its sweep
        open_tab(at, "normalization", tab)
        assert not at.exception, at.exception
        assert sum("across this sweep" in m.value for m in at.markdown) == 1, tab


def test_landscape_is_measured_during_training_and_shown_on_its_tab(results):
    out = json.loads(
        cli(
            results,
            "run",
            "normalization",
            *("--dataset", "digits", "--epochs", "2", "--width", "4", "--norms", "none,batch"),
            *("--seeds", "2", "--json"),
        ).stdout
    )
    h = out["headline"]
    runs = Store(results).runs("normalization")
    # The landscape, measured during training: every measure at every checkpoint of a run.
    land = Store(results).table("landscape", runs["run_id"][:1])
    assert len(land) == normalization.LANDSCAPE_POINTS * 3
    assert land["epochs_done"].min() == 0 and 1.5 < land["epochs_done"].max() <= 2
    for n in ("none", "batch"):
        assert h["why"][n]["beta"]["n"] == 2 and h["why"][n]["beta"]["mean"] > 0
        assert h["why"][n]["drift"]["n"] == 2
    assert "β-smoothness" in normalization.explain(parse(normalization.Config, out["config"]), h)
    cfg = parse(normalization.Config, out["config"])
    drift = normalization.charts(cfg, Results(normalization.plan(cfg), Store(results)))["drift"]
    assert drift.layout.yaxis.tickformat is None  # a ratio, not a share: found in percent
    # The page shows both measures on its own tab.
    at = open_page("pages/normalization.py", {**query_for(out["config"]), "seeds": "2"})
    assert not at.exception, at.exception
    assert any(
        "Internal covariate shift" in m.value or "β-smoothness" in m.value for m in at.markdown
    )
    # Only the open tab is built: its charts (the landscape's β and loss range, drift)
    shown = {"Main comparison": 3, "Why it helps": 3, "Inside the network": 2}
    for tab, n in shown.items():
        open_tab(at, "normalization", tab)
        assert not at.exception, at.exception
        assert len(at.get("plotly_chart")) == n, tab
    # These runs are not the shipped ones: no link to them on an empty sweep tab.
    open_tab(at, "normalization", "Batch size")
    assert not any("shipped" in p.proto.label for p in at.get("page_link"))


def test_an_empty_sweep_tab_links_to_the_shipped_sweep_only_where_it_leads_to_it(results):
    """The page's defaults leave the sweeps off; the bundle ships them. The link is shown
    when those runs are saved here and the link opens exactly them: it carries only the
    shipped settings, so a visitor who changed another (seeds) would land on nothing."""
    assert bundle.seed(results, bundle.ROOT / "bundle") > 0
    shipped = bundle.shipped_with("normalization", "batch_sizes")
    at = open_page("pages/normalization.py", tab=("normalization", "Batch size"))
    assert not at.exception, at.exception
    link = next(p.proto for p in at.get("page_link") if "shipped" in p.proto.label)
    sizes = ", ".join(str(b) for b in shipped["batch_sizes"])
    assert link.label == f"Open the runs shipped with cnnexp: batch sizes {sizes}"
    query = urllib.parse.parse_qs(link.query_string)
    assert query["tabs-normalization"] == ["Batch size"], query
    at = open_page("pages/normalization.py", query)  # where it leads: the sweep's charts
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    assert at.multiselect(key="batch_sizes").value == shipped["batch_sizes"]
    assert not any("shipped" in p.proto.label for p in at.get("page_link"))
    assert len(at.get("plotly_chart")) >= 2
    other = open_page("pages/normalization.py", {"seeds": "2"}, ("normalization", "Batch size"))
    assert not other.exception, other.exception
    assert not any("shipped" in p.proto.label for p in other.get("page_link"))


def test_the_page_leads_with_a_one_sentence_verdict_and_each_tab_says_what_its_charts_show(
    results,
):
    """Found: a twelve-line paragraph of every measurement's numbers above the tabs."""
    assert bundle.seed(results, bundle.ROOT / "bundle") > 0
    shipped = bundle.shipped_with("normalization", "batch_sizes")
    at = open_page("pages/normalization.py", query_for(shipped))
    assert not at.exception, at.exception
    (verdict,) = [m.value for m in at.markdown if m.value.startswith("At depth")]
    assert verdict.count(". ") == 0 and verdict.endswith("."), verdict  # one sentence
    assert "cannot rank the variants" in verdict or "clearly ahead" in verdict, verdict
    details = ("Going from batch", "Learning rates within", "Why does BatchNorm help")
    assert not any(d in m.value for m in at.markdown for d in details)  # none on the main tab
    for tab, detail in (
        ("Batch size", "Going from batch 256 down to batch 4"),
        ("Learning rate", "Learning rates within 2 points of the best result"),
        ("Deeper stack", "At depth 8:"),
        ("Why it helps", "Both measures change together with the normalization layer"),
    ):
        open_tab(at, "normalization", tab)
        assert not at.exception, at.exception
        assert sum(detail in m.value for m in at.markdown) == 1, tab


def _save_runs(store, cfg, beta: dict, drift: dict) -> None:
    """Finished runs of cfg's plan, without training: seed s measures β = beta[s] at every
    checkpoint and block outputs whose spread moves by drift[s] per epoch."""
    for spec in normalization.plan(cfg):
        b, d = beta[spec.seed], drift[spec.seed]
        metrics = [
            {"epoch": e, "split": split, "metric": m, "value": 0.9}
            for e in (1, 2)
            for split in ("train", "test")
            for m in ("acc", "loss")
        ]
        landscape = [
            {"step": i, "progress": i / 4, "epochs_done": i / 2, "measure": m, "value": v}
            for i in range(4)
            for m, v in (("beta", b), ("loss_range", b / 100), ("grad_change", b))
        ]
        spread = [
            {"epoch": e, "layer": 1, "stat": stat, "value": (1 + d) ** e}
            for e in (0, 1, 2)
            for stat in ("mean", "std")
        ]
        record = {
            "run_id": spec.run_id,
            "experiment": "normalization",
            "seed": spec.seed,
            "label": spec.label,
            "status": "done",
            "ended_at": "2026-01-01T00:00:00",
            "config": spec.config,
            "test_acc": 0.9,
        }
        store.save(record, metrics, {"landscape": landscape, "activations": spread})


def test_intervals_of_measures_that_cannot_be_negative_stop_at_zero(store):
    """Found: on Why it helps, β-smoothness's error bars reached below 0 (a t-interval over
    three seeds far apart); the drift's and the loss range's can too."""
    cfg = parse(
        normalization.Config,
        {"dataset": "digits", "norms": ("none", "batch"), "seeds": 3, "batch_sizes": (4, 16)},
    )
    beta, drift = {0: 1.0, 1: 1.0, 2: 40.0}, {0: 0.01, 1: 0.01, 2: 0.5}
    assert stats.mean_ci(beta.values())["ci95"][0] < 0  # the raw interval does reach below
    _save_runs(store, cfg, beta, drift)
    results = Results(normalization.plan(cfg), store)
    charts = normalization.charts(cfg, results)
    names = ["landscape_beta", "landscape_loss_range", "drift", "batch_size_beta"]
    for name in [*names, "batch_size_drift"]:
        bars = [t for t in charts[name].data if t.error_y is not None and t.error_y.visible]
        assert bars, name
        for t in bars:
            low = [y - m for y, m in zip(t.y, t.error_y.arrayminus, strict=True)]
            assert min(low) >= 0, (name, t.name, low)
    text = normalization.explain(cfg, normalization.summarize(cfg, results))
    assert "changes by 14 (95% CI 0–" in text, text  # β's interval, stopped at 0 in words too


def _ci(mean, lo, hi):
    return {"mean": mean, "ci95": [lo, hi], "n": 3}


def test_the_why_explanation_follows_the_numbers():
    def h(bn_beta, bn_drift, bn_acc=0.95):
        return {
            "final_acc": {
                "none": _ci(0.90, 0.89, 0.91),
                "batch": _ci(bn_acc, bn_acc - 0.01, bn_acc + 0.01),
            },
            "why": {
                "none": {
                    "beta": _ci(10, 9, 11),
                    "loss_range": _ci(0.1, 0.09, 0.11),
                    "drift": _ci(0.2, 0.18, 0.22),
                },
                "batch": {"beta": bn_beta, "loss_range": _ci(0.05, 0.04, 0.06), "drift": bn_drift},
            },
        }

    cfg = parse(normalization.Config, {"norms": ("none", "batch")})
    smooth, rough, same = _ci(3, 2, 4), _ci(30, 25, 35), _ci(10, 8, 12)
    steady, shifty = _ci(0.05, 0.04, 0.06), _ci(0.5, 0.4, 0.6)
    text = normalization.explain(cfg, h(smooth, steady))
    assert "both smoother and more accurate" in text and "consistent with the covariate" in text
    text = normalization.explain(cfg, h(rough, shifty))
    assert (
        "the opposite of Santurkar et al.'s finding" in text and "does not explain the gain" in text
    )
    assert "less covariate shift cannot be what helps here" in text
    text = normalization.explain(cfg, h(same, steady, bn_acc=0.80))
    assert "ends less accurate" in text and "cannot tell the two landscapes apart" in text
    assert "without an accuracy gain" in text
    assert "changes by 10 (95% CI 9–11) without and 10 (95% CI 8–12) with" in text
    assert "leans" not in text  # equal means: no lean to report
    # Overlapping intervals whose means go against the textbook say so (found: a β of 35.8
    # against 20.1 read only as "overlap", beside "consistent ... as well").
    text = normalization.explain(cfg, h(_ci(18, 5, 31), steady))
    assert "BatchNorm's mean leans towards rougher, not smoother, within the noise" in text
    assert "consistent with the covariate-shift account." in text  # on its own, not "as well"
    text = normalization.explain(cfg, h(_ci(6, 1, 10.5), _ci(0.25, 0.1, 0.4)))
    assert "leans smoother" in text and "leans towards more drift, not less" in text
    one = {"mean": 30.0, "ci95": None, "n": 1}  # one seed: no interval, so no overlap either
    text = normalization.explain(cfg, h(one, {"mean": 0.5, "ci95": None, "n": 1}))
    assert "overlap" not in text and "leans" not in text
    one_seed = h(one, {"mean": 0.5, "ci95": None, "n": 1})
    one_seed["final_acc"] = {
        k: {**v, "ci95": None, "n": 1} for k, v in one_seed["final_acc"].items()
    }
    text = normalization.explain(cfg, one_seed)
    assert "It ends at 95.0% (1 seed, no interval) against 90.0% (1 seed, no interval)" in text
    assert "overlap" not in text and "holds its block outputs" not in text  # no verdicts
    assert "  " not in text  # no empty verdicts left between sentences


def test_the_sweeps_explanation_counts_where_batchnorm_is_smoother():
    none = {
        "beta": _ci(10, 9, 11),
        "loss_range": _ci(0.1, 0.09, 0.11),
        "drift": _ci(0.2, 0.18, 0.22),
    }

    def why(beta, drift):
        return {
            "none": none,
            "batch": {"beta": beta, "loss_range": none["loss_range"], "drift": drift},
        }

    smooth, rough, same = _ci(3, 2, 4), _ci(30, 25, 35), _ci(10, 8, 12)
    shifty, as_much = _ci(0.5, 0.4, 0.6), _ci(0.2, 0.15, 0.25)
    h = {
        "final_acc": {"none": _ci(0.9, 0.89, 0.91), "batch": _ci(0.9, 0.89, 0.91)},
        "batch_size": [
            {"batch_size": 4, "why": why(smooth, shifty)},
            {"batch_size": 16, "why": why(smooth, as_much)},
        ],
        "lr": [{"lr": 0.01, "why": why(rough, as_much)}],
        "deep": [{"depth": 8, "why": why(same, as_much)}],
    }
    text = " ".join(normalization._explain_why_sweeps(h))
    assert (
        "BatchNorm's landscape (β): smoother at batch 4, batch 16; rougher at lr 0.01; "
        "not distinguishable from no normalization at depth 8." in text
    )
    assert (
        "block outputs (drift): drifting more at batch 4; not distinguishable from no "
        "normalization at batch 16, lr 0.01, depth 8." in text
    )
    assert normalization._explain_why_sweeps({"final_acc": {}}) == []  # no sweep: nothing said
