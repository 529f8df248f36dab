"""python -m cnnexp inspect (cnnexp/inspection_cli.py), in real subprocesses: one JSON object,
a summary, PNGs; every refusal is one line with status 2 naming what is allowed."""

import json
import shutil

import pytest

from cnnexp.export import browser
from cnnexp.store import Store
from tests.test_cli import cli


@pytest.fixture(scope="module")
def saved(tiny_saved):
    return tiny_saved("baseline")


def first_run(root) -> str:
    return str(Store(root).runs("baseline").sort_values("seed")["run_id"].iloc[0])


def test_json_is_one_object_with_every_fact(saved):
    rid = first_run(saved)
    out = json.loads(cli(saved, "inspect", rid, "--image-index", "4", "--json").stdout)
    assert out["run"]["run_id"] == rid and out["run"]["experiment"] == "baseline"
    assert out["images_evaluated"] == out["test_images"] == 359
    assert len(out["per_class"]) == len(out["confusion"]) == 10
    assert sum(map(sum, out["confusion"])) == 359
    assert len(out["mistakes"]) == 12 and out["image"]["index"] == 4
    assert [m["kind"] for m in out["feature_maps"]][:2] == ["normalize", "conv"]
    assert out["first_layer"] == {"kind": "conv", "shape": [4, 1, 3, 3]}
    assert len(out["saliency"]) == 8 and len(out["grad_cam"][0]) == 8


def test_the_summary_names_the_run_and_its_mistakes(saved):
    text = cli(saved, "inspect", first_run(saved)).stdout
    assert "baseline · cnn · digits · seed 0" in text and "most confident mistakes" in text


@pytest.mark.skipif(browser() is None, reason="PNGs are drawn by Chrome or Chromium")
def test_out_writes_the_pages_figures_as_pngs(saved, tmp_path):
    cli(saved, "inspect", first_run(saved), "--out", str(tmp_path / "figs"))
    names = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert names == sorted(
        f"{n}.png"
        for n in ("class_accuracy", "confusion", "mistakes", "first_layer", "feature_maps",
                  "where_it_looks")
    )  # fmt: skip
    assert all((tmp_path / "figs" / n).read_bytes()[:4] == b"\x89PNG" for n in names)


@pytest.mark.parametrize(
    "args, words",
    [
        (["zzz"], "is not a run id; allowed: the 16 hexadecimal digits"),
        (["0123456789abcdef"], "is not saved here; allowed: the id of a saved run"),
        (["RUN", "--image-index", "359"], "not in the test set; allowed: 0 to 358"),
        (["RUN", "--image-index", "-1"], "not in the test set; allowed: 0 to 358"),
        (["RUN", "--image-index", "x"], "is not a whole number; allowed"),
    ],
)
def test_refusals_are_one_line_with_status_2(saved, tmp_path, args, words):
    args = [first_run(saved) if a == "RUN" else a for a in args]
    p = cli(saved, "inspect", *args, "--out", str(tmp_path / "figs"), check=False)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.count("\n") == 1 and words in p.stderr, p.stderr
    assert not (tmp_path / "figs").exists()  # a refused inspect leaves nothing


def test_a_run_without_weights_is_refused_naming_how_to_get_them(saved, tmp_path):
    root = tmp_path / "results"
    shutil.copytree(saved, root)
    rid = first_run(root)
    Store(root).blob_path("baseline", rid, "weights").unlink()
    p = cli(root, "inspect", rid, check=False)
    assert p.returncode == 2 and p.stderr.count("\n") == 1
    assert "has no saved weights (it was saved before runs kept their weights)" in p.stderr
    assert "--force" in p.stderr


def test_help_names_every_flag(tmp_path):
    p = cli(tmp_path, "inspect", "--help")
    for flag in ("--image-index", "--json", "--out", "--results", "--data-dir"):
        assert flag in p.stdout
