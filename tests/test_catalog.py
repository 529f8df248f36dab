"""cnnexp/catalog.py: what Home and the navigation show of each experiment is the experiments'
own, and reading it loads nothing heavy."""

import subprocess
import sys

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
    assert set(permuted.CNNS) < set(catalog.PERMUTED_ORDER)
    drop = {"drop": {"mean": 0.25, "ci95": None, "n": 1}}
    text = catalog.ENTRIES["permuted"].headline_text({m: drop for m in ("mlp", *permuted.CNNS)})
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
