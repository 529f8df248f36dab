"""Inside a model: one saved run's predictions and mistakes, what its first layer learned
(beside the same weights at initialisation), its feature maps on a test image, and where it
looks. Thin over cnnexp/inspection.py (through ui/inside.py, which caches per run and image);
torch loads only once a run with weights is shown.

Link: ?run=<id>&image=<n>&compare=<id>,<id> (ui.links.inside_query builds it)."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from cnnexp import analysis, catalog
from cnnexp.runspec import spec_of_record
from ui import access, downloads, inside, page, resources
from ui.links import fmt
from ui.runpanel import offer_again

EXPLANATION = """
Every run saves its trained weights beside its results. This page loads them into the model
the run trained, built by the same code, and shows what the network does with the test images
the run was measured on.

- **Predictions and mistakes.** Accuracy per true class, the confusion matrix (rows: true
  class, columns: the model's answer) and the wrong answers the model was surest of. Computed
  again from the saved weights (kept at half precision), so it can differ from the run's
  recorded accuracy by an image on a near tie. A hosted server evaluates at most its cap of
  test images (the first ones), and says so.
- **What the first layer learned.** A CNN's k×k filters, a locally connected layer's filters
  at a grid of positions (each position has its own), an MLP's first hidden units drawn as
  images. Each beside the same weights at initialisation, re-created from the run's seed: the
  structure training added is what differs from the left grid. Each filter is scaled to its own
  largest weight; red is positive, blue negative.
- **Feature maps.** The chosen test image through every layer, named by the model's layer
  table (the first 8 channels of each map; a dense layer's output as one strip).
- **Where it looks.** Saliency: how much each pixel moves the score of the predicted class
  (the gradient's magnitude; Simonyan et al. 2014), for every family. Grad-CAM (Selvaraju et
  al. 2017): the last conv layer's maps weighted by the gradient, for models that have one.
  Both computed with Captum. Pick other runs to see the same image through their eyes.
"""

NO_WEIGHTS = (
    "This run was saved before runs kept their weights, so there is nothing to look inside. "
    "Training it again (same settings, same seed) saves them; on the CPU it gives the same "
    "numbers, which replace the saved ones."
)


def main() -> None:
    page.require_app()
    access.access_panel()
    st.title("Inside a model")
    st.caption("What one trained run predicts, what its first layer learned, and where it looks.")
    with st.expander("What this shows and how to read it", icon=":material/menu_book:"):
        st.markdown(EXPLANATION)
    runs = finished_runs()
    problems: list[str] = []
    if runs.empty:
        inside.show_problems(_link_problems(set(), problems))
        st.info(
            "No finished runs are saved yet. Train one on any experiment's page, then come back.",
            icon=":material/info:",
        )
        return
    record, refused = pick_run_ui(runs, problems)
    try:
        spec = spec_of_record(record)
    except (KeyError, TypeError, ValueError) as e:  # a file not written by this store
        inside.show_problems(problems)
        st.warning(
            f"This run's saved record lacks what names a run (bad or missing {e}), so there "
            "is nothing to look inside. Runs this dashboard trains always have it.",
            icon=":material/warning:",
        )
        return
    if refused:  # a link's run that is not saved: nothing is computed until one is picked
        inside.show_problems(problems)
        if st.button("Look inside the run picked above", icon=":material/neurology:"):
            _go(record["run_id"])
            st.rerun()
        return
    if not inside.has_weights(record):
        inside.show_problems(problems)
        offer_again(spec, NO_WEIGHTS, "inside")
        return
    if not inside.can_compute():
        inside.show_problems(problems)
        st.info(
            "Looking inside a model computes with PyTorch and Captum, which are not installed "
            "on this server.",
            icon=":material/info:",
        )
        return
    key = inside.RunKey.of(record)
    try:
        subj = inside.loaded(key)[0]
    except inside.CannotInspect as e:  # weights that no longer fit the code's model
        inside.show_problems(problems)
        offer_again(spec, str(e), "inside")
        return
    index = image_ui(subj.n_test, problems)
    others = compare_ui(runs, record, problems)
    inside.show_problems(problems)
    run = inside.run_view(key, access.caps())
    summary(record, run)
    predictions_section(key, run)
    first_layer_section(key, run)
    maps_section(key, index)
    looks_section(key, record, index, others)


# --- which run ---------------------------------------------------------------------------
def finished_runs() -> pd.DataFrame:
    runs = resources.store().runs()
    if runs.empty or "status" not in runs:
        return runs.iloc[0:0]
    return runs[runs["status"] == "done"].reset_index(drop=True)


def _link_problems(saved: set[str], problems: list[str]) -> list[str]:
    inside.linked_run(saved, problems)
    return problems


def setting_names(runs: pd.DataFrame) -> dict[str, str]:
    """config_json -> the settings that tell it apart from the experiment's other configs."""
    cols = analysis.varying(runs, [c for c in analysis.settings(runs) if c != "experiment"])
    first = runs.drop_duplicates("config_json")
    names = {}
    for _, r in first.iterrows():
        text = " · ".join(f"{c} {fmt(r[c])}" for c in cols if c in r and pd.notna(r[c]))
        names[r["config_json"]] = text or str(r.get("label") or "its only settings")
    return names


def _choose(runs: pd.DataFrame, experiment: str, config: str | None, seed: int | None) -> str:
    """The run id for a choice, falling back to the first config and the lowest seed."""
    mine = runs[runs["experiment"] == experiment]
    if config is not None and (mine["config_json"] == config).any():
        mine = mine[mine["config_json"] == config]
    else:
        mine = mine[mine["config_json"] == mine["config_json"].iloc[0]]
    if seed is not None and (mine["seed"] == seed).any():
        mine = mine[mine["seed"] == seed]
    return str(mine.sort_values("seed")["run_id"].iloc[0])


def _opening_run(runs: pd.DataFrame) -> str:
    """With no run named: the newest run that kept its weights, so a first visit has
    something to look inside (found: it opened a bundled run saved before weights were)."""
    for rid, exp in zip(runs["run_id"][::-1], runs["experiment"][::-1], strict=True):
        if inside.has_weights({"experiment": exp, "run_id": rid}):
            return str(rid)
    return _choose(runs, str(runs["experiment"].iloc[-1]), None, None)


def _go(run_id: str) -> None:
    st.query_params["run"] = run_id
    for stale in ("compare",):  # another run's comparisons need not share its images
        if stale in st.query_params:
            del st.query_params[stale]


def pick_run_ui(runs: pd.DataFrame, problems: list[str]) -> tuple[dict, bool]:
    """Experiment → settings → seed, or the link's run; the choice is kept in ?run=.
    Returns the run the widgets show and whether the link named a run that was refused."""
    said = len(problems)
    linked = inside.linked_run(set(runs["run_id"]), problems)
    run_id = linked or _opening_run(runs)
    record = runs[runs["run_id"] == run_id].iloc[0].to_dict()
    exps = list(dict.fromkeys(runs["experiment"]))
    mine = runs[runs["experiment"] == record["experiment"]]
    names = setting_names(mine)
    seeds = sorted(int(s) for s in mine.loc[mine["config_json"] == record["config_json"], "seed"])
    # The widgets show the current run; a change names another run in the link.
    st.session_state["inside-exp"] = record["experiment"]
    st.session_state["inside-config"] = record["config_json"]
    st.session_state["inside-seed"] = int(record["seed"])
    left, mid, right = st.columns([2, 5, 1])
    left.selectbox(
        "Experiment",
        exps,
        key="inside-exp",
        format_func=lambda e: catalog.ENTRIES[e].title if e in catalog.ENTRIES else e,
        on_change=lambda: _go(_choose(runs, st.session_state["inside-exp"], None, None)),
    )
    mid.selectbox(
        "Settings",
        list(names),
        key="inside-config",
        format_func=names.get,
        help="The settings that tell this experiment's saved runs apart",
        on_change=lambda: _go(
            _choose(runs, record["experiment"], st.session_state["inside-config"], record["seed"])
        ),
    )
    right.selectbox(
        "Seed",
        seeds,
        key="inside-seed",
        on_change=lambda: _go(
            _choose(
                runs, record["experiment"], record["config_json"], st.session_state["inside-seed"]
            )
        ),
    )
    return record, len(problems) > said


def image_ui(n_test: int, problems: list[str]) -> int:
    index = inside.linked_image(n_test, problems)
    st.session_state["inside-image"] = index

    def moved() -> None:
        st.query_params["image"] = str(st.session_state["inside-image"])

    st.number_input(
        "Test image",
        min_value=0,
        max_value=n_test - 1,
        step=1,
        key="inside-image",
        on_change=moved,
        help=f"Which of the {n_test:,} test images the feature maps and attributions follow",
    )
    return index


def compare_ui(runs: pd.DataFrame, record: dict, problems: list[str]) -> list[dict]:
    """Other runs tested on the same images, with weights, whose attributions go beside."""
    from cnnexp.inspection import test_images_key  # torch is loaded by now

    mine = test_images_key(record["experiment"], json.loads(record["config_json"]), record["seed"])
    candidates = [
        r
        for r in runs.to_dict("records")
        if r["run_id"] != record["run_id"]
        and test_images_key(r["experiment"], json.loads(r["config_json"]), r["seed"]) == mine
        and inside.has_weights(r)
    ]
    by_id = {r["run_id"]: r for r in candidates}
    st.session_state["inside-compare"] = inside.linked_compare(list(by_id), problems)

    def moved() -> None:
        ids = st.session_state["inside-compare"][: inside.MAX_COMPARED]
        if ids:
            st.query_params["compare"] = ",".join(ids)
        elif "compare" in st.query_params:
            del st.query_params["compare"]

    chosen = st.multiselect(
        "Compare where it looks with",
        list(by_id),
        key="inside-compare",
        format_func=lambda i: (
            f"{by_id[i]['experiment']} · {by_id[i]['label']} · seed {by_id[i]['seed']}"
        ),
        max_selections=inside.MAX_COMPARED,
        on_change=moved,
        help="Saved runs tested on the same images; the same test image through each",
    )
    return [by_id[i] for i in chosen]


# --- what it shows -----------------------------------------------------------------------
def summary(record: dict, run) -> None:
    p = run.predictions
    c1, c2, c3 = st.columns(3)
    c1.metric(
        "Accuracy from the saved weights",
        f"{p.accuracy:.1%}",
        help=f"Recomputed on the test images below; the run recorded {record['test_acc']:.1%}",
    )
    c2.metric("Test images evaluated", f"{len(p.labels):,} of {p.total:,}")
    c3.metric("First layer", {"conv": "convolution", "local": "locally connected",
                              "linear": "fully connected"}[run.first_trained.kind])  # fmt: skip
    if len(p.labels) < p.total:
        st.caption(
            f"This server evaluates at most {len(p.labels):,} test images per run (the first "
            "ones); the per-class figures are over those."
        )


def _figures(key, what: str, extra: tuple, build) -> dict:
    return page.shared(f"inside-{what}", (key.run_id, key.mtime_ns, key.size, *extra), build)


def predictions_section(key, run) -> None:
    from cnnexp import inspection_figures as figs

    st.header("Predictions and mistakes")
    f = _figures(
        key,
        "predictions",
        (),
        lambda: {
            "accuracy": figs.class_accuracy(run.per_class),
            "confusion": figs.confusion(run.confusion, run.predictions.classes),
            "mistakes": figs.mistakes(
                run.mistake_images, run.mistakes, title="The most confident mistakes"
            ),
        },
    )
    left, right = st.columns(2)
    with left:
        downloads.chart(f["accuracy"], "inside-class-accuracy")
    with right:
        downloads.chart(f["confusion"], "inside-confusion")
    downloads.chart(f["mistakes"], "inside-mistakes")
    st.caption("Each mistake: its test image index, true class → predicted (probability).")


def first_layer_section(key, run) -> None:
    from cnnexp import inspection_figures as figs

    st.header("What the first layer learned")
    f = _figures(key, "first", (), lambda: {"first": figs.first_layer(run)})
    downloads.chart(f["first"], "inside-first-layer")
    st.caption(
        "Left: the weights this run started from (re-created from its seed); right: the same "
        "weights after training. Each scaled by its own largest weight: red positive, blue "
        "negative."
    )


def maps_section(key, index: int) -> None:
    from cnnexp import inspection_figures as figs

    st.header("Feature maps")
    view = inside.image_view(key, index)
    att = view.attribution
    st.caption(
        f"Test image {index}: true class {att.true}, predicted {att.predicted} "
        f"({att.probability:.0%})."
    )
    f = _figures(key, "maps", (index,), lambda: {"maps": figs.feature_maps(view.maps)})
    downloads.chart(f["maps"], "inside-feature-maps")


def looks_section(key, record: dict, index: int, others: list[dict]) -> None:
    from cnnexp import inspection_figures as figs

    st.header("Where it looks")
    runs = [record, *others]
    views = {
        f"{r['label']} · seed {r['seed']}": inside.image_view(inside.RunKey.of(r), index)
        for r in runs
    }
    extra = (index, *(f"{r['run_id']}:{r['_mtime_ns']}" for r in others))

    def build() -> dict:
        panels = {
            name: {
                "image": v.image,
                "saliency": v.attribution.saliency,
                "grad_cam": v.attribution.grad_cam,
            }
            for name, v in views.items()
        }
        return {"looks": figs.where_it_looks(panels)}

    downloads.chart(_figures(key, "looks", extra, build)["looks"], "inside-where-it-looks")
    st.caption(
        "Red over the image: where a change of pixel would move the predicted class's score "
        "most (saliency), and which regions the last conv layer's evidence for that class comes "
        "from (Grad-CAM). Both for the class each model predicts."
    )


main()
