"""The field probe: a stack chosen by sliders, its theoretical field layer by layer, its
effective field (Luo et al., NeurIPS 2016), and a depth sweep of both.

Instant: computed where it is shown (the Receptive field page's first two tabs, or
`python -m cnnexp probe field`), never stored; the arithmetic is cnnexp/fields.py. The
stacks are linear (no ReLU) with two channels and PyTorch's default signed initialisation,
averaged over DRAWS random draws of weights and input: the gradient then measures where the
stack *can* look, without the dead zones of one particular set of ReLUs.

Cost is bounded by construction: a map is at most MAX_MAP pixels a side, two channels, DRAWS
draws, so the worst case (`worst_gflop`) stays far below the hosted probe budget in
cnnexp/policy.py (tests/test_field_probe.py checks it).
"""

from __future__ import annotations

import numpy as np
from pydantic import model_validator

from cnnexp import stats
from cnnexp.config import Config as BaseConfig
from cnnexp.config import param
from cnnexp.fields import Window, centroid, mass_side, stack, theoretical

DRAWS = 8  # random stacks (and inputs) the effective field averages over
MAX_MAP = 199  # largest input side of the effective-field map (pixels): bounds the cost
SWEEP_KERNEL = 3  # the depth sweep is one fixed set of stacks (cached once, whatever the sliders)
SWEEP_DEPTHS = (1, 2, 4, 8, 16)
SWEEP_MAX_SIDE = 99  # sweep points with a larger theoretical field are left out (cost)
VARIANTS = ("plain", "dilation 2", "pool every 2")


class Config(BaseConfig):
    # Named rf_* so that their URL parameters never collide with the trained settings'.
    rf_depth: int = param(
        4, "Conv layers of the stack", ge=1, le=16, group="Layer stack", label="Depth"
    )
    rf_kernel: int = param(
        3,
        "Kernel side k (odd)",
        ge=1,
        le=9,
        options=(1, 3, 5, 7, 9),
        group="Layer stack",
        label="Kernel",
    )
    rf_stride: int = param(
        1, "Stride of every conv", ge=1, le=2, group="Layer stack", label="Stride"
    )
    rf_dilation: int = param(
        1,
        "Dilation of every conv (holes between the kernel's taps)",
        ge=1,
        le=4,
        group="Layer stack",
        label="Dilation",
    )
    rf_pool_every: int = param(
        0,
        "A 2×2 average pool after every n-th conv (0: none)",
        ge=0,
        le=8,
        group="Layer stack",
        label="Pool every",
    )
    rf_seeds: int = param(
        3,
        "Seeds of the effective-field measurements (each: new random weights and inputs); the "
        "depth exponent gets a 95% interval over them",
        ge=1,
        le=5,
        group="Layer stack",
        label="Effective-field seeds",
    )

    @model_validator(mode="after")
    def _check(self) -> Config:
        if self.rf_kernel % 2 == 0:
            raise ValueError(
                f"kernel {self.rf_kernel} is even; the centred unit needs an odd kernel (1, 3, 5, 7, 9)"
            )
        size = map_size(self.layers())
        if size > MAX_MAP:
            side = theoretical(self.layers())[-1]["side"]
            raise ValueError(
                f"this stack's field ({side} pixels, with its margin a {size}-pixel map) is "
                f"larger than the {MAX_MAP}-pixel map the probe computes; use less depth, "
                "kernel, stride, dilation or pooling"
            )
        return self

    def layers(self) -> list[Window]:
        return stack(
            self.rf_depth, self.rf_kernel, self.rf_stride, self.rf_dilation, self.rf_pool_every
        )


def describe_layer(layer: Window) -> str:
    if layer.kind == "pool":
        return "2×2 average pool, stride 2"
    return (
        f"conv {layer.kernel}×{layer.kernel}"
        + (f", dilation {layer.dilation}" if layer.dilation > 1 else "")
        + (f", stride {layer.stride}" if layer.stride > 1 else "")
    )


def field_table(cfg: Config) -> list[dict]:
    """Per layer: what it is, the field's side (input pixels) and the jump (effective stride)."""
    layers = cfg.layers()
    return [
        {**row, "layer_is": describe_layer(layer)}
        for row, layer in zip(theoretical(layers), layers, strict=True)
    ]


def map_size(layers: list[Window]) -> int:
    """An odd input side that holds the centre unit's whole field with a margin."""
    last = theoretical(layers)[-1]
    size = last["side"] + 2 * last["jump"] + 2
    return size + 1 - size % 2


def effective_map(layers: list[Window], size: int, draws: int = 8, seed: int = 0) -> np.ndarray:
    """Mean |input gradient| of the centre unit over `draws` random stacks, each on its own
    random image (PyTorch's default signed initialisation, padding that keeps the centre at
    the centre, no nonlinearity).

    The draws run at once as groups of one grouped stack (two channels each): a group sees only
    its own image, so its input gradient is that of an independent stack, and one pass replaces
    `draws` passes of tiny convolutions that the CPU runs mostly as overhead.
    """
    import torch
    from torch import nn

    torch.manual_seed(seed)
    mods, c_in = [], 1
    for layer in layers:
        if layer.kind == "pool":
            mods.append(nn.AvgPool2d(layer.kernel, layer.stride))
            continue
        mods.append(
            nn.Conv2d(
                draws * c_in,
                draws * 2,
                layer.kernel,
                layer.stride,
                layer.padding,
                layer.dilation,
                groups=draws,
                bias=False,
            )
        )  # fan-in per group is c_in·k², as for a stack of its own: the same initial scale
        c_in = 2
    net = nn.Sequential(*mods)
    x = torch.rand(1, draws, size, size, requires_grad=True)
    y = net(x)  # (1, 2·draws, h, w): channel 2·g is group g's first channel
    y[0, ::2, y.shape[2] // 2, y.shape[3] // 2].sum().backward()
    return x.grad[0].abs().mean(0).double().numpy()


def measure(layers: list[Window], seed: int) -> dict:
    """Effective field of the centre unit: its mean |gradient| map and the sides of the
    centred squares holding 50% and 90% of it, beside the theoretical side."""
    grad = effective_map(layers, map_size(layers), draws=DRAWS, seed=seed)
    c = centroid(grad)
    return {
        "map": grad,
        "theoretical": theoretical(layers)[-1]["side"],
        "effective_50": mass_side(grad, 0.5, c),
        "effective_90": mass_side(grad, 0.9, c),
    }


def effective(cfg: Config) -> dict:
    """The slider stack's effective field over rf_seeds seeds: the mean map and each side's
    mean with its interval."""
    runs = [measure(cfg.layers(), s) for s in range(cfg.rf_seeds)]
    return {
        "map": np.mean([r["map"] for r in runs], axis=0),
        "theoretical": runs[0]["theoretical"],
        "effective_50": stats.mean_ci([r["effective_50"] for r in runs]),
        "effective_90": stats.mean_ci([r["effective_90"] for r in runs]),
    }


def variant_stack(variant: str, depth: int, kernel: int) -> list[Window]:
    if variant == "dilation 2":
        return stack(depth, kernel, dilation=2)
    if variant == "pool every 2":
        return stack(depth, kernel, pool_every=2)
    return stack(depth, kernel)


def sweep(seeds: int) -> list[dict]:
    """Theoretical and effective sides against depth for plain, dilated and pooled 3×3
    stacks, per seed (long rows: variant, depth, seed, measure, value)."""
    rows = []
    for variant in VARIANTS:
        for depth in SWEEP_DEPTHS:
            layers = variant_stack(variant, depth, SWEEP_KERNEL)
            if theoretical(layers)[-1]["side"] > SWEEP_MAX_SIDE:
                continue
            for seed in range(seeds):
                m = measure(layers, seed)
                for key in ("theoretical", "effective_50", "effective_90"):
                    rows.append(
                        {
                            "variant": variant,
                            "depth": depth,
                            "seed": seed,
                            "measure": key,
                            "value": m[key],
                        }
                    )
    return rows


def slope(depths, sides) -> float:
    return float(np.polyfit(np.log(depths), np.log(sides), 1)[0])


def _sides(rows: list[dict], measure: str, seed: int, depths: list[int]) -> list[float]:
    by_depth = {
        r["depth"]: r["value"] for r in rows if r["measure"] == measure and r["seed"] == seed
    }
    return [by_depth[d] for d in depths]


def exponents(rows: list[dict]) -> dict:
    """Per variant: the log-log slope of side against depth, theoretical (exact) and effective
    (90% mass; the mean over seeds with its 95% interval)."""
    out = {}
    for variant in VARIANTS:
        mine = [r for r in rows if r["variant"] == variant]
        depths = sorted({r["depth"] for r in mine})
        if len(depths) < 2:
            continue
        seeds = sorted({r["seed"] for r in mine})
        out[variant] = {
            "depths": depths,
            "theoretical": slope(depths, _sides(mine, "theoretical", seeds[0], depths)),
            "effective": stats.mean_ci(
                [slope(depths, _sides(mine, "effective_90", s, depths)) for s in seeds]
            ),
        }
    return out


def exponent_table(exps: dict):
    """exponents() as a table: one row per variant, the slopes and the interval."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "stack": variant,
                "theoretical slope": round(x["theoretical"], 2),
                "effective slope (90%)": x["effective"]["mean"],
                "95% CI": _span(x["effective"]["ci95"]),
                "seeds": x["effective"]["n"],
            }
            for variant, x in exps.items()
        ]
    ).round(2)


def _span(ci: list | None) -> str:
    return "none (1 seed)" if ci is None else f"{ci[0]:.2f}–{ci[1]:.2f}"


def cost_gflop(layers: list[Window], size: int, seeds: int) -> float:
    """Compute of measuring one stack's effective field on a size×size map over `seeds`
    seeds: forward and backward (×3) of DRAWS two-channel groups, 2 FLOPs a multiply-add."""
    side, macs = size, 0
    for layer in layers:
        if layer.kind == "pool":
            side //= 2
            continue
        side = -(-side // layer.stride)
        macs += side * side * DRAWS * 2 * 2 * layer.kernel**2
    return 3 * 2 * macs * seeds / 1e9


def sweep_gflop(seeds: int) -> float:
    return sum(
        cost_gflop(layers, map_size(layers), seeds)
        for v in VARIANTS
        for d in SWEEP_DEPTHS
        if theoretical(layers := variant_stack(v, d, SWEEP_KERNEL))[-1]["side"] <= SWEEP_MAX_SIDE
    )


def visit_gflop(cfg: Config) -> float:
    """What one view of the probe computes: the slider stack's map and the sweep."""
    layers = cfg.layers()
    return cost_gflop(layers, map_size(layers), cfg.rf_seeds) + sweep_gflop(cfg.rf_seeds)


def budget_problem(cfg: Config, cap_gflop: float | None) -> str | None:
    """None when the probe fits the server's probe budget (cnnexp/policy.py's probe_gflop),
    else the refusal to show."""
    cost = visit_gflop(cfg)
    if cap_gflop is None or cost <= cap_gflop:
        return None
    return (
        f"This probe needs {cost:,.1f} GFLOP of compute; this server allows {cap_gflop:,.1f} "
        "per probe. Lower the depth, kernel or effective-field seeds."
    )


def worst_gflop() -> float:
    """The most one view can ask for: the largest slider map (every layer at full
    resolution, the largest kernel) plus the whole sweep, at the most seeds."""
    return cost_gflop(stack(16, 9), MAX_MAP, 5) + sweep_gflop(5)


def explain(cfg: Config, eff: dict, exps: dict) -> str:
    """What the instant measurements show, in numbers."""
    theory = eff["theoretical"]
    e50, e90 = eff["effective_50"], eff["effective_90"]
    lines = [
        f"This stack's theoretical field is **{theory} pixels** a side. 50% of the gradient's "
        f"mass lies in a centred square of {stats.describe_ci(e50, scale=1, unit=' px')}, 90% "
        f"in {stats.describe_ci(e90, scale=1, unit=' px')}: {e50['mean'] / theory:.0%} and "
        f"{e90['mean'] / theory:.0%} of the theoretical side. "
        + (
            "The outer part of the field contributes little: the effective field is smaller."
            if e90["mean"] < theory
            else "At this depth the 90% square still fills the whole field; the gap between "
            "theory and effect opens with depth (the sweep below)."
        ),
        "",
    ]
    for variant, x in exps.items():
        eff_exp = x["effective"]
        ci = " " + stats.interval_note(eff_exp, scale=1, unit="", digits=2)
        lines.append(
            f"- **{variant}** (3×3), depths {', '.join(map(str, x['depths']))}: the theoretical side grows "
            f"as depth^{x['theoretical']:.2f}, the effective (90%) side as depth^{eff_exp['mean']:.2f}{ci}."
        )
    plain = exps.get("plain", {}).get("effective", {}).get("mean")
    if plain is not None:
        lines.append("")  # a paragraph after the list, not its last item
        lines.append(
            "The theoretical side of a plain stack, 1 + L(k − 1), is linear in depth; its "
            "log-log slope sits below 1 only because of the 1, which matters at small depths."
        )
        lines.append(
            "Luo et al. predict an exponent of 0.5 for plain stacks (the gradient spreads like a "
            "random walk): "
            + (
                "the fitted exponent agrees."
                if 0.35 <= plain <= 0.65
                else f"the fitted {plain:.2f} departs from it at these depths."
            )
            + " Pooling multiplies the jump, so its fields, effective ones included, grow faster "
            "than linearly; dilation stretches every layer's reach at the same depth."
        )
    return "\n".join(lines)


def squares_chart(cfg: Config, rows: list[dict]):
    """The field of every conv layer as nested squares, centred, over an image of the trained
    task (two glyphs 16 pixels apart): which layer's units can see both?"""
    import plotly.graph_objects as go

    from cnnexp import figures, shapes

    canvas = min(max(max(r["side"] for r in rows) + 8, 40), MAX_MAP)
    images, _, where = shapes.generate_pairs(64, 0, 16, size=canvas)
    # the pair whose midpoint is nearest the centre, so the squares grow out between the glyphs
    mid = np.stack([where[:, 0] + 4, (where[:, 1] + where[:, 2] + 8) / 2], axis=1)
    img = images[np.abs(mid - (canvas - 1) / 2).sum(axis=1).argmin(), 0]
    fig = go.Figure(go.Heatmap(z=img, colorscale="gray", showscale=False, hoverinfo="skip"))
    c = (canvas - 1) / 2
    for i, r in enumerate(r for r in rows if r["kind"] == "conv"):
        h = r["side"] / 2
        colour = figures.PALETTE[i % len(figures.PALETTE)]
        fig.add_shape(
            type="rect",
            x0=c - h,
            x1=c + h,
            y0=c - h,
            y1=c + h,
            line={"color": colour, "width": 2},
        )
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines",
                line={"color": colour, "width": 2},
                name=f"layer {r['layer']}: {r['side']} px",
            )
        )
    fig = figures.layout(fig, "Theoretical field of each conv layer", height=420)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    fig.update_layout(hovermode="closest")
    return fig


def map_chart(eff: dict):
    """The effective field as a heat map, with the 50%, 90% and theoretical squares."""
    import plotly.graph_objects as go

    from cnnexp import figures

    grad = eff["map"]
    fig = go.Figure(
        go.Heatmap(
            z=grad,
            colorscale="Viridis",
            colorbar={"title": "mean |∂y/∂x|"},
            hovertemplate="%{z:.3g}<extra></extra>",
        )
    )
    cy, cx = centroid(grad)
    squares = {
        "theoretical": (eff["theoretical"], "#22d3ee"),  # seen on the map and the legend
        "90% of the mass": (eff["effective_90"]["mean"], "#f59e0b"),
        "50% of the mass": (eff["effective_50"]["mean"], "#dc2626"),
    }
    for name, (side, colour) in squares.items():
        h = side / 2
        fig.add_shape(
            type="rect",
            x0=cx - h,
            x1=cx + h,
            y0=cy - h,
            y1=cy + h,
            line={"color": colour, "width": 2, "dash": "dot" if name == "theoretical" else "solid"},
        )
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines",
                line={"color": colour, "dash": "dot" if name == "theoretical" else "solid"},
                name=f"{name}: {side:.0f} px",
            )
        )
    fig = figures.layout(fig, "Effective field: where the centre unit's gradient lies", height=420)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    fig.update_layout(hovermode="closest")
    return fig


def sweep_chart(rows: list[dict]):
    """Sides against depth on log-log axes: one colour per variant, dashes per measure."""
    import pandas as pd

    from cnnexp import figures

    df = pd.DataFrame(rows)
    df = df.assign(
        measure=df["measure"].map(
            {
                "theoretical": "theoretical",
                "effective_50": "effective 50%",
                "effective_90": "effective 90%",
            }
        )
    )
    fig = figures.lines_ci(
        df,
        "depth",
        "variant",
        dash="measure",
        exact_dashes=("theoretical",),  # a formula: the same for every seed
        log_x=True,
        markers=True,
        colour_order=list(VARIANTS),
        title="Field side against depth (log-log)",
        x_title="conv layers",
        y_title="side (pixels)",
    )
    fig.update_yaxes(type="log", tickvals=[1, 2, 5, 10, 20, 50, 100])
    fig.update_xaxes(tickvals=list(SWEEP_DEPTHS))
    # Nine entries: three to a row, one row per variant (one to a row hid the x title).
    fig.update_layout(
        height=480,
        legend={"entrywidth": 0.3, "entrywidthmode": "fraction", "font": {"size": 11}},
    )
    return fig


# --- python -m cnnexp probe field (cnnexp/cli.py) ----------------------------------------------
def report(cfg: Config, sweep_too: bool = False, with_map: bool = False) -> dict:
    """What the page's probe shows, as plain values: the field table, the effective field's
    sides (intervals over rf_seeds), optionally its map, and the depth sweep's exponents."""
    eff = effective(cfg)
    out = {
        "field": field_table(cfg),
        "effective": {k: eff[k] for k in ("theoretical", "effective_50", "effective_90")},
    }
    if with_map:
        out["effective"]["map"] = eff["map"].round(6).tolist()
    if sweep_too:
        rows = sweep(cfg.rf_seeds)
        out["sweep"] = rows
        out["exponents"] = exponents(rows)
    return out


def report_gflop(cfg: Config, sweep_too: bool) -> float:
    """What `report` computes: the slider stack's map, and the sweep when asked for."""
    layers = cfg.layers()
    return cost_gflop(layers, map_size(layers), cfg.rf_seeds) + (
        sweep_gflop(cfg.rf_seeds) if sweep_too else 0.0
    )


def report_text(cfg: Config, out: dict) -> str:
    """`report` as lines of text: the field table, the effective sides, the exponents."""
    lines = [f"{'layer':>5}  {'what':<26} {'side (px)':>9} {'jump (px)':>9}"]
    lines += [
        f"{r['layer']:>5}  {r['layer_is']:<26} {r['side']:>9} {r['jump']:>9}" for r in out["field"]
    ]
    e = out["effective"]
    lines.append(
        f"theoretical field {e['theoretical']} px; effective (mean |gradient| of the centre "
        f"unit, {cfg.rf_seeds} seed(s) × {DRAWS} draws): 50% of the mass in "
        f"{stats.describe_ci(e['effective_50'], scale=1, unit=' px')}, 90% in "
        f"{stats.describe_ci(e['effective_90'], scale=1, unit=' px')}"
    )
    for variant, x in out.get("exponents", {}).items():
        eff = x["effective"]
        ci = f" (95% CI {eff['ci95'][0]:.2f}–{eff['ci95'][1]:.2f})" if eff["ci95"] else ""
        lines.append(
            f"{variant} 3×3, depths {', '.join(map(str, x['depths']))}: theoretical side "
            f"∝ depth^{x['theoretical']:.2f}, effective (90%) ∝ depth^{eff['mean']:.2f}{ci}"
        )
    return "\n".join(lines)
