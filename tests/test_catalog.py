"""cnnexp/catalog.py: what Home and the navigation show of each experiment is the experiments'
own, and reading it loads nothing heavy."""

import hashlib
import subprocess
import sys
import types
import typing

import pytest

from cnnexp import catalog, experiments
from cnnexp.experiments import permuted
from tests.conftest import ROOT

HEAVY = ("numpy", "pandas", "pyarrow", "pydantic", "plotly", "scipy", "sklearn", "torch")


def test_the_catalog_lists_every_experiment_in_the_registry_order():
    assert list(catalog.ENTRIES) == experiments.names()
    for name, e in catalog.ENTRIES.items():
        assert e.name == name and (ROOT / e.page).is_file()


def test_the_experiments_take_their_title_summary_and_headline_from_it():
    for name, mod in experiments.REGISTRY.items():
        e = catalog.ENTRIES[name]
        assert (mod.TITLE, mod.SUMMARY) == (e.title, e.summary)
        assert mod.headline_text is e.headline_text
        assert e.nav and e.summary.endswith(("?", "."))


def test_the_permuted_headline_names_every_cnn_of_the_experiment():
    assert set(permuted.CNNS) < set(permuted.MODELS)  # the order the headline keeps
    drop = {"drop": {"mean": 0.25, "ci95": None, "n": 1}}
    text = catalog.ENTRIES["permuted"].headline_text(
        {"models": {m: drop for m in ("mlp", *permuted.CNNS)}}
    )
    assert text == "scrambled pixels: " + ", ".join(
        f"{m} loses 25.0 points" for m in ("mlp", *permuted.CNNS)
    )


def test_the_baseline_headline_reads_with_its_interval():
    h = {"model": "cnn", "dataset": "digits"}
    text = catalog.ENTRIES["baseline"].headline_text
    ci = {"mean": 0.9, "ci95": [0.8, 1.05], "n": 3}
    assert text({**h, "test_acc": ci}) == (
        "cnn on digits: test accuracy 90.0% (95% CI 80.0–100.0%, 3 seeds)"
    )


def test_reading_the_catalog_and_a_headline_loads_nothing_heavy():
    code = (
        "import sys; from cnnexp import catalog; "
        "catalog.ENTRIES['baseline'].headline_text({'model': 'cnn', 'dataset': 'digits', "
        "'test_acc': {'mean': 0.9, 'ci95': [0.8, 0.95], 'n': 3}}); "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip() == "[]"


# Each experiment's Headline, pinned: (catalog's headline_version, a digest of the TypedDict's
# keys and types, nested). A saved headline is read only at its version (Home says an older one
# is old), so a shape that changes without a bump would be misread: when a change to a Headline
# is meant, bump its entry's headline_version and re-pin here (the failure prints the new row).
PINNED_SHAPES = {
    "scaling": (1, "d04f256eb32dc254"),
    "equivariance": (1, "ad8630ee61e1695d"),
    "permuted": (2, "ade1023473fa6816"),
    "normalization": (2, "6903a17787bcaedc"),
    "receptive_field": (1, "fc7be8640f405b6b"),
    "learned": (1, "fc0639e1b0cca79a"),
    "baseline": (1, "1bf52a50d5328289"),
}


def _shape(tp) -> str:
    """A TypedDict's keys (required or not) and types, with the TypedDicts inside spelt out."""
    if typing.is_typeddict(tp):  # NotRequired stays in the hints: an optional key shows
        hints = typing.get_type_hints(tp, include_extras=True)
        return "{" + ", ".join(f"{k}: {_shape(hints[k])}" for k in sorted(hints)) + "}"
    args = typing.get_args(tp)
    if args:
        origin = typing.get_origin(tp)
        name = "Union" if origin in (typing.Union, types.UnionType) else origin.__name__
        return f"{name}[{', '.join(_shape(a) for a in args)}]"
    return getattr(tp, "__name__", repr(tp))


@pytest.mark.parametrize("name", experiments.names())
def test_a_changed_headline_shape_bumps_its_version(name):
    digest = hashlib.sha256(_shape(experiments.get(name).Headline).encode()).hexdigest()[:16]
    now = (catalog.ENTRIES[name].headline_version, digest)
    assert now == PINNED_SHAPES[name], f"re-pin {name!r}: {now}"
