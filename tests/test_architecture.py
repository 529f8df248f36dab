"""cnnexp/architecture.py: the blueprint's shapes, parameters and FLOPs equal the real modules'."""

import itertools

import pytest
import torch

from cnnexp import architecture, models
from cnnexp.config import TrainSetup

# Every registered family crossed with the knobs that change its structure.
VARIANTS = [
    dict(model=m, **kw)
    for m in architecture.FAMILIES
    for kw in [
        {},
        {"norm": "none"},
        {"norm": "layer"},
        {"norm": "group", "groups": 2},
        {"pool": "avg", "padding": "circular"},
        {"pool": "blur", "padding": "reflect"},
        {"pool": "stride", "head": "gap"},
        {"pool": "none", "padding": "valid", "kernel": 4},
        {"norm": "instance", "pool_every": 2, "depth": 3},
    ]
    if not (m == "mlp" and kw.get("norm") == "instance")
]


@pytest.mark.parametrize("kw", VARIANTS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_blueprint_matches_module(kw):
    setup = TrainSetup(dataset="digits", width=4, **kw)
    layers = setup.layers()
    model = models.build(layers)
    assert models.count_params(model) == architecture.count_params(layers)
    assert models.measure_flops(model, (1, 8, 8)) == architecture.count_flops(layers)
    shapes = [tuple(r["output"]) for r in models.shape_table(model, (1, 8, 8))]
    assert shapes == [layer.out_shape for layer in layers]


@pytest.mark.parametrize(
    "side, c_in, c_out, k, s, p, bias",
    [
        (s, ci, co, k, st, pd, b)
        for s, ci, co, k, st, pd, b in itertools.product(
            [5, 8, 13], [1, 3], [2, 4], [1, 3, 5], [1, 2], [0, 2], [True, False]
        )
        if s + 2 * pd >= k
    ],
)
def test_single_layer_formulas_match_modules(side, c_in, c_out, k, s, p, bias):
    cost = architecture.single_layer_costs(side, c_in, c_out, k, s, p, bias)
    out = architecture.conv_out(side, k, s, p)
    conv = torch.nn.Conv2d(c_in, c_out, k, s, p, bias=bias)
    local = models.LocallyConnected2d(c_in, c_out, k, side, s, p, bias=bias)
    fc = torch.nn.Linear(side * side * c_in, out * out * c_out, bias=bias)
    for name, module, shape in [
        ("conv", conv, (c_in, side, side)),
        ("local", local, (c_in, side, side)),
        ("fc", torch.nn.Sequential(torch.nn.Flatten(), fc), (c_in, side, side)),
    ]:
        assert models.count_params(module) == cost[name].params, name
        assert models.measure_flops(module, shape) == cost[name].flops, name


def test_a_512_pixel_fully_connected_layer_is_counted_without_memory():
    cost = architecture.single_layer_costs(512, 3, 16, 3, 1, 1)
    fc = torch.nn.Linear(512 * 512 * 3, 512 * 512 * 16, device="meta")  # 2e11 weights: meta only
    assert sum(p.numel() for p in fc.parameters()) == cost["fc"].params
    assert cost["conv"].params == 16 * (3 * 9 + 1)
    assert cost["local"].params == 512 * 512 * 16 * (3 * 9 + 1)


def test_families_match_the_config_choices():
    from typing import get_args

    from cnnexp.config import Model

    assert set(get_args(Model)) == set(architecture.FAMILIES)
