"""cnnexp/stats.py: the 95% t-interval."""

import pytest

from cnnexp.stats import (
    describe_ci,
    interval_text,
    mean_ci,
    share_ci,
    share_interval,
    shown_points,
)


def test_interval_matches_the_t_distribution():
    ci = mean_ci([1.0, 2.0, 3.0])
    # mean 2, s = 1, t(0.975, 2) = 4.3027: half-width 4.3027 / sqrt(3) = 2.4841
    assert ci["mean"] == pytest.approx(2.0)
    assert ci["ci95"] == pytest.approx([2 - 2.48414, 2 + 2.48414], abs=1e-4)
    assert ci["n"] == 3


def test_one_seed_has_no_interval_and_none_are_skipped():
    assert mean_ci([0.9]) == {"mean": 0.9, "ci95": None, "n": 1}
    assert mean_ci([]) == {"mean": None, "ci95": None, "n": 0}
    assert mean_ci([float("nan"), 1.0])["n"] == 1


def test_description_quotes_the_numbers():
    assert describe_ci(mean_ci([0.97, 0.98])).startswith("97.5% (95% CI")
    assert "1 seed" in describe_ci(mean_ci([0.5]))
    same = describe_ci(mean_ci([5.0, 5.0, 5.01]), scale=1, unit=" px")  # not "CI 5.0–5.0 px"
    assert same == "5.0 px (95% CI rounds to 5.0 px, 3 seeds)"


def test_a_share_interval_stops_at_0_and_100_percent():
    # two seeds far apart: the raw t-interval (t = 12.7 for one degree of freedom) leaves [0, 1]
    ci = mean_ci([0.6, 0.8])
    assert ci["ci95"][0] < 0 and ci["ci95"][1] > 1  # mean_ci keeps the raw interval
    assert share_interval(ci) == (0.0, 1.0)
    assert describe_ci(ci) == "70.0% (95% CI 0.0–100.0%, 2 seeds)"
    assert share_interval(mean_ci([0.5, 0.52, 0.54])) == pytest.approx(
        (0.47032, 0.56968), abs=1e-4
    )  # inside: kept
    assert share_interval(mean_ci([0.9])) is None


def test_differences_in_points_keep_their_whole_interval():
    said = describe_ci(mean_ci([0.6, 0.8]), unit=" points")
    assert "-57.1" in said and "197.1" in said


def test_a_shares_summary_holds_the_clipped_interval():
    """Found: `run baseline --json` gave ci95 [0.764, 1.083] where the page said 76.4–100%:
    every headline's accuracy is summarised by share_ci, so the JSON, Home and README hold the
    interval the pages show."""
    assert share_ci([0.6, 0.8]) == {"mean": pytest.approx(0.7), "ci95": [0.0, 1.0], "n": 2}
    inside = mean_ci([0.5, 0.52, 0.54])
    assert share_ci([0.5, 0.52, 0.54]) == inside  # an interval within [0, 1] is left alone
    assert share_ci([0.9]) == {"mean": 0.9, "ci95": None, "n": 1}
    assert share_ci([]) == mean_ci([])


def test_interval_text_is_describe_cis_bracket_without_the_seeds():
    ci = mean_ci([0.6, 0.8])
    assert interval_text(ci) == "95% CI 0.0–100.0%"
    assert describe_ci(ci) == f"70.0% ({interval_text(ci)}, 2 seeds)"
    assert interval_text(mean_ci([0.6, 0.8]), unit=" pts") == "95% CI -57.1–197.1 pts"
    assert interval_text(mean_ci([0.5])) is None


def test_a_difference_beside_its_values_is_the_difference_of_the_shown_values():
    """Found: "mlp 95.9% → 8.8%" beside "loses the most (87.0 points)": 0.95867 − 0.08825 is
    87.04 points, but a reader subtracts the numbers shown."""
    before, after = 0.9586666623751322, 0.08824999909847975
    assert f"{before:.1%} → {after:.1%}" == "95.9% → 8.8%"
    assert f"{(before - after) * 100:.1f}" == "87.0"  # what the page said
    assert shown_points(before, after) == pytest.approx(87.1)
    assert f"{shown_points(before, after):.1f}" == "87.1"
    assert shown_points(0.5, 0.5) == 0.0 and shown_points(0.1, 0.2) == pytest.approx(-10.0)
    assert shown_points(0.95867, 0.08825, digits=2) == pytest.approx(95.87 - 8.82)  # 8.82%
