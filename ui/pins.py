"""Pin a plan's headline to Home, or unpin it: a small control on an experiment page, for
admins only (cnnexp.policy.may_pin), asked again on the server when the click arrives."""

from __future__ import annotations

import streamlit as st

from cnnexp import policy
from ui import access, resources


def pin_control(experiment: str, config: dict, headline: dict) -> None:
    """Under a complete plan's results: whether this plan is Home's card, and a button to pin
    it there (or unpin it, which gives the card back to the bundle's headline)."""
    if not policy.may_pin(access.role()):
        return
    pinned = resources.store().pins().get(experiment)
    here = pinned is not None and pinned.get("config") == config
    left, right = st.columns([5, 1], vertical_alignment="center")
    if here:
        left.caption(":material/keep: Home shows this plan's headline for this experiment.")
        right.button(
            "Unpin",
            key=f"pin-{experiment}",
            type="tertiary",
            icon=":material/keep_off:",
            help="Home shows the bundle's headline for this experiment again",
            on_click=_clicked,
            args=(experiment, None, None),
        )
    else:
        right.button(
            "Pin to Home",
            key=f"pin-{experiment}",
            type="tertiary",
            icon=":material/keep:",
            help="Show this plan's headline on Home for every visitor, in place of "
            + ("the plan pinned now" if pinned else "the bundle's"),
            on_click=_clicked,
            args=(experiment, config, headline),
        )
    said = st.session_state.pop(f"pin-said-{experiment}", None)
    if said:
        st.error(said, icon=":material/block:")


def _clicked(experiment: str, config: dict | None, headline: dict | None) -> None:
    try:
        pin(experiment, config, headline)
    except access.Refused as e:
        st.session_state[f"pin-said-{experiment}"] = str(e)


def pin(experiment: str, config: dict | None, headline: dict | None) -> None:
    """Pin (config and headline given) or unpin, or raise access.Refused: only an admin may,
    decided here on the server whatever the page showed."""
    if not policy.may_pin(access.role()):
        raise access.Refused("Only an admin of this server chooses what Home shows.")
    store = resources.store()
    try:
        if config is None or headline is None:
            store.unpin(experiment)
        else:
            store.pin(experiment, config, headline, by=access.owner())
    except OSError as e:
        raise access.Refused(f"Home's pins cannot be written on this server ({e.strerror}).") from e
