"""The experiments as Home and the navigation show them: name, title, one-line summary, page,
icon, and how a saved headline reads in one line.

Imports nothing heavy (the standard library and cnnexp.stats): a fresh server's first page
(Home, app.py's navigation) reads this instead of the experiment modules, which load pydantic,
numpy and their configs. Each experiment module takes its TITLE, SUMMARY and headline_text
from here (`identity`), so there is one copy of each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cnnexp.stats import describe_ci  # light: stats loads numpy only where it computes


@dataclass(frozen=True)
class Entry:
    name: str  # the registry name: experiment module, page file, URL path, CLI subcommand
    title: str  # the page's title and Home's heading
    nav: str  # the shorter title in the sidebar's navigation
    icon: str  # a Material icon for the navigation
    summary: str  # one line: what the page measures
    headline_text: Callable[[dict], str]  # a saved headline (experiment.summarize) in a line
    runs_tab: str | None = None  # the page's tab with its saved runs, where it is not the first

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


# --- how each experiment's headline reads --------------------------------------------------
def _scaling(h: dict) -> str:
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


def _equivariance(h: dict) -> str:
    parts = [f"{m} {c['mean']:.1%}" for m, c in h["consistency"].items() if c["mean"] is not None]
    return "consistency under shifts: " + ", ".join(parts)


# The permuted experiment's models in the order its headline names them: the MLP, its CNNs
# (permuted.CNNS), then names older results used.
PERMUTED_ORDER = ("mlp", "cnn_flatten", "cnn_gap", "cnn", "local")


def _permuted(h: dict) -> str:
    parts = [
        f"{m} loses {h[m]['drop']['mean'] * 100:.1f} points"
        for m in PERMUTED_ORDER
        if m in h and h[m]["drop"]["mean"] is not None
    ]
    return "scrambled pixels: " + ", ".join(parts) if parts else "no finished runs"


def _normalization(h: dict) -> str:
    parts = [f"{n} {c['mean']:.1%}" for n, c in h["final_acc"].items() if c["mean"] is not None]
    return "test accuracy: " + ", ".join(parts)


def _receptive_field(h: dict) -> str:
    parts = []
    for stack, field in h["field"].items():
        stop = h["stops_at"][stack]
        where = f"fails from distance {stop}" if stop is not None else "works at every distance"
        if not h.get("learned", {}).get(stack, True):  # at chance everywhere: it never learned
            where = "never rises above chance (not learned at these settings)"
        parts.append(f"{stack} (field {field}) {where}")
    return "; ".join(parts)


def _learned(h: dict) -> str:
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


def _baseline(h: dict) -> str:
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
        ),
        Entry(
            "normalization",
            "Normalization variants",
            "Normalization",
            ":material/equalizer:",
            "Batch, layer, group, instance or no normalization: accuracy, batch size, learning "
            "rate, depth.",
            _normalization,
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


def identity(name: str) -> tuple[str, str, Callable[[dict], str]]:
    """(TITLE, SUMMARY, headline_text) of an experiment module, from its entry."""
    e = ENTRIES[name]
    return e.title, e.summary, e.headline_text
