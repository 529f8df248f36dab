"""python -m cnnexp exercise list | check: the exercises from the command line.

Whoever runs the command owns the machine, so it is shown every answer, as an admin is. Bad
ids or parameters exit with status 2 and one line naming what is allowed (cnnexp/cli.py)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from cnnexp import exercises
from cnnexp.config import ConfigError
from cnnexp.exercises import Answer, Exercise, Prediction


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The `exercise` command on the CLI's subcommands (cnnexp/cli.py)."""
    ex = sub.add_parser(
        "exercise",
        help="the Check yourself exercises: list them with their answers, or check an answer",
        description="The command line is the machine's owner, so it is shown the answers "
        "(as an admin is).",
    )
    cmds = ex.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = cmds.add_parser(
        "list", help="every exercise: its id, parameters at its page's defaults, its answer"
    )
    ls.add_argument(
        "--page",
        metavar="NAME",
        default=None,
        help=f"only this page's exercises (one of {', '.join(exercises.pages())})",
    )
    ck = cmds.add_parser("check", help="check one answer to one exercise")
    ck.add_argument("id", metavar="ID", help="the exercise (see `exercise list`)")
    ck.add_argument(
        "--params",
        metavar="JSON",
        default="{}",
        help="the question's parameters, a JSON object (missing ones: the page's defaults)",
    )
    ck.add_argument(
        "--answer",
        metavar="VALUE",
        required=True,
        help="a number, or option keys separated by commas",
    )
    for p in (ls, ck):
        p.add_argument(
            "--results",
            metavar="DIR",
            default=None,
            help="results folder whose saved runs predictions are compared with "
            "(default: $CNNEXP_RESULTS or ./results)",
        )
        p.add_argument("--json", action="store_true", help="print one JSON value on stdout")


def _store(args):
    from cnnexp.store import Store

    return Store(args.results)


def _headline_for(e: Exercise, params: Mapping[str, Any], args) -> dict | None:
    if not isinstance(e, Prediction):
        return None
    return exercises.headline(e, e.settings(params), _store(args))


def _answer_json(a: Answer) -> Any:
    return sorted(a.value) if isinstance(a.value, frozenset) else a.value


def command(args: argparse.Namespace) -> int:
    if args.action == "list":
        return _list(args)
    return _check(args)


def _list(args) -> int:
    if args.page is not None and args.page not in exercises.pages():
        raise ConfigError(f"unknown page '{args.page}'; allowed: {', '.join(exercises.pages())}")
    rows = []
    for e in exercises.EXERCISES if args.page is None else exercises.for_page(args.page):
        q = e.generate(e.source())
        if q is None:
            continue
        a = e.answer(q.params, _headline_for(e, q.params, args))
        rows.append(
            {
                "id": e.id,
                "page": e.page,
                "kind": e.kind,
                "params": q.params,
                "prompt": q.prompt,
                "options": {o.key: o.label for o in q.options},
                "answer": _answer_json(a),
                "derivation": a.derivation,
            }
        )
    if args.json:
        print(json.dumps(rows))
        return 0
    for r in rows:
        answer = ",".join(r["answer"]) if isinstance(r["answer"], list) else r["answer"]
        shown = (
            "(nothing saved)"
            if answer is None
            else f"{answer:,}"
            if isinstance(answer, int)
            else answer
        )
        print(f"{r['id']:<32} {r['kind']:<10} answer {shown}")
    return 0


def _check(args) -> int:
    e = exercises.get(args.id)
    try:
        params = json.loads(args.params)
    except json.JSONDecodeError as err:
        raise ConfigError(f"--params is not JSON ({err.msg}); allowed: a JSON object") from None
    e.settings(params)  # bad parameters: one line naming what is allowed, exit 2
    v = e.check(params, args.answer, _headline_for(e, params, args))
    if args.json:
        print(json.dumps({"verdict": v.verdict, "feedback": v.feedback}))
    else:
        print(f"{v.verdict}: {v.feedback}")
    return 0
