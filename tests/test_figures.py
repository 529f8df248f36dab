"""cnnexp/figures.py: the 95% bands and bars a figure draws are the t-intervals over seeds,
clipped only where the quantity cannot go, and absent where one seed ran."""

import math

import pandas as pd
import pytest

from cnnexp import figures

T_975_2DF = 4.302652729911275  # t(0.975) with 2 degrees of freedom, from a printed table


def frame(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {"model": m, "epoch": e, "seed": s, "value": v}
        for m, per_epoch in values.items()
        for e, seeds in enumerate(per_epoch, start=1)
        for s, v in enumerate(seeds)
    ]
    return pd.DataFrame(rows)


def test_summarise_gives_the_t_interval_over_seeds():
    s = figures.summarise(frame({"cnn": [[0.90, 0.92, 0.94]]}), ["model", "epoch"])
    half = T_975_2DF * 0.02 / math.sqrt(3)
    row = s.iloc[0]
    assert row["n"] == 3 and row["mean"] == pytest.approx(0.92)
    assert (row["lo"], row["hi"]) == pytest.approx((0.92 - half, 0.92 + half))


def test_one_seed_has_no_interval_and_draws_no_band():
    df = frame({"cnn": [[0.5], [0.6]]})
    s = figures.summarise(df, ["model", "epoch"])
    assert s["lo"].isna().all() and s["hi"].isna().all() and (s["n"] == 1).all()
    fig = figures.lines_ci(df, "epoch", "model")
    assert [t.fill for t in fig.data] == [None]  # the mean line only, no zero-width band
    assert fig.data[0].name == "cnn (1 seed)"


def test_the_band_is_the_interval_and_an_accuracy_band_stays_within_0_and_1():
    df = frame({"cnn": [[0.90, 0.92, 0.94], [0.97, 0.99, 1.0]]})
    s = figures.summarise(df, ["model", "epoch"])
    band, line = figures.lines_ci(df, "epoch", "model").data
    assert band.fill == "toself" and line.name == "cnn (3 seeds)"
    # The band's outline runs along hi, then back along lo.
    assert list(band.y) == pytest.approx([*s["hi"], *s["lo"][::-1]])
    assert s["hi"].iloc[1] > 1  # a t-interval over three seeds overshoots 100% here
    band, _ = figures.lines_ci(df, "epoch", "model", percent=True).data
    assert max(band.y) == 1.0 and min(band.y) == pytest.approx(s["lo"].min())


@pytest.mark.parametrize("draw", [figures.points_ci, figures.dots_ci])
def test_an_accuracys_error_bar_stops_at_100_percent(draw):
    """Found: the Normalization batch-size chart's bar reached 110%."""
    df = frame({"cnn": [[0.97, 0.99, 1.0]]})
    top = figures.summarise(df, ["model", "epoch"])["hi"].iloc[0]
    assert top > 1  # the t-interval itself overshoots
    fig = draw(df, "epoch", "value", "model")
    mean = next(t for t in fig.data if t.error_y and t.error_y.visible)
    assert mean.y[0] + mean.error_y.array[0] == pytest.approx(1.0)
    raw = draw(df, "epoch", "value", "model", percent=False)
    mean = next(t for t in raw.data if t.error_y and t.error_y.visible)
    assert mean.y[0] + mean.error_y.array[0] == pytest.approx(top)  # not a share: as it is


def test_error_bars_reach_from_the_mean_to_each_end_and_vanish_for_one_seed():
    s = figures.summarise(frame({"a": [[1.0, 2.0, 6.0]], "b": [[4.0]]}), ["model"])
    bars = figures._error_y(s)
    assert bars["visible"] and not bars["symmetric"]
    assert list(bars["array"]) == pytest.approx([s["hi"].iloc[0] - 3.0, 0])
    assert list(bars["arrayminus"]) == pytest.approx([3.0 - s["lo"].iloc[0], 0])


def test_a_loss_band_stops_at_zero_but_keeps_its_upper_end():
    df = frame({"cnn": [[0.01, 0.02, 0.30], [0.01, 0.02, 0.03]]})
    s = figures.summarise(df, ["model", "epoch"])
    assert s["lo"].iloc[0] < 0  # three seeds this far apart: the t-interval goes below zero
    band, _ = figures.lines_ci(df, "epoch", "model", nonnegative=True).data
    assert list(band.y) == pytest.approx([*s["hi"], *s["lo"][::-1].clip(lower=0)])
    raw, _ = figures.lines_ci(df, "epoch", "model").data  # not a loss: the interval as it is
    assert min(raw.y) == pytest.approx(s["lo"].min())


def test_dots_fit_the_axis_to_the_data_within_0_and_100_percent():
    df = frame({"a": [[0.97, 0.98, 0.99]], "b": [[0.90, 0.95, 1.0]]})
    s = figures.summarise(df, ["model"])
    fig = figures.dots_ci(df, "model", "value", "model")
    # From the lowest interval end to the highest, padded by 12%, and never past 100%.
    low, high = s["lo"].min(), s["hi"].max()
    assert high > 1  # b's t-interval overshoots 100%: its bar, and so the axis, stops there
    pad = (1.0 - low) * 0.12
    assert list(fig.layout.yaxis.range) == pytest.approx([low - pad, 1.0])


def test_an_error_map_is_coloured_from_zero_and_a_map_of_zeros_reads_as_zero():
    grid = pd.DataFrame({"dx": [0, 1, 0, 1], "dy": [0, 0, 1, 1], "err": [0.0, 0.2, 0.1, 0.4]})
    trace = figures.heatmap(grid, "dx", "dy", "err").data[0]
    assert (trace.zmin, trace.zmax) == (0.0, 0.4)
    zeros = figures.heatmap(grid.assign(err=0.0), "dx", "dy", "err").data[0]
    assert (zeros.zmin, zeros.zmax) == (0.0, figures.FLAT_BELOW)
    signed = figures.heatmap(grid.assign(err=[-1.0, 0.0, 0.5, 1.0]), "dx", "dy", "err").data[0]
    assert signed.zmin is None and signed.zmax is None  # a signed value keeps plotly's range


def test_a_long_legend_makes_the_chart_taller_not_the_plot_flatter():
    """Found: with the legend at the figure's foot, ten configurations on the Runs page left
    their plot 120 px tall in a chart of fixed height."""

    def chart(groups: int):
        df = pd.DataFrame(
            [
                {"c": f"configuration {g} · width=16 · depth=3", "seed": s, "x": x, "value": g}
                for g in range(groups)
                for s in range(2)
                for x in range(3)
            ]
        )
        return figures.lines_ci(df, "x", "c")

    assert chart(2).layout.height == 380  # two entries share a row: the usual height
    ten = chart(10).layout.height
    assert ten == 380 + figures.LEGEND_ROW_PX * (10 - 2)  # one entry per row at half a page
    many = chart(60).layout.height
    assert many == 380 + figures.LEGEND_ROW_PX * figures.MAX_EXTRA_ROWS  # then it scrolls


def test_a_few_epochs_tick_in_whole_epochs():
    df = pd.DataFrame({"epoch": [1, 2, 1, 2], "c": "a", "seed": [0, 0, 1, 1], "value": 0.5})
    assert figures.lines_ci(df, "epoch", "c").layout.xaxis.dtick == 1  # not 0.5 or 1.2
    many = pd.DataFrame({"epoch": range(1, 51), "c": "a", "seed": 0, "value": 0.5})
    assert figures.lines_ci(many, "epoch", "c").layout.xaxis.dtick is None  # Plotly's own
    sparse = pd.DataFrame({"epoch": [5, 17, 50, 100], "c": "a", "seed": 0, "value": 0.5})
    assert figures.lines_ci(sparse, "epoch", "c").layout.xaxis.dtick is None  # not 96 ticks


def test_a_sweep_is_ticked_at_its_values_on_a_log_axis():
    df = pd.DataFrame({"batch": [4, 4, 64, 64, 256, 256], "acc": [0.9] * 6, "norm": ["bn"] * 6})
    fig = figures.points_ci(df, "batch", "acc", "norm", log_x=True, ticks_at_x=True)
    assert fig.layout.xaxis.type == "log" and list(fig.layout.xaxis.tickvals) == [4, 64, 256]
    assert figures.points_ci(df, "batch", "acc", "norm", log_x=True).layout.xaxis.tickvals is None


def test_live_progress_draws_each_run_against_its_own_length():
    """Found (issue 25): the x axis spanned the longest run's 50 epochs, squeezing 5-epoch
    curves into its left tenth, and a sweep's runs (tested once, at the end) were single dots."""
    from cnnexp.figures import LiveRun, live_progress

    def rows(epochs: int, tested_at: set[int]) -> list[dict]:
        return [
            {"epoch": e, "train_acc": e / epochs, "test_acc": 0.5 if e in tested_at else None}
            for e in range(1, epochs + 1)
        ]

    short = LiveRun("cnn · original", 0, 5, rows(5, {1, 2, 3, 4, 5}))
    long = LiveRun("cnn · original · 100 images", 0, 50, rows(50, {50}))
    other = LiveRun("cnn · original", 1, 5, rows(5, set())[:2])  # a second seed, under way
    fig = live_progress([short, long, other])
    lines = [t for t in fig.data if t.mode == "lines"]
    assert [max(t.x) for t in lines] == [1.0, 1.0, 0.4]  # each ends at its own share done
    assert len(lines[1].x) == 50  # the sweep's run is a line, not one dot
    dots = [t for t in fig.data if t.mode == "markers"]
    assert [len(t.x) for t in dots] == [5, 1]  # test accuracy where it was measured
    assert [t.showlegend for t in lines] == [True, True, False]  # seeds share an entry
    assert lines[0].line.color == lines[2].line.color
