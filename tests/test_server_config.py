""".streamlit/config.toml: the settings a hosted server relies on, read as Streamlit reads them."""

import subprocess
import sys

from tests.conftest import ROOT


def option(name: str) -> str:
    """The value `streamlit run` in the project folder gets for a config option."""
    code = f"from streamlit import config; print(config.get_option({name!r}))"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_the_server_watches_no_files():
    # Watching the project folder cost ~2 s of server CPU per page view (BENCHMARKS.md).
    assert option("server.fileWatcherType") == "none"


def test_the_server_never_reruns_on_save_and_sends_no_usage_statistics():
    assert option("server.runOnSave") == "False"
    assert option("browser.gatherUsageStats") == "False"


def test_the_server_runs_no_full_garbage_collection_after_each_page():
    # gc.collect(2) after every script run was a quarter of the server's CPU per page view.
    assert option("runner.postScriptGC") == "False"
