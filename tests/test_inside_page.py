"""pages/inside.py through AppTest: a saved run opened by its link or picked by experiment,
settings and seed shows its four sections; other runs' attributions go beside it; a run
without weights says so and is trained again by one click (only for those who may launch);
hostile links are refused as literal text with nothing computed."""

import shutil
import time

import pytest

from cnnexp.store import Store
from tests.test_app import open_page
from tests.test_hostile import LINK, markdown_texts
from ui.links import inside_query

PAGE = "pages/inside.py"
SECTIONS = ["Predictions and mistakes", "What the first layer learned", "Feature maps",
            "Where it looks"]  # fmt: skip


@pytest.fixture(scope="module")
def saved(tiny_saved):
    """Finished tiny runs of the scaling experiment (an MLP, a locally connected net and a
    CNN) and of the baseline, two seeds each, saved with their weights."""
    return tiny_saved("scaling", "baseline")


def run_of(root, experiment: str, **where) -> str:
    runs = Store(root).runs(experiment)
    for k, v in where.items():
        runs = runs[runs[k] == v]
    return str(runs.sort_values("seed")["run_id"].iloc[0])


def headers(at) -> list[str]:
    return [h.value for h in at.header]


@pytest.mark.parametrize("model", ["mlp", "local", "cnn"])
def test_a_linked_run_shows_every_section(saved, monkeypatch, model):
    monkeypatch.setenv("CNNEXP_RESULTS", str(saved))
    rid = run_of(saved, "scaling", model=model, n_train=0)
    at = open_page(PAGE, inside_query(rid, image=7))
    assert not at.exception, at.exception
    assert headers(at) == SECTIONS
    assert len(at.get("plotly_chart")) == 6
    assert at.number_input[0].value == 7
    assert at.selectbox[0].value == "scaling" and at.selectbox[2].value == 0
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test images evaluated"] == "359 of 359"
    kind = {"mlp": "fully connected", "local": "locally connected", "cnn": "convolution"}
    assert metrics["First layer"] == kind[model]
    assert not at.warning  # nothing in the link was refused


def test_the_pickers_name_runs_by_their_settings_and_move_the_link(saved, monkeypatch):
    monkeypatch.setenv("CNNEXP_RESULTS", str(saved))
    rid = run_of(saved, "scaling", model="cnn", n_train=0)
    at = open_page(PAGE, inside_query(rid))
    names = at.selectbox[1].options  # as the widget shows them
    assert "epochs 1 · model cnn · n_train 0 · width 2" in names, names  # what varies, no hash
    assert all(len(n) < 80 for n in names)
    at.selectbox[2].set_value(1).run()  # the other seed
    assert not at.exception, at.exception
    assert at.query_params["run"] == run_of(saved, "scaling", model="cnn", n_train=0, seed=1)
    assert headers(at) == SECTIONS
    at.selectbox[0].set_value("baseline").run()
    assert at.query_params["run"] == run_of(saved, "baseline", seed=0)
    assert headers(at) == SECTIONS


def test_other_runs_on_the_same_images_go_beside(saved, monkeypatch):
    monkeypatch.setenv("CNNEXP_RESULTS", str(saved))
    cnn = run_of(saved, "scaling", model="cnn", n_train=0)
    mlp = run_of(saved, "scaling", model="mlp", n_train=0)
    at = open_page(PAGE, {**inside_query(cnn, image=3), "compare": mlp})
    assert not at.exception, at.exception
    assert at.multiselect[0].value == [mlp]
    looks = at.get("plotly_chart")[-1].proto.spec
    assert "mlp" in looks and "no conv layer" in looks  # a row per model, no Grad-CAM for the MLP


def test_a_run_without_weights_offers_to_train_it_again(saved, tmp_path, monkeypatch):
    root = tmp_path / "results"
    shutil.copytree(saved, root)
    monkeypatch.setenv("CNNEXP_RESULTS", str(root))
    store = Store(root)
    rid = run_of(root, "baseline", seed=0)
    blob = store.blob_path("baseline", rid, "weights")
    blob.unlink()
    monkeypatch.setenv("CNNEXP_MODE", "viewer")
    at = open_page(PAGE, inside_query(rid))
    assert not at.exception, at.exception
    assert any("saved before runs kept their weights" in w.value for w in at.warning)
    assert not at.button and not headers(at)  # a viewer gets no button, nothing computed
    assert any("Viewing only" in c.value for c in at.caption)
    monkeypatch.setenv("CNNEXP_MODE", "launch")
    at = open_page(PAGE, inside_query(rid))
    again = [b for b in at.button if b.label == "Train it again"]
    assert again
    before = store.records([rid])[rid]["test_acc"]
    again[0].click().run()
    assert not at.exception, at.exception
    deadline = time.time() + 180
    while not (blob.exists() and headers(at) == SECTIONS):
        assert time.time() < deadline, "the run trained again never showed its insides"
        time.sleep(0.5)
        at.run()
        assert not at.exception, at.exception
    Store(root).runs()  # re-read: the run's file was replaced
    assert Store(root).records([rid])[rid]["test_acc"] == before  # the same run, on the CPU


HOSTILE = [LINK, "9" * 5000, "../../etc/passwd", "0123456789abcdef"]


@pytest.mark.parametrize("bad", HOSTILE)
def test_a_hostile_run_id_is_refused_as_literal_text_and_nothing_is_computed(
    saved, monkeypatch, bad
):
    monkeypatch.setenv("CNNEXP_RESULTS", str(saved))
    at = open_page(PAGE, {"run": bad, "image": "3", "compare": LINK})
    assert not at.exception, at.exception
    assert not any("example.org" in t for t in markdown_texts(at))
    literal = " ".join(t.value for t in at.text)
    assert bad[:80] in literal and "allowed: the id of a saved run" in literal
    assert not headers(at) and not at.get("plotly_chart")  # nothing computed
    assert [b.label for b in at.button] == ["Look inside the run picked above"]


@pytest.mark.parametrize("bad", ["-5", "1e308", "ten", "359", "9" * 5000, "²", LINK])
def test_a_hostile_image_index_is_refused_and_image_0_shown(saved, monkeypatch, bad):
    monkeypatch.setenv("CNNEXP_RESULTS", str(saved))
    rid = run_of(saved, "baseline")
    at = open_page(PAGE, {"run": rid, "image": bad})
    assert not at.exception, at.exception
    literal = " ".join(t.value for t in at.text)
    assert "allowed: a test image index from 0 to 358" in literal
    assert not any("example.org" in t for t in markdown_texts(at))
    assert at.number_input[0].value == 0 and headers(at) == SECTIONS


def test_the_page_says_so_with_no_runs_saved(results):
    at = open_page(PAGE, {"run": LINK})
    assert not at.exception, at.exception
    assert any("No finished runs are saved yet" in i.value for i in at.info)
    assert LINK in " ".join(t.value for t in at.text)


def test_with_no_run_named_it_opens_one_that_kept_its_weights(saved, tmp_path, monkeypatch):
    """Found on a fresh install: the page opened the newest bundled run, saved before runs
    kept their weights, and a first visit saw nothing to look inside."""
    root = tmp_path / "results"
    shutil.copytree(saved, root)
    monkeypatch.setenv("CNNEXP_RESULTS", str(root))
    store = Store(root)
    runs = store.runs()
    last = runs["experiment"].iloc[-1]  # the newest experiment's runs all without weights
    for rid in runs.loc[runs["experiment"] == last, "run_id"]:
        store.blob_path(last, rid, "weights").unlink()
    at = open_page(PAGE)
    assert not at.exception, at.exception
    assert not any("saved before runs kept their weights" in w.value for w in at.warning)
    assert headers(at) == SECTIONS
