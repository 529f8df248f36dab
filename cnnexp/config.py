"""Typed configs: each field's type, range, choices and help are written once, here.

The CLI builds its flags and the dashboard its widgets from `describe(cls)`, so a range
typed in one place cannot drift from another. Bad input fails at construction with a
`ConfigError` that names the field, what was given and what is allowed.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cnnexp import architecture, data
from cnnexp.data import DatasetName
from cnnexp.errors import ConfigError  # defined apart so the store can raise it lightly

C = TypeVar("C", bound="Config")


class Config(BaseModel):
    """Base of every config: frozen, unknown keys rejected, NaN and inf rejected."""

    # defer_build: a class's validator is built on its first use, not at import, so a page
    # that only names the experiments (Home) does not pay for building every one of them.
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)

    def canonical(self) -> dict[str, Any]:
        """Plain JSON-ready values, the form that is hashed into a run id."""
        return self.model_dump(mode="json")


def param(
    default: Any,
    help: str,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    options: tuple | None = None,
    log: bool = False,
    group: str = "",
    advanced: bool = False,
    label: str = "",
    budget: str = "",
) -> Any:
    """A config field with its range and UI hints.

    `options` are the values a widget offers for a numeric field (the CLI accepts any
    value within the range); `log` says the field is best shown on a log scale; `group`
    names the settings panel section; `advanced` fields start folded away; `label` is the
    widget's caption (default: the name in words); `budget` names the server budget the
    field's value counts against (cnnexp/policy.py BUDGETS), which its widget's help states.
    """
    extra = {
        "options": list(options) if options else None,
        "log": log,
        "group": group,
        "advanced": advanced,
        "label": label,
        "budget": budget,
    }
    return Field(default, description=help, ge=ge, gt=gt, le=le, json_schema_extra=extra)


Kind = Literal["int", "float", "bool", "choice", "multi", "ints", "floats"]


@dataclass(frozen=True)
class ParamSpec:
    """Everything a CLI flag or a widget needs to know about one field."""

    name: str
    kind: Kind
    default: Any
    help: str
    lo: float | None = None  # inclusive lower bound (None: unbounded)
    hi: float | None = None  # inclusive upper bound
    lo_open: bool = False  # True when the bound is strict (lr > 0)
    choices: tuple = ()  # allowed values (choice/multi) or suggested ones (numbers)
    log: bool = False
    group: str = ""
    advanced: bool = False
    label: str = ""
    budget: str = ""  # the server budget this field counts against (policy.BUDGETS)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def allowed(self) -> str:
        """What is allowed, in words, for help texts and error messages."""
        if self.kind in ("choice", "multi"):
            return "one of " + ", ".join(map(str, self.choices))
        if self.kind == "bool":
            return "true or false"
        lo = "" if self.lo is None else (f"> {self.lo}" if self.lo_open else f">= {self.lo}")
        hi = "" if self.hi is None else f"<= {self.hi}"
        return " and ".join(x for x in (lo, hi) if x) or "any number"


def _bounds(metadata: list) -> tuple[float | None, float | None, bool]:
    lo = hi = None
    lo_open = False
    for m in metadata:
        if isinstance(m, annotated_types.Ge):
            lo = m.ge
        elif isinstance(m, annotated_types.Gt):
            lo, lo_open = m.gt, True
        elif isinstance(m, annotated_types.Le):
            hi = m.le
    return lo, hi, lo_open


def _kind(annotation: Any) -> tuple[Kind, tuple]:
    origin = get_origin(annotation)
    if annotation is bool:
        return "bool", ()
    if annotation is int:
        return "int", ()
    if annotation is float:
        return "float", ()
    if origin is Literal:
        return "choice", get_args(annotation)
    if origin is tuple:
        item = get_args(annotation)[0]
        if get_origin(item) is typing.Annotated:
            item = get_args(item)[0]
        if get_origin(item) is Literal:
            return "multi", get_args(item)
        return ("ints" if item is int else "floats"), ()
    if origin in (types.UnionType, typing.Union):
        raise TypeError(f"optional fields are not supported in configs: {annotation}")
    raise TypeError(f"unsupported config field type: {annotation}")


def _item_bounds(annotation: Any) -> list:
    """Bounds declared on the items of a tuple field (tuple[Annotated[int, Field(ge=1)], ...])."""
    item = get_args(annotation)[0] if get_origin(annotation) is tuple else None
    if item is not None and get_origin(item) is typing.Annotated:
        meta = []
        for m in get_args(item)[1:]:
            meta.extend(getattr(m, "metadata", [m]))
        return meta
    return []


MAX_AUGMENT_SHIFT = 8  # pixels, the largest random training shift (equivariance holds to it)
GROUP_RANK = {"Mode": -1, "Training": 1, "Sweeps": 2, "Seeds": 3}  # the rest in between


def describe(cls: type[Config]) -> list[ParamSpec]:
    """The fields of a config class as ParamSpecs: what the experiment is about first (in
    declaration order), then the training budget, sweeps and seeds, wherever a mixin put them."""
    specs = []
    for name, f in cls.model_fields.items():
        kind, choices = _kind(f.annotation)
        extra = f.json_schema_extra or {}
        lo, hi, lo_open = _bounds(f.metadata + _item_bounds(f.annotation))
        specs.append(
            ParamSpec(
                name=name,
                kind=kind,
                default=f.default,
                help=f.description or "",
                lo=lo,
                hi=hi,
                lo_open=lo_open,
                choices=tuple(choices) or tuple(extra.get("options") or ()),
                log=bool(extra.get("log")),
                group=extra.get("group", ""),
                advanced=bool(extra.get("advanced")),
                label=extra.get("label") or name.replace("_", " ").capitalize(),
                budget=extra.get("budget", ""),
            )
        )
    return sorted(specs, key=lambda spec: GROUP_RANK.get(spec.group, 0))


def parse(cls: type[C], values: Mapping[str, Any]) -> C:
    """Build a config from plain values (strings from the CLI are converted).

    Raises ConfigError with one line per problem.
    """
    try:
        return cls.model_validate(dict(values))
    except ValidationError as e:
        raise ConfigError(format_errors(e, cls)) from None


def format_errors(e: ValidationError, cls: type[Config]) -> str:
    lines = []
    fields = {s.name: s for s in describe(cls)}
    for err in e.errors():
        loc = ".".join(str(x) for x in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            lines.append(f"unknown setting '{loc}'; known settings: {', '.join(fields)}")
            continue
        field = fields.get(str(err["loc"][0])) if err["loc"] else None
        got = f" (got {err['input']!r})" if field is not None else ""
        allowed = f"; allowed: {field.allowed()}" if field is not None else ""
        lines.append(f"{loc}: {msg}{got}{allowed}" if loc else msg)
    return "\n".join(lines)


# --- The fields every training experiment shares -------------------------------------------
# Experiments compose these groups; a field is defined once and every page and CLI flag
# built from it agrees on its range and help.

Model = Literal["mlp", "local", "cnn"]
Padding = Literal["zeros", "circular", "reflect", "valid"]
Pool = Literal["max", "avg", "blur", "stride", "none"]
Head = Literal["flatten", "gap"]
Norm = Literal["none", "batch", "layer", "group", "instance"]


class DataFields(Config):
    dataset: DatasetName = param(
        "mnist5k",
        "Dataset: digits (8×8, shipped), mnist5k (28×28, shipped), shapes (generated), "
        "or mnist / fashion_mnist / cifar10 from the data folder",
        group="Data",
    )
    n_train: int = param(
        0,
        "Training images to use, drawn class-balanced with each seed (0 = the whole training split)",
        ge=0,
        le=60000,
        group="Data",
        advanced=True,
        label="Training images",
    )


class ModelFields(Config):
    model: Model = param(
        "cnn",
        "Model family: mlp (fully connected), local (locally connected: a convolution "
        "whose weights are not shared across positions) or cnn (convolutional)",
        group="Model",
    )
    width: int = param(
        16,
        "Channels of the first conv layer, doubling after each downsampling (hidden units for mlp)",
        ge=1,
        le=4096,
        options=(2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
        group="Model",
    )
    depth: int = param(2, "Conv layers (hidden layers for mlp)", ge=1, le=16, group="Model")
    kernel: int = param(
        3,
        "Kernel side k (odd, unless padding is 'valid')",
        ge=1,
        le=15,
        options=(1, 3, 5, 7, 9, 11),
        group="Model",
    )
    padding: Padding = param(
        "zeros",
        "How conv layers pad their input to keep its size ('valid' does not pad)",
        group="Model",
        advanced=True,
    )
    pool: Pool = param(
        "max",
        "Downsampling after conv layers: max or avg pooling, blur (low-pass then subsample), "
        "stride (stride-2 convolution) or none",
        group="Model",
        label="Downsampling",
    )
    pool_every: int = param(
        1,
        "Downsample after every k-th conv layer",
        ge=1,
        le=16,
        group="Model",
        advanced=True,
        label="Downsample every",
    )
    head: Head = param(
        "flatten",
        "Classifier head: flatten the last feature map into a dense layer, or gap "
        "(global average pooling, then a dense layer)",
        group="Model",
        advanced=True,
    )
    norm: Norm = param(
        "batch",
        "Normalization after each conv (or hidden) layer",
        group="Model",
        label="Normalization",
    )
    groups: int = param(
        4,
        "GroupNorm groups (must divide every layer's channels)",
        ge=1,
        le=512,
        group="Model",
        advanced=True,
        label="GroupNorm groups",
    )


class TrainFields(Config):
    epochs: int = param(8, "Passes over the training images", ge=1, le=500, group="Training")
    batch_size: int = param(
        64,
        "Images per optimisation step",
        ge=1,
        le=8192,
        options=(2, 4, 8, 16, 32, 64, 128, 256, 512),
        group="Training",
    )
    lr: float = param(
        3e-3,
        "Peak learning rate",
        gt=0,
        le=10,
        options=(1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0),
        log=True,
        group="Training",
        label="Learning rate",
    )
    optimizer: Literal["adamw", "sgd"] = param(
        "adamw", "AdamW, or SGD with Nesterov momentum 0.9", group="Training", advanced=True
    )
    schedule: Literal["onecycle", "cosine", "constant"] = param(
        "onecycle", "Learning-rate schedule over the whole run", group="Training", advanced=True
    )
    weight_decay: float = param(
        5e-4, "Decoupled weight decay", ge=0, le=1, group="Training", advanced=True
    )
    augment_shift: int = param(
        0,
        "Random-shift augmentation: move each training image by up to this many pixels",
        ge=0,
        le=MAX_AUGMENT_SHIFT,
        group="Training",
        advanced=True,
        label="Shift augmentation (px)",
    )
    augment_flip: bool = param(
        False,
        "Random horizontal flips (for photos, not digits)",
        group="Training",
        advanced=True,
        label="Flip augmentation",
    )


class SeedFields(Config):
    seeds: int = param(
        1,
        "How many seeds to run (each: new weights, data order and subset)",
        ge=1,
        le=100,
        group="Seeds",
        label="Seeds",
    )
    seed: int = param(
        0,
        "First seed; runs use seed, seed+1, ...",
        ge=0,
        le=2**31 - 1,
        group="Seeds",
        advanced=True,
        label="First seed",
    )

    @model_validator(mode="after")
    def _check_last_seed(self) -> SeedFields:
        last, most = self.seed + self.seeds - 1, 2**31 - 1  # torch's seeds, and the link's
        if last > most:
            raise ValueError(
                f"seed {self.seed} with seeds {self.seeds}: the last seed would be {last}; "
                f"allowed: seed + seeds - 1 <= {most}"
            )
        return self

    def seed_list(self) -> list[int]:
        return list(range(self.seed, self.seed + self.seeds))


class ExperimentFields(SeedFields):
    """What the comparison experiments share: the optimiser settings (AdamW, one-cycle) and
    three seeds by default, so every point of a comparison carries an interval."""

    batch_size: int = param(
        64,
        "Images per optimisation step",
        ge=2,
        le=8192,
        options=(16, 32, 64, 128, 256),
        group="Training",
    )
    lr: float = param(
        3e-3,
        "Peak learning rate (AdamW, one-cycle)",
        gt=0,
        le=10,
        options=(3e-4, 1e-3, 3e-3, 1e-2),
        log=True,
        group="Training",
        label="Learning rate",
    )
    seeds: int = param(
        3, "How many seeds per point of the comparison", ge=1, le=100, group="Seeds", label="Seeds"
    )


class EpochFields(Config):
    epochs: int = param(8, "Passes over the training images", ge=1, le=500, group="Training")


_MODEL_DEFAULTS = {n: f.default for n, f in ModelFields.model_fields.items()}
_CONV_ONLY = ("kernel", "padding", "pool", "pool_every", "head")


class TrainSetup(TrainFields, ModelFields, DataFields):
    """One model trained on one dataset: everything a training run needs but its seed."""

    @model_validator(mode="after")
    def _check(self) -> TrainSetup:
        d = data.info(self.dataset)
        if self.n_train > d.n_train:
            raise ValueError(
                f"n_train {self.n_train} is more than the {d.n_train} training images "
                f"of '{self.dataset}'; allowed: 0 (all) to {d.n_train}"
            )
        try:
            architecture.blueprint(self, d.shape, d.n_classes)
        except architecture.ArchitectureError as e:
            raise ValueError(str(e)) from None
        if self.norm == "batch" and min(self.batch_size, self.n_train or d.n_train) < 2:
            raise ValueError(
                "norm 'batch' needs batch_size >= 2: the statistics of one image are "
                "undefined; use batch_size >= 2 or norm 'group' / 'layer'"
            )
        return self

    def normalized(self) -> TrainSetup:
        """The same setup with settings the model ignores reset to defaults.

        Two configs that train the same thing then hash to the same run id (an mlp run does
        not change with the kernel slider).
        """
        reset = {}
        if self.model == "mlp":
            reset |= {k: _MODEL_DEFAULTS[k] for k in _CONV_ONLY}
        if self.norm != "group":
            reset["groups"] = _MODEL_DEFAULTS["groups"]
        return self.model_copy(update=reset)

    def layers(self) -> list[architecture.Layer]:
        d = data.info(self.dataset)
        return architecture.blueprint(self, d.shape, d.n_classes)


def setup_fields(cfg: Config) -> dict[str, Any]:
    """The TrainSetup fields of a larger config (an experiment's), by name."""
    return {k: getattr(cfg, k) for k in TrainSetup.model_fields if hasattr(cfg, k)}
