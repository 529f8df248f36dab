"""The headlines' types hold: mypy, as pyproject.toml's [tool.mypy] sets it, over the files that
build and read them (each experiment's `Headline` TypedDict, the catalog, the README's table,
the pages); and that setting does catch a key a headline does not have."""

import importlib.util
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None, reason="mypy is not installed"
)


def mypy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mypy", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_files_that_build_and_read_headlines_type_check():
    p = mypy()
    assert p.returncode == 0, p.stdout[-4000:]


def test_a_key_the_headline_does_not_have_is_an_error(tmp_path):
    reader = tmp_path / "reader.py"
    reader.write_text(
        "from cnnexp.experiments import permuted\n"
        "def sizes(h: permuted.Headline) -> object:\n"
        "    return h['gaps_by_n_train']\n"
    )
    p = mypy(str(reader))
    assert p.returncode == 1, p.stdout
    assert 'TypedDict "Headline" has no key "gaps_by_n_train"' in p.stdout, p.stdout
