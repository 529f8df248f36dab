"""cnnexp/config.py: typed settings, ranges and the messages bad input gets."""

import pytest
from pydantic import ValidationError

from cnnexp.config import ConfigError, TrainSetup, describe, parse
from cnnexp.experiments import baseline


def test_every_field_has_help_and_a_known_kind():
    for spec in describe(baseline.Config):
        assert spec.help, spec.name
        assert spec.kind in ("int", "float", "bool", "choice", "multi", "ints", "floats")


def test_strings_from_the_command_line_are_converted():
    cfg = parse(
        baseline.Config, {"epochs": "3", "lr": "0.01", "augment_flip": "true", "model": "mlp"}
    )
    assert (cfg.epochs, cfg.lr, cfg.augment_flip, cfg.model) == (3, 0.01, True, "mlp")


@pytest.mark.parametrize(
    "values, words",
    [
        (
            {"dataset": "digits", "kernel": 9, "padding": "valid"},
            ["kernel 9", "8×8", "kernel <= 8"],
        ),
        ({"depth": 6}, ["depth 6", "below 1×1", "depth <= 4"]),
        ({"norm": "group", "groups": 3}, ["groups 3", "16 channels"]),
        ({"norm": "batch", "batch_size": 1}, ["batch_size >= 2"]),
        ({"dataset": "cifar100"}, ["dataset", "mnist5k", "cifar10"]),
        ({"model": "resnet"}, ["model", "mlp", "cnn"]),
        ({"lr": 0}, ["lr", "greater than 0"]),
        ({"lr": -1e-3}, ["lr", "greater than 0"]),
        ({"lr": "nan"}, ["lr", "finite"]),
        ({"lr": float("inf")}, ["lr", "finite"]),
        ({"seeds": 0}, ["seeds", ">= 1"]),
        ({"epochs": 0}, ["epochs", ">= 1"]),
        ({"kernel": 4}, ["kernel 4", "odd"]),
        ({"n_train": 5000}, ["n_train 5000", "4000"]),
        ({"model": "mlp", "norm": "instance"}, ["instance", "mlp"]),
        ({"colour": "red"}, ["unknown setting 'colour'", "epochs"]),
        ({"seed": 2**31 - 1, "seeds": 2}, ["last seed would be 2147483648", "seed + seeds"]),
    ],
)
def test_bad_input_names_the_field_and_what_is_allowed(values, words):
    with pytest.raises(ConfigError) as e:
        parse(baseline.Config, values)
    for w in words:
        assert w in str(e.value)


def test_configs_are_frozen():
    cfg = TrainSetup()
    with pytest.raises(ValidationError):
        cfg.epochs = 3


def test_normalized_ignores_settings_an_mlp_does_not_use():
    a = TrainSetup(model="mlp", kernel=5, pool="avg").normalized()
    b = TrainSetup(model="mlp").normalized()
    assert a.canonical() == b.canonical()
    assert TrainSetup(kernel=5).normalized().canonical() != TrainSetup().normalized().canonical()
