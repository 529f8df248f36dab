"""The load test's short version (bench/load.py): a few concurrent browser sessions on one
server, beside a training run, finish without an error and the server's memory is measured.
Times are reported by the benchmark, never asserted here."""

import os

import pytest

from bench import load
from tests.browser import CHROMIUM

pytestmark = pytest.mark.browser


def test_a_few_concurrent_sessions_finish_without_errors(tmp_path):
    if CHROMIUM is None:
        if os.environ.get("CNNEXP_REQUIRE_BROWSER") == "1":
            pytest.fail("CNNEXP_REQUIRE_BROWSER=1 but no chromium is installed")
        pytest.skip("no chromium installed")
    rows = load.run([2, 3], results=tmp_path / "results")
    for row in rows:
        assert row["errors"] == [], row["errors"]
        assert row["peak_mb"] > 50  # the server's tree was found and sampled
        assert row["rerun_p50"] > 0  # the slider change caused a rerun that was waited for
    table = load.report(rows)
    assert table.count("\n| ") == len(rows)  # one line per round under the header
