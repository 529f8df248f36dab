"""Who may launch runs, and how much — read from the environment or .streamlit/secrets.toml.

Modes (CNNEXP_MODE):
    launch   (default) everyone may launch: the dashboard on your own machine.
    viewer   nobody may: browse, compare and export saved runs.
    guarded  a hosted server: signed-in users on the allow-list (Streamlit's OIDC login,
             st.login / st.user) or holders of the shared access token may launch;
             everyone else sees viewer mode.
An unknown mode counts as viewer: a typo must not open a server.

Caps (any mode, when set) keep one visitor from occupying the machine for hours:
    max_epochs, max_width, max_seeds, max_train_images, max_queued_runs
from a [caps] table in secrets, or CNNEXP_MAX_EPOCHS, … in the environment.

Every launch goes through `launch()`, which checks the mode and the caps on the server, so
a launch control that is not shown cannot be triggered by a crafted request either.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass, fields

import streamlit as st

from cnnexp import data
from cnnexp.runspec import RunSpec
from ui import resources

MODES = ("launch", "viewer", "guarded")
TOKEN_OK = "_cnnexp_token_ok"


class LaunchRefused(RuntimeError):
    """A launch this server does not allow; the message says why and what would."""


def _secrets() -> dict:
    try:
        return dict(st.secrets)
    except Exception:  # no secrets file: the embedded default
        return {}


def setting(name: str, default=None):
    """CNNEXP_<NAME> from the environment, else from secrets."""
    key = f"CNNEXP_{name.upper()}"
    return os.environ.get(key, _secrets().get(key, default))


def mode() -> str:
    value = str(setting("mode", "launch")).strip().lower()
    return value if value in MODES else "viewer"


def launchers() -> set[str]:
    value = setting("launchers", [])
    items = value.split(",") if isinstance(value, str) else list(value)
    return {str(x).strip().lower() for x in items if str(x).strip()}


def user_email() -> str | None:
    try:
        return str(st.user.email).lower() if st.user.is_logged_in else None
    except (AttributeError, KeyError):  # authentication not configured
        return None


def allowed(mode_: str, email: str | None, allow_list: set[str], token_ok: bool) -> bool:
    """The launch decision, from plain values."""
    if mode_ == "launch":
        return True
    if mode_ == "guarded":
        return bool(email and email in allow_list) or token_ok
    return False


def can_launch() -> bool:
    return allowed(mode(), user_email(), launchers(), bool(st.session_state.get(TOKEN_OK)))


def owner() -> str:
    """Who a launch is counted against for the queue cap: the signed-in user, else the session."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return user_email() or f"session:{ctx.session_id if ctx else 'local'}"


@dataclass(frozen=True)
class Caps:
    max_epochs: int | None = None
    max_width: int | None = None
    max_seeds: int | None = None
    max_train_images: int | None = None
    max_queued_runs: int | None = None

    @classmethod
    def load(cls) -> Caps:
        table = _secrets().get("caps", {}) or {}
        values = {}
        for f in fields(cls):
            raw = os.environ.get(f"CNNEXP_{f.name.upper()}", table.get(f.name))
            values[f.name] = int(raw) if raw not in (None, "") else None
        return cls(**values)

    def problems(self, specs: list[RunSpec], already_queued: int = 0) -> list[str]:
        """Every cap these runs would exceed, as a sentence with the limit."""
        out = []

        def most(key: str) -> int:
            return max((int(s.config[key]) for s in specs if key in s.config), default=0)

        if self.max_epochs is not None and most("epochs") > self.max_epochs:
            out.append(
                f"This server allows at most {self.max_epochs} epochs per run; these settings ask "
                f"for {most('epochs')}."
            )
        if self.max_width is not None and most("width") > self.max_width:
            out.append(
                f"This server allows widths up to {self.max_width}; these settings ask for "
                f"{most('width')}."
            )
        seeds = len({s.seed for s in specs})
        if self.max_seeds is not None and seeds > self.max_seeds:
            out.append(
                f"This server allows at most {self.max_seeds} seeds; these settings ask for {seeds}."
            )
        images = max(
            (
                int(s.config.get("n_train") or data.info(s.config["dataset"]).n_train)
                for s in specs
                if "dataset" in s.config
            ),
            default=0,
        )
        if self.max_train_images is not None and images > self.max_train_images:
            out.append(
                f"This server trains on at most {self.max_train_images:,} images per run; these "
                f"settings use {images:,} (lower the training images, or pick a smaller dataset)."
            )
        if self.max_queued_runs is not None and already_queued + len(specs) > self.max_queued_runs:
            out.append(
                f"This server queues at most {self.max_queued_runs} runs per person; you have "
                f"{already_queued} waiting and these settings add {len(specs)}."
            )
        return out


def launch(specs: list[RunSpec]) -> list[str]:
    """Queue runs for the current user, or raise LaunchRefused saying why not."""
    if not can_launch():
        raise LaunchRefused(
            "Launching is not open to you on this server (viewer mode). "
            + ("Sign in, or enter the access token, in the sidebar." if mode() == "guarded" else "")
        )
    runner, who = resources.runner(), owner()
    problems = Caps.load().problems(specs, runner.active_runs(who))
    if problems:
        raise LaunchRefused(" ".join(problems))
    return runner.submit(specs, owner=who)


def access_panel() -> None:
    """The sidebar's word on access: the mode, and sign-in or a token field when guarded."""
    m = mode()
    if m == "launch":
        return
    if m == "viewer":
        st.sidebar.caption(
            ":material/visibility: Viewer mode: browse, compare and export saved runs."
        )
        return
    with st.sidebar.container(border=True):
        email = user_email()
        auth = "auth" in _secrets()
        if can_launch():
            st.caption(
                f":material/lock_open: You can launch runs{f' as {email}' if email else ''}."
            )
        else:
            st.caption(
                ":material/lock: Viewing only. Sign in with an allowed account, or enter the access "
                "token, to launch runs."
            )
        if (
            auth
            and email is None
            and st.button("Sign in", icon=":material/login:", key="access-login")
        ):
            st.login()
        if auth and email is not None and st.button("Sign out", key="access-logout"):
            st.logout()
        token = setting("access_token")
        if token and not st.session_state.get(TOKEN_OK):
            given = st.text_input("Access token", type="password", key="access-token")
            if given:
                if hmac.compare_digest(given.encode(), str(token).encode()):
                    st.session_state[TOKEN_OK] = True
                    st.rerun()
                st.error("That token is not right.")
