"""Fixes to how the Streamlit server itself runs, made from app.py.

**Nagle's algorithm on the browser's connection.** Streamlit 1.67 binds its listening socket
itself (`socket.socket(family)`, protocol 0), and asyncio only turns Nagle's algorithm off for
sockets whose protocol reads as TCP, so every connection keeps it on: after a run's first small
message the rest wait for the browser's delayed acknowledgement, ~40 ms on Linux, on every page
and every widget change (bench/wire.py saw 44-48 ms for a page whose script took 2 ms). We set
TCP_NODELAY on the process's TCP sockets: the connections already open, and the listening
socket, whose option connections accepted later inherit (Linux, macOS).

**Full garbage collections over what the server imported.** With torch, pandas and Plotly
loaded, the interpreter tracks millions of long-lived objects (their modules, functions,
classes), and every full collection walks all of them: ~0.12 s of the interpreter lock each,
about 30% of the server's CPU under the load test. `gc.freeze()` moves the objects alive now
into a permanent generation that collections skip. It runs after a page's script that imported
new modules (a page type's first view: a bounded number of times per server), without a
collection first, which would pause the server 0.07-0.26 s where almost nothing is garbage
(measured on a cold server: 0-1,500 unreachable objects of the 90,000-350,000 frozen).
What was frozen and dies later (a figure evicted from a cache, a closed session's objects in
reference cycles) is freed only by a collection that looks at frozen objects again: every
REFREEZE_S, after a page's script, the freeze is undone, everything collected once, and the
survivors frozen again (one full collection per ten minutes instead of several a minute).

**Worker processes that ran the app.** Streamlit runs app.py as a module it installs as
`__main__`, with a `__file__` and no `__spec__`; multiprocessing's spawn start method (the
runner's workers) then runs that file again as `__mp_main__` in every child it starts, before
the child's own work: app.py and the Home page executed in each worker, without a server,
printing ~23 "missing ScriptRunContext" warnings and Streamlit's "use streamlit run" warning
into the server's log per launch (and importing Streamlit there). A `__main__` whose spec is
named `__main__` is one spawn never runs again (multiprocessing.spawn._fixup_main_from_name),
so each script run marks its module so (`keep_script_out_of_workers`). A worker spawned in the
instant between Streamlit installing a new run's module and app.py's first lines would still
run it; spawning outside the script's `__main__` would need the runner to choose its children's
main module, which multiprocessing does not offer.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.machinery
import os
import socket
import sys
import threading
import time

REFREEZE_S = 600.0  # about how long what a freeze kept alive may outlive its use

_lock = threading.Lock()
_modules_seen = 0  # len(sys.modules) at the last freeze
_collected_at = time.monotonic()  # the last full collection of frozen objects
_no_delay_done = False


def _fds() -> list[int]:
    for where in ("/proc/self/fd", "/dev/fd"):  # Linux, macOS; elsewhere (Windows) the
        # sockets are not listed and keep the stall
        with contextlib.suppress(OSError):
            return [int(name) for name in os.listdir(where)]
    return []


def tcp_no_delay() -> int:
    """Turn Nagle's algorithm off on this process's TCP sockets; returns how many."""
    done = 0
    for fd in _fds():
        try:
            copy = os.dup(fd)  # the same socket under another number, closed below
        except OSError:  # listed but closed since
            continue
        try:
            sock = socket.socket(fileno=copy)  # takes `copy` over, or raises: not a socket
        except OSError:
            os.close(copy)
            continue
        with sock, contextlib.suppress(OSError):
            if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                done += 1
    return done


def keep_script_out_of_workers() -> None:
    """Mark the module this script runs in (Streamlit's `__main__`) as one that spawned
    processes do not run again. Called at the top of every run of app.py: Streamlit makes a
    new module for each run."""
    main = sys.modules.get("__main__")
    if main is not None and getattr(main, "__spec__", None) is None:
        main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)


def tune_once() -> None:
    """tcp_no_delay, the first time a script runs in this process (before it sends a page)."""
    global _no_delay_done
    with _lock:
        if not _no_delay_done:
            tcp_no_delay()
            _no_delay_done = True


def freeze_new_imports() -> bool:
    """Freeze what is alive when modules were imported since the last call, or when
    REFREEZE_S have passed (then collect the frozen objects first); True if it froze."""
    global _modules_seen, _collected_at
    with _lock:  # scripts of several sessions may end at once
        due = time.monotonic() - _collected_at > REFREEZE_S
        if len(sys.modules) <= _modules_seen and not due:
            return False
        if due:
            gc.unfreeze()
            gc.collect()
            _collected_at = time.monotonic()
        gc.freeze()
        _modules_seen = len(sys.modules)
        return True
