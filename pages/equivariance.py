"""Equivariance vs invariance: a shift probe of convolution, padding, strides and pooling,
then trained models tested on shifted images."""

import streamlit as st

from cnnexp import catalog, stats
from cnnexp.config import ConfigError
from cnnexp.experiments import equivariance as exp
from cnnexp.probes import shift
from ui import access, downloads, page, resources
from ui.exercises import check_yourself, results_hidden
from ui.settings import settings_panel

EXPLANATION = """
**Equivariance** means shifting the input shifts the output: f(Sx) = S f(x). **Invariance**
means the output does not move at all: g(Sx) = g(x). A convolution is equivariant by
construction — the same filter at every position — and a global average over positions
turns that into invariance. The probe measures where this holds and where it breaks:

- the **relative error** ‖f(Sx) − S f(x)‖ / ‖S f(x)‖, per layer, against the size of the shift;
- on the **interior**: positions whose receptive field lies inside the image and away from
  the band the shift wrapped around or blanked — and on the whole map, border included;
- after strides or pooling, a layer with total stride s is compared with the input shift
  divided by s: shifts that are not multiples of s cannot be followed (aliasing), and a
  blur before subsampling reduces the damage (Zhang 2019).

**Trained models** learn on centred digits and are tested on digits moved by 0 to k pixels
(the blank band enters from the edge, as when a camera moves). **Consistency** is the share of
test images whose predicted class is the same for two random shifts within ±k (Zhang 2019).
Lines and dots are means over seeds with 95% intervals.
"""

ENTRY = catalog.ENTRIES["equivariance"]
page.require_app()
page.header(exp, EXPLANATION)
# The sidebar in the order of the tabs: the shift probe's settings first (its seed is the
# trained one, the run it can borrow weights from), then the trained models'.
probe_cfg = settings_panel(shift.Config, page=ENTRY.page, exclude=("seed",))
cfg = settings_panel(exp.Config, page=ENTRY.page)
if cfg is None:  # the settings panel has said what is wrong
    st.stop()
store = resources.store()


# Shared, not copied: st.cache_data unpickled the frames for every view (bench/wire.py).
# Nothing changes them; the downloads copy a table before converting it.
@st.cache_resource(show_spinner="Probing the layer stack…", max_entries=32, ttl=3600)
def probe_frames(probe_json: str, trained_json: str, _store=None) -> dict:
    return shift.frames(
        shift.Config.model_validate_json(probe_json),
        _store,
        exp.Config.model_validate_json(trained_json),
    )


@st.cache_resource(show_spinner=False, max_entries=32, ttl=3600)
def probe_headline(probe_json: str, trained_json: str, _store=None) -> dict:
    return shift.headline(
        shift.Config.model_validate_json(probe_json),
        _store,
        exp.Config.model_validate_json(trained_json),
    )


probe_tab, trained_tab = page.tabs(
    ["Probe: a layer stack, no training", ENTRY.runs_tab], ENTRY.tabs_key
)
with probe_tab:
    if probe_tab.open:
        try:
            if probe_cfg is None:  # the settings panel has said what is wrong
                raise ConfigError("The probe's settings cannot run; see the message above.")
            probe_cfg = probe_cfg.model_copy(update={"seed": cfg.seed})
            budget = access.shift_probe_problem(
                probe_cfg.image_size,
                probe_cfg.channels,
                probe_cfg.kernel,
                probe_cfg.depth,
                probe_cfg.colour,
            )
            if budget:  # the server's probe budget holds whatever the link asks (cnnexp/policy.py)
                raise ConfigError(budget)
            keys = (probe_cfg.model_dump_json(), cfg.model_dump_json())
            frames = probe_frames(*keys, store)
        except ConfigError as e:
            st.warning(str(e), icon=":material/model_training:")
        except ImportError:
            st.info(
                "The probe computes with PyTorch, which is not installed on this server.",
                icon=":material/info:",
            )
        else:
            depth = int(frames["equivariance"]["layer"].max())
            c1, c2 = st.columns(2)
            layer = c1.select_slider(
                "Layer shown",
                list(range(1, depth + 1)),
                value=depth,
                key="view_layer",
                bind="query-params",
            )
            # Random weights: the stack's width is known; a trained stack's only once loaded.
            # A value beyond the maximum (a link, a narrower stack) falls back to channel 0.
            random = probe_cfg.weights == "random"
            last = probe_cfg.channels - 1 if random else 63
            channel = (
                c2.slider(
                    "Channel shown",
                    0,
                    last,
                    0,
                    key="view_channel",
                    bind="query-params",
                    help=None if random else "Channels beyond a layer's width show its last one",
                )
                if last > 0
                else 0  # one channel: a slider from 0 to 0 is refused by Streamlit
            )
            charts = page.shared(
                "equivariance-probe",
                (*keys, layer, channel),  # the frames follow from keys, as probe_frames' cache says
                lambda: shift.charts(probe_cfg, frames, layer, channel, store, cfg),
            )
            downloads.chart(charts["maps"], "equivariance-maps")
            st.markdown(shift.explain(probe_cfg, probe_headline(*keys, store)))
            left, right = st.columns(2)
            downloads.chart(charts["equivariance_error"], "equivariance-error", left)
            downloads.chart(charts["error_map"], "equivariance-error-map", right)
            left, right = st.columns(2)
            if "invariance" in charts:
                downloads.chart(charts["invariance"], "equivariance-invariance", left)
            if "downsampling" in charts:
                downloads.chart(charts["downsampling"], "equivariance-downsampling", right)
            st.caption(
                f"The probe is exact for one set of random weights (seed {probe_cfg.seed}), so its "
                "curves carry no interval; change the first seed to draw other weights."
                if random
                else "The probe is exact for the weights of one saved trained network, so its "
                "curves carry no interval; the stack's depth, stride and pooling are that "
                "network's, not the probe settings'."
            )
            downloads.data_downloads(frames, "equivariance-probe")

with trained_tab:
    if trained_tab.open:
        results, h = page.saved_results(exp, cfg, key="trained")
        # With predict-first on, the shifted accuracies wait for the visitor's prediction.
        if h is not None and not results_hidden(exp.NAME, cfg, probe_cfg):
            st.markdown(exp.explain_trained(cfg, h))
            charts = page.charts(exp, cfg, results)
            left, right = st.columns([3, 2])
            downloads.chart(charts["shift_accuracy"], "equivariance-shift-accuracy", left)
            downloads.chart(charts["consistency"], "equivariance-consistency", right)
            st.caption(
                "For scale only — ImageNet models, shifts of up to 32 pixels, other architectures "
                "(Zhang 2019): consistency of ResNet-50 89.2% → 91.3% with anti-aliased downsampling, "
                "VGG16 88.5% → 90.9%, AlexNet 78.2% → 83.3%. Ours: "
                + ", ".join(
                    f"{exp.shown_name(m, cfg.max_shift)} {stats.describe_ci(c)}"
                    for m, c in h["consistency"].items()
                    if c["mean"] is not None
                )
                + "."
            )
            downloads.data_downloads(page.tables(exp, cfg, results), "equivariance-trained")
check_yourself(exp.NAME, cfg, probe_cfg)
