"""cnnexp/inspection.py: a saved run rebuilt from its settings and weights; its initial
weights re-created exactly; predictions, mistakes, feature maps; Captum's saliency and
Grad-CAM put their mass where the model looks; every registered experiment's runs inspect."""

import io

import numpy as np
import pytest
import torch
from torch import nn

from cnnexp import engine, experiments, inspection
from cnnexp.config import TrainSetup, parse
from cnnexp.policy import Caps
from cnnexp.runner import execute
from cnnexp.runspec import RunContext, spec_of_record
from cnnexp.store import Store

TINY = {"dataset": "digits", "epochs": 1, "width": 4, "batch_size": 64}
LAUNCH = Caps.defaults("launch")


def saved_run(store, **settings):
    """A baseline run trained and saved in `store`; its spec."""
    mod = experiments.get("baseline")
    spec = mod.plan(parse(mod.Config, {**TINY, **settings}))[0]
    rec = execute(spec, store, RunContext(device="cpu"))
    assert rec["status"] == "done" and rec["saved"]
    return spec


# --- weights saved with every run --------------------------------------------------------
def test_a_finished_run_saves_its_weights_in_fp16_beside_its_file(store):
    spec = saved_run(store, model="mlp")
    blob = store.blob("baseline", spec.run_id, "weights")
    state = torch.load(io.BytesIO(blob), weights_only=True)
    assert state["2.weight"].dtype == torch.float16  # the first hidden layer's parameters
    assert state["0.mean"].dtype == torch.float32  # buffers (input statistics) as they were
    assert (store.root / "runs" / "baseline" / f"{spec.run_id}.weights.bin").exists()


@pytest.mark.parametrize("model", ["mlp", "local", "cnn"])
def test_the_saved_weights_give_the_runs_recorded_accuracy(store, model):
    spec = saved_run(store, model=model, epochs=2)
    subj, net = inspection.load(store, spec.run_id)
    recorded = store.records([spec.run_id])[spec.run_id]["test_acc"]
    p = inspection.predictions(net, subj, LAUNCH)
    # fp16 weights: a prediction may flip on a near tie, not more
    assert p.accuracy == pytest.approx(recorded, abs=2 / subj.n_test)
    assert len(p.labels) == subj.n_test == p.total


def test_saving_weights_changes_neither_the_run_id_nor_its_results(tmp_path):
    """The same run trained twice gives the same numbers, and its id is what it was before
    weights were saved (the spec alone decides it)."""
    a, b = Store(tmp_path / "a"), Store(tmp_path / "b")
    spec = saved_run(a)
    saved_run(b)
    ra, rb = a.records([spec.run_id])[spec.run_id], b.records([spec.run_id])[spec.run_id]
    assert ra["test_acc"] == rb["test_acc"] and ra["train_loss"] == rb["train_loss"]
    assert a.blob("baseline", spec.run_id, "weights") == b.blob("baseline", spec.run_id, "weights")


def test_a_run_trained_again_and_cancelled_leaves_the_finished_run(store):
    from cnnexp.runner import perform, save

    spec = saved_run(store, epochs=2)
    before = store.records([spec.run_id])[spec.run_id]
    epochs = []
    ctx = RunContext(device="cpu", on_epoch=epochs.append, should_stop=lambda: len(epochs) >= 1)
    record, out = perform(spec, ctx)  # trained again, stopped after its first epoch
    assert out.status == "cancelled" and out.metrics
    assert save(store, record, out)["saved"] is False
    store.runs()
    assert store.records([spec.run_id])[spec.run_id]["test_acc"] == before["test_acc"]


# --- initial weights re-created from the seed --------------------------------------------
@pytest.mark.parametrize("model", ["mlp", "local", "cnn"])
@pytest.mark.parametrize("seed", [0, 7])
def test_initial_weights_are_recreated_exactly(model, seed):
    setup = TrainSetup(**{**TINY, "model": model}).normalized()
    mod = experiments.get("baseline")
    spec = mod.plan(parse(mod.Config, {**TINY, "model": model, "seed": seed}))[0]
    seen = {}

    def at_start(epoch, net, dd):
        if epoch == 0:
            seen.update({k: v.detach().clone() for k, v in net.state_dict().items()})

    dd = engine.load_device_data(setup, seed, RunContext(device="cpu"))
    engine.train(setup, dd, seed, epoch_hook=at_start)
    again = inspection.initial_model(inspection.subject(spec)).state_dict()
    params = [k for k in seen if not k.startswith("0.")]  # 0: the input's mean and std
    assert params and all(torch.equal(seen[k], again[k]) for k in params)
    fw = inspection.first_weights(inspection.initial_model(inspection.subject(spec)), (1, 8, 8))
    assert fw.kind == {"mlp": "linear", "local": "local", "cnn": "conv"}[model]


def test_initial_weights_of_a_receptive_field_stack_are_recreated_exactly():
    from cnnexp.experiments import receptive_field as rf

    spec = rf.plan(parse(rf.Config, {**rf.TINY, "seeds": 1}))[0]
    subj = inspection.subject(spec)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.seed)  # what engine.train does right before build()
        expected = rf.task_net(rf.task_stack(spec.config["stack"], spec.config["depth"]), 4)
    got = inspection.initial_model(subj)
    for (k, a), (_, b) in zip(expected.state_dict().items(), got.state_dict().items(), strict=True):
        assert torch.equal(a, b), k


def test_recreating_initial_weights_leaves_torchs_generator_alone():
    mod = experiments.get("baseline")
    subj = inspection.subject(mod.plan(parse(mod.Config, TINY))[0])
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    inspection.initial_model(subj)
    assert torch.equal(torch.rand(3), expected)


# --- predictions, mistakes, caps ---------------------------------------------------------
def test_predictions_per_class_confusion_and_mistakes_agree(store):
    spec = saved_run(store, epochs=2)
    subj, net = inspection.load(store, spec.run_id)
    p = inspection.predictions(net, subj, LAUNCH)
    conf = inspection.confusion(p)
    assert conf.sum() == len(p.labels) and np.trace(conf) == (p.predicted == p.labels).sum()
    rows = inspection.per_class(p)
    assert [r["correct"] for r in rows] == list(np.diag(conf))
    assert [r["images"] for r in rows] == list(conf.sum(1))
    wrong = inspection.mistakes(p, k=5)
    assert len(wrong) == 5
    probs = [m["probability"] for m in wrong]
    assert probs == sorted(probs, reverse=True)
    for m in wrong:  # each really is a mistake, with the probability the model gave
        assert m["true"] != m["predicted"]
        assert p.probs[m["index"]].max() == pytest.approx(m["probability"])
    surest = p.probs[p.predicted != p.labels].max(1).max()
    assert probs[0] == pytest.approx(surest)


def test_the_image_cap_and_the_compute_budget_bound_the_images_evaluated(store):
    spec = saved_run(store)
    subj, net = inspection.load(store, spec.run_id)
    assert len(inspection.predictions(net, subj, Caps(max_inspect_images=50)).labels) == 50
    budget = Caps(probe_gflop=subj.flops * 20 / 1e9)  # room for 20 images' forward passes
    assert len(inspection.predictions(net, subj, budget).labels) == 20
    assert Caps.defaults("viewer").max_inspect_images == 5_000


def test_feature_maps_follow_the_layer_table(store):
    spec = saved_run(store)
    subj, net = inspection.load(store, spec.run_id)
    maps = inspection.feature_maps(net, subj, 3)
    layers = TrainSetup(**TINY).layers()
    assert [m.kind for m in maps] == [layer.kind for layer in layers]
    assert [m.shape for m in maps] == [layer.out_shape for layer in layers]
    assert maps[1].label == "1 · conv · 4 × 8 × 8"


@pytest.mark.parametrize("bad", [-1, 359, 10**9])
def test_an_image_index_outside_the_test_set_is_refused(store, bad):
    spec = saved_run(store)
    subj, net = inspection.load(store, spec.run_id)
    with pytest.raises(inspection.InspectError, match="allowed: 0 to 358"):
        inspection.image_view(subj, net, bad)


@pytest.mark.parametrize(
    "run_id, words",
    [
        ("../../etc/passwd", "not a run id"),
        ("[x](https://example.org)", "not a run id"),
        ("0123456789ABCDEF", "not a run id"),
        ("0123456789abcdef", "not saved here"),
    ],
)
def test_unknown_or_malformed_run_ids_are_refused(store, run_id, words):
    with pytest.raises(inspection.InspectError, match=words):
        inspection.load(store, run_id)


def test_a_run_saved_without_weights_says_so(store):
    spec = saved_run(store)
    store.blob_path("baseline", spec.run_id, "weights").unlink()
    with pytest.raises(inspection.NoWeights, match="saved before runs kept their weights"):
        inspection.load(store, spec.run_id)


# --- where it looks ----------------------------------------------------------------------
class Quadrant(nn.Module):
    """Keeps the top-right quadrant of the image, zeroes the rest."""

    def forward(self, x):
        h, w = x.shape[2:]
        mask = torch.zeros_like(x)
        mask[:, :, : h // 2, w // 2 :] = 1
        return x * mask


def quadrant_subject(model: nn.Module) -> inspection.Subject:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (4, 1, 32, 32), dtype=np.uint8)
    return inspection.Subject(
        spec_of_record(
            {"experiment": "x", "version": 1, "config": {}, "seed": 0, "run_id": "0" * 16}
        ),
        "cnn",
        lambda: model,
        ("mask", "conv", "relu", "conv", "relu", "gap", "linear"),
        0,
        x,
        np.zeros(4, dtype=np.int64),
        ("a", "b"),
    )


def test_saliency_and_grad_cam_put_their_mass_in_the_quadrant_the_logit_depends_on():
    torch.manual_seed(0)
    model = nn.Sequential(
        Quadrant(),
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=1),
        nn.ReLU(),
        nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()),
        nn.Linear(4, 2),
    ).eval()
    subj = quadrant_subject(model)
    for i in range(len(subj.y_test)):
        att = inspection.attribution(model, subj, i)
        for name, heat in (("saliency", att.saliency), ("grad_cam", att.grad_cam)):
            assert heat.shape == (32, 32)
            share = heat[:16, 16:].sum() / heat.sum()
            # Saliency: the logit has no gradient outside the quadrant at all. Grad-CAM
            # weighs the last conv's maps, which reach 2 pixels past the quadrant's edges
            # (two 3×3 convs) and are blurred a little by the bilinear upsampling.
            assert share > (0.999 if name == "saliency" else 0.9), (name, i, share)


def test_an_mlp_has_saliency_but_no_grad_cam(store):
    spec = saved_run(store, model="mlp")
    subj, net = inspection.load(store, spec.run_id)
    att = inspection.attribution(net, subj, 0)
    assert att.grad_cam is None and att.saliency.shape == (8, 8) and att.saliency.sum() > 0
    assert att.predicted in subj.classes and 0 < att.probability <= 1


# --- every registered experiment ---------------------------------------------------------
@pytest.mark.parametrize("name", experiments.names())
def test_every_experiments_tiny_runs_can_be_inspected(tiny_saved, name):
    store = Store(tiny_saved(name))
    runs = store.runs(name)
    done = runs[runs["status"] == "done"]
    assert len(done), name
    for run_id in done["run_id"]:
        subj, net = inspection.load(store, run_id)
        run = inspection.run_view(subj, net, Caps.defaults("viewer"))
        image = inspection.image_view(subj, net, 0)
        report = inspection.report(subj, run, image)
        recorded = store.records([run_id])[run_id]["test_acc"]
        assert report["accuracy"] == pytest.approx(recorded, abs=2 / subj.n_test), run_id
        assert run.first_init.weights.shape == run.first_trained.weights.shape
        assert not np.array_equal(run.first_init.weights, run.first_trained.weights)
        assert len(report["feature_maps"]) == len(subj.kinds)
        assert (report["grad_cam"] is None) == (subj.family != "cnn")
