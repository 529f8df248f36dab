"""Parameter scaling: fully connected vs locally connected vs convolutional.

Analytic part: one layer mapping an H×W×C_in image to C_out channels with a k×k kernel, in
three families. A dense layer's parameters grow with (H·W)², a locally connected layer's
with H·W, a convolution's not at all; FLOPs of the last two still grow with H·W.

Empirical part: the three families trained at several widths with the same depth, data and
optimisation budget (test accuracy against parameters), and at a comparable size on
growing training sets (sample efficiency).
"""

from __future__ import annotations

import functools
import math
from typing import Annotated, Literal, NotRequired, TypedDict

from pydantic import Field, model_validator

from cnnexp import architecture, catalog, data, policy, stats
from cnnexp.config import ExperimentFields, TrainSetup, describe, param
from cnnexp.data import DatasetName
from cnnexp.results import Results
from cnnexp.runspec import RunContext, RunOutput, RunSpec

NAME = "scaling"
TITLE, SUMMARY, headline_text = catalog.identity(NAME)  # cnnexp/catalog.py: Home reads it
VERSION = 1
FAMILIES = ("mlp", "local", "cnn")
SIDES = (8, 16, 32, 64, 128, 256, 512)  # image sides of the analytic chart
TINY = {
    "dataset": "digits",
    "mlp_widths": (16,),
    "local_widths": (1,),
    "cnn_widths": (2,),
    "n_trains": (100,),
    "efficiency_width": 2,
    "steps": 30,
}

Width = Annotated[int, Field(ge=1, le=4096)]
Images = Annotated[int, Field(ge=10, le=60000)]


class Config(ExperimentFields):
    mode: Literal["analytic", "empirical"] = param(
        "empirical",
        "analytic: counts only, instant; empirical: also train the three families",
        group="Mode",
    )
    # --- one layer, counted -----------------------------------------------------------------
    image_size: int = param(
        32,
        "Side H = W of the input image",
        ge=1,
        le=512,
        options=SIDES,
        group="One layer",
        label="Image side",
    )
    in_channels: int = param(
        3,
        "Input channels C_in",
        ge=1,
        le=512,
        group="One layer",
        options=(1, 3, 8, 16, 32, 64),
        label="Input channels",
    )
    out_channels: int = param(
        16,
        "Output channels C_out",
        ge=1,
        le=1024,
        group="One layer",
        options=(1, 4, 8, 16, 32, 64, 128),
        label="Output channels",
    )
    kernel: int = param(
        3, "Kernel side k", ge=1, le=15, options=(1, 3, 5, 7, 9, 11), group="One layer"
    )
    stride: int = param(1, "Stride s", ge=1, le=8, group="One layer")
    padding: int = param(1, "Zero padding p on each side", ge=0, le=16, group="One layer")
    bias: bool = param(True, "Whether each output unit has a bias", group="One layer")
    # --- trained ----------------------------------------------------------------------------
    dataset: DatasetName = param("mnist5k", "Dataset the families are trained on", group="Trained")
    depth: int = param(
        2, "Layers of every model (conv, local or hidden)", ge=1, le=4, group="Trained"
    )
    mlp_widths: tuple[Width, ...] = param(
        (16, 64, 256, 1024),
        "Hidden units of the fully connected models",
        group="Trained",
        options=(4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048),
        label="MLP widths",
    )
    local_widths: tuple[Width, ...] = param(
        (1, 2, 4),
        "First-layer channels of the locally connected models",
        group="Trained",
        options=(1, 2, 4, 8, 16),
        label="Locally connected widths",
    )
    cnn_widths: tuple[Width, ...] = param(
        (2, 4, 8, 16),
        "First-layer channels of the convolutional models",
        group="Trained",
        options=(1, 2, 4, 8, 16, 32, 64),
        label="CNN widths",
    )
    n_trains: tuple[Images, ...] = param(
        (100, 300, 1000, 4000),
        "Training-set sizes for the sample-efficiency comparison; a size beyond the dataset's "
        "training split means all of it (empty: skip the comparison)",
        group="Trained",
        options=(50, 100, 200, 300, 500, 1000, 2000, 4000),
        label="Training-set sizes",
    )
    efficiency_width: int = param(
        16,
        "CNN width for the sample-efficiency comparison; the MLP and locally connected "
        "models get the width whose parameter count is closest",
        ge=1,
        le=4096,
        options=(2, 4, 8, 16, 32),
        group="Trained",
        label="Sample-efficiency CNN width",
    )
    steps: int = param(
        500,
        "Training budget: optimisation steps per run, whatever the "
        "training-set size (epochs = steps / batches per epoch)",
        ge=10,
        le=100000,
        group="Training",
        options=(100, 250, 500, 1000, 2000),
    )

    @model_validator(mode="after")
    def _check(self) -> Config:
        if self.kernel > self.image_size + 2 * self.padding:
            raise ValueError(
                f"kernel {self.kernel} is larger than the padded input "
                f"({self.image_size} + 2·{self.padding}); allowed: kernel <= "
                f"{self.image_size + 2 * self.padding}"
            )
        if self.mode == "empirical":
            _setups(self)  # every planned model must fit the dataset (raises with the reason)
        return self


def budget_epochs(cfg: Config, n_train: int) -> int:
    """The epochs the step budget asks for on n_train images (0: all of them)."""
    images = n_train or data.info(cfg.dataset).n_train
    return max(1, round(cfg.steps / len(data.batch_slices(images, cfg.batch_size))))


def _setup(
    cfg: Config, family: str, width: int, n_train: int, max_epochs: int | None = None
) -> TrainSetup:
    epochs = budget_epochs(cfg, n_train)
    most = _max_epochs()
    if epochs > most:  # else the message named `epochs`, a setting this page does not show
        images = n_train or data.info(cfg.dataset).n_train
        raise ValueError(
            f"steps {cfg.steps} on {images:,} training images is {epochs:,} epochs; allowed: "
            f"at most {most} epochs a run (fewer steps, or more training images)"
        )
    return TrainSetup(
        dataset=cfg.dataset,
        n_train=n_train,
        model=family,
        width=width,
        depth=cfg.depth,
        epochs=policy.fit_epochs(epochs, max_epochs),
        batch_size=cfg.batch_size,
        lr=cfg.lr,
    ).normalized()


def budget_text(cfg: Config, max_epochs: int | None = None) -> str:
    """The training every run gets, for the page to state; with an epochs cap (a hosted
    server's), which training-set sizes it shortens and to how many steps."""
    text = f"{cfg.steps} steps of {cfg.batch_size} images per run"
    short = []
    full = data.info(cfg.dataset).n_train
    for n in sorted({full, *train_sizes(cfg)}):
        epochs = budget_epochs(cfg, 0 if n >= full else n)
        if max_epochs is not None and epochs > max_epochs:
            steps = max_epochs * len(data.batch_slices(n, cfg.batch_size))
            short.append(f"{n:,} images train {max_epochs} epochs = {steps:,} steps")
    if not short:
        return text
    return (
        f"{text}, except where this server's cap of {max_epochs} epochs a run stops the budget "
        f"short: {'; '.join(short)} (fewer steps than the other sizes, so those points are "
        "also less trained)"
    )


@functools.cache
def _max_epochs() -> int:
    """TrainSetup's own upper bound on epochs, read from its field."""
    return int(next(s.hi for s in describe(TrainSetup) if s.name == "epochs" and s.hi))


def params_of(cfg: Config, family: str, width: int) -> int:
    return architecture.count_params(_setup(cfg, family, width, 0).layers())


@functools.lru_cache(maxsize=256)
def _closest_width(dataset: str, depth: int, family: str, target: int) -> int:
    def params(w: int) -> int:
        m = TrainSetup(dataset=dataset, model=family, width=w, depth=depth)
        return architecture.count_params(m.layers())

    candidates = range(1, 2049 if family == "mlp" else 129)
    return min(candidates, key=lambda w: abs(math.log(params(w) / target)))


def efficiency_widths(cfg: Config) -> dict[str, int]:
    """The width of each family whose parameter count is closest to the chosen CNN's."""
    target = params_of(cfg, "cnn", cfg.efficiency_width)
    return {
        f: cfg.efficiency_width if f == "cnn" else _closest_width(cfg.dataset, cfg.depth, f, target)
        for f in FAMILIES
    }


def _widths(cfg: Config) -> dict[str, tuple[int, ...]]:
    return {"mlp": cfg.mlp_widths, "local": cfg.local_widths, "cnn": cfg.cnn_widths}


def train_sizes(cfg: Config) -> list[int]:
    """The sample-efficiency sizes in images, capped at the training split (0 if skipped)."""
    full = data.info(cfg.dataset).n_train
    return sorted({min(n, full) for n in cfg.n_trains})


def _setups(cfg: Config, max_epochs: int | None = None) -> list[tuple[str, TrainSetup]]:
    """(label, setup) of every planned model: the width sweep, then sample efficiency."""
    out = [
        (f"{f} · width {w}", _setup(cfg, f, w, 0, max_epochs))
        for f, ws in _widths(cfg).items()
        for w in ws
    ]
    full = data.info(cfg.dataset).n_train
    eff = efficiency_widths(cfg) if cfg.n_trains else {}
    for n in train_sizes(cfg):
        for f, w in eff.items():
            setup = _setup(cfg, f, w, 0 if n >= full else n, max_epochs)
            out.append((f"{f} · width {w} · {n} images", setup))
    return out


def plan(cfg: Config, max_epochs: int | None = None) -> list[RunSpec]:
    """The runs of cfg; with max_epochs (a server's cap), a run whose step budget asks for
    more epochs trains that many (budget_text says which)."""
    if cfg.mode == "analytic":
        return []
    specs, seen = [], set()
    for label, setup in _setups(cfg, max_epochs):
        for seed in cfg.seed_list():
            spec = RunSpec(NAME, VERSION, setup.canonical(), seed, label)
            if spec.run_id not in seen:  # the full-data point of a family is one run, shared
                seen.add(spec.run_id)
                specs.append(spec)
    return specs


def execute(spec: RunSpec, ctx: RunContext) -> RunOutput:
    from cnnexp import engine

    _, _, out = engine.run_training(TrainSetup.model_validate(spec.config), spec.seed, ctx)
    return out


# --- analytic ------------------------------------------------------------------------------
class Cost(TypedDict):
    params: int
    flops: int  # forward FLOPs per image


def analytic(cfg: Config, side: int | None = None) -> dict[str, Cost]:
    """Parameters and FLOPs of one layer of each family (formulas; no torch)."""
    costs = architecture.single_layer_costs(
        side or cfg.image_size,
        cfg.in_channels,
        cfg.out_channels,
        cfg.kernel,
        cfg.stride,
        cfg.padding,
        cfg.bias,
    )
    return {f: {"params": c.params, "flops": c.flops} for f, c in costs.items()}


def analytic_curve(cfg: Config) -> list[dict]:
    """Tidy rows (side, family, quantity, value) for sides 8..512 where the kernel fits."""
    rows = []
    for side in SIDES:
        if cfg.kernel > side + 2 * cfg.padding:
            continue
        for family, c in analytic(cfg, side).items():
            rows += [
                {"side": side, "family": family, "quantity": q, "value": c[q]}
                for q in ("params", "flops")
            ]
    return rows


def module_counts(cfg: Config) -> dict[str, Cost]:
    """The same counts from real modules built on the meta device (no memory used), so the
    formulas are checked against nn.Linear, LocallyConnected2d and nn.Conv2d."""
    import torch

    from cnnexp import models

    side, cin, cout, k, s, p = (
        cfg.image_size,
        cfg.in_channels,
        cfg.out_channels,
        cfg.kernel,
        cfg.stride,
        cfg.padding,
    )
    out = architecture.conv_out(side, k, s, p)
    with torch.device("meta"):
        layers = {
            "fc": torch.nn.Sequential(
                torch.nn.Flatten(),
                torch.nn.Linear(side * side * cin, out * out * cout, bias=cfg.bias),
            ),
            "local": models.LocallyConnected2d(cin, cout, k, side, s, p, bias=cfg.bias),
            "conv": torch.nn.Conv2d(cin, cout, k, s, p, bias=cfg.bias),
        }
    return {
        f: {"params": models.count_params(m), "flops": models.measure_flops(m, (cin, side, side))}
        for f, m in layers.items()
    }


# --- headline ------------------------------------------------------------------------------
class Point(TypedDict):
    """One trained width of a family: its size and test accuracy over seeds."""

    width: int
    params: int
    test_acc: stats.CI


class SizePoint(Point):
    n_train: int  # training images (sample efficiency)


class Headline(TypedDict):
    """The layer counted three ways and, trained, each family's accuracy against its size
    and against training images (catalog.py, readme.py and explain_trained read it)."""

    analytic: dict[str, Cost]  # fc, local, conv: one layer, from the formulas
    output_side: int
    modules: NotRequired[dict[str, Cost]]  # the analytic mode: the same counted on modules
    families: NotRequired[dict[str, list[Point]]]  # the empirical mode from here on
    sample_efficiency: NotRequired[dict[str, list[SizePoint]]]
    # How many times the best CNN's parameters each family needed to match it (None: never).
    params_ratio_to_match_cnn: NotRequired[dict[str, float | None]]


def _points(runs, family: str, n_train: int | None) -> list[Point]:
    sub = (
        runs[(runs["model"] == family) & (runs["n_train"] == (n_train or 0))] if len(runs) else runs
    )
    out: list[Point] = []
    for width, g in sub.groupby("width") if len(sub) else []:
        out.append(
            {
                "width": int(width),
                "params": int(g["params"].iloc[0]),
                "test_acc": stats.share_ci(g["test_acc"]),
            }
        )
    return out


def summarize(cfg: Config, results: Results) -> Headline:
    headline: Headline = {
        "analytic": analytic(cfg),
        "output_side": architecture.conv_out(cfg.image_size, cfg.kernel, cfg.stride, cfg.padding),
    }
    if cfg.mode == "analytic":
        headline["modules"] = module_counts(cfg)
        return headline
    runs = results.runs
    widths = _widths(cfg)
    headline["families"] = {
        f: [p for p in _points(runs, f, None) if p["width"] in widths[f]] for f in FAMILIES
    }
    eff = efficiency_widths(cfg)
    full = data.info(cfg.dataset).n_train
    headline["sample_efficiency"] = {
        f: [
            {
                "n_train": n,
                "width": eff[f],
                "params": params_of(cfg, f, eff[f]),
                "test_acc": _acc(runs, f, eff[f], 0 if n >= full else n),
            }
            for n in train_sizes(cfg)
        ]
        for f in FAMILIES
    }
    headline["params_ratio_to_match_cnn"] = _ratios(headline["families"])
    return headline


def _acc(runs, family: str, width: int, n_train: int) -> stats.CI:
    if runs.empty:
        return stats.mean_ci([])
    sub = runs[(runs["model"] == family) & (runs["width"] == width) & (runs["n_train"] == n_train)]
    return stats.share_ci(sub["test_acc"])


def _ratios(families: dict[str, list[Point]]) -> dict[str, float | None]:
    """How many times the best CNN's parameters each family needed to reach its accuracy."""
    best = _best(families["cnn"])
    if best is None:
        return {"mlp": None, "local": None}
    out: dict[str, float | None] = {}
    for f in ("mlp", "local"):
        ok = [
            p
            for p in families[f]
            if p["test_acc"]["mean"] is not None
            and p["test_acc"]["mean"] >= stats.mean_of(best["test_acc"])
        ]
        out[f] = min(p["params"] for p in ok) / best["params"] if ok else None
    return out


# --- what the numbers say ------------------------------------------------------------------
def explain_analytic(cfg: Config) -> str:
    a = analytic(cfg)
    fc, lc, cv = (a[f]["params"] for f in ("fc", "local", "conv"))
    side, k = cfg.image_size, cfg.kernel
    return (
        f"Mapping a {side}×{side}×{cfg.in_channels} image to {cfg.out_channels} "
        f"channel{'s' if cfg.out_channels != 1 else ''}, a fully "
        f"connected layer needs **{fc:,}** parameters, a locally connected layer **{lc:,}** "
        f"({fc / lc:,.0f}× fewer: each output sees only a {k}×{k} window) and a convolution "
        f"**{cv:,}** ({lc / cv:,.0f}× fewer again: one filter bank shared by every position). "
        f"Doubling the image side multiplies the dense layer's parameters by 16, the locally "
        f"connected layer's by 4 and leaves the convolution's unchanged — but the convolution's "
        f"FLOPs still grow 4×, because every output position is still computed."
    )


def _best(points: list[Point]) -> Point | None:
    done = [p for p in points if p["test_acc"]["mean"] is not None]
    return max(done, key=lambda p: stats.mean_of(p["test_acc"])) if done else None


def explain_trained(h: Headline) -> str:
    """Sentences that quote the numbers of a finished sweep, whichever way they fall."""
    fams = h.get("families", {})
    best = {f: _best(ps) for f, ps in fams.items()}
    out = []
    c = best.get("cnn")
    if c is not None:
        out.append(
            f"The best CNN (width {c['width']}, {c['params']:,} parameters) reaches "
            f"{stats.describe_ci(c['test_acc'])}."
        )
        for f, name in (("mlp", "MLP"), ("local", "locally connected model")):
            b, ratio = best.get(f), h["params_ratio_to_match_cnn"].get(f)
            if b is None:
                continue
            if ratio is None:
                out.append(
                    f"No {name} reached that accuracy: its best was "
                    f"{b['test_acc']['mean']:.1%} with {b['params']:,} parameters "
                    f"({b['params'] / c['params']:.0f}× the CNN's)."
                )
            else:
                out.append(f"The {name} needed {ratio:.1f}× the CNN's parameters to match it.")
    eff = h.get("sample_efficiency", {})
    cnn, mlp = eff.get("cnn", []), eff.get("mlp", [])
    pairs = [
        (c["n_train"], c["test_acc"]["mean"] - m["test_acc"]["mean"])
        for c, m in zip(cnn, mlp, strict=False)
        if c["test_acc"]["mean"] is not None and m["test_acc"]["mean"] is not None
    ]
    if len(pairs) >= 2:
        (n0, g0), (n1, g1) = pairs[0], pairs[-1]
        if g0 > g1 + 0.01:
            verdict = "larger when data is scarce, as the textbook claims"
        elif g1 > g0 + 0.01:
            verdict = "smaller when data is scarce — the opposite of the textbook's claim"
        else:
            verdict = "about the same at every size — not the growing advantage the textbook claims"
        out.append(
            f"Trained on {n0:,} images the CNN leads the MLP by {g0 * 100:.1f} points; on "
            f"{n1:,} images by {g1 * 100:.1f} points: the advantage is {verdict}."
        )
    return " ".join(out)


FAMILY_ORDER = ("mlp", "local", "cnn")


def sample_efficiency_runs(cfg: Config, runs):
    """The sample-efficiency runs (with their training-set size in `images`)."""
    eff = efficiency_widths(cfg)
    full = data.info(cfg.dataset).n_train
    mine = runs[[(m, w) in eff.items() for m, w in zip(runs["model"], runs["width"], strict=True)]]
    mine = mine.assign(images=mine["n_train"].where(mine["n_train"] > 0, full))
    return mine[mine["images"].isin(train_sizes(cfg))]


def charts(cfg: Config, results: Results) -> dict:
    import pandas as pd

    from cnnexp import figures

    curve = pd.DataFrame(analytic_curve(cfg))
    out = {
        "parameters": figures.loglog_families(
            curve, "params", "Parameters against image side", "parameters", mark=cfg.image_size
        ),
        "flops": figures.loglog_families(
            curve, "flops", "FLOPs against image side", "FLOPs per image", mark=cfg.image_size
        ),
    }
    runs = results.runs
    if cfg.mode == "empirical" and not runs.empty:
        out["accuracy_vs_parameters"] = figures.points_ci(
            runs[runs["n_train"] == 0],
            "params",
            "test_acc",
            "model",
            log_x=True,
            colour_order=FAMILY_ORDER,
            title="Test accuracy against parameters",
            x_title="parameters (log)",
            y_title="test accuracy",
        )
        if cfg.n_trains:
            out["sample_efficiency"] = figures.points_ci(
                sample_efficiency_runs(cfg, runs),
                "images",
                "test_acc",
                "model",
                log_x=True,
                colour_order=FAMILY_ORDER,
                title="Sample efficiency: test accuracy against training images",
                x_title="training images (log)",
                y_title="test accuracy",
            )
    return out


def tables(cfg: Config, results: Results) -> dict:
    import pandas as pd

    out = {"analytic": pd.DataFrame(analytic_curve(cfg))}
    if cfg.mode == "empirical":
        out.update(results.tidy())
    return out
