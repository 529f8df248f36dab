"""Receptive field: how far a unit sees in theory and in fact (instant), and a task that
needs range (trained)."""

import pandas as pd
import streamlit as st

from cnnexp import catalog
from cnnexp.config import ConfigError
from cnnexp.experiments import receptive_field as exp
from cnnexp.probes import field
from ui import access, downloads, page, resources
from ui.exercises import check_yourself
from ui.settings import settings_panel

EXPLANATION = """
A unit of a convolutional layer sees a patch of the input, its **receptive field**. With
stride 1 every k×k layer adds k − 1 pixels: **R = 1 + L(k − 1)** after L layers. Strides
and pooling multiply the **jump** (the input distance between neighbouring units), so
every later layer adds (k − 1) × jump: the field grows multiplicatively. A dilation d
spreads a kernel's taps d pixels apart: d(k − 1) more pixels for the same parameters.

The **theoretical** field says where a unit *can* look. The **effective** field (Luo et al.,
NeurIPS 2016) is where its gradient actually lies: the mean |∂ centre output / ∂ input| over
random weights and inputs, summarised by the side of the centred square that holds 50% and
90% of that mass. The paths through a stack's middle are far more numerous than those to its
edge, so the mass piles up in the centre and spreads only like a random walk: about √depth.
The field probe's stacks are linear (no ReLU) with random signed weights; its numbers are
exact for those draws and carry intervals over the effective-field seeds.

**A task that needs range**: two glyphs on a 16-pixel-high strip, a distance d apart; is it
the same glyph twice? The CNNs end in global average pooling, so the answer must come from
units that see both glyphs: a field of d + 9 pixels sees both whole (a glyph is 9 wide), and
about d − 1 suffices, since the six glyphs already differ in their edge columns. Stacks of
equal depth and parameters differ only in how their field grows — **plain** 3×3, **dilated**
(1, 2, 4, …), **pooled** (2×2 max pooling between the convolutions) — and **wide** (7×7)
buys range with parameters. Lines are means over seeds with 95% intervals.
"""

ENTRY = catalog.ENTRIES["receptive_field"]
page.require_app()
page.header(exp, EXPLANATION)
# The sidebar in the order of the tabs: the stack the first two tabs measure (the field
# probe), then the trained task's settings.
probe_cfg = settings_panel(field.Config, page=ENTRY.page)
cfg = settings_panel(exp.Config, page=ENTRY.page)
if cfg is None:  # the settings panel has said what is wrong
    st.stop()


@st.cache_data(show_spinner="Measuring the effective field…", max_entries=64)
def effective(probe_json: str) -> dict:
    return field.effective(field.Config.model_validate_json(probe_json))


@st.cache_data(show_spinner="Reading the trained weights…", max_entries=64)
def trained_effective(run_id: str, _spec, _store) -> dict | None:  # a saved run never changes
    return exp.trained_effective(_spec, _store)


@st.cache_data(show_spinner="Sweeping depth…", max_entries=8)
def sweep(seeds: int) -> list[dict]:
    return field.sweep(seeds)


theory_tab, effective_tab, task_tab = page.tabs(
    ["Theoretical field", "Effective field", ENTRY.runs_tab], ENTRY.tabs_key
)
with theory_tab:
    if theory_tab.open:
        if probe_cfg is None:  # the settings panel has said what is wrong
            st.warning("The stack's settings cannot be drawn; see the message above.")
        else:
            rows = field.field_table(probe_cfg)
            last = rows[-1]
            apart = f"{last['jump']} pixel" + ("s" if last["jump"] != 1 else "")
            st.markdown(
                f"After {probe_cfg.rf_depth} conv layers a unit sees **{last['side']}×{last['side']} "
                f"pixels**, and neighbouring units are **{apart}** apart in the input."
            )
            left, right = st.columns([2, 3])
            table = pd.DataFrame(rows)[["layer", "layer_is", "side", "jump"]]
            left.dataframe(
                table.rename(
                    columns={"layer_is": "what", "side": "field side (px)", "jump": "jump (px)"}
                ),
                hide_index=True,
                width="stretch",
                placeholder="—",
            )
            downloads.chart(field.squares_chart(probe_cfg, rows), "receptive-field-squares", right)

with effective_tab:
    if effective_tab.open:
        try:
            if probe_cfg is None:
                raise ConfigError("The stack's settings cannot run; see the message above.")
            budget = field.budget_problem(probe_cfg, access.caps().probe_gflop)
            if budget:  # the server's probe budget holds whatever the link asks (cnnexp/policy.py)
                raise ConfigError(budget)
            eff = effective(probe_cfg.model_dump_json())
            rows = sweep(probe_cfg.rf_seeds)
        except ConfigError as e:
            st.warning(str(e), icon=":material/model_training:")
        except ImportError:
            st.info(
                "The effective field is computed with PyTorch, which is not installed on this server.",
                icon=":material/info:",
            )
        else:
            exps = field.exponents(rows)
            st.markdown(field.explain(probe_cfg, eff, exps))
            left, right = st.columns(2)
            downloads.chart(field.map_chart(eff), "receptive-field-effective", left)
            right.dataframe(field.exponent_table(exps), hide_index=True, placeholder="—")
            right.caption(
                "Log-log slope of the field's side against depth. A random walk predicts 0.5 "
                "for a plain stack's effective field (Luo et al.)."
            )
            # Full width: its nine legend entries squeezed the plot in half a page.
            downloads.chart(field.sweep_chart(rows), "receptive-field-depth")
            downloads.data_downloads({"depth_sweep": pd.DataFrame(rows)}, "receptive-field-probe")

with task_tab:
    if task_tab.open:
        results, h = page.saved_results(exp, cfg)
        if h is not None:
            st.markdown(exp.explain(cfg, h))
            charts = page.charts(exp, cfg, results)
            downloads.chart(charts["accuracy"], "receptive-field-accuracy")
            # The trained maps last: they import PyTorch, which the saved results do not need.
            far = max(cfg.distances)
            specs = {st_: exp.spec_for(cfg, st_, far, cfg.seed) for st_ in cfg.stacks}
            try:
                maps = {
                    k: trained_effective(s.run_id, s, resources.store()) for k, s in specs.items()
                }
            except ImportError:  # a viewer without PyTorch shows the rest
                maps = {}
            maps = {k: m for k, m in maps.items() if m is not None}
            if maps:
                downloads.chart(exp.trained_maps_chart(maps), "receptive-field-trained-effective")
                st.caption(
                    f"The trained runs at distance {far}, seed {cfg.seed}: the gradient of the last "
                    "conv block's centre unit over 64 test images, with ReLUs and learned weights "
                    "(the Effective field tab uses random linear stacks)."
                )
            downloads.data_downloads(page.tables(exp, cfg, results), "receptive-field")
check_yourself(exp.NAME, cfg, probe_cfg)
