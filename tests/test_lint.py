"""One linter and formatter config (ruff, in pyproject.toml) for the whole tree."""

import importlib.util
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is not installed")
def test_ruff_check_and_format():
    ruff = [sys.executable, "-m", "ruff"]  # the test environment's ruff, activated or not
    check = subprocess.run([*ruff, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run(
        [*ruff, "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout


def test_the_library_never_imports_streamlit():
    offenders = [
        p.name
        for p in (ROOT / "cnnexp").rglob("*.py")
        if "import streamlit" in p.read_text() or "from streamlit" in p.read_text()
    ]
    assert offenders == []


def test_every_table_says_what_an_empty_cell_shows():
    """Streamlit writes a missing value as "None" (found: empty cells read "None" on the run
    detail, the per-seed table, …): every st.dataframe passes a placeholder."""
    import ast

    bare = []
    for path in [*(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py"), ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            called = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            table = called and node.func.attr == "dataframe"
            if table and "placeholder" not in {k.arg for k in node.keywords}:
                bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bare == [], bare
