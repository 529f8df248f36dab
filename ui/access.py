"""The Streamlit side of access: who is this visitor, and the server-side entry points.

Every decision (roles, permissions, caps) is made by `cnnexp.policy`; this module only reads
the facts it needs (settings from the environment or .streamlit/secrets.toml, st.user,
st.context, the session's tokens) and shows the sidebar's sign-in and token fields.

The actions a page offers go through `launch`, `cancel_runs` and `delete_runs`, which ask the
policy again on the server, so a control that is not shown cannot be triggered by a crafted
request either. `can_*` only decide which buttons to show.

Settings (environment CNNEXP_<NAME>, or the same key in secrets):
    MODE          launch | viewer | guarded (see cnnexp/policy.py)
    ADMINS        e-mails of admins;   ADMIN_TOKEN   a token that makes its holder admin
    LAUNCHERS     e-mails of launchers; ACCESS_TOKEN a token that makes its holder launcher
    caps          CNNEXP_MAX_EPOCHS, … or a [caps] table in secrets (policy.Caps)
"""

from __future__ import annotations

import hmac
import inspect
import math
import os
import threading
import time
from types import ModuleType
from typing import NamedTuple

import streamlit as st

from cnnexp import policy
from cnnexp.runqueue import ACTIVE
from cnnexp.runspec import RunSpec
from ui import resources

TOKEN_OK = "_cnnexp_token_ok"
ADMIN_TOKEN_OK = "_cnnexp_admin_token_ok"


class Refused(RuntimeError):
    """An action this server does not allow this visitor; the message says why."""


LaunchRefused = Refused


SECRETS_TTL_S = 10.0  # how long a read of st.secrets is reused
_secrets_read: tuple[float, dict] = (-math.inf, {})  # (when, what)


def _secrets() -> dict:
    """st.secrets as a plain dict, read again at most every SECRETS_TTL_S: with no secrets
    file, Streamlit looks for one on every access, and a page view asks several times (8% of
    the server's CPU under load, bench/wire.py). An edited file takes effect within seconds."""
    global _secrets_read  # noqa: PLW0603 - one value for the whole server
    when, value = _secrets_read
    if time.monotonic() - when < SECRETS_TTL_S:
        return value
    try:
        value = dict(st.secrets)
    except Exception:  # no secrets file: the embedded default
        value = {}
    _secrets_read = (time.monotonic(), value)
    return value


def setting(name: str, default=None):
    """CNNEXP_<NAME> from the environment, else from secrets."""
    key = f"CNNEXP_{name.upper()}"
    return os.environ.get(key, _secrets().get(key, default))


def mode() -> str:
    return policy.parse_mode(setting("mode", "launch"))


# --- who is this visitor --------------------------------------------------------------------
def user_email() -> tuple[str | None, bool]:
    """The signed-in e-mail and whether its provider verified it; (None, False) if nobody."""
    try:
        if not st.user.is_logged_in:
            return None, False
        email = st.user.get("email")
        return (str(email).lower() if email else None), st.user.get("email_verified") is True
    except (AttributeError, KeyError):  # authentication not configured
        return None, False


def client() -> str | None:
    """The visitor's address (None on localhost)."""
    try:
        ip = st.context.ip_address
    except Exception:  # outside a session (a bare script)
        return None
    return ip if isinstance(ip, str) else None  # AppTest's stand-in client has no address


def role() -> str:
    email, verified = user_email()
    return policy.role(
        mode(),
        email,
        verified,
        admins=policy.email_list(setting("admins", [])),
        launchers=policy.email_list(setting("launchers", [])),
        token_ok=bool(st.session_state.get(TOKEN_OK)),
        admin_token_ok=bool(st.session_state.get(ADMIN_TOKEN_OK)),
    )


def owner() -> str:
    """Who work is counted against: the same person in a new tab or session."""
    email, verified = user_email()
    token = bool(st.session_state.get(TOKEN_OK) or st.session_state.get(ADMIN_TOKEN_OK))
    return policy.identity(email, verified, token, client())


def caps() -> policy.Caps:
    table = _secrets().get("caps", {}) or {}
    policy.Caps.check_names(table)
    return policy.Caps.from_settings(
        mode(), lambda name: os.environ.get(f"CNNEXP_{name.upper()}", table.get(name))
    )


def check_settings() -> None:
    """Raise ValueError naming the first server setting that is not allowed: a cap that is not
    a number, or a Check yourself setting (CNNEXP_EXERCISES, _PREDICT_FIRST, _EXERCISE_TRIES)
    out of its range. app.py shows it in place of every page: a typo never runs quietly (a cap
    silently ignored would leave the server open, a mistyped `graded` would record nothing)."""
    caps()
    policy.ExerciseSettings.from_settings(setting)


def can_launch() -> bool:
    return policy.may_launch(role())


def can_cancel(run_owner: str | None) -> bool:
    return policy.may_cancel(role(), owner(), run_owner)


def can_delete() -> bool:
    return policy.may_delete(role())


def can_see_paths() -> bool:
    return policy.may_see_paths(role())


# --- server-side actions ----------------------------------------------------------------------
def _train_images(specs: list[RunSpec]) -> int:
    from cnnexp import data  # numpy: app.py's sidebar imports this module on every first paint

    return max(
        (
            int(s.config.get("n_train") or data.info(s.config["dataset"]).n_train)
            for s in specs
            if "dataset" in s.config
        ),
        default=0,
    )


class Plan(NamedTuple):
    """The runs a page's settings plan on this server, and the epochs cap they were fitted to
    (None: as set)."""

    specs: list[RunSpec]
    max_epochs: int | None


def plan(exp: ModuleType, cfg) -> Plan:
    """cfg's plan as this server shows and trains it. An experiment whose step budget sets
    its runs' epochs (its `plan` takes `max_epochs`) is fitted to the server's epochs cap, so
    that its page always has something to launch; unless every run of the plan as set is
    saved already: saved runs are shown whatever the caps."""
    specs = exp.plan(cfg)
    cap = caps().max_epochs
    fits = "max_epochs" in inspect.signature(exp.plan).parameters
    if cap is None or not fits or max((s.epochs for s in specs), default=0) <= cap:
        return Plan(specs, None)
    from cnnexp.results import Results

    if Results(specs, resources.store()).complete:
        return Plan(specs, None)
    return Plan(exp.plan(cfg, max_epochs=cap), cap)


def run_costs(specs: list[RunSpec]) -> list[policy.RunCost]:
    """Each run as the caps count it: its model's parameters, its training compute and the
    low end of its estimated time here (where known)."""
    from cnnexp.estimate import work_of_spec
    from ui import estimates

    times = estimates.plan(specs).runs
    out = []
    for s in specs:
        work, span = work_of_spec(s), times.get(s.run_id)
        out.append(
            policy.RunCost(
                s.label,
                s.config,
                params=work.params if work else None,
                train_flop=work.train_flop if work else None,
                seconds=span.low if span else None,
            )
        )
    return out


def _queued() -> tuple[int, int]:
    """Runs queued or running: this visitor's, and everybody's."""
    runner = resources.runner()
    everyone = sum(s.status in ACTIVE for s in runner.snapshot().values())
    return runner.active_runs(owner()), everyone


def room() -> int | None:
    """How many more runs this visitor may queue now (None: no limit)."""
    return caps().room(*_queued())


def launch_problems(specs: list[RunSpec]) -> list[str]:
    """Every cap these runs would exceed for this visitor, each naming its limit."""
    mine, everyone = _queued()
    return caps().launch_problems(
        run_costs(specs),
        seeds=len({s.seed for s in specs}),
        train_images=_train_images(specs),
        mine=mine,
        everyone=everyone,
    )


def launch(specs: list[RunSpec], again: bool = False) -> list[str]:
    """Queue runs for this visitor, or raise Refused saying why not. again: also runs saved
    already (trained anew: a run saved without its weights)."""
    if not can_launch():
        raise Refused(
            "Launching is not open to you on this server (viewer mode). "
            + ("Sign in, or enter the access token, in the sidebar." if mode() == "guarded" else "")
        )
    problems = launch_problems(specs)
    if problems:
        raise Refused(" ".join(problems))
    return resources.runner().submit(
        specs, owner=owner(), time_limit_s=caps().max_run_seconds, again=again
    )


def cancel_runs(run_ids: list[str]) -> None:
    """Cancel runs: launchers their own, admins any; raise Refused naming the others."""
    snap = resources.runner().snapshot()
    theirs = [i for i in run_ids if not can_cancel(snap[i].owner if i in snap else None)]
    if theirs:
        raise Refused(
            f"You may cancel only runs you launched; {len(theirs)} of these were launched by "
            "someone else (an admin can cancel them)."
        )
    resources.runner().cancel(list(run_ids))


def delete_runs(store, run_ids: list[str]) -> int:
    """Delete saved runs (admins only); returns how many files were removed."""
    if not can_delete():
        raise Refused("Only an admin of this server may delete runs.")
    return store.delete(run_ids)


def shift_probe_problem(
    side: int, channels: int, kernel: int, depth: int, colour: bool
) -> str | None:
    """None when this shift probe fits the server's budget, else the refusal to show."""
    return policy.shift_probe_problem(caps(), side, channels, kernel, depth, colour)


def export_problem(rows: int) -> str | None:
    return policy.export_problem(caps(), rows)


# --- wrong tokens -----------------------------------------------------------------------------
_failures: dict[str, int] = {}
_failures_lock = threading.Lock()


def _token_matches(given: str, token: str) -> bool:
    """Compare in constant time, after a wait that doubles with this client's wrong tries."""
    who = client() or "local"
    with _failures_lock:
        failures = _failures.get(who, 0)
    time.sleep(policy.token_delay(failures))
    ok = hmac.compare_digest(given.encode(), str(token).encode())
    with _failures_lock:
        if ok:
            _failures.pop(who, None)
        else:
            if len(_failures) > 10_000:  # bounded: forget the oldest tries
                _failures.pop(next(iter(_failures)))
            _failures[who] = failures + 1
    return ok


def access_panel() -> None:
    """The sidebar's word on access: the mode, and sign-in or token fields when guarded."""
    m = mode()
    if m == "launch":
        return
    if m == "viewer":
        st.sidebar.caption(
            ":material/visibility: Viewer mode: browse, compare and export saved runs."
        )
        return
    with st.sidebar.container(border=True):
        email, verified = user_email()
        auth = "auth" in _secrets()
        r = role()
        if r != "viewer":
            who = f" as {email}" if email and verified else ""
            st.caption(
                f":material/lock_open: You can launch runs{who}"
                + (" and manage everyone's (admin)." if r == "admin" else ".")
            )
        else:
            st.caption(
                ":material/lock: Viewing only. Sign in with an allowed account, or enter the access "
                "token, to launch runs."
            )
            if email and not verified:
                st.caption(
                    "Your sign-in provider did not verify this e-mail, so it is not trusted."
                )
        if (
            auth
            and email is None
            and st.button("Sign in", icon=":material/login:", key="access-login")
        ):
            st.login()
        if auth and email is not None and st.button("Sign out", key="access-logout"):
            st.logout()
        for flag, name, label in (
            (TOKEN_OK, "access_token", "Access token"),
            (ADMIN_TOKEN_OK, "admin_token", "Admin token"),
        ):
            token = setting(name)
            if not token or st.session_state.get(flag) or (flag == TOKEN_OK and r == "admin"):
                continue
            given = st.text_input(label, type="password", key=name.replace("_", "-"))
            if given:
                if _token_matches(given, token):
                    st.session_state[flag] = True
                    st.rerun()
                st.error("That token is not right.")
