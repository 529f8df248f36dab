"""Inside a saved run: what it predicts, what its first layer learned, what each layer makes
of one image, and where it looks.

Pure (torch, numpy, Captum; no Streamlit): the Inside page, the CLI's `inspect` and the
`learned` experiment call it. A run is rebuilt by the code it trained with: the blueprint
(cnnexp/models.py) of its TrainSetup, or the experiment's own builder (the receptive-field
stacks); its trained weights come from the blob saved beside its file (engine.weights_blob),
its test images from cnnexp/data.py, transformed as its were (a permuted run's pixels).

Its weights at initialisation are re-created exactly: engine.train seeds torch with the run's
seed and builds the model next, on the CPU, before anything else draws a random number.

Whatever is computed for a visitor is bounded: the images evaluated per request (policy's
`max_inspect_images` and the probe compute budget), an image index within the test set.
Every result is plain numpy or JSON values, so a caller can cache it per (run, image).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cnnexp import architecture, data, models
from cnnexp.config import TrainSetup
from cnnexp.errors import ConfigError
from cnnexp.policy import Caps, inspect_images
from cnnexp.runspec import RUN_ID, RunSpec, spec_of_record

FIRST_UNITS = 32  # first-layer filters or hidden units drawn
LOCAL_POSITIONS = 3  # a locally connected layer's filters at a 3 × 3 grid of positions
LOCAL_CHANNELS = 4  # ... for its first 4 output channels
MAP_CHANNELS = 8  # channels of each layer's feature map drawn
MISTAKES = 12  # the most confident mistakes listed


class InspectError(ConfigError):
    """A run that cannot be inspected; the message names what is allowed."""


class NoWeights(InspectError):
    """A saved run without its weights (saved before runs kept them, or not finished)."""


# --- a saved run, rebuilt ------------------------------------------------------------------
@dataclass(frozen=True)
class Subject:
    """A saved run, ready to look inside: how to build its model and the images it was
    tested on. `build()` makes the untrained model; torch's seed decides its weights."""

    spec: RunSpec
    family: str  # mlp, local or cnn: what its first layer is
    build: Callable[[], nn.Module]
    kinds: tuple[str, ...]  # the layer table's kind of each module of the model, in order
    flops: int  # forward FLOPs of one image
    x_test: np.ndarray  # (N, C, H, W) uint8
    y_test: np.ndarray  # (N,) int64
    classes: tuple[str, ...]

    @property
    def n_test(self) -> int:
        return len(self.y_test)


def check_run_id(run_id: str) -> str:
    if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id):
        raise InspectError(
            f"run id {str(run_id)[:40]!r} is not a run id; allowed: the 16 hexadecimal digits "
            "of a saved run (python -m cnnexp runs lists them)"
        )
    return run_id


def saved_record(store, run_id: str) -> dict:
    """The saved record of run_id, or InspectError naming what is allowed."""
    rec = store.records([check_run_id(run_id)]).get(run_id)
    if rec is None:
        raise InspectError(
            f"run {run_id} is not saved here; allowed: the id of a saved run "
            "(python -m cnnexp runs lists them)"
        )
    return rec


def weights_of(store, record: dict) -> bytes:
    """The saved trained weights of a run, or NoWeights saying why there are none."""
    blob = store.blob(record["experiment"], record["run_id"], "weights")
    if blob is None:
        status = record.get("status")
        why = (
            f"it ended {status}, so none were kept"
            if status != "done"
            else "it was saved before runs kept their weights"
        )
        raise NoWeights(
            f"run {record['run_id']} has no saved weights ({why}); allowed: a run saved with its "
            "weights: train it again (the Inside page's button, or python -m cnnexp run "
            f"{record['experiment']} with its settings and --force)"
        )
    return blob


def setup_of(config: dict) -> TrainSetup:
    """The TrainSetup inside an experiment's run config (its own keys left out)."""
    return TrainSetup.model_validate(
        {k: v for k, v in config.items() if k in TrainSetup.model_fields}
    )


def test_images_key(experiment: str, config: dict, seed: int) -> tuple:
    """What decides a run's test images: runs with equal keys were tested on the same
    images, so their attributions on one image index can be set side by side."""
    if experiment == "receptive_field":  # its strips are drawn with the run's own seed
        return ("pairs", config["n_train"], config["distance"], config["image_width"], seed)
    if experiment == "permuted":
        from cnnexp.experiments.permuted import INTACT

        if config["block"] != INTACT:  # its pixels moved by the run's permutation
            return (config["dataset"], "permuted", config["block"], config["perm_seed"])
    return (config.get("dataset"),)


def subject(spec: RunSpec, data_dir: str | None = None) -> Subject:
    """How spec's model is built and the test images it was measured on."""
    if spec.experiment == "receptive_field":
        return _receptive_field(spec)
    setup = setup_of(spec.config)
    ds = data.load(setup.dataset, data_dir)
    if spec.experiment == "permuted":  # every image's pixels moved by the run's permutation
        from cnnexp.experiments.permuted import permutation
        from cnnexp.permutation import permute_pixels

        perm = permutation(setup.dataset, spec.config["block"], spec.config["perm_seed"])
        ds = ds.map_images(lambda x: permute_pixels(x, perm))
    layers = setup.layers()
    channels = ds.info.shape[0]
    return Subject(
        spec,
        setup.model,
        # mean and std are buffers: the trained ones come with the weights
        lambda: models.build(layers, [0.0] * channels, [1.0] * channels),
        tuple(layer.kind for layer in layers),
        architecture.count_flops(layers),
        ds.x_test,
        ds.y_test,
        ds.classes,
    )


def _receptive_field(spec: RunSpec) -> Subject:
    from cnnexp.experiments import receptive_field as rf

    c = spec.config
    layers = rf.task_stack(c["stack"], c["depth"])
    ds = rf.pairs(c["n_train"], c["distance"], c["image_width"], spec.seed)
    net = rf.task_net(layers, c["width"])
    kinds = tuple(_kind(m) for m in net)
    return Subject(
        spec,
        "cnn",
        lambda: rf.task_net(layers, c["width"]),
        kinds,
        rf.forward_flops(layers, c["width"], c["image_width"]),
        ds.x_test,
        ds.y_test,
        ds.classes,
    )


def _kind(module: nn.Module) -> str:
    return {
        "Conv2d": "conv",
        "LocallyConnected2d": "local",
        "Linear": "linear",
        "BatchNorm2d": "norm",
        "ReLU": "relu",
        "MaxPool2d": "pool",
        "AdaptiveAvgPool2d": "gap",
        "Flatten": "flatten",
    }.get(type(module).__name__, type(module).__name__.lower())


def _viewable(model: nn.Module) -> nn.Module:
    """Eval mode, float32, ReLUs not in place (an in-place ReLU overwrites the output of the
    layer before it, which feature maps and Captum's layer hooks read)."""
    for m in model.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
    return model.float().eval().to(memory_format=_layout(model))


def _layout(model: nn.Module) -> torch.memory_format:
    # mkldnn's channels_last convolutions: a third less CPU for a CNN's pass over 1,000 test
    # images (0.19 vs 0.30 s CPU, width 16 on mnist5k, the loaded 2-core VM); as the engine.
    return torch.channels_last if last_conv(model) is not None else torch.contiguous_format


def trained_model(subj: Subject, blob: bytes) -> nn.Module:
    """The run's model with its saved weights (fp16 parameters widened to fp32)."""
    model = _fresh(subj, None)
    state = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
    try:
        model.load_state_dict(state)
    except RuntimeError:
        raise InspectError(
            f"run {subj.spec.run_id}'s saved weights do not fit the model its settings build "
            "today (the code changed since it trained); allowed: a run trained by this "
            "version: train it again"
        ) from None
    return _viewable(model)


def initial_model(subj: Subject) -> nn.Module:
    """The run's model as it was before its first step: seeded as engine.train seeds it."""
    return _viewable(_fresh(subj, subj.spec.seed))


def _fresh(subj: Subject, seed: int | None) -> nn.Module:
    # fork_rng: building draws from torch's global generator; a server's other work keeps its own.
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        return subj.build()


def load(store, run_id: str, data_dir: str | None = None) -> tuple[Subject, nn.Module]:
    """A saved run's subject and trained model; InspectError (NoWeights) if it has none."""
    rec = saved_record(store, run_id)
    blob = weights_of(store, rec)
    subj = subject(spec_of_record(rec), data_dir)
    return subj, trained_model(subj, blob)


def images(subj: Subject, index: slice | list[int] | int) -> torch.Tensor:
    """Test images as the model takes them: float (n, C, H, W) in [0, 1]."""
    x = subj.x_test[index]
    x = x[None] if x.ndim == 3 else x
    return torch.from_numpy(np.ascontiguousarray(x)).float().div_(255.0)


def check_index(subj: Subject, index: int) -> int:
    if not 0 <= index < subj.n_test:
        raise InspectError(
            f"image index {index} is not in the test set; allowed: 0 to {subj.n_test - 1}"
        )
    return index


# --- predictions and mistakes --------------------------------------------------------------
@dataclass(frozen=True)
class Predictions:
    """Class probabilities of the first `len(labels)` test images (the cap may stop short
    of the whole set: `total` says how many there are)."""

    probs: np.ndarray  # (n, classes) float32, softmax
    labels: np.ndarray  # (n,) true classes
    classes: tuple[str, ...]
    total: int

    @property
    def predicted(self) -> np.ndarray:
        return self.probs.argmax(1)

    @property
    def accuracy(self) -> float:
        return float((self.predicted == self.labels).mean()) if len(self.labels) else float("nan")


@torch.inference_mode()
def predictions(model: nn.Module, subj: Subject, caps: Caps, batch: int = 1000) -> Predictions:
    """The model's class probabilities on as many test images as the caps allow."""
    n = inspect_images(caps, subj.n_test, subj.flops)
    fmt = _layout(model)
    probs = [
        torch.softmax(
            model(images(subj, slice(i, min(i + batch, n))).contiguous(memory_format=fmt)), 1
        )
        for i in range(0, n, batch)
    ]
    p = torch.cat(probs).numpy() if probs else np.zeros((0, len(subj.classes)), np.float32)
    return Predictions(p, subj.y_test[:n], subj.classes, subj.n_test)


def per_class(p: Predictions) -> list[dict]:
    """Per true class: its images among those evaluated, how many were right, the share."""
    out = []
    for c, name in enumerate(p.classes):
        mine = p.labels == c
        right = int((p.predicted[mine] == c).sum())
        n = int(mine.sum())
        out.append(
            {"class": name, "images": n, "correct": right, "accuracy": right / n if n else None}
        )
    return out


def confusion(p: Predictions) -> np.ndarray:
    """Counts (true class × predicted class)."""
    k = len(p.classes)
    return np.bincount(p.labels * k + p.predicted, minlength=k * k).reshape(k, k)


def mistakes(p: Predictions, k: int = MISTAKES) -> list[dict]:
    """The k wrong predictions the model was surest of: image index, true and predicted
    class, and the probability it gave the wrong class."""
    wrong = np.flatnonzero(p.predicted != p.labels)
    sure = p.probs[wrong, p.predicted[wrong]]
    order = wrong[np.argsort(-sure, kind="stable")][:k]
    return [
        {
            "index": int(i),
            "true": p.classes[p.labels[i]],
            "predicted": p.classes[p.predicted[i]],
            "probability": float(p.probs[i, p.predicted[i]]),
        }
        for i in order
    ]


# --- the first layer -----------------------------------------------------------------------
@dataclass(frozen=True)
class FirstWeights:
    """A model's first weighted layer, all of it, as numpy:
    conv (out, C, k, k); local (positions, out, C, k, k) with out_size the positions' grid;
    linear (units, C, H, W): an MLP unit's weights over the image."""

    kind: str  # conv, local or linear
    weights: np.ndarray
    out_size: tuple[int, int] | None = None  # local: the grid of positions


def first_weights(model: nn.Module, in_shape: tuple[int, int, int]) -> FirstWeights:
    """The first conv, locally connected or linear layer of a model (what the `learned`
    experiment measures, and the page draws)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            return FirstWeights("conv", m.weight.detach().float().numpy().copy())
        if isinstance(m, models.LocallyConnected2d):
            k, c = m.kernel_size, in_shape[0]
            w = m.weight.detach().float().numpy()  # (positions, out, C·k·k), unfold order
            return FirstWeights("local", w.reshape(w.shape[0], w.shape[1], c, k, k), m.out_size)
        if isinstance(m, nn.Linear):
            w = m.weight.detach().float().numpy()
            return FirstWeights("linear", w.reshape(w.shape[0], *in_shape))
    raise InspectError("this model has no conv, locally connected or linear layer")


def filter_images(fw: FirstWeights, units: int = FIRST_UNITS) -> tuple[np.ndarray, list[str]]:
    """What the page draws of a first layer: (n, C, h, w) images and a title each. A conv's
    first `units` filters; a locally connected layer's first LOCAL_CHANNELS filters at a
    LOCAL_POSITIONS × LOCAL_POSITIONS grid of positions; an MLP's first `units` hidden units."""
    if fw.kind != "local":
        what = "filter" if fw.kind == "conv" else "unit"
        w = fw.weights[:units]
        return w, [f"{what} {i}" for i in range(len(w))]
    rows, cols = fw.out_size
    at = sorted(
        {round(i * (rows - 1) / max(1, LOCAL_POSITIONS - 1)) for i in range(LOCAL_POSITIONS)}
    )
    at_c = sorted(
        {round(i * (cols - 1) / max(1, LOCAL_POSITIONS - 1)) for i in range(LOCAL_POSITIONS)}
    )
    out, titles = [], []
    for r in at:
        for c in at_c:
            for ch in range(min(LOCAL_CHANNELS, fw.weights.shape[1])):
                out.append(fw.weights[r * cols + c, ch])
                titles.append(f"({r},{c}) f{ch}")
    return np.stack(out), titles


# --- one image through the model -----------------------------------------------------------
@dataclass(frozen=True)
class LayerMap:
    index: int  # the module's place in the model (the layer table's row)
    kind: str  # the layer table's kind
    shape: tuple[int, ...]  # the output's shape for one image
    maps: np.ndarray  # (channels shown, h, w) of a spatial output, else (1, 1, features)

    @property
    def label(self) -> str:
        return f"{self.index} · {self.kind} · {' × '.join(map(str, self.shape))}"


@torch.inference_mode()
def feature_maps(
    model: nn.Module, subj: Subject, index: int, channels: int = MAP_CHANNELS
) -> list[LayerMap]:
    """Each layer's output for test image `index`, labelled with the model's layer table;
    the first `channels` channels of a spatial map, a vector as one row."""
    x = images(subj, check_index(subj, index))
    out = []
    for i, module in enumerate(_layers(model)):
        x = module(x)
        y = x[0].float().numpy()
        maps = y[:channels] if y.ndim == 3 else y.reshape(1, 1, -1)
        out.append(LayerMap(i, subj.kinds[i], tuple(y.shape), maps.copy()))
    return out


def _layers(model: nn.Module) -> list[nn.Module]:
    return list(model) if isinstance(model, nn.Sequential) else [model]


def last_conv(model: nn.Module) -> nn.Conv2d | None:
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    return convs[-1] if convs else None


@dataclass(frozen=True)
class Attribution:
    """Where a model looks on one test image, for the class it predicts."""

    index: int
    true: str
    predicted: str
    probability: float
    saliency: np.ndarray  # (H, W): |∂ logit / ∂ pixel|, the largest over channels
    grad_cam: np.ndarray | None  # (H, W) on the last conv layer, upsampled; None without one


def attribution(model: nn.Module, subj: Subject, index: int) -> Attribution:
    """Saliency (Captum's Saliency: the input gradient's magnitude) for every family, and
    Grad-CAM (Captum's LayerGradCam on the last conv layer, positive part, bilinearly
    upsampled to the image) for a model with a conv layer; both for the predicted class."""
    from captum.attr import LayerAttribution, LayerGradCam, Saliency

    x = images(subj, check_index(subj, index))
    with torch.inference_mode():
        probs = torch.softmax(model(x), 1)[0]
    target = int(probs.argmax())
    sal = Saliency(model).attribute(x.clone().requires_grad_(True), target=target, abs=True)
    cam = None
    conv = last_conv(model)
    if conv is not None:
        raw = LayerGradCam(model, conv).attribute(x, target=target, relu_attributions=True)
        cam = LayerAttribution.interpolate(raw, tuple(x.shape[2:]), "bilinear")[0, 0]
        cam = cam.detach().numpy()
    return Attribution(
        index,
        subj.classes[int(subj.y_test[index])],
        subj.classes[target],
        float(probs[target]),
        sal[0].detach().amax(0).numpy(),
        cam,
    )


# --- what the page shows: one run, one image ----------------------------------------------
@dataclass(frozen=True)
class RunView:
    """What a run shows whatever image is chosen: its predictions and its first layer."""

    predictions: Predictions
    per_class: list[dict]
    confusion: np.ndarray  # (true, predicted) counts
    mistakes: list[dict]
    mistake_images: np.ndarray  # (k, C, H, W) uint8, in the order of `mistakes`
    first_init: FirstWeights
    first_trained: FirstWeights


def run_view(subj: Subject, model: nn.Module, caps: Caps) -> RunView:
    p = predictions(model, subj, caps)
    wrong = mistakes(p)
    shape = subj.x_test.shape[1:]
    return RunView(
        p,
        per_class(p),
        confusion(p),
        wrong,
        subj.x_test[[m["index"] for m in wrong]],
        first_weights(initial_model(subj), shape),
        first_weights(model, shape),
    )


@dataclass(frozen=True)
class ImageView:
    """One test image through the run's model: every layer's output and where it looks."""

    image: np.ndarray  # (C, H, W) uint8, as the model saw it
    maps: list[LayerMap]
    attribution: Attribution


def image_view(subj: Subject, model: nn.Module, index: int) -> ImageView:
    check_index(subj, index)
    return ImageView(
        subj.x_test[index], feature_maps(model, subj, index), attribution(model, subj, index)
    )


# --- everything, as plain values (the CLI's --json) ----------------------------------------
def report(subj: Subject, run: RunView, image: ImageView) -> dict:
    """Every fact the Inside page shows for one run and one test image, as JSON values."""
    spec, p, att = subj.spec, run.predictions, image.attribution
    return {
        "run": {
            "run_id": spec.run_id,
            "experiment": spec.experiment,
            "label": spec.label,
            "seed": spec.seed,
            "settings": spec.config,
        },
        "images_evaluated": len(p.labels),
        "test_images": p.total,
        "accuracy": p.accuracy,
        "per_class": run.per_class,
        "classes": list(p.classes),
        "confusion": run.confusion.tolist(),
        "mistakes": run.mistakes,
        "first_layer": {
            "kind": run.first_trained.kind,
            "shape": list(run.first_trained.weights.shape),
        },
        "feature_maps": [
            {"layer": m.index, "kind": m.kind, "shape": list(m.shape)} for m in image.maps
        ],
        "image": {
            "index": att.index,
            "true": att.true,
            "predicted": att.predicted,
            "probability": att.probability,
        },
        "saliency": att.saliency.round(6).tolist(),
        "grad_cam": None if att.grad_cam is None else att.grad_cam.round(6).tolist(),
    }
