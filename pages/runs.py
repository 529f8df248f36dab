"""Runs: every saved run in one table; select runs to overlay their curves, see how their
settings differ, download them or delete them."""

import io
import json
import re

import pandas as pd
import streamlit as st

from cnnexp import figures
from ui import access, page, resources

page.require_app()

SHOWN = [
    "experiment",
    "label",
    "dataset",
    "model",
    "width",
    "depth",
    "norm",
    "seed",
    "status",
    "test_acc",
    "ended_at",
    "device",
    "duration_s",
]
RUN_ID = re.compile(r"[0-9a-f]{16}")
SERIES = {
    "test accuracy": ("test", "acc"),
    "train accuracy": ("train", "acc"),
    "test loss": ("test", "loss"),
    "train loss": ("train", "loss"),
}

access.access_panel()
st.title("Runs")
store = resources.store()
runs = store.runs()
if runs.empty:
    st.info(
        "No saved runs yet. Launch one from an experiment page, or run "
        "`python -m cnnexp run baseline` in a terminal.",
        icon=":material/info:",
    )
    st.stop()

# --- filters -----------------------------------------------------------------------------
f1, f2, f3 = st.columns([2, 2, 3])
exps = f1.multiselect("Experiment", sorted(runs["experiment"].unique()), key="runs_exp")
statuses = f2.multiselect("Status", sorted(runs["status"].unique()), key="runs_status")
text = f3.text_input("Search", placeholder="label, run id or setting value", key="runs_search")
view = runs
if exps:
    view = view[view["experiment"].isin(exps)]
if statuses:
    view = view[view["status"].isin(statuses)]
if text:
    hay = view["label"].astype(str) + " " + view["run_id"] + " " + view["config_json"]
    view = view[hay.str.contains(text, case=False, regex=False)]
view = view.sort_values("ended_at", ascending=False).reset_index(drop=True)

# A link can carry a selection: ?runs=<id>,<id>. Ids are checked, never used as paths.
linked = [x for v in st.query_params.get_all("runs") for x in v.split(",") if x][:500]
valid = [x for x in linked if RUN_ID.fullmatch(x)]
known = set(view["run_id"])
if len(valid) < len(linked) or not set(valid) <= known:
    st.warning(
        f"{len(linked) - len([x for x in valid if x in known])} run id(s) in the link are "
        "not saved runs here and were ignored.",
        icon=":material/link_off:",
    )
default_rows = [i for i, rid in enumerate(view["run_id"]) if rid in set(valid)]

st.caption(f"{len(view):,} of {len(runs):,} saved runs · select rows to compare them")
table_view = view.assign(test_acc=view["test_acc"] * 100) if "test_acc" in view else view
event = st.dataframe(
    table_view[[c for c in SHOWN if c in view.columns]],
    hide_index=True,
    key="runs_table",
    on_select="rerun",
    selection_mode="multi-row",
    height=min(400, 35 * (len(view) + 1) + 3),
    selection_default={"selection": {"rows": default_rows}} if default_rows else None,
    column_config={
        "test_acc": st.column_config.NumberColumn("test acc", format="%.1f%%"),
        "duration_s": st.column_config.NumberColumn("duration", format="%.1f s"),
        "ended_at": st.column_config.DatetimeColumn("ended", format="YYYY-MM-DD HH:mm"),
    },
)
selected = view.iloc[event.selection.rows] if event.selection.rows else view.iloc[:0]
if list(selected["run_id"]) != valid:  # keep the URL a link to this selection
    if selected.empty:
        del st.query_params["runs"]
    else:
        st.query_params["runs"] = ",".join(selected["run_id"])
if selected.empty:
    st.info(
        "Select one or more runs in the table to overlay their learning curves.",
        icon=":material/touch_app:",
    )
    st.stop()

# --- curves ------------------------------------------------------------------------------
config = pd.DataFrame([json.loads(c) for c in selected["config_json"]], index=selected.index)
differs = [c for c in config.columns if config[c].astype(str).nunique() > 1]
selected = selected.assign(
    configuration=[
        " · ".join(f"{k}={config.at[i, k]}" for k in differs) or lab
        for i, lab in zip(selected.index, selected["label"], strict=True)
    ],
    run=[
        f"{lab} · seed {s} · {rid[:6]}"
        for lab, s, rid in zip(selected["label"], selected["seed"], selected["run_id"], strict=True)
    ],
)
c1, c2 = st.columns(2)
series = c1.selectbox("Series", list(SERIES), key="runs_series")
colour = c2.selectbox(
    "Colour by",
    ["configuration", "run", *differs],
    key="runs_colour",
    help="configuration groups seeds of identical settings into a mean line and a 95% band",
)
metrics = store.metrics(selected["run_id"])
split, metric = SERIES[series]
curves = metrics[(metrics["split"] == split) & (metrics["metric"] == metric)].merge(
    selected[["run_id", "configuration", "run", *differs]], on="run_id"
)
if curves.empty:
    st.warning("The selected runs have no per-epoch metrics (they failed before an epoch ended).")
else:
    st.plotly_chart(
        figures.lines_ci(
            curves,
            "epoch",
            colour,
            title=series.capitalize(),
            x_title="epoch",
            y_title=series,
            percent=metric == "acc",
        )
    )

# --- settings that differ ------------------------------------------------------------------
st.subheader("Settings that differ")
if differs:
    diff = config[differs].T
    diff.columns = selected["run"].tolist()
    st.dataframe(diff.astype(str), width="stretch")
else:
    st.caption("The selected runs share every setting (they differ only in seed or experiment).")

# --- export and delete -------------------------------------------------------------------
st.subheader("Download or delete")
table = selected.drop(columns=[c for c in selected.columns if c.startswith("_")])


def _parquet(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


d1, d2, d3, d4 = st.columns(4)
d1.download_button(
    "Runs (CSV)", table.to_csv(index=False), "runs.csv", "text/csv", icon=":material/download:"
)
d2.download_button(
    "Runs (parquet)",
    _parquet(table.astype({"config_json": str})),
    "runs.parquet",
    icon=":material/download:",
)
d3.download_button(
    "Metrics (CSV)",
    metrics.to_csv(index=False),
    "metrics.csv",
    "text/csv",
    icon=":material/download:",
)
d4.download_button(
    "Metrics (parquet)", _parquet(metrics), "metrics.parquet", icon=":material/download:"
)


@st.dialog("Delete runs")
def _confirm_delete(run_ids: list[str]) -> None:
    st.write(
        f"Delete {len(run_ids)} saved run(s)? Their files are removed from "
        f"`{store.root}`; this cannot be undone."
    )
    if st.button("Delete", type="primary", key="runs_delete_confirm"):
        store.delete(run_ids)
        st.rerun()


if access.can_launch() and st.button(
    f"Delete {len(selected)} selected run(s)", icon=":material/delete:", key="runs_delete"
):
    _confirm_delete(list(selected["run_id"]))
