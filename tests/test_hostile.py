"""Hostile links on every page: oversized, negative, non-numeric, repeated, markdown, very
long and unknown values leave each page working, the refusal visible as literal text, and
nothing computed beyond the caps."""

import pytest

from cnnexp import experiments
from cnnexp.config import describe, parse
from cnnexp.experiments import scaling
from tests.test_app import open_page

LINK = "[Sign in](https://example.org)"
VALUES = ["1e308", "-5", "ten", "NaN", "x" * 5000, LINK]
PAGES = ["pages/home.py", "pages/runs.py"] + [f"pages/{n}.py" for n in experiments.names()]


def hostile_query(page: str) -> dict:
    """Every field of the page's config gets two bad values (a repeated key), one a link."""
    name = page.removeprefix("pages/").removesuffix(".py")
    fields = describe(experiments.get(name).Config) if name in experiments.names() else []
    query = {f.name: [VALUES[i % len(VALUES)], LINK] for i, f in enumerate(fields)}
    return {**query, "runs": [LINK, "9" * 5000], "unknown_key": LINK}


def markdown_texts(at) -> list[str]:
    """Everything the page rendered as markdown (where a link would be live)."""
    kinds = ("markdown", "caption", "warning", "error", "info", "success", "title", "header")
    return [e.value for kind in kinds for e in at.get(kind)]


@pytest.mark.parametrize("page", PAGES)
def test_a_hostile_link_leaves_the_page_working(results, page):
    at = open_page(page, hostile_query(page))
    assert not at.exception, at.exception
    assert not any("example.org" in t for t in markdown_texts(at))  # never a live link
    if page not in ("pages/home.py", "pages/runs.py"):
        literal = " ".join(t.value for t in at.text)
        assert LINK in literal and "allowed:" in literal  # the refusal, visible and literal
    assert not results.exists() or not any(results.rglob("*.parquet"))  # nothing trained


ISSUE_PROBE = {
    "image_size": "256",
    "channels": "32",
    "kernel": "9",
    "depth": "4",
    "shift": "8",
    "shift_y": "8",
    "colour": "true",
    "seed": "7",
}


@pytest.mark.parametrize("mode", ["viewer", "launch"])
def test_the_probe_link_from_the_issue_is_refused_before_it_computes(results, monkeypatch, mode):
    monkeypatch.setenv("CNNEXP_MODE", mode)
    at = open_page("pages/equivariance.py", ISSUE_PROBE)
    assert not at.exception, at.exception
    refusal = " ".join(w.value for w in at.warning)
    assert "MB of memory (the limit is" in refusal and "Lower the photo side" in refusal
    assert not at.get("plotly_chart")  # the probe drew nothing: it never ran


def test_a_probe_within_the_budget_still_runs_in_viewer_mode(results, monkeypatch):
    monkeypatch.setenv("CNNEXP_MODE", "viewer")
    at = open_page("pages/equivariance.py", {"image_size": "32", "channels": "4"})
    assert not at.exception, at.exception
    assert not any("limit is" in w.value for w in at.warning)
    assert at.get("plotly_chart")


def test_a_lower_budget_set_by_the_server_is_enforced(results, monkeypatch):
    monkeypatch.setenv("CNNEXP_PROBE_MB", "1")
    at = open_page("pages/equivariance.py", {"image_size": "32", "channels": "4"})
    assert any("the limit is 1)" in w.value for w in at.warning)


def test_the_probe_settings_help_states_the_budget_of_the_visitors_mode(results, monkeypatch):
    helps = {}
    for mode in ("launch", "viewer"):
        monkeypatch.setenv("CNNEXP_MODE", mode)
        at = open_page("pages/equivariance.py")
        assert not at.exception, at.exception
        helps[mode] = at.select_slider(key="image_size").help
        assert "Probe budget on this server" in helps[mode]
        assert at.slider(key="shift").help.endswith(helps[mode].split("\n\n", 1)[1])
    assert "5,000 GFLOP" in helps["launch"] and "4,096 MB" in helps["launch"]
    assert "200 GFLOP" in helps["viewer"] and "512 MB" in helps["viewer"]
    assert "Probe budget" not in at.selectbox(key="padding").help  # only what counts


TOP_OF_EVERY_RANGE = {  # the largest layer the scaling config allows, whatever a link says
    "image_size": 512,
    "in_channels": 512,
    "out_channels": 1024,
    "kernel": 15,
    "stride": 1,
    "padding": 16,
}


def test_the_formula_check_costs_nothing_at_the_top_of_every_range():
    counts = scaling.module_counts(parse(scaling.Config, TOP_OF_EVERY_RANGE))
    # 3.9e16 parameters would be 154 PB of float32: counted, so built on the meta device
    assert counts["fc"]["params"] == 38_606_602_317_926_400
    assert counts == scaling.analytic(parse(scaling.Config, TOP_OF_EVERY_RANGE))


def formula_table(at):
    return next(d.value for d in at.dataframe if "parameters (module)" in d.value.columns)


def test_the_formula_check_is_bounded_by_the_configs_ranges_not_the_sliders(results):
    beyond = {"image_size": "100000", "in_channels": "1e308", "out_channels": "-5", "kernel": "99"}
    at = open_page("pages/scaling.py", beyond)
    assert not at.exception, at.exception
    literal = " ".join(t.value for t in at.text)
    assert "'100000'" in literal and "allowed: >= 1 and <= 512" in literal
    table = formula_table(at)  # checked at the defaults that stood in for the refused values
    default = scaling.analytic(parse(scaling.Config, {}))["fc"]["params"]
    assert table["agree"].all() and table["parameters (module)"].iloc[0] == default
    at = open_page("pages/scaling.py", {k: str(v) for k, v in TOP_OF_EVERY_RANGE.items()})
    assert not at.exception, at.exception
    table = formula_table(at)
    assert table["agree"].all() and table["parameters (module)"].iloc[0] == 38_606_602_317_926_400


@pytest.mark.parametrize("page", [f"pages/{n}.py" for n in experiments.names()])
def test_an_infinite_value_is_refused_not_raised(results, page):
    """Found: `?seeds=inf` raised OverflowError inside Streamlit's number input, which reads
    a bound widget's value from the link itself, and showed visitors a traceback."""
    name = page.removeprefix("pages/").removesuffix(".py")
    fields = describe(experiments.get(name).Config)
    for value in ("inf", "-inf", "1e400"):
        at = open_page(page, {f.name: value for f in fields})
        assert not at.exception, (value, at.exception)
        assert f"'{value}'" in " ".join(t.value for t in at.text)  # the refusal, literal


def test_a_link_that_plans_too_much_is_refused_before_the_plan(results, monkeypatch):
    """Found: one viewer's link to Scaling planned 120,700 runs and estimated each: over a
    minute of server CPU with nothing on the page. Every value was within its range."""
    monkeypatch.setenv("CNNEXP_MODE", "viewer")
    many = {"mode": "empirical", "mlp_widths": [str(w) for w in range(1, 32)], "seed": "7"}
    at = open_page("pages/scaling.py", many)
    assert not at.exception, at.exception
    said = " ".join(e.value for e in at.error)
    assert "at most 16 values per setting" in said and "has 31" in said
    assert not any("runs to train" in i.value for i in at.info)  # nothing was planned
    wide = {"mode": "empirical", "n_trains": [str(n) for n in range(100, 1700, 100)]}
    at = open_page("pages/scaling.py", {**wide, "seeds": "100"})
    assert not at.exception, at.exception
    said = " ".join(e.value for e in at.error)
    assert "this server shows at most 2,000 on one page" in said, said
    assert not any("runs to train" in i.value for i in at.info)


def test_back_to_an_unusable_link_value_is_refused_not_raised(results):
    """Found: Back to a history entry with `?seeds=inf` reruns the open session, whose drawn
    widget owns the parameter: Streamlit refused to drop it (StreamlitAPIException) and the
    number input then raised OverflowError. The refusal and a clean link show instead."""
    at = open_page("pages/scaling.py", {"seeds": "5", "lr": "0.01"})
    assert not at.exception, at.exception
    at.query_params["seeds"] = "inf"
    at.run()
    assert not at.exception, at.exception
    assert "Seeds (seeds): 'inf'" in " ".join(t.value for t in at.text)
    link = at.get("page_link")
    assert len(link) == 1 and "without them" in link[0].proto.label
    assert link[0].proto.query_string == "lr=0.01"  # the rest of the link kept
    del at.query_params["seeds"]  # where that link leads
    at.run()
    assert not at.exception, at.exception
    assert not any("'inf'" in t.value for t in at.text)  # no stale refusal
    assert not at.get("page_link")


def test_both_panels_say_what_they_refused_until_the_visitor_changes_it(results):
    """Found: on a page with two settings panels the second's cleanup reran the page and
    the first's refusal was lost (Equivariance: `?seeds=inf&shift=abc` said only shift)."""
    at = open_page("pages/equivariance.py", {"seeds": "inf", "shift": "abc"})
    assert not at.exception, at.exception
    said = " ".join(t.value for t in at.text)
    assert "Seeds (seeds): 'inf'" in said and "(shift): 'abc'" in said, said
    at.run()  # any rerun (a probe slider moved): still said
    said = " ".join(t.value for t in at.text)
    assert "'inf'" in said and "'abc'" in said, said
    at.number_input(key="seeds").set_value(5).run()  # the visitor sets seeds themselves
    said = " ".join(t.value for t in at.text)
    assert "'inf'" not in said and "'abc'" in said, said
