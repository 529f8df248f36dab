"""The experiments as Home and the navigation show them: name, title, one-line summary, page,
icon, and how a saved headline reads in one line.

Imports nothing heavy (the standard library and cnnexp.stats): a fresh server's first page
(Home, app.py's navigation) reads this instead of the experiment modules, which load pydantic,
numpy and their configs. Each experiment module takes its TITLE, SUMMARY and headline_text
from here (`identity`), so there is one copy of each.

A headline's shape is its experiment's `Headline` (a TypedDict beside its `summarize`), imported
here for the type checker only. A saved headline records the version of that shape it was
written in (`headline_version`, stamped by the store); Home reads only the current one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cnnexp.stats import describe_ci  # light: stats loads numpy only where it computes

if TYPE_CHECKING:  # the experiments load pydantic and numpy: types only, never at run time
    from cnnexp.experiments import (
        baseline,
        equivariance,
        learned,
        normalization,
        permuted,
        receptive_field,
        scaling,
    )


@dataclass(frozen=True)
class Entry:
    name: str  # the registry name: experiment module, page file, URL path, CLI subcommand
    title: str  # the page's title and Home's heading
    nav: str  # the shorter title in the sidebar's navigation
    icon: str  # a Material icon for the navigation
    summary: str  # one line: what the page measures
    # A headline (the experiment's Headline, from summarize or a saved file) in a line.
    headline_text: Callable[[Any], str]
    runs_tab: str | None = None  # the page's tab with its saved runs, where it is not the first
    # The version of the experiment's Headline shape: bump it with any change to its keys
    # (tests/test_catalog.py pins each shape), so that a headline saved before is not read as
    # this one (Home says it is from an older version instead of failing on a missing key).
    headline_version: int = 1

    @property
    def page(self) -> str:
        return f"pages/{self.name}.py"

    @property
    def tabs_key(self) -> str:
        """The key of the page's tabs (ui.page.tabs), in the link as `?tabs-<key>=<label>`."""
        return self.name.replace("_", "-")

    def runs_tab_query(self) -> dict[str, str]:
        """The link parameter that opens the tab with the saved runs (none: the first)."""
        return {f"tabs-{self.tabs_key}": self.runs_tab} if self.runs_tab else {}

    def current(self, saved: dict) -> bool:
        """Whether a saved headline record (cnnexp.store) is in this version's shape."""
        return saved.get("headline_version", 1) == self.headline_version


# --- how each experiment's headline reads --------------------------------------------------
def _scaling(h: scaling.Headline) -> str:
    if "families" not in h:
        a = h["analytic"]
        return (
            f"one layer: fully connected {a['fc']['params']:,} parameters, locally connected "
            f"{a['local']['params']:,}, convolution {a['conv']['params']:,}"
        )
    best = {
        f: max(
            (p["test_acc"]["mean"] for p in ps if p["test_acc"]["mean"] is not None), default=None
        )
        for f, ps in h["families"].items()
    }
    parts = [f"{f} {v:.1%}" for f, v in best.items() if v is not None]
    return "best test accuracy: " + ", ".join(parts)


def _equivariance(h: equivariance.Headline) -> str:
    parts = [f"{m} {c['mean']:.1%}" for m, c in h["consistency"].items() if c["mean"] is not None]
    return "consistency under shifts: " + ", ".join(parts)


def _permuted(h: permuted.Headline) -> str:
    parts = [  # in the experiment's order of models (permuted.MODELS), as summarize keeps them
        f"{m} loses {r['drop']['mean'] * 100:.1f} points"
        for m, r in h["models"].items()
        if r["drop"]["mean"] is not None
    ]
    return "scrambled pixels: " + ", ".join(parts) if parts else "no finished runs"


def _normalization(h: normalization.Headline) -> str:
    parts = [f"{n} {c['mean']:.1%}" for n, c in h["final_acc"].items() if c["mean"] is not None]
    return "test accuracy: " + ", ".join(parts)


def _receptive_field(h: receptive_field.Headline) -> str:
    parts = []
    for stack, field in h["field"].items():
        stop = h["stops_at"][stack]
        where = f"fails from distance {stop}" if stop is not None else "works at every distance"
        if not h.get("learned", {}).get(stack, True):  # at chance everywhere: it never learned
            where = "never rises above chance (not learned at these settings)"
        parts.append(f"{stack} (field {field}) {where}")
    return "; ".join(parts)


def _learned(h: learned.Headline) -> str:
    parts = []
    loc, share = h["locality"].get("mlp"), h["sharing"].get("local")
    if loc and None not in (loc["init"]["mean"], loc["trained"]["mean"]):
        parts.append(
            f"mlp's weight energy in its best {h['window']}×{h['window']} window "
            f"{loc['init']['mean']:.3f} at initialisation → {loc['trained']['mean']:.3f} trained"
        )
    if share and None not in (share["init"]["mean"], share["trained"]["mean"]):
        parts.append(
            f"local filters' sharing across positions {share['init']['mean']:.3f} → "
            f"{share['trained']['mean']:.3f} (random filters {h['chance_sharing']:.3f}; a "
            "convolution 1)"
        )
    return "; ".join(parts) if parts else "no finished runs"


def _baseline(h: baseline.Headline) -> str:
    return f"{h['model']} on {h['dataset']}: test accuracy {describe_ci(h['test_acc'])}"


# --- the catalog, in the order Home and the navigation list them ---------------------------
ENTRIES: dict[str, Entry] = {
    e.name: e
    for e in (
        Entry(
            "scaling",
            "Parameter scaling",
            "Parameter scaling",
            ":material/stacked_line_chart:",
            "Fully connected vs locally connected vs convolutional: parameters, compute, "
            "accuracy and data.",
            _scaling,
        ),
        Entry(
            "equivariance",
            "Equivariance vs invariance",
            "Equivariance",
            ":material/open_with:",
            "Shift the input: where do convolution, padding, strides and pooling keep up, and "
            "does the answer survive?",
            _equivariance,
            runs_tab="Trained models on shifted digits",
        ),
        Entry(
            "permuted",
            "Permuted pixels",
            "Permuted pixels",
            ":material/shuffle:",
            "Scramble every image's pixels the same way and retrain: what does each model lose?",
            _permuted,
            headline_version=2,  # 2: the models under "models" (were keys beside "gap")
        ),
        Entry(
            "normalization",
            "Normalization variants",
            "Normalization",
            ":material/equalizer:",
            "Batch, layer, group, instance or no normalization: accuracy, batch size, learning "
            "rate, depth.",
            _normalization,
            headline_version=2,  # 2: a sweep point's accuracies under "test_acc"
        ),
        Entry(
            "receptive_field",
            "Receptive field",
            "Receptive field",
            ":material/center_focus_weak:",
            "How far does a unit see, in theory and in fact, and when is that too short for the "
            "task?",
            _receptive_field,
            runs_tab="Trained: a task that needs range",
        ),
        Entry(
            "learned",
            "Do networks learn the prior?",
            "Learned priors",
            ":material/school:",
            "Does an MLP learn locality, or a locally connected net weight sharing, from the data "
            "alone?",
            _learned,
        ),
        Entry(
            "baseline",
            "Baseline",
            "Baseline",
            ":material/model_training:",
            "Train one model on one dataset: learning curves and test accuracy over seeds.",
            _baseline,
        ),
    )
}


def identity(name: str) -> tuple[str, str, Callable[[Any], str]]:
    """(TITLE, SUMMARY, headline_text) of an experiment module, from its entry."""
    e = ENTRIES[name]
    return e.title, e.summary, e.headline_text
