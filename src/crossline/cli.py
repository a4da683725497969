"""The `crossline` command line: the project's edge for the engine and the knowledge base."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from crossline import __version__
from crossline.engine import InvalidInput, Knowledge, KnowledgeError, assess
from crossline.engine.errors import FieldError

EXIT_INVALID = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in _DJANGO_COMMANDS:
        # Passed through whole: argparse's REMAINDER refuses a leading option
        # (`crossline createuser --email …`), and Django's parser does the checking.
        args = argparse.Namespace(handler=_django_command, command=argv[0], args=argv[1:])
    else:
        args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return EXIT_INVALID
    try:
        return int(args.handler(args))
    except KnowledgeError as exc:
        print("crossline: the knowledge files are invalid:", file=sys.stderr)
        for p in exc.problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:  # `crossline … | head`: the reader left; not an error of ours
        sys.stderr.close()
        return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="crossline", description=__doc__)
    p.add_argument("--version", action="version", version=f"crossline {__version__}")
    sub = p.add_subparsers(title="commands")

    a = sub.add_parser("assess", help="decide from a JSON answers file (or - for stdin)")
    a.add_argument("file", help='JSON {"answers": {...}, "language": "en"|"es"}, or - for stdin')
    a.add_argument("--json", action="store_true", help="print the decision as JSON")
    a.add_argument("--batch", action="store_true", help="JSONL in, one decision per line out")
    a.set_defaults(handler=_assess)

    ci = sub.add_parser("checkin", help="decide a session check-in from a JSON file (or -)")
    ci.add_argument("file", help='JSON {"kind": "pre"|"post", "answers": {...}}, or - for stdin')
    ci.add_argument("--json", action="store_true", help="print the decision as JSON")
    ci.set_defaults(handler=_checkin)
    oc = sub.add_parser("outcomes", help="course outcomes from a JSON file of measures (or -)")
    oc.add_argument("file", help='JSON {"measures": [...], "induction_end": date}, or - for stdin')
    oc.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    oc.set_defaults(handler=_outcomes)

    q = sub.add_parser("ask", help="take the adaptive assessment in the terminal")
    q.add_argument("--language", choices=("en", "es"), help="en or es (asked if not given)")
    q.set_defaults(handler=_ask)

    m = sub.add_parser("migrate", help="create or update the database (and the cache table)")
    m.set_defaults(handler=_migrate)
    s = sub.add_parser("serve", help="serve crossline with gunicorn (several workers)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=None, help="default: one per CPU (2–8)")
    s.set_defaults(handler=_serve)
    c = sub.add_parser("check", help="Django's deployment checks plus crossline's own")
    c.set_defaults(handler=_check)
    g = sub.add_parser("manage", help="run a Django management command", add_help=False)
    g.add_argument("args", nargs=argparse.REMAINDER)
    g.set_defaults(handler=_manage)

    for name, text in _DJANGO_COMMANDS.items():
        d = sub.add_parser(name, help=text, add_help=False)
        d.add_argument("args", nargs=argparse.REMAINDER)
        d.set_defaults(handler=_django_command, command=name)

    k = sub.add_parser("knowledge", help="check or list the knowledge base")
    ksub = k.add_subparsers(title="knowledge commands")
    kc = ksub.add_parser("check", help="validate the knowledge files for a release")
    kc.add_argument("--directory", help="check this directory instead of the packaged one")
    kc.set_defaults(handler=_knowledge_check)
    ks = ksub.add_parser("show", help="a readable listing for clinical review")
    ks.add_argument("--language", choices=("en", "es"), default="en")
    ks.set_defaults(handler=_knowledge_show)
    return p


# --- assess ---------------------------------------------------------------------------------


def _read(path: str) -> str:
    """The input as text: UTF-8, a leading byte-order mark allowed."""
    data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput([FieldError("$", "not valid UTF-8 text")]) from None


def _assess(args: argparse.Namespace) -> int:
    from crossline.knowledge import load

    try:
        text = _read(args.file)
    except OSError as exc:
        print(f"crossline: file: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_INVALID
    except InvalidInput as exc:
        return _invalid(exc)
    knowledge = load()
    if args.batch:
        return _assess_batch(knowledge, text, sys.stdout)
    try:
        decision = assess(knowledge, _json(text))
    except InvalidInput as exc:
        return _invalid(exc)
    if args.json:
        print(json.dumps(decision.to_dict(), ensure_ascii=False, indent=2))
    else:
        from crossline.render import render_decision

        print(render_decision(decision.to_dict(), knowledge))
    return 0


def _invalid(exc: InvalidInput) -> int:
    for e in exc.errors:
        print(f"crossline: invalid input: {e.field}: {e.message}", file=sys.stderr)
    return EXIT_INVALID


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise InvalidInput([FieldError("$", "JSON nested too deeply")]) from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            [FieldError("$", f"not valid JSON ({exc.msg}, line {exc.lineno})")]
        ) from None


def _assess_batch(knowledge: Any, text: str, out: IO[str]) -> int:
    status = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            result = assess(knowledge, _json(line)).to_dict()
        except InvalidInput as exc:
            first = exc.errors[0]
            result = {"error": {"line": number, "field": first.field, "message": first.message}}
            status = EXIT_INVALID
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return status


# --- checkin, outcomes (issue 5 item 9: the course rules without the web app) --------------


def _read_json(path: str) -> Any:
    """The parsed input file; InvalidInput or OSError for the caller to report."""
    return _json(_read(path))


def _checkin(args: argparse.Namespace) -> int:
    from crossline.engine.checkin import checkin
    from crossline.knowledge import load

    knowledge = load()
    try:
        decision = checkin(knowledge, _read_json(args.file))
    except OSError as exc:
        print(f"crossline: file: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_INVALID
    except InvalidInput as exc:
        return _invalid(exc)
    if args.json:
        print(json.dumps(decision.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(_render_checkin(decision.to_dict(), knowledge, decision.language))
    return 0


def _render_checkin(d: dict[str, Any], k: Knowledge, lang: str) -> str:
    from crossline.render import _HEAD

    h, copy, rules = _HEAD[lang], k.copy["checkin"][d["action"]], k.docs["checkin.toml"]["rules"]
    lines: list[str] = []
    if d["safety"]["crisis_resources"]:  # crisis help first, before anything else
        lines += [f"!! {h['safety']}"]
        lines += [f"   • {r['label']} ({r['contact']})" for r in d["safety"]["resources"]] + [""]
    lines.append(f"{d['action'].upper()}: {copy['title'][lang]}")
    if "next" in copy:
        lines.append(f"  {copy['next'][lang]}")
    lines.append("")
    sources: dict[str, str] = {}
    if d["reasons"]:
        lines.append(f"{h['why']}:")
    for r in d["reasons"]:
        answers = ", ".join(f"{i}={_answer(v)}" for i, v in r["answers"].items())
        lines.append(f"  • {rules[r['rule']]['summary'][lang]}")
        lines.append(f"    [{r['rule']}] {h['answers']}: {answers} · {', '.join(r['citations'])}")
        sources |= {c: k.citations[c].reference for c in r["citations"] if c not in sources}
    if sources:
        lines += ["", f"{h['sources']}:"] + [f"  [{c}] {t}" for c, t in sources.items()]
    return "\n".join(lines).rstrip()


def _answer(value: Any) -> str:
    if value is None:
        return "(not answered)"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def _outcomes(args: argparse.Namespace) -> int:
    from crossline.engine.outcomes import outcomes_of_request
    from crossline.knowledge import load

    knowledge = load()
    try:
        result = outcomes_of_request(knowledge, _read_json(args.file))
    except OSError as exc:
        print(f"crossline: file: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_INVALID
    except InvalidInput as exc:
        return _invalid(exc)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(_render_outcomes(result, knowledge))
    return 0


_OUTCOME_FLAGS = ("response", "remission", "non_response", "worsening")


def _render_outcomes(result: dict[str, Any], k: Knowledge) -> str:
    lines = []
    for instrument, label in (("phq9", "PHQ-9"), ("gad7", "GAD-7")):
        r = result[instrument]
        if r["baseline"] is None:
            lines.append(f"{label}: no measures")
            continue
        change = "n/a" if r["percent_change"] is None else f"{r['percent_change']:+.1f}%"
        flags = " · ".join(f"{f.replace('_', '-')} {_yes_no(r[f])}" for f in _OUTCOME_FLAGS)
        lines.append(
            f"{label}: baseline {r['baseline']} → latest {r['latest']} ({change}) · {flags}"
        )
    cites: dict[str, None] = {}
    for ids in k.docs["policy.toml"]["outcomes"]["citations"].values():
        cites |= dict.fromkeys(ids)
    lines += ["", "Sources (thresholds):"] + [f"  [{c}] {k.citations[c].reference}" for c in cites]
    return "\n".join(lines)


def _yes_no(value: bool | None) -> str:
    return "not yet known" if value is None else ("yes" if value else "no")


# --- ask, knowledge -------------------------------------------------------------------------


def _ask(args: argparse.Namespace) -> int:
    from crossline.terminal import run

    return run(language=args.language, stdin=sys.stdin, stdout=sys.stdout)


def _django(*argv: str) -> None:
    from crossline.config import ConfigError

    try:
        from crossline.manage import run

        run(argv)
    except ConfigError as exc:
        print(f"crossline: configuration: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _migrate(args: argparse.Namespace) -> int:
    _django("migrate", "--no-input", "-v", "1")
    _django("createcachetable")
    return 0


def _check(args: argparse.Namespace) -> int:
    _django("check", "--deploy", "--fail-level", "ERROR")
    _django("crossline_check")
    return 0


# crossline commands that are Django management commands of the same name.
_DJANGO_COMMANDS = {
    "audit": "verify the audit chain (`audit verify`) or anchor its head (`audit anchor`)",
    "createuser": "create a clinician or operator account and print a one-time enrolment link",
    "worker": "run background jobs: alerts, escalation, reminders, audit anchoring",
}


def _django_command(args: argparse.Namespace) -> int:
    _django(args.command, *args.args)
    return 0


def _manage(args: argparse.Namespace) -> int:
    _django(*args.args)
    return 0


def _serve(args: argparse.Namespace) -> int:
    """gunicorn in the foreground. The access log leaves out paths and client addresses: a
    result link's path is a credential, and an address can identify a person."""
    import os

    from crossline.config import ConfigError, from_environment

    try:
        config = from_environment()
    except ConfigError as exc:
        print(f"crossline: configuration: {exc}", file=sys.stderr)
        return 2
    # One sync worker per core: a request never waits on another service, and every extra
    # runnable process competes with the one holding SQLite's write lock (decision 0007).
    workers = args.workers or min(max(2, os.cpu_count() or 1), 8)
    statsd = config.statsd_address
    print(
        f"crossline serving {config.base_url} (listening on http://{args.host}:{args.port}, "
        f"{workers} workers, database {config.database_url.split(':', 1)[0]})",
        flush=True,
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crossline.settings")
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "crossline.web:wsgi_application()",
        "--preload",  # the app is loaded once, then forked: workers start warm
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "--access-logformat",
        '"%(m)s" %(s)s %(B)s %(M)sms',
        "--logger-class",
        # Its error log withholds paths and client addresses; with StatsD, the same logger
        # also sends gunicorn's request metrics (names and numbers only).
        "crossline.web.StatsdGunicornLogger" if statsd else "crossline.web.GunicornLogger",
        "--graceful-timeout",
        "10",
        "--timeout",
        "30",
        # gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl):
        # a second server on the machine would take it over. crossline does not use it.
        "--no-control-socket",
    ]
    if statsd:
        argv += ["--statsd-host", statsd, "--statsd-prefix", "crossline"]
    os.execv(sys.executable, argv)
    return 0  # pragma: no cover


def _knowledge_check(args: argparse.Namespace) -> int:
    from crossline import fhir
    from crossline.engine.check import check
    from crossline.knowledge import load, load_from

    knowledge = load_from(Path(args.directory)) if args.directory else load()
    problems = check(knowledge) + fhir.problems(knowledge)
    if problems:
        print(f"crossline: knowledge check FAILED ({len(problems)} problems):", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    print(
        f"knowledge {knowledge.version} OK: {len(knowledge.instruments)} instruments, "
        f"{len(knowledge.items)} items, {len(knowledge.conditions)} conditions, "
        f"{len(knowledge.medication_classes)} medication classes "
        f"({len(knowledge.medication_index)} names), {len(knowledge.rules)} rules, "
        f"{len(knowledge.citations)} citations; policy {knowledge.policy.version}; "
        "a valid FHIR R4 Questionnaire in English and Spanish"
    )
    return 0


def _knowledge_show(args: argparse.Namespace) -> int:
    from crossline.knowledge import load
    from crossline.render import render_knowledge

    print(render_knowledge(load(), args.language))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
