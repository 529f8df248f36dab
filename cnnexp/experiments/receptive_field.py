"""Receptive field: a task that needs range, learned by stacks whose fields grow differently.

How far a unit sees, in theory and in its gradient, is counted in cnnexp/fields.py; the
page's instant tabs (the field probe, cnnexp/probes/field.py) show it for any stack. This
experiment trains: two glyphs a distance d apart on a strip, labelled "same" or "different"
(shapes.generate_pairs), are told apart by a CNN with a global-average-pool head, so the answer
must come from units that see both glyphs. Stacks of equal depth and parameters differ only in
how their field grows (plain, dilated, pooled); a wide-kernel stack buys range with parameters.
"""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal, TypedDict

from pydantic import Field, model_validator

from cnnexp import catalog, fields, stats
from cnnexp.config import EpochFields, ExperimentFields, TrainFields, param, parse
from cnnexp.fields import Window
from cnnexp.results import Results
from cnnexp.runspec import RunContext, RunOutput, RunSpec, StepModel, Work

NAME = "receptive_field"
TITLE, SUMMARY, headline_text = catalog.identity(NAME)  # cnnexp/catalog.py: Home reads it
VERSION = 1
TINY = {
    "stacks": ("plain", "dilated"),
    "distances": (9, 15),
    "n_train": 64,
    "epochs": 1,
    "width": 4,
}

HEIGHT = 16  # a strip: the range the task needs is horizontal; a low image trains faster
TEST = 500  # test images per run
# Test-set passes per run: the page reads only the final accuracy, and five passes over the
# test strips cost about a seventh of a default run. Evaluating never changes the training.
TEST_EVALS = 1
WORKS = 0.75  # a stack "works" at a distance when its mean accuracy reaches this (chance: 0.5)
NEAR_CHANCE = 0.55  # a stack never above this at any distance has not learned the task at all
GLYPH_SIDE = 9  # shapes.GLYPH, without importing the generator where only numbers are needed
SEEN = 4  # columns of each glyph a unit must see to tell the six glyphs apart (rule of thumb)

StackName = Literal["plain", "dilated", "pooled", "wide"]
STACK_HELP = {
    "plain": "3×3 convolutions: the field grows by 2 a layer",
    "dilated": "3×3 convolutions with dilation 1, 2, 4, …: exponential growth, same parameters",
    "pooled": "3×3 convolutions with 2×2 max pooling between them: the jump doubles, same parameters",
    "wide": "7×7 convolutions: the field grows by 6 a layer, at 5.4 times the parameters",
}
STACKS: dict[str, dict[str, Any]] = {  # each stack as fields.stack builds it, at any depth
    "plain": {"kernel": 3},
    "dilated": {"kernel": 3, "dilation_growth": 2},
    "pooled": {"kernel": 3, "pool_every": 1, "pool_after_last": False},
    "wide": {"kernel": 7},
}
Distance = Annotated[int, Field(ge=9, le=55)]


class Config(ExperimentFields, EpochFields):
    stacks: tuple[StackName, ...] = param(
        ("plain", "dilated", "pooled"),
        "Stacks to compare: " + "; ".join(f"{k}: {v}" for k, v in STACK_HELP.items()),
        group="Task",
    )
    distances: tuple[Distance, ...] = param(
        (9, 16, 23),
        "Distances between the two glyphs' left edges (pixels; a glyph is 9 wide, so 9 "
        "means they touch)",
        group="Task",
    )
    image_width: int = param(
        32,
        "Width of the strip (16 pixels high); it must hold both glyphs at the largest distance",
        ge=24,
        le=64,
        options=(32, 40, 48, 64),
        group="Task",
        label="Image width",
    )
    n_train: int = param(
        1200,
        "Training images per run (new ones with each seed; half same, half different)",
        ge=32,
        le=20000,
        options=(300, 600, 1200, 2400, 4800),
        group="Task",
        label="Training images",
    )
    depth: int = param(
        4, "Conv layers of every stack", ge=2, le=6, group="Trained stacks", label="Trained depth"
    )
    width: int = param(
        8,
        "Channels of every conv layer",
        ge=2,
        le=64,
        options=(4, 8, 16, 32),
        group="Trained stacks",
    )
    # Measured (3 seeds, loaded 2-core CPU, one thread; BENCHMARKS.md): 4 epochs of 1,200
    # images at lr 1e-2 keep the story of 5 (plain fails from d = 16; dilated and pooled work
    # at 9, 16 and 23; pooled at 16 is the weakest point, 77% against 83%) at 0.61 of the CPU
    # time; 5 epochs of 1,000 images drop pooled at 16 to 75%, the bar. At lr 3e-3 and 1,000
    # images (6 epochs, d = 16) pooled and dilated stop at 61% and 76%.
    epochs: int = param(4, "Passes over the training images", ge=1, le=200, group="Training")
    lr: float = param(
        1e-2,
        "Peak learning rate (AdamW, one-cycle)",
        gt=0,
        le=10,
        options=(1e-3, 3e-3, 1e-2, 3e-2),
        log=True,
        group="Training",
        label="Learning rate",
    )

    @model_validator(mode="after")
    def _check(self) -> Config:
        if not self.stacks:
            raise ValueError("stacks is empty; allowed: one or more of " + ", ".join(STACK_HELP))
        if not self.distances:
            raise ValueError("distances is empty; allowed: one or more distances from 9 to 55")
        too_far = [d for d in self.distances if d > self.image_width - 9]
        if too_far:
            raise ValueError(
                f"distances {too_far} do not fit two 9-pixel glyphs in a {self.image_width}-pixel "
                f"strip; allowed: 9 to {self.image_width - 9}, or a wider image"
            )
        if "pooled" in self.stacks and HEIGHT >> (self.depth - 1) < 1:
            raise ValueError(
                f"the pooled stack halves the {HEIGHT}-pixel height {self.depth - 1} times, "
                f"below one pixel; allowed: depth <= 5"
            )
        return self


class TaskTraining(TrainFields):
    """What engine.train reads of a run beside the network, which task_net builds (the
    blueprint cannot describe a dilated stack) on the strips of `pairs`: the training
    settings, validated, and what the memory layout follows (a BatchNorm CNN of this width)."""

    model: Literal["cnn"] = param("cnn", "task_net is a CNN")
    norm: Literal["batch"] = param("batch", "task_net normalises with BatchNorm")
    width: int = param(8, "Channels of every conv layer", ge=1, le=64)


def task_stack(name: str, depth: int) -> list[Window]:
    """The windows of a named stack: what its field is counted from and task_net built from."""
    return fields.stack(depth, **STACKS[name])


def field_of(name: str, depth: int) -> int:
    return fields.theoretical(task_stack(name, depth))[-1]["side"]


def task_net(layers: list[Window], width: int):
    """The trained network: each conv (size-preserving padding) + BatchNorm + ReLU, max
    pooling where the stack pools, then global average pooling and a 2-way linear head. The
    head sees only position-averaged features: no dense layer can see both glyphs for it."""
    from torch import nn

    mods, c_in = [], 1
    for layer in layers:
        if layer.kind == "pool":
            mods.append(nn.MaxPool2d(2))
            continue
        mods += [
            nn.Conv2d(
                c_in,
                width,
                layer.kernel,
                padding=layer.padding,
                dilation=layer.dilation,
                bias=False,
            ),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        ]
        c_in = width
    mods += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 2)]
    return nn.Sequential(*mods)


def forward_flops(layers: list[Window], width: int, image_width: int) -> int:
    """Forward FLOPs of one strip through task_net, counted as architecture.count_flops does:
    2 per multiply-add of the convolutions and the head (BatchNorm, ReLU, pooling left out).
    Every conv keeps the map's size; a 2×2 pool halves it."""
    h, w, c_in, flops = HEIGHT, image_width, 1, 0
    for layer in layers:
        if layer.kind == "pool":
            h, w = h // 2, w // 2
            continue
        flops += 2 * h * w * width * c_in * layer.kernel**2
        c_in = width
    return flops + 2 * width * 2


def params_of(layers: list[Window], width: int) -> int:
    """Parameters of task_net: the convolutions (no bias), BatchNorm's scale and shift, the head."""
    convs = [layer for layer in layers if layer.kind != "pool"]
    weights = sum(width * (1 if i == 0 else width) * c.kernel**2 for i, c in enumerate(convs))
    return weights + 2 * width * len(convs) + 2 * width + 2


def work(config: dict) -> Work:
    """What a run trains, for estimate.estimate_seconds: its real stack on its strips (the
    blueprint behind the other experiments' estimates cannot describe a dilated stack)."""
    layers = task_stack(config["stack"], config["depth"])
    flops = forward_flops(layers, config["width"], config["image_width"])
    return Work(
        flops,
        config["n_train"],
        config["epochs"],
        "cnn",
        batch=config["batch_size"],
        params=params_of(layers, config["width"]),
        test_images=TEST,
        test_passes=TEST_EVALS,
    )


def step_model(config: dict) -> StepModel:
    """The run's network as a timing run builds it (cnnexp/timing.py): task_net on a strip."""
    layers = task_stack(config["stack"], config["depth"])
    training = parse(
        TaskTraining,
        {k: config[k] for k in ("epochs", "batch_size", "lr", "width")},
    )
    key = {k: config[k] for k in ("stack", "depth", "width", "image_width", "batch_size")}
    image = (1, HEIGHT, config["image_width"])
    return StepModel(key, training, image, 2, lambda: task_net(layers, config["width"]))


def spec_for(cfg: Config, stack_name: str, distance: int, seed: int) -> RunSpec:
    run = {
        "stack": stack_name,
        "distance": distance,
        "image_width": cfg.image_width,
        "depth": cfg.depth,
        "width": cfg.width,
        "n_train": cfg.n_train,
        "epochs": cfg.epochs,
        "batch_size": cfg.batch_size,
        "lr": cfg.lr,
    }
    return RunSpec(NAME, VERSION, run, seed, f"{stack_name} · distance {distance}")


def plan(cfg: Config) -> list[RunSpec]:
    return [
        spec_for(cfg, st, d, s) for st in cfg.stacks for d in cfg.distances for s in cfg.seed_list()
    ]


def pairs(n_train: int, distance: int, image_width: int, seed: int):
    """The task's images for one run: n_train training and TEST test images, drawn with the seed."""
    from cnnexp import shapes
    from cnnexp.data import DatasetInfo, ImageSet

    x, y, _ = shapes.generate_pairs(n_train + TEST, seed, distance, size=image_width, height=HEIGHT)
    info = DatasetInfo(
        "pairs",
        "Glyph pairs",
        (1, HEIGHT, image_width),
        2,
        n_train,
        TEST,
        "generated",
        "Two glyphs a fixed distance apart: the same or not?",
    )
    n = n_train
    return ImageSet(info, x[:n], y[:n], x[n:], y[n:], ("different", "same"))


def execute(spec: RunSpec, ctx: RunContext) -> RunOutput:
    import torch

    from cnnexp import engine

    c = spec.config
    layers = task_stack(c["stack"], c["depth"])
    ds = pairs(c["n_train"], c["distance"], c["image_width"], spec.seed)
    dd = engine.DeviceData.from_images(ds, engine.pick_device(ctx.device), ctx.precision)
    training = parse(
        TaskTraining,
        {"epochs": c["epochs"], "batch_size": c["batch_size"], "lr": c["lr"], "width": c["width"]},
    )
    result = engine.train(
        training,  # type: ignore[arg-type]  # with `build`, train reads only TrainFields and width
        dd,
        spec.seed,
        on_epoch=ctx.on_epoch,
        should_stop=ctx.should_stop,
        build=lambda: task_net(layers, c["width"]),
        evals=TEST_EVALS,
    )
    out = engine.run_output(
        result,
        dd,
        params=sum(p.numel() for p in result.model.parameters()),
        flops=forward_flops(layers, c["width"], c["image_width"]),
        field=fields.theoretical(layers)[-1]["side"],
    )
    if result.status == "done":  # for the trained effective field (trained_effective)
        buffer = io.BytesIO()
        torch.save(result.model.state_dict(), buffer)
        out.blobs["weights"] = buffer.getvalue()
    return out


def trained_effective(spec: RunSpec, store, images: int = 64) -> dict | None:
    """The effective field of a saved trained run: the mean |∂ centre unit / ∂ input| of its
    last conv block (the unit's channels summed) over `images` of its test images, with the
    sides of the squares holding 50% and 90% of it. None when no weights are saved.

    Unlike the field probe's linear random stacks, this one has ReLUs and learned weights: it
    shows where the trained network actually looks."""
    import torch

    blob = store.blob(NAME, spec.run_id, "weights") if store is not None else None
    if blob is None:
        return None
    c = spec.config
    layers = task_stack(c["stack"], c["depth"])
    net = task_net(layers, c["width"])
    net.load_state_dict(torch.load(io.BytesIO(blob), weights_only=True))
    trunk = net.eval()[:-3]  # without global pooling and the head: a map of units
    ds = pairs(c["n_train"], c["distance"], c["image_width"], spec.seed)
    x = torch.from_numpy(ds.x_test[:images]).float().div(255.0).requires_grad_(True)
    y = trunk(x)  # (n, width, h, w)
    y[:, :, y.shape[2] // 2, y.shape[3] // 2].sum().backward()
    grad = x.grad[:, 0].abs().mean(0).double().numpy()
    centre = fields.centroid(grad)
    return {
        "map": grad,
        "theoretical": fields.theoretical(layers)[-1]["side"],
        "effective_50": fields.mass_side(grad, 0.5, centre),
        "effective_90": fields.mass_side(grad, 0.9, centre),
    }


def _runs_of(results: Results, stack_name: str, distance: int):
    runs = results.runs
    if runs.empty:
        return runs
    return runs[(runs["stack"] == stack_name) & (runs["distance"] == distance)]


class DistancePoint(TypedDict):
    distance: int  # between the glyphs' left edges (pixels)
    test_acc: stats.CI


class Headline(TypedDict):
    """Each stack's accuracy against distance, its field and size, and where it stops
    working (catalog.py and explain read it)."""

    accuracy: dict[str, list[DistancePoint]]
    field: dict[str, int]  # theoretical side (pixels)
    params: dict[str, int]  # the stacks with a finished run
    stops_at: dict[str, int | None]  # the first distance below WORKS; None: none is
    learned: dict[str, bool]  # False: at chance everywhere (see learned)
    works_above: float  # WORKS when it was saved


def stops_at(rows: list[DistancePoint]) -> int | None:
    """The first distance, from the shortest, at which the mean accuracy falls below WORKS."""
    for r in rows:
        m = r["test_acc"]["mean"]
        if m is not None and m < WORKS:
            return r["distance"]
    return None


def summarize(cfg: Config, results: Results) -> Headline:
    accuracy: dict[str, list[DistancePoint]] = {}
    params: dict[str, int] = {}
    for st in cfg.stacks:
        accuracy[st] = []
        for d in sorted(cfg.distances):
            mine = _runs_of(results, st, d)
            accuracy[st].append(
                {"distance": d, "test_acc": stats.share_ci(mine["test_acc"] if len(mine) else [])}
            )
            if len(mine):
                params[st] = int(mine["params"].iloc[0])
    return {
        "accuracy": accuracy,
        "field": {st: field_of(st, cfg.depth) for st in cfg.stacks},
        "params": params,
        "stops_at": {st: stops_at(rows) for st, rows in accuracy.items()},
        "learned": {st: learned(rows) for st, rows in accuracy.items()},
        "works_above": WORKS,
    }


def learned(rows: list[DistancePoint]) -> bool:
    """Whether a stack rose above chance anywhere: one at chance at every distance, the
    shortest included, says nothing about where its field stops (too few epochs or images)."""
    means = [r["test_acc"]["mean"] for r in rows if r["test_acc"]["mean"] is not None]
    return not means or max(means) > NEAR_CHANCE


def needs(distance: int) -> int:
    """The field a unit needs to compare the glyphs: the gap between them (distance − 9)
    plus SEEN columns of each. A rule of thumb: seeing both whole would need distance + 9,
    but the six glyphs differ already in their edge columns."""
    return distance - GLYPH_SIDE + 2 * SEEN


def explain(cfg: Config, h: Headline) -> str:
    """What the trained comparison shows, in numbers, whichever way it falls."""
    out = []
    for st, rows in h["accuracy"].items():
        done = [r for r in rows if r["test_acc"]["mean"] is not None]
        if not done:
            continue
        field, stop = h["field"][st], h["stops_at"][st]
        accs = ", ".join(f"{r['distance']}: {r['test_acc']['mean']:.0%}" for r in done)
        verdict = (
            f"falls below {WORKS:.0%} from distance {stop}"
            if stop is not None
            else f"stays at or above {WORKS:.0%} at every distance tried"
        )
        if not h.get("learned", {}).get(st, True):
            verdict = (
                f"stays near chance (at most {NEAR_CHANCE:.0%}) at every distance, the shortest "
                "included: it has not learned the task at these settings (train longer or on "
                "more images), so where its field stops cannot be read from it"
            )
        unsure = [  # a mean on one side of the line, an interval across it
            str(r["distance"])
            for r in done
            if r["test_acc"]["ci95"] is not None
            and r["test_acc"]["ci95"][0] < WORKS <= r["test_acc"]["ci95"][1]
        ]
        if unsure:
            verdict += (
                f" (its 95% interval crosses {WORKS:.0%} at {', '.join(unsure)}: more seeds "
                "would decide)"
            )
        params = h["params"].get(st, "?")
        out.append(f"- **{st}** (field {field} px, {params} parameters): {accs}; it {verdict}.")
    if not out:
        return ""
    lines = [
        "Accuracy against the distance between the glyphs' left edges (chance is 50%). To "
        f"compare them a unit must see across the gap (distance − 9) and about {SEEN} columns "
        f"of each glyph: a field of distance − 1 or more ({needs(16)} at 16, {needs(23)} at 23).",
        "",
        *out,
        "",  # what follows is a paragraph, not the list's last item
    ]
    free = [st for st in ("plain", "dilated", "pooled") if st in h["params"]]
    if len(free) > 1 and len({h["params"][st] for st in free}) == 1:
        cost = (
            f"; wide pays {h['params']['wide'] / h['params'][free[0]]:.1f} times as many "
            f"for a field of {h['field']['wide']}"
            if "wide" in h["params"]
            else ""
        )
        lines.append(
            f"{', '.join(free)} have the same {h['params'][free[0]]:,} parameters: dilation and "
            f"pooling buy range at no parameter cost{cost}."
        )
    off = sorted(
        {
            f"{st} at {r['distance']}"
            for st, rows in h["accuracy"].items()
            for r in rows
            if r["test_acc"]["mean"] is not None
            and (r["test_acc"]["mean"] >= WORKS) != (h["field"][st] >= needs(r["distance"]))
        }
    )
    lines.append(
        "Every stack works exactly where its field reaches across the glyphs and fails where "
        "it does not: the theoretical field predicts the range the task gets."
        if not off
        else "These points do not follow the field rule: "
        + ", ".join(off)
        + ". A stack that fails although its field is long enough is limited by its effective "
        "field (far smaller than the theoretical one, see the Effective field tab) or by the "
        "training budget; one that works with too short a field finds cues the rule ignores."
    )
    return "\n".join(lines)


def charts(cfg: Config, results: Results) -> dict:
    from cnnexp import figures

    runs = results.runs
    if runs.empty:
        return {}
    runs = runs.assign(
        model=[f"{s} (field {field_of(s, cfg.depth)})" for s in runs["stack"]],
    )
    fig = figures.lines_ci(
        runs,
        "distance",
        "model",
        value="test_acc",
        markers=True,
        colour_order=[f"{s} (field {field_of(s, cfg.depth)})" for s in cfg.stacks],
        percent=True,
        title="Same or different? Test accuracy against the glyphs' distance",
        x_title="distance between the glyphs (pixels)",
        y_title="test accuracy",
    )
    fig.add_hline(y=0.5, line_dash="dot", line_color="#94a3b8", annotation_text="chance")
    return {"accuracy": fig}


def trained_maps_chart(maps: dict[str, dict]):
    """The trained stacks' effective fields side by side, each named with its sides."""
    from cnnexp import figures

    named = {
        f"{st}: field {m['theoretical']}, 50% in {m['effective_50']}, 90% in {m['effective_90']}": m[
            "map"
        ]
        for st, m in maps.items()
    }
    return figures.panels(named, "Where the trained centre unit looks (mean |∂y/∂x|)", height=240)


def tables(cfg: Config, results: Results) -> dict:
    runs = results.runs
    cols = ["run_id", "stack", "distance", "seed", "field", "params", "test_acc", "train_acc"]
    return {"runs": runs[[c for c in cols if c in runs.columns]] if len(runs) else runs}
