"""Do networks learn the prior? An MLP's locality and a locally connected layer's weight
sharing, at initialisation (from the seeds, at once) and trained (saved runs)."""

from typing import cast

import streamlit as st

from cnnexp import data
from cnnexp.errors import ConfigError
from cnnexp.experiments import learned as exp
from cnnexp.runspec import RunSpec
from ui import access, downloads, inside, page, resources, tiles
from ui.exercises import check_yourself, results_hidden
from ui.links import INSIDE_PAGE, inside_query
from ui.runpanel import offer_again

EXPLANATION = """
A convolution builds in two assumptions: each unit sees a small **k×k window** of the image
(locality), and **every position uses the same filters** (weight sharing). Two networks are
not given them: an **MLP**, whose hidden units each see the whole image, and a **locally
connected** network (local), whose units see k×k windows but have their own filters at every
position. Both can represent what a convolution computes; do they learn to from the data?
Each model has one hidden layer (no padding, so every window lies inside the image; batch
norm, ReLU, 2×2 max pooling for local and cnn), then a linear classifier.

What is measured on the first layer, for each run, trained and at initialisation (the same
weights, re-created from the run's seed), and on the change training made (trained − init):

- **Locality (window share)**: for each MLP unit, the share of its weight energy Σw² that lies
  in its best k×k window. Spread evenly over D pixels it would be k²/D; all in one window, 1.
  A local or conv unit is 1 by construction.
- **IPR** (inverse participation ratio) Σw⁴/(Σw²)² of a unit's weights: 1/D when D weights
  are equal, 1 when one holds everything. Ingrosso & Goldt measure localisation this way.
- **Weight sharing**: for each filter of the locally connected layer at position p and each
  other position q, the best cosine similarity between it and q's filters (the best, so the
  order of the channels does not matter); averaged over filters and pairs of positions (a grid
  of at most 12 × 12 positions). A convolution is 1 by construction. Random filters are not 0:
  the best of several random cosines is positive, and the dotted line marks what random
  filters of the layer's shape give.

Every run trains the same number of optimisation steps, so a training-set size differs only in
how many distinct images it sees. Shift augmentation moves each training image by a random
whole number of pixels, up to the value set, each time it is seen. Dots are means over seeds
with 95% intervals; small dots are the seeds. **Inside a model** (under Results) shows any one
run's filters, predictions and feature maps; the First-layer weights tab links there.
"""

NO_WEIGHTS = (
    "This run's weights are not saved here (the bundle keeps only some runs' weights, and runs "
    "saved before runs kept theirs have none). Training it again (same settings, same seed) "
    "saves them; on the CPU it gives the same numbers."
)

cfg = cast("exp.Config", page.start(exp, EXPLANATION))
results, saved = page.saved_results(exp, cfg)


# --- at initialisation: from the seeds, no training --------------------------------------------
@st.cache_data(show_spinner="Building the layers at initialisation…", max_entries=64)
def init_rows(key: str, _cfg: exp.Config) -> list[dict]:
    return exp.init_rows(_cfg)  # `key` names everything the rows follow from


def at_initialisation(cfg: exp.Config, results) -> dict | None:
    """The first layers before training, shown at once while the runs are missing or training:
    from the saved runs when they hold every model and seed (no torch), else computed from the
    seeds within the server's probe budget."""
    rows = exp.saved_init_rows(cfg, results)
    if rows is None:
        refused = exp.init_problem(cfg, access.caps().probe_gflop)
        if refused:
            st.warning(refused, icon=":material/model_training:")
            return None
        try:
            rows = init_rows(exp.init_key(cfg), cfg)
        except data.DataError as e:  # a full dataset whose files are not on this server
            st.warning(str(e), icon=":material/folder_off:")
            return None
        except ImportError:
            st.info(
                "The layers at initialisation are built with PyTorch, which is not installed "
                "on this server; saved runs show theirs.",
                icon=":material/info:",
            )
            return None
    return exp.init_summary(cfg, rows)


if not results.complete:  # once it is, the explanation below sets them beside the trained
    init = at_initialisation(cfg, results)
    if init:
        st.markdown(exp.explain_init(cfg, init))


@st.cache_data(show_spinner="Loading the saved weights…", max_entries=32)
def weights_figure(run_id: str, mtime_ns: int, size: int, _spec):  # the file's state: the key
    return exp.weights_chart(exp.first_layers(resources.store(), _spec))


def pick_run_ui(cfg: exp.Config, results) -> RunSpec:
    """Model, condition and seed of one saved run of the plan (the main condition first)."""
    done = [s for s in results.specs if s.run_id in set(results.runs["run_id"])]
    left, mid, right = st.columns(3)
    models = [m for m in cfg.models if any(s.config["model"] == m for s in done)]
    model = left.selectbox("Model", models, key="weights-model")
    mine = [s for s in done if s.config["model"] == model]
    labels = [exp.condition_label(cfg, n, sh) for n in exp.sizes(cfg) for sh in cfg.shifts]
    labels = [c for c in labels if any(exp.condition_of(s) == c for s in mine)]
    main = exp.condition_label(cfg, exp.sizes(cfg)[-1], min(cfg.shifts))
    condition = mid.selectbox(
        "Condition", labels, index=labels.index(main) if main in labels else 0, key="weights-at"
    )
    mine = [s for s in mine if exp.condition_of(s) == condition]
    seed = right.selectbox("Seed", [s.seed for s in mine], key="weights-seed")
    return next(s for s in mine if s.seed == seed)


def first_layer_weights(cfg: exp.Config, results) -> None:
    """One saved run's first layer, at initialisation beside trained, and a link inside it."""
    spec = pick_run_ui(cfg, results)
    record = results.records[spec.run_id]
    if not inside.has_weights(record):
        offer_again(spec, NO_WEIGHTS, "learned-weights")
        return
    try:
        fig = weights_figure(spec.run_id, record["_mtime_ns"], record["_size"], spec)
    except ImportError:
        st.info(
            "Drawing saved weights needs PyTorch, which is not installed on this server.",
            icon=":material/info:",
        )
    except ConfigError as e:  # inspection's refusal: weights that no longer fit the model
        st.warning(str(e), icon=":material/history:")
    else:
        downloads.chart(fig, "learned-weights")
        st.caption(
            "Red positive, blue negative, each filter or unit scaled by its own largest weight. "
            "An MLP unit is drawn over the whole image; a locally connected layer's first "
            "filters at a grid of positions (rows); a convolution's filters, one for every "
            "position."
        )
    st.page_link(
        INSIDE_PAGE,
        label=f"Look inside this run ({spec.label} · seed {spec.seed}): predictions, filters, "
        "feature maps, saliency",
        icon=":material/visibility:",
        query_params=inside_query(spec.run_id),
    )


# --- trained -----------------------------------------------------------------------------------
def headline_tiles(cfg: exp.Config, headline: exp.Headline) -> None:
    """The MLP's locality and the local layer's sharing trained (with their intervals; the
    value at initialisation in the label), and each model's accuracy."""
    loc, share = headline["locality"].get("mlp"), headline["sharing"].get("local")
    accs = {m: c for m, c in headline["accuracy"].items() if c["mean"] is not None}
    cols = iter(st.columns([2, 2] + [1] * len(accs)))  # the labels of the two run longer
    k = cfg.kernel
    for what, got, note in (
        (f"mlp · {k}×{k} window share", loc, ""),
        ("local · sharing", share, "; random filters: "),
    ):
        col = next(cols)
        if not got or got["init"]["mean"] is None:
            continue
        chance = f"{note}{headline['chance_sharing']:.3f}" if note else ""
        tiles.ci_metric(
            f"{what} (init {got['init']['mean']:.3f})",
            got["trained"],
            scale=1,
            unit="",
            digits=3,
            help=f"Trained {exp.num(got['trained'])}; at initialisation {exp.num(got['init'])}"
            f"{chance}. A convolution: 1.",
            where=col,
        )
    for m, c in accs.items():
        tiles.ci_metric(f"{m} · test accuracy", c, where=next(cols))


def results_view(cfg: exp.Config, results, headline: exp.Headline) -> None:
    """The trained layers against their initialisation: tiles, what they show, the charts."""
    headline_tiles(cfg, headline)
    st.markdown(exp.explain(cfg, headline))
    st.caption(exp.budget_text(cfg))
    charts = page.charts(exp, cfg, results)
    stages_tab, size_tab, weights_tab = page.tabs(
        ["Init vs trained", "Against images and augmentation", "First-layer weights"], "learned"
    )
    with stages_tab:
        if stages_tab.open:
            stages_view(headline, charts)
    with size_tab:
        if size_tab.open:
            by_size_view(charts)
    with weights_tab:
        if weights_tab.open:
            first_layer_weights(cfg, results)
    downloads.data_downloads(page.tables(exp, cfg, results), "learned")


def stages_view(headline: exp.Headline, charts: dict) -> None:
    st.caption(
        f"At {headline['images']:,} training images, {exp.shift_label(headline['shift'])}: "
        "each model's first layer at initialisation, trained, and the change training made."
    )
    if not any(name in charts for name in ("locality", "sharing", "ipr")):
        st.info(
            "This condition has no saved runs yet; the other tabs show those that are saved.",
            icon=":material/info:",
        )
    left, right = st.columns(2)
    for name, where in (("locality", left), ("sharing", right), ("ipr", None)):
        if name in charts:
            downloads.chart(charts[name], f"learned-{name}", where)


def by_size_view(charts: dict) -> None:
    shown = [n for n in ("locality_by_size", "sharing_by_size", "accuracy_by_size") if n in charts]
    if not shown:
        st.info(
            "These runs have one training-set size and one augmentation: add sizes or "
            "shifts in the settings to see how the priors change with them.",
            icon=":material/info:",
        )
    for name in shown:
        downloads.chart(charts[name], f"learned-{name}")


if saved is None:
    page.nothing_saved(results)
elif not results_hidden(exp.NAME, cfg):  # predict-first: the trained numbers wait
    results_view(cfg, results, cast("exp.Headline", saved))
check_yourself(exp.NAME, cfg)  # shown with or without saved runs
