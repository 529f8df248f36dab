""".streamlit/config.toml: the settings a hosted server relies on, read as Streamlit reads them."""

import gc
import importlib
import os
import socket
import subprocess
import sys
import time
import weakref
from pathlib import Path

import pytest

from tests.conftest import ROOT
from ui import server_tuning


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


# --- ui/server_tuning.py ------------------------------------------------------------------
def _no_delay(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="lists open files via /proc")
def test_nagle_is_turned_off_on_open_connections_and_those_accepted_later(tmp_path):
    # As Streamlit binds it: protocol 0, so asyncio leaves Nagle's algorithm on.
    listener = socket.socket(socket.AF_INET)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    early_client = socket.create_connection(("127.0.0.1", port))
    early, _ = listener.accept()
    other_file = (tmp_path / "f").open("w")
    with listener, early_client, early, other_file:
        assert not _no_delay(early) and not _no_delay(listener)
        open_before = len(os.listdir("/proc/self/fd"))
        assert server_tuning.tcp_no_delay() >= 3
        assert _no_delay(listener) and _no_delay(early) and _no_delay(early_client)
        assert len(os.listdir("/proc/self/fd")) == open_before  # every copy was closed
        other_file.write("still open")  # a file it looked at and left alone
        with socket.create_connection(("127.0.0.1", port)):
            late, _ = listener.accept()
            with late:
                assert _no_delay(late)  # inherited from the listening socket


def test_the_collector_freezes_once_per_new_imports(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "cnnexp_fresh_module.py").write_text("TABLE = {i: [i] for i in range(5000)}\n")
    try:
        server_tuning.freeze_new_imports()  # whatever this process imported so far
        frozen = gc.get_freeze_count()
        assert frozen > 0
        # No module imported since (set, so another thread's import cannot interfere): nothing.
        monkeypatch.setattr(server_tuning, "_modules_seen", len(sys.modules) + 10**6)
        assert server_tuning.freeze_new_imports() is False
        monkeypatch.setattr(server_tuning, "_modules_seen", len(sys.modules))
        importlib.import_module("cnnexp_fresh_module")
        assert server_tuning.freeze_new_imports() is True
        # the new module's 5,000 lists, too (frozen objects other threads free leave the count)
        assert gc.get_freeze_count() > frozen + 1000
    finally:
        sys.modules.pop("cnnexp_fresh_module", None)
        gc.unfreeze()  # leave this test process as it was


def test_what_a_freeze_kept_alive_is_freed_at_the_next_refreeze(monkeypatch):
    class Node:  # a reference cycle: only the cycle collector frees it
        pass

    node = Node()
    node.me = node
    gone = weakref.ref(node)
    try:
        monkeypatch.setattr(server_tuning, "_modules_seen", 0)  # as after a new import
        assert server_tuning.freeze_new_imports() is True  # the node is frozen, alive
        del node
        gc.collect()
        assert gone() is not None  # frozen: the collector does not look at it
        monkeypatch.setattr(server_tuning, "_collected_at", time.monotonic() - 601)
        assert server_tuning.freeze_new_imports() is True  # due: unfreeze, collect, freeze
        assert gone() is None
    finally:
        gc.unfreeze()


def _spawn_one(script_module) -> None:
    """Start and join one spawned child (as the runner starts a worker) while
    `script_module` is `__main__`, as Streamlit installs app.py's module during a run."""
    import multiprocessing as mp

    real = sys.modules["__main__"]
    sys.modules["__main__"] = script_module
    try:
        child = mp.get_context("spawn").Process(target=time.sleep, args=(0,))
        child.start()
    finally:
        sys.modules["__main__"] = real
    child.join(timeout=60)
    assert child.exitcode == 0


def test_a_spawned_worker_does_not_run_the_app_script_again(tmp_path, monkeypatch):
    """Found: every worker the runner spawned ran app.py (and Home) once more without a server,
    printing 23 'missing ScriptRunContext' warnings and 'use streamlit run' into the server's
    log per launch. Streamlit's `__main__` has a __file__ and no __spec__; spawn reran it."""
    import types

    marker = tmp_path / "ran"
    script = tmp_path / "app_like.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    module = types.ModuleType("__main__")  # as Streamlit's ScriptRunner makes it
    module.__file__ = str(script)
    _spawn_one(module)
    assert marker.exists()  # the cause, as Python behaves: the script ran in the child
    marker.unlink()

    monkeypatch.setitem(sys.modules, "__main__", module)
    server_tuning.keep_script_out_of_workers()  # what app.py does at the top of every run
    monkeypatch.undo()
    _spawn_one(module)
    assert not marker.exists()
