"""A settings panel built from a config class: ranges, defaults and help come from the config.

Every widget is bound to a URL query parameter named after its field, so a copied link
reproduces the settings. The values go through the config's own validation; a bad
combination shows the config's message and no run can be launched.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

from cnnexp import policy
from cnnexp.config import Config, ConfigError, ParamSpec, describe, parse
from ui import access
from ui.links import fmt

_SINGULAR = {"Seeds": "seed"}  # "More seed settings", not "More seeds settings"
LISTS = ("multi", "ints", "floats")  # the kinds whose widget takes several values


def _in_range(spec: ParamSpec, v: float) -> bool:
    lo = spec.lo if spec.lo is not None else float("-inf")
    hi = spec.hi if spec.hi is not None else float("inf")
    return (lo < v if spec.lo_open else lo <= v) and v <= hi


def _from_url(spec: ParamSpec) -> list:
    """In-range numbers the URL gives for this field, so a link (or a CLI run's settings)
    that uses a value between the suggested stops still opens with that value."""
    out = []
    for raw in st.query_params.get_all(spec.name):
        try:
            v = float(raw)
        except ValueError:
            continue
        if spec.kind in ("int", "ints"):
            if not v.is_integer():
                continue
            v = int(v)
        if v == v and _in_range(spec, v):  # v == v: not NaN
            out.append(v)
    return out


def _options(spec: ParamSpec) -> list:
    """Suggested values, the default and any linked value, within range, sorted."""
    default = spec.default if isinstance(spec.default, tuple) else (spec.default,)
    values = {*spec.choices, *default, *_from_url(spec)}
    return sorted(v for v in values if _in_range(spec, v))


def help_text(spec: ParamSpec) -> str:
    """The field's help, and the server's budget it counts against in this visitor's mode."""
    if not spec.budget:
        return spec.help
    return f"{spec.help}\n\n{policy.budget_help(access.caps(), spec.budget)}"


def widget(spec: ParamSpec, default: Any = None, disabled: bool = False) -> Any:
    """One widget for one field; its key (and URL parameter) is the field's name."""
    default = spec.default if default is None else default
    kw = {"key": spec.name, "help": help_text(spec), "bind": "query-params", "disabled": disabled}
    label = spec.label
    match spec.kind:
        case "bool":
            return st.toggle(label, value=default, **kw)
        case "choice":
            options = list(spec.choices)
            return st.selectbox(label, options, index=options.index(default), format_func=fmt, **kw)
        case "multi":
            return st.multiselect(label, list(spec.choices), default=list(default), **kw)
        case "ints" | "floats":
            return st.multiselect(
                label, _options(spec), default=list(default), format_func=fmt, **kw
            )
        case "int" | "float" if spec.choices:
            return st.select_slider(label, _options(spec), value=default, format_func=fmt, **kw)
        case "int" if spec.hi is not None and spec.hi - spec.lo <= 64:
            return st.slider(label, int(spec.lo), int(spec.hi), int(default), **kw)
        case "int":
            return st.number_input(
                label,
                min_value=_bound(spec.lo),
                max_value=_bound(spec.hi),
                value=int(default),
                step=1,
                **kw,
            )
        case _:
            lo = None if spec.lo_open or spec.lo is None else float(spec.lo)
            hi = None if spec.hi is None else float(spec.hi)
            return st.number_input(
                label, min_value=lo, max_value=hi, value=float(default), format="%g", **kw
            )


def _bound(x: float | None) -> int | None:
    return None if x is None else int(x)


def _link_value_ok(spec: ParamSpec, raw: str) -> bool:
    """Whether one URL value is one the field's widget can take."""
    if spec.kind == "bool":
        return raw.lower() in ("true", "false")
    if raw == "" and spec.kind in LISTS:  # `?n_trains=`: none chosen
        return True
    if spec.kind in ("choice", "multi"):
        return raw in {fmt(c) for c in spec.choices}
    try:
        v = float(raw)
    except ValueError:
        return False
    if spec.kind in ("int", "ints") and not v.is_integer():
        return False
    return v == v and _in_range(spec, v)


def link_problems(specs: list[ParamSpec]) -> list[str]:
    """The settings a link gives that cannot be used, each with what is allowed.

    Streamlit drops such values silently and the widget keeps its default; saying so keeps a
    shared link from quietly showing something other than what it promised.
    """
    out = []
    for spec in specs:
        bad = [r for r in st.query_params.get_all(spec.name) if not _link_value_ok(spec, r)]
        if bad:
            shown = ", ".join(repr(b[:40] + ("…" if len(b) > 40 else "")) for b in bad[:5])
            more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
            out.append(f"{spec.label} ({spec.name}): {shown}{more} — allowed: {spec.allowed()}")
    return out


def _usable(spec: ParamSpec) -> list[str]:
    return [r for r in st.query_params.get_all(spec.name) if _link_value_ok(spec, r)]


def drop_unusable(specs: list[ParamSpec]) -> bool:
    """Take the values `link_problems` names out of the link. Streamlit seeds a bound widget
    from the link itself, and some values it does not ignore but raise on (`?seeds=inf`:
    OverflowError in st.number_input, a traceback for visitors); the run after this one
    seeds from the cleaned link.

    False where Streamlit refuses: a widget this session has drawn owns the parameter, as
    after Back to a history entry with such a value; only a fresh navigation cleans it."""
    for spec in specs:
        usable = _usable(spec)
        if len(usable) == len(st.query_params.get_all(spec.name)):
            continue
        try:
            if usable:
                st.query_params[spec.name] = usable
            else:
                del st.query_params[spec.name]
        except StreamlitAPIException:
            return False
    return True


def _refused_key(cls: type[Config]) -> str:
    """Per config class: Equivariance and Receptive field draw two panels, each with its own
    refusal."""
    return f"_cnnexp_link_refused:{cls.__module__}.{cls.__qualname__}"


def _show_refusal(problems: list[str], headline: str) -> None:
    st.warning(f"**{headline}**", icon=":material/link_off:")
    # A link's values are a stranger's text: shown literally, never as markdown, so
    # `?model=[Sign in](https://…)` cannot put a live link on our page.
    st.text("\n".join(problems))


def _stop_with_clean_link(specs: list[ParamSpec], problems: list[str], page: str) -> None:
    """The refusal and a link to this page without the unusable values, then stop: drawing
    the widgets would raise on them."""
    _show_refusal(problems, "Some settings in this link could not be used.")
    own = {s.name: _usable(s) for s in specs}
    query = [(k, v) for k in st.query_params for v in own.get(k, st.query_params.get_all(k))]
    st.page_link(
        page, label="Open this page without them", query_params=query, icon=":material/link:"
    )
    st.stop()


def _clean_link(cls: type[Config], specs: list[ParamSpec], page: str) -> None:
    """The first run that sees a link's unusable values takes them out of the link and reruns
    (the widgets are then drawn from the cleaned link), keeping what it refused to say."""
    problems = link_problems(specs)
    if not problems:
        return
    if not drop_unusable(specs):
        _stop_with_clean_link(specs, problems, page)
    st.session_state[_refused_key(cls)] = (problems, None)
    st.rerun()


def _say_refused(cls: type[Config], values: dict[str, Any], slot) -> None:
    """Say what the link's cleanup refused, in `slot`, for as long as this panel's settings
    are those drawn from the cleaned link: another panel's cleanup on the same page (one more
    rerun) does not hide it; the visitor's own change of a setting does. (Widget values, not
    the link: Streamlit does not update the server's copy of the link on a rerun.)"""
    key = _refused_key(cls)
    problems, drawn = st.session_state.get(key, ([], None))
    if not problems:
        return
    if drawn is None:
        st.session_state[key] = (problems, values)
    elif drawn != values:
        del st.session_state[key]
        return
    with slot:
        _show_refusal(
            problems,
            "Some settings in this link could not be used; the defaults stand in for them.",
        )


def settings_panel(
    cls: type[Config],
    *,
    page: str,
    exclude: tuple[str, ...] = (),
    defaults: dict[str, Any] | None = None,
) -> Config | None:
    """Sidebar widgets for every field of `cls` on `page` (its file, for a link back to it);
    the parsed config, or None after an error."""
    specs = [s for s in describe(cls) if s.name not in exclude]
    _clean_link(cls, specs, page)
    slot = st.container()  # what the link's cleanup refused, above the page, once drawn
    defaults = defaults or {}
    values: dict[str, Any] = {}
    with st.sidebar:
        for group, items in groupby(specs, key=lambda s: s.group or "Settings"):
            items = list(items)
            st.markdown(f"**{group}**")
            for s in (s for s in items if not s.advanced):
                values[s.name] = widget(s, defaults.get(s.name))
            advanced = [s for s in items if s.advanced]
            if advanced:
                with st.expander(f"More {_SINGULAR.get(group, group.lower())} settings"):
                    for s in advanced:
                        values[s.name] = widget(s, defaults.get(s.name))
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    _say_refused(cls, values, slot)
    lengths = {f"{s.label} ({s.name})": len(values[s.name]) for s in specs if s.kind in LISTS}
    too_long = access.caps().sweep_problems(lengths)
    if too_long:  # a link's long sweep, refused before the page plans anything
        st.error(
            "**These settings cannot be shown here.** " + " ".join(too_long),
            icon=":material/block:",
        )
        return None
    try:
        return parse(cls, values)
    except ConfigError as e:
        st.error(f"**These settings cannot run.** {e}", icon=":material/error:")
        return None
