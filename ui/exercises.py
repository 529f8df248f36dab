"""The Check yourself panel at the end of every experiment page.

cnnexp/exercises/ asks and answers; this module draws the questions, takes the answers,
keeps the tries (in the session, or in graded mode in cnnexp/attempts.py per person), and
shows the answer with its derivation after a right answer or the last try. A page adds it
with one call at its end: `check_yourself(exp.NAME, cfg, ...)`, passing the settings the
page has (the experiment's, and a probe's where it has one).

Settings (environment CNNEXP_<NAME>, or the same key in secrets; cnnexp/policy.py):
    EXERCISES       off | on (default) | graded
    PREDICT_FIRST   true: a prediction question shows the saved result only once committed,
                    and the page keeps its own figures of it back till then (results_hidden)
    EXERCISE_TRIES  wrong answers before the answer is shown (default 3)
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

import streamlit as st

from cnnexp import exercises, policy
from cnnexp.attempts import Attempts, to_csv
from cnnexp.config import Config
from cnnexp.exercises import Exercise, Prediction, Question, Verdict
from ui import access, page, resources

VERDICT_ICONS = {"correct": ":material/check_circle:", "incorrect": ":material/cancel:"}


def settings() -> policy.ExerciseSettings:
    return policy.ExerciseSettings.from_settings(access.setting)


@st.cache_resource(show_spinner=False)
def _attempts(root: str) -> Attempts:
    return Attempts(root)


def attempts() -> Attempts:
    return _attempts(resources.results_root())


# Answers are computed once per question for every session (a probe, a model on the meta
# device); bounded, so links with ever new settings cannot grow it.
@st.cache_data(max_entries=256, ttl=3600, show_spinner="Working out the answer…")
def _answer(exercise_id: str, params_json: str) -> exercises.Answer:
    return exercises.get(exercise_id).answer(json.loads(params_json))


def _headline(ex: Exercise, cfg: Config) -> dict | None:
    """The saved result a prediction is compared with, shared per saved state of the plan."""
    from cnnexp import experiments
    from cnnexp.results import Results

    store = resources.store()
    results = Results(experiments.get(ex.page).plan(cfg), store)
    key = (cfg.model_dump_json(), page.saved_state(results))
    got = page.shared(
        f"{ex.page}-exercise-headline", key, lambda: {"h": exercises.headline(ex, cfg, store)}
    )
    return got["h"]


# --- the panel ---------------------------------------------------------------------------------
def check_yourself(page_name: str, *configs: Config | None) -> None:
    """The collapsed Check yourself expander; its questions are built only while it is open."""
    s = settings()  # a value not allowed stops every page first (app.py: check_settings)
    if s.mode == "off":
        return
    if s.mode == "graded":
        try:
            attempts()
        except (OSError, sqlite3.Error) as e:  # a read-only results folder, a full disk
            said = f"{type(e).__name__}: {e}" if access.can_see_paths() else type(e).__name__
            st.error(
                "**Graded exercises need a results folder they can write to; Check yourself "
                f"is off.** ({said})",
                icon=":material/error:",
            )
            return
    box = st.expander(
        "Check yourself", icon=":material/quiz:", key=f"exercises-{page_name}", on_change="rerun"
    )
    if not box.open:
        return
    with box:
        st.caption(_intro(s))
        n = 0
        for ex in exercises.for_page(page_name):
            cfg = next((c for c in configs if isinstance(c, ex.source)), None)
            q = None if cfg is None else ex.generate(cfg)
            if q is None:  # settings that cannot run, or where the question makes no sense
                continue
            n += 1
            with st.container(border=True):
                question(n, ex, q, ex.settings(q.params), s)
        if n == 0:
            st.caption("No question fits these settings.")
        if s.mode == "graded" and policy.may_see_class_summary(access.role()):
            class_summary_ui(page_name)


def _intro(s: policy.ExerciseSettings) -> str:
    graded = (
        " Your answers are recorded for your instructor, under your sign-in, token or address."
        if s.mode == "graded"
        else " Nothing is recorded."
    )
    return (
        "Questions from the settings on this page: change a setting and they change. Answers "
        "are checked against the library's own computation; a malformed answer costs no try. "
        f"After a right answer, or {s.tries} tries, the answer and how it is worked out appear."
        + graded
    )


def question_key(ex: Exercise, q: Question) -> str:
    """The session keys of one question start with this: another question, other keys."""
    digest = hashlib.blake2b(
        json.dumps(q.params, sort_keys=True).encode(), digest_size=6
    ).hexdigest()
    return f"ex-{ex.id}-{digest}"


# --- one question ------------------------------------------------------------------------------
NO_TORCH = "This question is answered with PyTorch, which is not installed on this server."


def question(n: int, ex: Exercise, q: Question, cfg: Config, s: policy.ExerciseSettings) -> None:
    st.markdown(f"**{n}.** {q.prompt}")
    problem = ex.problem(cfg, access.caps())
    if problem:  # the server's budget holds for a question as for the page's own probe
        st.info(problem, icon=":material/block:")
        return
    headline = None
    if isinstance(ex, Prediction):
        headline = _headline(ex, cfg)
        if headline is None:
            st.info(
                "Nothing is saved for these settings yet: the prediction opens once the runs are.",
                icon=":material/hourglass_top:",
            )
            return
    key = question_key(ex, q)
    past, done, peeked = _progress(ex, q, s, key)
    tries = exercises.tries(ex, s)
    if not done and not peeked:
        _form(ex, q, key, headline, s)
    last = st.session_state.get(f"{key}-last")
    if last is not None:
        _show(last, isinstance(ex, Prediction))
    elif past:  # a new session: the record says how it went
        st.caption(f"Your last answer, {past[-1][1]}, was {past[-1][0]}.")
    if past and not done:
        st.caption(f"{tries - len(past)} of {tries} tries left.")
    note = st.session_state.get(f"{key}-note")
    if note:
        st.caption(note)
    if isinstance(ex, Prediction):
        if not done and not peeked and not s.predict_first:
            st.button(  # predicting is asked for, not required, unless the instructor says so
                "Show the saved result without predicting",
                key=f"{key}-show",
                type="tertiary",
                on_click=lambda: st.session_state.update({f"{key}-shown": True}),
            )
        if done or peeked:
            given = past[-1][1] if past else None
            _reveal_prediction(ex, q, headline, given)
    elif done:
        try:
            st.info(_solution(ex, q).derivation, icon=":material/lightbulb:")
        except ImportError:
            st.info(NO_TORCH)


def _progress(
    ex: Exercise, q: Question, s: policy.ExerciseSettings, key: str
) -> tuple[list[tuple[str, str]], bool, bool]:
    """(counted tries, done: answered right or out of tries, peeked: a prediction's result
    shown without predicting)."""
    past = _past(ex, q, s, key)
    done = any(verdict == "correct" for verdict, _ in past) or len(past) >= exercises.tries(ex, s)
    return past, done, st.session_state.get(f"{key}-shown", False)


# --- predict first: the page's own results wait for the prediction ------------------------------
def results_hidden(page_name: str, *configs: Config | None) -> bool:
    """Whether the page must keep back its saved results (the numbers a prediction of the
    panel asks for), and the note saying so in their place: with CNNEXP_PREDICT_FIRST on, a
    prediction question of these settings, whose result is saved, that this visitor has not
    committed yet. The panel's own state decides, so the page and the panel reveal together."""
    s = settings()
    if s.mode == "off" or not s.predict_first:
        return False
    for ex in exercises.for_page(page_name):
        cfg = next((c for c in configs if isinstance(c, ex.source)), None)
        q = None if cfg is None or not isinstance(ex, Prediction) else ex.generate(cfg)
        if q is None:
            continue
        settled = ex.settings(q.params)
        if ex.problem(settled, access.caps()) or _headline(ex, settled) is None:
            continue  # the panel asks nothing here: nothing to keep back
        _, done, peeked = _progress(ex, q, s, question_key(ex, q))
        if not (done or peeked):
            st.info(
                "**Predict first.** This server asks for your prediction before it shows the "
                "saved results of these settings: open **Check yourself** at the end of the "
                "page and commit it; the results appear here then.",
                icon=":material/psychology:",
            )
            return True
    return False


def _solution(ex: Exercise, q: Question) -> exercises.Answer:
    return _answer(ex.id, json.dumps(q.params, sort_keys=True))


def _past(ex: Exercise, q: Question, s: policy.ExerciseSettings, key: str) -> list[tuple[str, str]]:
    """(verdict, answer) of this person's counted tries at this question, oldest first."""
    if s.mode == "graded":
        me = access.owner()
        mine = attempts().attempts(access.role(), me, me, ex.id, q.params)
        return [(a.verdict, a.answer) for a in mine]
    return st.session_state.get(f"{key}-past", [])


def _form(ex: Exercise, q: Question, key: str, headline: dict | None, s) -> None:
    labels = {o.key: o.label for o in q.options}
    with st.form(key, border=False):
        field = f"{key}-input"
        if q.kind == "choice":
            st.radio("Your answer", list(labels), index=None, format_func=labels.get, key=field)
        elif q.kind == "choices":
            st.pills(
                "Your answer (all that apply)",
                list(labels),
                selection_mode="multi",
                format_func=labels.get,
                key=field,
            )
        else:
            st.text_input(
                f"Your {'prediction' if q.kind == 'prediction' else 'answer'} ({q.unit})",
                key=field,
                max_chars=exercises.MAX_CHARS,
                placeholder="e.g. 1,234" if q.kind == "integer" else "e.g. 12.5",
            )
        st.form_submit_button(
            "Commit my prediction" if q.kind == "prediction" else "Check",
            on_click=_submit,
            args=(ex, q, key, headline, s),
            key=f"{key}-submit",
        )


def _submit(ex: Exercise, q: Question, key: str, headline: dict | None, s) -> None:
    """The form's callback, run before the page reruns, so the page draws the new state."""
    raw = st.session_state.get(f"{key}-input")
    try:
        v = check(ex, q, "" if raw is None else raw, headline)
    except ImportError:
        v = Verdict("invalid", NO_TORCH)
    st.session_state[f"{key}-last"] = v
    if not v.counts:
        return
    if s.mode == "graded":
        st.session_state[f"{key}-note"] = attempts().record(
            access.owner(), ex.id, q.params, v.given, v.verdict, v.mistake
        )
    else:
        past = st.session_state.get(f"{key}-past", [])
        st.session_state[f"{key}-past"] = [*past, (v.verdict, v.given)]


def check(ex: Exercise, q: Question, raw: Any, headline: dict | None = None) -> Verdict:
    """The verdict on one answer, with the shared answer (a prediction: the saved result)."""
    if isinstance(ex, Prediction):
        return ex.check(q.params, raw, headline)
    return exercises.grade(q, _solution(ex, q), raw)


def _show(v: Verdict, prediction: bool = False) -> None:
    if v.verdict == "incorrect" and prediction:  # a prediction outside the interval is no error
        st.info(v.feedback, icon=":material/compare_arrows:")
    elif v.verdict == "correct":
        st.success(v.feedback, icon=VERDICT_ICONS["correct"])
    elif v.verdict == "incorrect":
        st.error(v.feedback, icon=VERDICT_ICONS["incorrect"])
    else:
        st.warning(f"{v.feedback} (This did not count as a try.)", icon=":material/edit:")


def _reveal_prediction(ex: Prediction, q: Question, headline: dict, given: str | None) -> None:
    m = ex.measured(ex.settings(q.params), headline)
    fig = prediction_figure(ex, m, None if given is None else float(given))
    st.plotly_chart(fig, key=f"{question_key(ex, q)}-figure", config={"displayModeBar": False})


def prediction_figure(ex: Prediction, m: dict, given: float | None):
    """The measured mean with its 95% interval, and the prediction beside it when there is one."""
    import plotly.graph_objects as go

    from cnnexp import stats

    mean = m["mean"] * ex.scale
    ci = (stats.share_interval(m) if ex.share else m["ci95"]) if m["ci95"] else None
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[mean],
            y=["measured"],
            mode="markers",
            marker={"size": 12, "color": "#1f77b4"},
            error_x=None
            if ci is None
            else {
                "type": "data",
                "symmetric": False,
                "array": [ci[1] * ex.scale - mean],
                "arrayminus": [mean - ci[0] * ex.scale],
                "width": 8,
            },
            name=f"measured mean, 95% interval ({m['n']} seeds)",
        )
    )
    if given is not None:
        fig.add_trace(
            go.Scatter(
                x=[given],
                y=["your prediction"],
                mode="markers",
                marker={"size": 14, "symbol": "diamond", "color": "#d62728"},
                name="your prediction",
            )
        )
    fig.update_layout(
        height=190,
        margin={"l": 10, "r": 10, "t": 30, "b": 40},
        showlegend=False,
        title={"text": "Your prediction beside the saved result", "font": {"size": 13}},
        xaxis_title=ex.unit,
        yaxis={"categoryorder": "array", "categoryarray": ["your prediction", "measured"]},
    )
    return fig


# --- the class summary (admins, graded mode) ---------------------------------------------------
def class_summary(page_name: str | None = None) -> list[dict]:
    """Per exercise of the page (or every page): attempts, share correct, common mistakes.
    Asked of the policy here, on the server, so a request no button offered is refused too."""
    if not policy.may_see_class_summary(access.role()):
        raise access.Refused("Only an admin of this server may see the class summary.")
    ids = [e.id for e in exercises.EXERCISES if page_name is None or e.page == page_name]
    return attempts().summary(access.role(), access.owner(), ids)


def class_attempts_csv() -> str:
    """Every recorded attempt as CSV (admins only, within the server's export limit)."""
    rows = attempts().attempts(access.role(), access.owner())
    too_big = access.export_problem(len(rows))
    if too_big:
        raise access.Refused(too_big)
    return to_csv([a.__dict__ for a in rows])


def class_summary_ui(page_name: str) -> None:
    st.markdown("**Class summary** (admins only)")
    rows = class_summary(page_name)
    st.dataframe(
        rows,
        hide_index=True,
        column_config={
            "share_correct": st.column_config.NumberColumn("share correct", format="percent"),
            "people_correct": st.column_config.NumberColumn("people right", format="percent"),
        },
        placeholder="—",
    )
    everything = class_summary()
    total = sum(r["attempts"] for r in everything)
    left, right = st.columns(2)
    left.download_button(
        "Class summary (CSV, every page)",
        data=lambda: to_csv(class_summary()),
        file_name="exercises-summary.csv",
        mime="text/csv",
        key="exercises-summary-csv",
        on_click="ignore",
    )
    too_big = access.export_problem(total)
    if too_big:
        right.caption(too_big)
    else:
        right.download_button(
            f"Every attempt (CSV, {total:,} rows)",
            data=class_attempts_csv,
            file_name="exercises-attempts.csv",
            mime="text/csv",
            key="exercises-attempts-csv",
            on_click="ignore",
        )
