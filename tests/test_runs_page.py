"""The Runs page through AppTest on synthetic stores: grouping over seeds, the URL carries the
filters, importance finds the deciding setting, search and delete work."""

import base64
import json
import math

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnexp.stats import mean_ci
from tests.conftest import ROOT
from tests.test_analysis import write_runs


def open_runs(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update(query or {})
    at.switch_page("pages/runs.py")
    return at.run()


def table(at: AppTest):
    return at.dataframe[0].value


def test_grouped_by_default_one_row_per_configuration_with_its_interval(store):
    write_runs(store, n_seeds=3)
    at = open_runs()
    assert not at.exception, at.exception
    t = table(at)
    assert len(t) == 12 and (t["n"] == 3).all()
    runs = store.runs()
    sub = runs[(runs["width"] == 16) & (runs["depth"] == 2)]
    row = t[(t["width"] == 16) & (t["depth"] == 2)].iloc[0]
    ci = mean_ci(sub["test_acc"])
    assert abs(row["mean"] - 100 * ci["mean"]) < 1e-9
    assert abs(row["lo"] - 100 * ci["ci95"][0]) < 1e-9 and row["lo"] < row["mean"] < row["hi"]


def test_grouping_columns_and_toggle_come_from_the_url(store):
    write_runs(store, n_seeds=2)
    t = table(open_runs({"by": "width"}))
    assert len(t) == 4 and (t["n"] == 6).all()
    assert len(table(open_runs({"group": "off"}))) == 24


def test_filters_through_the_url(store):
    write_runs(store, n_seeds=2)
    at = open_runs({"range": "width:8:16", "group": "off"})
    assert not at.exception, at.exception
    assert set(table(at)["width"]) == {8, 16}
    at = open_runs({"q": '"depth": 3', "group": "off"})
    assert set(table(at)["depth"]) == {3}
    # The page writes its state back, so the link reproduces the view.
    at.toggle(key="runs_group").set_value(True).run()
    assert at.query_params.get("q") == '"depth": 3' and "group" not in at.query_params


def test_bad_link_values_are_named_and_ignored(store):
    write_runs(store, n_seeds=1)
    at = open_runs({"exp": "[nope](https://example.org)", "range": "width:9:1", "by": "colour"})
    assert not at.exception, at.exception
    assert not any("example.org" in w.value for w in [*at.warning, *at.markdown])  # never markup
    text = " ".join(t.value for t in at.text)
    assert "'[nope](https://example.org)'" in text and "allowed: baseline" in text
    assert "'width:9:1'" in text and "'colour'" in text
    assert len(table(at)) == 12  # nothing was filtered by the bad values


def test_what_matters_ranks_the_deciding_setting_first(store):
    write_runs(store, n_seeds=3, decides="depth")
    at = open_runs({"view": "what-matters"})
    assert not at.exception, at.exception
    imp = at.dataframe[1].value
    assert imp["setting"].tolist()[0] == "depth"
    assert any("Permutation importance" in c.value for c in at.caption)


def test_search_box_narrows_the_table(store):
    write_runs(store, n_seeds=1)
    at = open_runs({"group": "off"})
    assert len(table(at)) == 12
    at.text_input(key="runs_search").input('"width": 32').run()
    assert set(table(at)["width"]) == {32} and len(table(at)) == 3
    assert at.query_params.get("q") == '"width": 32'


def test_delete_dialog_removes_the_selected_runs(store):
    write_runs(store, n_seeds=1)
    ids = sorted(store.runs()["run_id"])[:2]
    at = open_runs({"group": "off", "runs": ",".join(ids)})
    at.button(key="runs_delete").click().run()
    assert any("Delete 2 saved run(s)?" in m.value for m in at.markdown)
    assert len(store.runs()) == 12  # asking deletes nothing
    at.button(key="runs_delete_confirm").click().run()
    assert not at.exception, at.exception
    left = set(store.runs()["run_id"])
    assert len(left) == 10 and not left & set(ids)
    assert len(table(at)) == 10  # the page shows it too
    assert "runs" not in at.query_params and not at.warning  # no "ignored" for deleted ids


def test_a_selection_follows_its_runs_through_a_filter(store):
    """Found: Streamlit keeps a table's selection by row position, so after a filter the
    tick sat on another run, which the curves, the link and Delete then used."""
    write_runs(store, n_seeds=1)
    runs = store.runs()
    rid = runs[(runs["width"] == 32) & (runs["depth"] == 4)]["run_id"].iloc[0]
    at = open_runs({"group": "off", "runs": rid})
    assert at.query_params.get("runs") == rid
    at.text_input(key="runs_search").input('"width": 32').run()  # the run, on another row
    assert not at.exception, at.exception
    assert at.query_params.get("runs") == rid and not at.warning
    at.button(key="runs_delete").click().run()
    named = " ".join(t.value for t in at.text)
    assert "baseline · cnn · seed 0" in named and "Delete 1 saved run(s)?" in " ".join(
        m.value for m in at.markdown
    )
    at.button(key="runs_delete_cancel").click().run()
    at.text_input(key="runs_search").input('"width": 4').run()  # the run hidden: unselected
    assert "runs" not in at.query_params and not at.warning  # and no "not saved" for it
    assert not [b for b in at.button if b.key == "runs_delete"]


def test_a_run_saved_while_the_page_is_open_shows_on_the_next_rerun(store):
    # The page remembers its tables per saved state, for every visitor: a save is a new state.
    write_runs(store, n_seeds=2)
    at = open_runs()
    assert len(table(at)) == 12 and (table(at)["n"] == 2).all()
    again = open_runs()  # a second visitor, same saved state
    assert table(again).equals(table(at))
    write_runs(store, n_seeds=3)  # the third seed of every configuration (and the first two anew)
    at.run()
    assert len(table(at)) == 12 and (table(at)["n"] == 3).all()
    assert "36 of 36 saved runs" in " ".join(c.value for c in at.caption)


def test_the_curves_series_and_colouring_are_in_the_link(store):
    """Found: a reopened link showed test accuracy by configuration whatever was chosen."""
    write_runs(store, n_seeds=2)
    ids = ",".join(store.runs()["run_id"].iloc[:4])
    at = open_runs({"group": "off", "runs": ids, "series": "test loss", "lines": "run"})
    assert not at.exception, at.exception
    assert at.selectbox(key="runs_series").value == "test loss"
    assert at.selectbox(key="runs_colour").value == "run"
    at.selectbox(key="runs_series").set_value("train accuracy").run()
    assert at.query_params.get("series") == "train accuracy"
    at.selectbox(key="runs_colour").set_value("configuration").run()
    assert "lines" not in at.query_params  # the default: not in the link
    at = open_runs({"group": "off", "runs": ids, "series": "nope"})
    assert at.warning and "series: 'nope' ignored; allowed: test accuracy" in " ".join(
        t.value for t in at.text
    )


def test_run_detail_shows_device_and_links_to_the_experiment(store):
    write_runs(store, n_seeds=1)
    rid = store.runs()["run_id"].iloc[0]
    at = open_runs({"group": "off", "runs": rid, "view": "run-detail"})
    assert not at.exception, at.exception
    detail = at.dataframe[1].value
    assert detail.loc["experiment"].iloc[0] == "baseline"
    acc = store.runs().set_index("run_id").loc[rid, "test_acc"]
    assert detail.loc["test_acc"].iloc[0] == f"{acc:.2%}"  # not 0.9275766015052795
    assert detail.loc["duration_s"].iloc[0] == "1.0 s"
    inside = next(p.proto for p in at.get("page_link") if "Look inside" in p.proto.label)
    assert inside.page == "inside" and inside.query_string == f"run={rid}"


def test_every_view_renders_with_a_selection(store):
    write_runs(store, n_seeds=2)
    rid = ",".join(store.runs()["run_id"].iloc[:3])
    for view in ("curves", "parallel-coordinates", "x-against-y", "what-matters", "run-detail"):
        at = open_runs({"runs": rid, "view": view, "colour": "depth", "facet": "width"})
        assert not at.exception, (view, at.exception)
        assert at.get("plotly_chart"), view


def test_a_fractional_setting_slides_in_fine_steps_and_filters(store):
    """Found: a learning rate's range slider (0.001 to 0.05) stepped by 0.01 and showed two
    decimals, so it had no stop between its ends."""
    for i, lr in enumerate((0.001, 0.002, 0.005, 0.01, 0.02, 0.05)):
        save_run(store, i, {"model": "cnn", "lr": lr, "seed": 0}, test_acc=0.9)  # no ended_at
    at = open_runs({"group": "off"})
    slider = at.slider(key="runs_range_lr")
    assert slider.value == (0.001, 0.05) and abs(slider.step - 0.00049) < 1e-12
    assert slider.proto.format == "%.3g"
    slider.set_value((0.001, 0.0051)).run()
    assert not at.exception, at.exception
    assert sorted(table(at)["lr"]) == [0.001, 0.002, 0.005]


def test_the_ranges_label_counts_the_ranges_set_in_this_run(store):
    """Found: it counted the link's ranges, so it said "0 set" after a slider moved."""
    write_runs(store, n_seeds=1)
    at = open_runs()
    label = lambda: next(e.label for e in at.expander if e.label.startswith("Ranges"))  # noqa: E731
    assert label() == "Ranges (0 set)"
    at.slider(key="runs_range_width").set_value((8, 32)).run()
    assert label() == "Ranges (1 set)"
    at.slider(key="runs_range_depth").set_value((3, 4)).run()
    assert label() == "Ranges (2 set)" and len(table(at)) == 3 * 2  # widths 8-32, depths 3-4
    # A filter that narrows the bounds leaves a full range unset (found: "1 set" with none).
    save_run(store, 99, {"model": "cnn", "width": 128, "depth": 2, "seed": 0}, status="failed")
    at = open_runs()
    assert at.slider(key="runs_range_width").value == (4, 128) and label() == "Ranges (0 set)"
    at.multiselect(key="runs_status").set_value(["done"]).run()  # width now 4 to 32
    assert not at.exception, at.exception
    assert label() == "Ranges (0 set)", label()
    # A link's range beyond the bounds is held within them, not raised on.
    at = open_runs({"range": "width:100:200"})
    assert not at.exception, at.exception


def test_x_against_y_takes_any_column_on_either_axis(store):
    """Found: a text column on x (the default "experiment" among them) raised, as its mean
    was taken; facets came in text order (16 before 4)."""
    write_runs(store, n_seeds=2)
    runs = store.runs()
    store.delete(runs[(runs["width"] == 4) & (runs["depth"] == 2)]["run_id"])  # not in panel 1
    at = open_runs({"view": "x-against-y"})
    options = at.selectbox(key="runs_x").options  # in the pages' words
    assert {"experiment", "model", "width", "test accuracy"} <= set(options), options
    for i, x in enumerate(options):
        at.selectbox(key="runs_x").select_index(i)
        at.selectbox(key="runs_f").set_value("width")
        at.selectbox(key="runs_c").set_value("depth")
        at.run()
        assert not at.exception, (x, at.exception)
        fig = json.loads(at.get("plotly_chart")[0].proto.spec)
        titles = [a["text"] for a in fig["layout"]["annotations"]]
        assert titles == ["4", "8", "16", "32"], (x, titles)
        # Found: only colours drawn in the first panel had a legend entry. Each has one now.
        legend = [t["name"] for t in fig["data"] if t.get("showlegend") is not False]
        assert sorted(legend) == [f"depth {d}" for d in (2, 3, 4)], (x, legend)


def test_x_against_y_reads_a_shared_numeric_setting_as_numbers(store):
    """Found: a setting some experiments lack (an object column with None) was drawn as text,
    its ticks reading 0.003000000000000006."""
    for i, lr in enumerate((0.001, 0.003000000000000006, 0.01, None)):
        config = {"model": "cnn", "seed": 0, **({"lr": lr} if lr is not None else {})}
        save_run(store, i, config, test_acc=0.9)
    at = open_runs({"view": "x-against-y"})
    at.selectbox(key="runs_x").set_value("lr").run()
    assert not at.exception, at.exception
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    x = fig["data"][0]["x"]  # numbers go as a typed array; text would be a list of strings
    values = np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"])
    assert sorted(values.tolist()) == [0.001, 0.003000000000000006, 0.01]
    assert "categoryarray" not in fig["layout"]["xaxis"]
    assert fig["layout"]["title"]["text"] == "1 run without learning rate left out"  # said
    at = open_runs({"view": "x-against-y", "facet": "lr", "q": "no such run"})
    assert not at.exception, at.exception  # an empty filter with a facet: nothing, no raise


def test_a_whole_number_setting_in_an_object_column_reads_as_whole_numbers():
    import pandas as pd

    from cnnexp import run_figures

    runs = pd.DataFrame(
        {
            "run_id": list("abcde"),
            "width": pd.Series([4, 8, 8, None, None], dtype=object),
            "test_acc": [0.5, 0.6, 0.7, 0.8, 0.9],
        }
    )
    fig = run_figures.scatter(runs, "width", "test_acc", colour="width", facet="width")
    assert [a.text for a in fig.layout.annotations] == ["4", "8"]  # not 4.0, 8.0
    assert {t.name for t in fig.data if t.showlegend} == {"width 4", "width 8"}
    assert fig.layout.title.text.endswith("2 runs without width left out")
    assert fig.layout.yaxis.tickformat == ".0%" and fig.layout.xaxis.tickformat is None
    flags = runs.assign(width=pd.Series([True, False, None, True, False], dtype=object))
    assert run_figures._as_numbers(flags["width"]) is None  # a bool is a choice, not a number


def test_parallel_axes_with_few_values_tick_at_those_values():
    import pandas as pd

    from cnnexp import run_figures

    n = 20
    runs = pd.DataFrame(
        {
            "flip": pd.Series([i % 2 == 0 for i in range(n)], dtype=object),
            "width": [8, 16, 32, 64, 128] * 4,
            "lr": [0.001 * (i + 1) for i in range(n)],  # 20 values: an even scale
            "depth": pd.Series(["3", "4"] * 10, dtype=object),  # numbers kept as text
            "test_acc": [0.5 + i / 100 for i in range(n)],
        }
    )
    cols = ["flip", "width", "lr", "depth"]
    fig = run_figures.parallel(runs, cols, ranges={"width": (16, 64)})
    flip, width, lr, depth, _ = fig.data[0].dimensions
    assert list(flip.ticktext) == ["false", "true"] and list(flip.tickvals) == [0, 1]
    assert list(width.ticktext) == ["8", "16", "32", "64", "128"]
    # still a numeric axis a brush can set (widths 8 to 128 read on a log axis)
    assert list(width.constraintrange) == pytest.approx([math.log10(16), math.log10(64)])
    # too many values to name each: round numbers on its log axis
    assert list(lr.ticktext) == ["0.001", "0.002", "0.005", "0.01", "0.02"]
    assert list(depth.ticktext) == ["3", "4"]  # found: formatting "3" as a number raised
    rates = pd.DataFrame({"lr": [3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1], "test_acc": [0.9] * 6})
    (lr, _) = run_figures.parallel(rates, ["lr"]).data[0].dimensions
    # none printed over another: on a log axis (learning rates are declared log) all fit
    assert list(lr.ticktext) == ["0.0003", "0.001", "0.003", "0.01", "0.03", "0.1"]
    assert fig.data[0].dimensions[-1].tickformat == ".1%"  # accuracy in percent, as the table


def test_curves_are_read_once_and_again_when_a_run_is_saved_anew(store, monkeypatch):
    import base64
    import json
    import time

    import numpy as np

    from cnnexp.store import Store

    reads = []  # the run ids each real read of metrics asked for
    real = Store.metrics
    monkeypatch.setattr(
        Store, "metrics", lambda self, ids: reads.append(list(ids)) or real(self, ids)
    )
    write_runs(store, n_seeds=1)
    rec = store.records([store.runs()["run_id"].iloc[0]]).popitem()[1]
    at = open_runs({"group": "off", "runs": rec["run_id"]})

    def drawn() -> list[float]:
        fig = json.loads(at.get("plotly_chart")[0].proto.spec)
        ys = [t["y"] for t in fig["data"]]  # Plotly sends arrays as base64 of their bytes
        return [y for a in ys for y in np.frombuffer(base64.b64decode(a["bdata"]), a["dtype"])]

    assert drawn() == [0.5] and reads == [[rec["run_id"]]]
    at.selectbox(key="runs_colour").set_value("run").run()  # a rerun: no file read again
    assert drawn() == [0.5] and not at.exception and len(reads) == 1
    time.sleep(0.01)  # a new file time, as any later save has
    record = {k: rec[k] for k in ("run_id", "experiment", "seed", "label", "status", "test_acc")}
    store.save(
        {**record, "config": json.loads(rec["config_json"])},
        [{"epoch": 1, "split": "test", "metric": "acc", "value": 0.75}],
    )
    at.run()
    assert drawn() == [0.75] and len(reads) == 2


def write_wide_runs(store, n_settings: int = 12) -> None:
    """Runs where setting s_k takes k + 2 distinct values: more settings vary than fit as axes."""
    for i in range(20):
        config = {f"s{k:02d}": i % (k + 2) for k in range(n_settings)}
        save_run(
            store,
            i,
            config,
            ended_at=f"2026-01-01T00:{i:02d}:00",
            test_acc=0.5 + i / 100,
            metrics=[{"epoch": 1, "split": "test", "metric": "acc", "value": 0.5}],
        )


def save_run(store, i: int, config: dict, metrics: list | None = None, **record) -> None:
    """A finished baseline run numbered i with these settings and record fields."""
    base = {"run_id": f"{i:016x}", "experiment": "baseline", "seed": 0, "label": "cnn"}
    store.save({**base, "status": "done", "config": config, **record}, metrics or [])


def axes_drawn(at: AppTest) -> list[str]:
    import json

    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    return [d["label"] for d in fig["data"][0]["dimensions"]]


def test_parallel_coordinates_caps_its_axes_and_says_which(store):
    write_wide_runs(store)
    at = open_runs({"view": "parallel-coordinates"})
    assert not at.exception, at.exception
    # the 8 settings with the most distinct values (s04..s11), then the accuracy
    assert axes_drawn(at) == [f"s{k:02d}" for k in range(4, 12)] + ["test acc"]
    caption = " ".join(c.value for c in at.caption)
    assert "8 of the 12 settings that vary here as axes (4 not shown" in caption
    # the visitor picks other axes; the link keeps them
    at.multiselect(key="runs_axes").set_value(["s00", "s01"]).run()
    assert axes_drawn(at) == ["s00", "s01", "test acc"]
    assert at.query_params.get("axes") == "s00,s01"
    # a link's axes are data: unknown ones are named and ignored, literally
    at = open_runs({"view": "parallel-coordinates", "axes": "s03,s03,[x](https://example.org)"})
    assert axes_drawn(at) == ["s03", "test acc"]
    text = " ".join(t.value for t in at.text)
    assert "'[x](https://example.org)'" in text
    assert not any("example.org" in m.value for m in [*at.markdown, *at.warning])


def test_default_axes_follow_the_filters_until_the_visitor_picks(store):
    # baseline runs vary a0..a5, scaling runs b0..b5: 13 settings vary over both
    for i in range(24):
        exp, letter = ("baseline", "a") if i % 2 else ("scaling", "b")
        store.save(
            {
                "run_id": f"{i:016x}",
                "experiment": exp,
                "seed": 0,
                "label": "cnn",
                "status": "done",
                "ended_at": f"2026-01-01T00:{i:02d}:00",
                "config": {f"{letter}{k}": (i // 2) % (k + 2) for k in range(6)},
                "test_acc": 0.5 + i / 100,
            },
            [{"epoch": 1, "split": "test", "metric": "acc", "value": 0.5}],
        )
    at = open_runs({"view": "parallel-coordinates", "group": "off"})
    assert len(axes_drawn(at)) == 8 + 1
    at.multiselect(key="runs_exp").set_value(["baseline"]).run()
    assert axes_drawn(at) == [f"a{k}" for k in range(6)] + ["test acc"]  # all six fit now
    assert "axes" not in at.query_params  # nothing picked: the link names no axes
    at.multiselect(key="runs_axes").set_value(["a5", "a1"]).run()  # a pick survives filters
    at.multiselect(key="runs_exp").set_value([]).run()
    assert axes_drawn(at) == ["a5", "a1", "test acc"]
    assert at.query_params.get("axes") == "a5,a1"


def test_group_by_follows_the_filter_whichever_way_it_was_set(store):
    """Found: choosing Experiment = permuted in the widget kept every setting of every
    experiment in Group by (and wrote them all into the link), where /runs?exp=permuted
    offered only the settings that vary there."""
    write_runs(store, n_seeds=1)  # baseline runs: width × depth
    for i, lr in enumerate((0.001, 0.01)):
        save_run(store, 100 + i, {"model": "mlp", "lr": lr, "seed": 0}, experiment="scaling")
    at = open_runs()
    assert set(at.multiselect(key="runs_by").value) == {
        "experiment",
        "depth",
        "lr",
        "model",
        "width",
    }
    at.multiselect(key="runs_exp").set_value(["baseline"]).run()
    linked = open_runs({"exp": "baseline"})
    for page in (at, linked):
        by = page.multiselect(key="runs_by")
        assert (by.options, by.value) == (["depth", "width"], ["depth", "width"])
        assert "by" not in page.query_params  # the default: the link stays short
        assert len(table(page)) == 12
    # A pick is the visitor's: it stays through a filter, and is in the link.
    at.multiselect(key="runs_by").set_value(["width"]).run()
    assert len(table(at)) == 4 and at.query_params.get("by") == "width"
    at.multiselect(key="runs_status").set_value(["done"]).run()
    assert at.multiselect(key="runs_by").value == ["width"] and len(table(at)) == 4


def permuted_runs(store) -> None:
    """Permuted-pixels runs on digits (1,438 training images): original and permuted pixels
    at 100, 300 and all images, two seeds; more images, higher accuracy."""
    i = 0
    for block in (1, 0):  # as saved: a 1×1 tile is the original image, 0 the whole image
        for n_train, acc in ((100, 0.7), (300, 0.8), (0, 0.9)):
            for seed in (0, 1):
                config = {"model": "mlp", "dataset": "digits", "block": block, "n_train": n_train}
                save_run(
                    store,
                    i,
                    {**config, "seed": seed},
                    experiment="permuted",
                    seed=seed,
                    test_acc=acc + seed / 100 - block / 50,
                )
                i += 1


def test_settings_read_in_the_words_of_their_page(store):
    """Found: the Runs page showed permuted's conditions as a column `block` of 0 and 1,
    where the Permuted page says original and permuted."""
    permuted_runs(store)
    at = open_runs({"group": "off"})
    assert not at.exception, at.exception
    assert sorted(set(table(at)["block"])) == ["original", "permuted"]
    by = at.multiselect(key="runs_by")
    assert sorted(by.options) == ["pixels", "training images"]
    assert sorted(by.value) == ["block", "n_train"]  # the link keeps the settings' names
    heads = json.loads(at.dataframe[0].proto.columns)
    assert heads["n_train"]["label"] == "training images"


def test_all_images_are_counted_as_the_images_they_are(store):
    """Found: n_train 0 ("all images") was read as zero: What matters gave the number of
    images a negative correlation with accuracy, x against y drew those runs at x = 0."""
    permuted_runs(store)
    assert sorted(set(table(open_runs({"group": "off"}))["n_train"])) == [100, 300, 1438]
    at = open_runs({"view": "what-matters", "exp": "permuted"})
    imp = at.dataframe[1].value.set_index("setting")
    assert imp.loc["training images", "spearman"] > 0.5  # in its page's words
    at = open_runs({"view": "x-against-y", "x": "n_train"})
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    dots = fig["data"][0]["x"]
    xs = np.frombuffer(base64.b64decode(dots["bdata"]), dtype=dots["dtype"])
    assert sorted(set(xs.tolist())) == [100, 300, 1438]


def test_run_detail_names_runs_by_what_tells_them_apart_and_reads_percent(store):
    """Found: run detail picked runs by a bare hash ("6fc4398efd7f08a9"), and its accuracy
    axis read 0.6 to 1 where every other chart reads percent."""
    write_runs(store, n_seeds=2)
    runs = store.runs()
    ids = runs[runs["width"] == 8]["run_id"].tolist()  # depths 2, 3, 4 at two seeds
    at = open_runs({"group": "off", "runs": ",".join(ids), "view": "run-detail"})
    assert not at.exception, at.exception
    assert sorted(at.selectbox(key="runs_detail").options) == [
        f"baseline · depth {d} · width 8 · seed {s}" for d in (2, 3, 4) for s in (0, 1)
    ]  # what tells them apart among the runs in the table
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert fig["layout"]["yaxis"]["tickformat"].endswith("%")


def test_the_selected_runs_download_as_saved_with_their_own_columns_only(store):
    """Found: the download was named runs-runs.csv and carried 60 columns, the store's
    bookkeeping (_file, _mtime_ns, _size) and other experiments' empty settings among them."""
    write_runs(store, n_seeds=1)
    save_run(store, 99, {"model": "mlp", "lr": 0.01, "seed": 0}, experiment="scaling")
    ids = store.runs().query("experiment == 'baseline'")["run_id"].iloc[:2].tolist()
    at = open_runs({"group": "off", "runs": ",".join(ids)})
    at.session_state["data-selected"] = True  # the visitor opens "Download the data…"
    at.run()
    assert not at.exception, at.exception
    # ui/downloads.py names each file after its key: selected-runs.csv, selected-metrics.csv, …
    keys = [b.key for b in at.get("download_button")]
    assert keys == [
        f"data-selected-{t}-{f}" for t in ("runs", "metrics") for f in ("csv", "parquet")
    ]
    shapes = {m.value.split(" · ")[0]: m.value for m in at.markdown if "rows ×" in m.value}
    runs = store.runs()
    own = [c for c in runs.columns if not c.startswith("_")]
    n_cols = len(runs.loc[runs["run_id"].isin(ids), own].dropna(axis=1, how="all").columns)
    assert shapes["**runs**"] == f"**runs** · 2 rows × {n_cols} columns"
    assert "lr" not in runs.loc[runs["run_id"].isin(ids)].dropna(axis=1, how="all")


def test_bad_link_values_of_any_view_are_refused_visibly(store):
    """Found: ?view=**bold** and ?x=__import__ vanished with no message: the view fell back
    to the curves, and x was only read by a view not shown."""
    write_runs(store, n_seeds=1)
    at = open_runs({"view": "**bold**", "x": "__import__", "axes": "width", "series": "nope"})
    assert not at.exception, at.exception
    text = " ".join(t.value for t in at.text)
    assert "view: '**bold**' ignored; allowed: curves, parallel-coordinates" in text
    assert "x: '__import__' ignored; allowed: test_acc" in text
    assert "series: 'nope' ignored" in text
    assert not any("bold" in m.value for m in [*at.markdown, *at.warning])  # literal text
    assert at.segmented_control(key="runs_view").value == "curves"
    assert "x" not in at.query_params and "series" not in at.query_params
    assert at.query_params.get("axes") == "width"  # a good value of another view stays
    at = open_runs({"view": "x-against-y", "x": "__import__"})  # the view shown says it once
    assert " ".join(t.value for t in at.text).count("'__import__'") == 1


# --- names, notes and tags (cnnexp/run_notes.py) ----------------------------------------------
HOSTILE = "<script>alert(1)</script> **bold** [x](https://example.org)"


def write_named_runs(store) -> list[str]:
    """write_runs at two seeds; the width-4 runs named HOSTILE and tagged, two width-8 runs
    named "wide" with a note."""
    from cnnexp.run_notes import RunNotes

    write_runs(store, n_seeds=2)
    runs = store.runs()
    narrow = runs.loc[runs["width"] == 4, "run_id"].tolist()
    for rid in narrow:
        store.write_notes("baseline", rid, RunNotes(HOSTILE, tags=("wk3", "hw")))
    for rid in runs.loc[runs["width"] == 8, "run_id"].iloc[:2]:
        store.write_notes("baseline", rid, RunNotes("wide", note="why: see the MLP"))
    return narrow


def test_runs_are_found_by_tag_name_and_note_and_the_link_carries_the_tags(store):
    narrow = write_named_runs(store)
    at = open_runs({"tag": "hw", "group": "off"})
    assert not at.exception, at.exception
    t = table(at)
    assert len(t) == len(narrow) and set(t["width"]) == {4} and set(t["name"]) == {HOSTILE}
    assert set(t["tags"]) == {"wk3, hw"}
    assert at.multiselect(key="runs_tags").value == ["hw"]
    assert not any("example.org" in m.value for m in [*at.markdown, *at.warning])  # text only
    assert len(table(open_runs({"q": "see the mlp", "group": "off"}))) == 2  # a note's words
    assert len(table(open_runs({"q": "wide", "group": "off"}))) == 2  # a name
    # A tag no run has is named and ignored; the tags widget writes the link back.
    at = open_runs({"tag": "<b>nope</b>", "group": "off"})
    assert "'<b>nope</b>' ignored" in " ".join(t.value for t in at.text)
    assert len(table(at)) == 24
    at.multiselect(key="runs_tags").select("wk3").run()
    assert at.query_params.get("tag") == "wk3" and len(table(at)) == len(narrow)


def test_runs_group_by_name_pooling_its_seeds(store):
    write_named_runs(store)
    at = open_runs({"by": "name"})
    assert not at.exception, at.exception
    t = table(at).set_index("name")
    assert t.loc[HOSTILE, "n"] == 6 and t.loc["wide", "n"] == 2


def test_a_runs_note_shows_as_text_in_its_detail_and_its_words_go_with_the_download(store):
    narrow = write_named_runs(store)
    wide = store.runs().query("name == 'wide'")["run_id"].tolist()
    at = open_runs({"group": "off", "runs": wide[0], "view": "run-detail"})
    assert not at.exception, at.exception
    assert at.dataframe[1].value.loc["name"].iloc[0] == "wide"
    assert "why: see the MLP" in [t.value for t in at.text]
    at = open_runs({"group": "off", "runs": ",".join([narrow[0], wide[0]])})
    at.session_state["data-selected"] = True  # the visitor opens "Download the data…"
    at.run()
    shapes = {m.value.split(" · ")[0]: m.value for m in at.markdown if "rows ×" in m.value}
    runs = store.runs()
    own = [c for c in runs.columns if not c.startswith("_")]
    kept = runs.loc[runs["run_id"].isin([narrow[0], wide[0]]), own].dropna(axis=1, how="all")
    assert {"name", "tags", "note"} <= set(kept.columns)  # what the download carries
    assert shapes["**runs**"] == f"**runs** · 2 rows × {len(kept.columns)} columns"
