"""cnnexp/probes/field.py: the instant part of the Receptive field page — the slider
stack's field table, its effective field, the depth sweep, the probe's cost bound and its
explanation — and its command line (`python -m cnnexp probe field`)."""

import json

import numpy as np
import pytest

from cnnexp import fields, policy
from cnnexp.config import ConfigError, describe, parse
from cnnexp.probes import field as fp
from tests.test_cli import cli


def probe_cli(results, *args, check=True):
    return cli(results, "probe", "field", *args, check=check)


def ci(mean, lo=None, hi=None, n=3):
    return {"mean": mean, "ci95": None if lo is None else [lo, hi], "n": 1 if lo is None else n}


def test_field_table_follows_the_recurrence_layer_by_layer():
    cfg = parse(fp.Config, {"rf_depth": 3, "rf_kernel": 5, "rf_dilation": 2, "rf_pool_every": 2})
    rows = fp.field_table(cfg)
    assert [r["layer_is"] for r in rows] == [
        "conv 5×5, dilation 2",
        "conv 5×5, dilation 2",
        "2×2 average pool, stride 2",
        "conv 5×5, dilation 2",
    ]
    # 1 + 8, + 8, + 1 (pool, jump 1 → 2), + 8·2
    assert [(r["side"], r["jump"]) for r in rows] == [(9, 1), (17, 1), (18, 2), (34, 2)]


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"rf_kernel": 4}, "kernel 4 is even"),
        ({"rf_depth": 16, "rf_kernel": 9, "rf_dilation": 4}, "larger than the 199-pixel map"),
        ({"rf_depth": 0}, "rf_depth"),
    ],
)
def test_bad_probe_settings_name_the_problem(values, words):
    with pytest.raises(ConfigError, match=words):
        parse(fp.Config, values)


def test_the_effective_field_is_a_fraction_of_the_theoretical_one():
    cfg = parse(fp.Config, {"rf_depth": 8, "rf_seeds": 2})  # theoretical side 17
    eff = fp.effective(cfg)
    assert eff["theoretical"] == 17
    e50, e90 = eff["effective_50"]["mean"], eff["effective_90"]["mean"]
    assert e50 < e90 < 17, (e50, e90)
    assert eff["effective_90"]["n"] == 2
    grad = eff["map"]
    assert grad.shape == (fp.map_size(cfg.layers()),) * 2
    c = grad.shape[0] // 2
    cy, cx = fields.centroid(grad)
    assert abs(cy - c) <= 1 and abs(cx - c) <= 1  # the mass is centred on the unit
    outside = grad.copy()
    outside[c - 8 : c + 9, c - 8 : c + 9] = 0
    assert outside.max() == 0  # and none lies outside the theoretical field


def depth_exponent(depths: list[int], fraction: float, seed: int) -> float:
    """Slope of log(effective side) against log(depth) for stride-1 3×3 stacks."""
    size = 2 * (1 + max(depths) * 2) + 1  # the whole theoretical field fits
    sides = [
        fields.mass_side(fp.effective_map(fields.stack(d, 3), size, seed=seed), fraction)
        for d in depths
    ]
    return float(np.polyfit(np.log(depths), np.log(sides), 1)[0])


def test_effective_field_grows_like_the_square_root_of_depth():
    depths = [2, 4, 8, 16]
    slopes = [depth_exponent(depths, fraction=0.9, seed=s) for s in range(2)]
    theory = [fields.theoretical(fields.stack(d, 3))[-1]["side"] for d in depths]
    theory_slope = np.polyfit(np.log(depths), np.log(theory), 1)[0]
    assert theory_slope > 0.9  # linear in depth
    assert all(0.3 < s < 0.75 for s in slopes), slopes  # about √depth, far below linear


def test_depth_sweep_exponents_theory_linear_effective_about_square_root():
    rows = fp.sweep(2)
    exps = fp.exponents(rows)
    plain = exps["plain"]
    assert plain["depths"] == [1, 2, 4, 8, 16]
    assert plain["theoretical"] > 0.85  # 1 + 2L: linear, bent below 1 only by the 1
    assert 0.3 < plain["effective"]["mean"] < 0.8, plain
    assert plain["effective"]["mean"] < plain["theoretical"]
    # pooling multiplies the jump: its fields grow faster than any plain stack's
    assert exps["pool every 2"]["effective"]["mean"] > 1.0
    text = fp.explain(parse(fp.Config, {}), fp.effective(parse(fp.Config, {"rf_seeds": 2})), exps)
    assert "Luo et al." in text and "depth^" in text
    names = {t.name for t in fp.sweep_chart(rows).data if t.name}
    assert "plain · theoretical" in names  # a formula: no seeds to count (found: "(2 seeds)")
    assert "plain · effective 50% (2 seeds)" in names


def test_the_field_probe_compares_the_fitted_exponent_with_luo_et_al():
    cfg = parse(fp.Config, {})
    eff = {
        "theoretical": 9,
        "effective_50": ci(3.0, 2.5, 3.5),
        "effective_90": ci(6.0, 5.0, 7.0),
    }

    def exps(e):
        return {
            "plain": {"depths": [1, 2, 4], "theoretical": 0.9, "effective": ci(e, e - 0.1, e + 0.1)}
        }

    text = fp.explain(cfg, eff, exps(0.5))
    assert "theoretical field is **9 pixels** a side" in text
    assert (
        "3.0 px (95% CI 2.5–3.5 px, 3 seeds)" in text and "33% and 67% of the theoretical" in text
    )
    assert "the effective field is smaller" in text
    assert "depth^0.90, the effective (90%) side as depth^0.50 (95% CI 0.40–0.60, 3 seeds)" in text
    assert "the fitted exponent agrees" in text and "departs" not in text

    text = fp.explain(cfg, {**eff, "effective_90": ci(9.0, 9.0, 9.0)}, exps(0.9))
    assert "the 90% square still fills the whole field" in text
    assert "the effective field is smaller" not in text
    assert "the fitted 0.90 departs from it at these depths" in text and "agrees" not in text


def test_the_worst_probe_fits_the_hosted_probe_budget():
    hosted = policy.Caps.defaults("guarded").probe_gflop
    assert fp.worst_gflop() < hosted
    cfg = parse(fp.Config, {})
    assert fp.budget_problem(cfg, None) is None and fp.budget_problem(cfg, hosted) is None
    refusal = fp.budget_problem(cfg, 0.01)
    assert "GFLOP" in refusal and "Lower the depth" in refusal


def test_cli_probe_answers_at_once(results):
    out = json.loads(probe_cli(results, "--rf-depth", "8", "--rf-seeds", "2", "--json").stdout)
    assert out["config"]["rf_depth"] == 8 and out["gflop"] > 0
    assert [r["side"] for r in out["field"]] == [3, 5, 7, 9, 11, 13, 15, 17]
    e = out["effective"]
    assert e["theoretical"] == 17 and e["effective_90"]["n"] == 2
    assert e["effective_50"]["mean"] < e["effective_90"]["mean"] < 17
    assert "map" not in e and "exponents" not in out  # both only when asked for
    pooled = ("--rf-kernel", "5", "--rf-dilation", "2", "--rf-pool-every", "2")
    out = json.loads(probe_cli(results, "--rf-depth", "3", *pooled, "--map", "--json").stdout)
    assert [(r["side"], r["jump"]) for r in out["field"]] == [(9, 1), (17, 1), (18, 2), (34, 2)]
    side = fp.map_size(parse(fp.Config, out["config"]).layers())
    assert len(out["effective"]["map"]) == side and len(out["effective"]["map"][0]) == side
    text = probe_cli(results, "--rf-depth", "3", *pooled).stdout
    assert "theoretical field 34 px" in text and "2×2 average pool, stride 2" in text


def test_cli_probe_sweeps_depth_on_request(results):
    out = json.loads(probe_cli(results, "--rf-seeds", "1", "--sweep", "--json").stdout)
    plain = out["exponents"]["plain"]
    assert plain["depths"] == list(fp.SWEEP_DEPTHS) and plain["effective"]["n"] == 1
    assert plain["effective"]["mean"] < plain["theoretical"]
    assert {r["variant"] for r in out["sweep"]} == set(fp.VARIANTS)
    text = probe_cli(results, "--rf-seeds", "1", "--sweep").stdout
    assert "plain 3×3, depths 1, 2, 4, 8, 16" in text


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--rf-kernel", "4"], "kernel 4 is even"),
        (["--rf-depth", "16", "--rf-kernel", "9", "--rf-dilation", "4"], "199-pixel map"),
        (["--rf-depth", "0"], "rf_depth"),
        (["--rf-seeds", "9"], "rf_seeds"),
        (["--rf-depth", "many"], "rf_depth"),
        (["--max-gflop", "0.001"], "needs 0.0035 GFLOP of compute, more than --max-gflop 0.001"),
        (["--rf-dep", "3"], "unrecognized arguments: --rf-dep"),  # no abbreviations
        (["--max-gflop", "0"], "--max-gflop 0: allowed: a number > 0"),
        (["--rf-kernel", "3", "--unknown", "1"], "unrecognized arguments"),
    ],
)
def test_cli_probe_bad_input_exits_2_with_the_reason(results, flags, words):
    p = probe_cli(results, *flags, "--json", check=False)
    assert p.returncode == 2 and words in p.stderr, p.stderr
    assert "Traceback" not in p.stderr and p.stdout == ""


def test_cli_probe_map_without_json_is_refused_not_ignored(results):
    p = probe_cli(results, "--map", check=False)
    assert p.returncode == 2 and "use it with --json" in p.stderr and p.stdout == ""


def test_cli_probe_every_flag_has_help(results):
    text = "".join(probe_cli(results, "--help").stdout.split())  # argparse wraps anywhere
    for spec in describe(fp.Config):
        assert spec.flag in text and "".join(spec.help.split()) in text, spec.flag
    own = {
        "--sweep": "also sweep depth",
        "--map": "include the effective field's map",
        "--max-gflop": "refuse a probe",
        "--json": "print one JSON object",
    }
    for flag, words in own.items():
        assert flag in text and "".join(words.split()) in text, flag
