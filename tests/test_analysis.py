"""cnnexp.analysis on synthetic stores: grouping over seeds, varying settings, importance."""

import numpy as np
import pandas as pd

from cnnexp import analysis
from cnnexp.stats import mean_ci


def write_runs(store, n_seeds: int = 3, decides: str = "width", noise: float = 0.01) -> None:
    """Runs over width × depth × seeds where only `decides` moves the accuracy."""
    rng = np.random.default_rng(0)
    i = 0
    for width in (4, 8, 16, 32):
        for depth in (2, 3, 4):
            for seed in range(n_seeds):
                level = {"width": width, "depth": depth}[decides]
                store.save(
                    {
                        "run_id": f"{i:016x}",
                        "experiment": "baseline",
                        "seed": seed,
                        "label": "cnn",
                        "status": "done",
                        "ended_at": f"2026-01-01T00:{i % 60:02d}:00",
                        "config": {"model": "cnn", "width": width, "depth": depth, "seed": seed},
                        "test_acc": 0.5 + level / 100 + noise * rng.standard_normal(),
                        "duration_s": 1.0 + seed,
                    },
                    [{"epoch": 1, "split": "test", "metric": "acc", "value": 0.5}],
                )
                i += 1


def test_settings_and_varying_leave_out_the_seed(store):
    write_runs(store)
    runs = store.runs()
    cols = analysis.settings(runs)
    assert cols == ["experiment", "depth", "model", "width"]  # config keys sorted
    assert analysis.varying(runs, cols) == ["depth", "width"]


def test_group_over_seeds_counts_seeds_and_gives_the_t_interval(store):
    write_runs(store, n_seeds=3)
    runs = store.runs()
    groups = analysis.group(runs, ["width", "depth"])
    assert len(groups) == 12
    assert (groups["n"] == 3).all()
    one = groups[(groups["width"] == 8) & (groups["depth"] == 3)].iloc[0]
    sub = runs[(runs["width"] == 8) & (runs["depth"] == 3)]
    ci = mean_ci(sub["test_acc"])
    assert one["mean"] == ci["mean"] and [one["lo"], one["hi"]] == ci["ci95"]
    assert one["lo"] < one["mean"] < one["hi"]
    assert sorted(one["run_ids"]) == sorted(sub["run_id"])
    assert one["duration_s"] == 2.0


def test_group_by_fewer_columns_pools_more_runs(store):
    write_runs(store, n_seeds=2)
    groups = analysis.group(store.runs(), ["width"])
    assert groups["n"].tolist() == [6, 6, 6, 6]
    assert groups["width"].tolist() == [4, 8, 16, 32]  # by value: as text 16 came before 4
    assert len(analysis.group(store.runs(), [])) == 24  # no grouping: one row per run


def test_a_value_no_run_has_gives_rows_without_values(store):
    """Found: with no grouping and no such column, `n` was taken of a scalar NaN (crash)."""
    write_runs(store, n_seeds=1)
    runs = store.runs().drop(columns=["duration_s"])
    for by in ([], ["width"]):
        groups = analysis.group(runs, by, value="val_acc")
        assert (groups["n"] == 0).all() and groups["mean"].isna().all(), by
        assert groups["duration_s"].isna().all()
        assert len(groups) == (12 if not by else 4)


def test_one_seed_has_no_interval(store):
    write_runs(store, n_seeds=1)
    groups = analysis.group(store.runs(), ["width", "depth"])
    assert groups["lo"].isna().all() and groups["mean"].notna().all()


def test_importance_ranks_the_deciding_setting_first(store):
    for decides, other in (("width", "depth"), ("depth", "width")):
        store.delete(store.runs()["run_id"])
        write_runs(store, decides=decides)
        imp = analysis.importance(store.runs(), ["experiment", "width", "depth"])
        assert imp["setting"].tolist() == [decides, other]  # experiment does not vary
        top, rest = imp.iloc[0], imp.iloc[1]
        assert top["importance"] > 0.5 > rest["importance"]
        assert top["spearman"] > 0.7 and abs(rest["spearman"]) < 0.3


def test_a_named_setting_gets_no_rank_correlation(store):
    """Its values are ranked alphabetically: the sign of that correlation means nothing."""
    write_runs(store, decides="width")
    runs = store.runs()
    runs["model"] = np.where(runs["width"] > 8, "mlp", "cnn")  # text, and it tracks accuracy
    imp = analysis.importance(runs, ["model", "width"]).set_index("setting")
    assert np.isnan(imp.loc["model", "spearman"]) and imp.loc["width", "spearman"] > 0.7
    assert imp.loc["model", "importance"] >= 0  # its importance is still measured


def test_importance_needs_a_few_runs(store):
    write_runs(store, n_seeds=1)
    runs = store.runs().head(3)
    assert analysis.importance(runs, ["width", "depth"]).empty


def test_downsample_keeps_the_limit_and_reports_the_total(store):
    write_runs(store)
    runs = store.runs()
    few, n = analysis.downsample(runs, 10)
    assert len(few) == 10 and n == 36
    assert few.equals(analysis.downsample(runs, 10)[0])  # the same draw each rerun
    assert analysis.downsample(runs, 100)[0] is runs


def test_in_ranges_filters_numeric_columns(store):
    write_runs(store)
    runs = store.runs()
    keep = analysis.in_ranges(runs, {"width": (8, 16)})
    assert set(runs[keep]["width"]) == {8, 16}


def test_an_accuracy_interval_stays_within_0_and_1():
    import pandas as pd

    runs = pd.DataFrame(
        {"model": ["cnn", "cnn"], "test_acc": [0.4, 1.0], "duration_s": [1.0, 1.0]}
    ).assign(run_id=["a", "b"])
    g = analysis.group(runs, ["model"])
    assert g["n"].iloc[0] == 2 and g["mean"].iloc[0] == 0.7
    assert g["lo"].iloc[0] == 0.0 and g["hi"].iloc[0] == 1.0  # the raw t-interval is ±4.0


def test_numeric_columns_are_those_holding_a_number_or_numeric_text():
    runs = pd.DataFrame(
        {
            "width": [4, 8, 4],
            "model": ["cnn", "mlp", "cnn"],
            "lr": ["0.1", None, "x"],  # text of a number counts, as the range filter reads it
            "none": [None, None, None],
            "stride": pd.Series([1, "a", None], dtype=object),
        }
    )
    assert analysis.numeric(runs, [*runs.columns, "absent"]) == ["width", "lr", "stride"]


def test_most_varied_keeps_the_columns_with_most_values_in_their_order(store):
    write_runs(store, n_seeds=2)
    runs = store.runs()  # width: 4 values, depth: 3, seed: 2, model: 1
    assert analysis.most_varied(runs, ["model", "depth", "seed", "width"], 2) == ["depth", "width"]
    assert analysis.most_varied(runs, ["seed", "model"], 1) == ["seed"]
    assert analysis.most_varied(runs, ["depth", "width"], 8) == ["depth", "width"]


def test_a_partly_numeric_setting_is_ordered_by_value_with_missing_first():
    col = pd.Series([16.0, None, 9.0, 23.0, 9.0])
    assert analysis.levels(col) == ["—", "9.0", "16.0", "23.0"]
    codes = analysis.encode(pd.DataFrame({"distance": col}), ["distance"])["distance"]
    assert list(codes) == [2.0, 0.0, 1.0, 3.0, 1.0]  # the axis goes up with the distance
    assert analysis.levels(pd.Series(["b", 2, "nan", "a", 10])) == ["2", "10", "a", "b", "nan"]


def test_a_failed_run_is_not_counted_as_a_seed():
    """Found: a run that failed (asked for a GPU the machine lacked) beside a finished one of
    the same settings showed as a group of 2 seeds with no interval."""
    import numpy as np
    import pandas as pd

    runs = pd.DataFrame({"model": ["cnn", "cnn", "mlp"], "test_acc": [0.9, np.nan, np.nan]}).assign(
        run_id=["a", "b", "c"], duration_s=1.0
    )
    g = analysis.group(runs, ["model"])
    assert g["n"].tolist() == [1, 0] and g["run_ids"].tolist() == [["a", "b"], ["c"]]
    assert analysis.group(runs, [])["n"].tolist() == [1, 0, 0]


def test_filtered_keeps_experiments_statuses_and_text_newest_first(store):
    write_runs(store, n_seeds=1)
    runs = store.runs()
    got = analysis.filtered(runs, ("baseline",), ("done",), '"WIDTH": 8')
    assert set(got["width"]) == {8} and len(got) == 3
    assert list(got["ended_at"]) == sorted(got["ended_at"], reverse=True)
    assert analysis.filtered(runs, ("scaling",), (), "").empty


def test_bounds_of_a_setting_say_whether_it_slides_in_whole_steps():
    assert analysis.bounds(pd.Series([8, 4.0, None, 16])) == (4, 16, True)
    assert analysis.bounds(pd.Series(["0.001", "0.05"], dtype=object)) == (0.001, 0.05, False)
