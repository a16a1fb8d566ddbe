"""The command line: the same core as the window, scriptable and head-less.

Exit codes: 0 done · 1 failed (message on stderr) · 2 usage error · 3 done in part.
Every listing command has ``--json`` with a stable shape (documented in the README).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from console import __version__
from console.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PARTIAL,
    GuiLauncher,
    GuiRequest,
)
from console.cli.common import Parser as _Parser
from console.cli.common import emit as _emit
from console.cli.common import import_exit as _import_exit
from console.cli.common import import_with as _import_with
from console.cli.common import open_workspace as _open
from console.domain.errors import (
    ConsoleError,
    InvalidInputError,
    StorageError,
)
from console.domain.incident import parse_role, parse_severity, parse_status
from console.domain.times import DisplayZone, format_time
from console.paths import data_dir, database_path, demo_dir

#: Command areas with a module of their own (``console/cli/<area>.py``). Each has
#: ``add_parsers(commands, importing)`` (``importing``: the ``import`` sub-commands) and
#: ``HANDLERS``, a dict from top-level command name to ``handler(args, folder, out) -> int``.
#: ``build_parser`` imports every area, so an area keeps heavy imports inside its handlers.
AREAS: tuple[str, ...] = ("packs", "audit", "metrics", "runbooks")


def _area(name: str) -> Any:
    from importlib import import_module

    return import_module(f"console.cli.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="responder-console",
        description="Offline incident response console. Without a command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="data folder (default: $RESPONDER_CONSOLE_DATA_DIR or the platform's)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="use the demo workspace (a separate folder, seeded on first use)",
    )
    parser.add_argument(
        "--as",
        dest="actor",
        metavar="NAME",
        help="who is acting (default: $RESPONDER_CONSOLE_USER or login name)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    parser.add_argument(
        "--no-error-windows",
        action="store_true",
        help="log errors instead of showing dialogs (automation)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    commands.add_parser("gui", help="open the window (the default)")

    incident = commands.add_parser("incident", help="declare and run incidents").add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=_Parser
    )
    declare = incident.add_parser("declare", help="declare a new incident")
    declare.add_argument("--title", required=True)
    declare.add_argument("--severity", required=True, help="SEV1..SEV4")
    declare.add_argument("--summary", default="")
    declare.add_argument("--ic", metavar="NAME", help="incident commander")
    declare.add_argument(
        "--service",
        dest="services",
        action="append",
        default=[],
        metavar="NAME",
        help="an affected catalog service (repeat for several)",
    )
    declare.add_argument("--json", action="store_true")
    note = incident.add_parser("note", help="log a note on the timeline")
    note.add_argument("id")
    note.add_argument("text", nargs="+")
    note.add_argument("--json", action="store_true")
    status = incident.add_parser("status", help="move the incident through its lifecycle")
    status.add_argument("id")
    status.add_argument("status", help="open|triage|mitigating|resolved|post-incident|closed")
    status.add_argument("--json", action="store_true")
    severity = incident.add_parser("severity", help="change the severity")
    severity.add_argument("id")
    severity.add_argument("severity")
    severity.add_argument("--json", action="store_true")
    role = incident.add_parser("role", help="assign a role (ic, comms, ops, scribe)")
    role.add_argument("id")
    role.add_argument("role")
    role.add_argument("person", nargs="+")
    role.add_argument("--json", action="store_true")
    listing = incident.add_parser("list", help="list incidents")
    listing.add_argument("--active", action="store_true", help="only open/triage/mitigating")
    listing.add_argument("--json", action="store_true")
    show = incident.add_parser("show", help="an incident with its timeline")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    export = incident.add_parser("export", help="export an incident")
    export.add_argument("id")
    export.add_argument("--format", choices=["json", "markdown", "html"], default="json")
    export.add_argument(
        "--postmortem",
        action="store_true",
        help="export the postmortem (drafted and stored first if there is none) "
        "as markdown or html",
    )
    export.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    update = incident.add_parser(
        "update", help="draft a communication from a template (and log it as sent)"
    )
    update.add_argument("id")
    update.add_argument("--template", metavar="NAME", help="template name (see --list)")
    update.add_argument("--list", action="store_true", help="list the templates")
    update.add_argument("--plain", action="store_true", help="plain text instead of Markdown")
    update.add_argument(
        "--send", action="store_true", help="log it as sent (timeline, outbox, cadence)"
    )
    update.add_argument("--json", action="store_true")
    timeline_import = incident.add_parser(
        "import-timeline",
        help="merge events from JSON-lines or CSV files (timestamp, source, message) "
        "into the timeline, backdated; a re-import adds nothing",
    )
    timeline_import.add_argument("id")
    timeline_import.add_argument("paths", nargs="+", metavar="FILE")
    timeline_import.add_argument(
        "--tz", metavar="ZONE", default="UTC", help="zone of times without an offset (UTC)"
    )
    timeline_import.add_argument("--json", action="store_true")

    actions = commands.add_parser(
        "actions", help="postmortem action items: list, add, done"
    ).add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    actions_list = actions.add_parser("list", help="list action items (open and overdue first)")
    actions_list.add_argument("--incident", metavar="ID")
    actions_list.add_argument("--open", action="store_true", help="only open / in progress")
    actions_list.add_argument("--overdue", action="store_true", help="only overdue ones")
    actions_list.add_argument(
        "--format", choices=["text", "csv", "markdown"], default="text", help="(not with --json)"
    )
    actions_list.add_argument("--json", action="store_true")
    actions_add = actions.add_parser("add", help="add an action item")
    actions_add.add_argument("title", nargs="+")
    actions_add.add_argument("--owner", required=True)
    actions_add.add_argument("--incident", metavar="ID")
    actions_add.add_argument("--due", metavar="YYYY-MM-DD")
    actions_add.add_argument("--priority", default="P2", help="P1..P4 (P2)")
    actions_add.add_argument("--type", default="prevent", help="detect|prevent|mitigate")
    actions_add.add_argument("--json", action="store_true")
    actions_done = actions.add_parser("done", help="mark an action item done")
    actions_done.add_argument("item", type=_positive)
    actions_done.add_argument("--json", action="store_true")

    importing = commands.add_parser(
        "import",
        help="import runbooks, a service catalog, contacts, on-call schedules and "
        "escalation policies",
    ).add_subparsers(dest="kind", metavar="KIND", required=True, parser_class=_Parser)
    runbooks = importing.add_parser(
        "runbooks", help="Markdown runbooks: folders (walked for *.md, *.markdown) or files"
    )
    runbooks.add_argument("paths", nargs="+", metavar="PATH")
    runbooks.add_argument("--json", action="store_true")
    catalog = importing.add_parser(
        "catalog",
        help="service catalog: Backstage, our catalog: 1 format, Compose or Kubernetes YAML "
        "(folders walked for *.yaml, *.yml; or files)",
    )
    catalog.add_argument("paths", nargs="+", metavar="PATH")
    catalog.add_argument("--json", action="store_true")

    blast = commands.add_parser(
        "blast-radius",
        help="what depends on a service (blast radius) and what it depends on (suspects)",
    )
    blast.add_argument("service", metavar="SERVICE", help="name, namespace/name or kind:ns/name")
    blast.add_argument("--depth", type=_positive, metavar="N", help="at most N steps away")
    blast.add_argument("--json", action="store_true")
    _people_import_parsers(importing)

    oncall = commands.add_parser(
        "oncall", help="who is on call now or at a time, for every schedule or a service"
    )
    oncall.add_argument(
        "--at", metavar="TIME", default="now", help="ISO-8601 (local without an offset) or now"
    )
    oncall.add_argument("--service", metavar="NAME", help="through the service's escalation policy")
    oncall.add_argument(
        "--tz", metavar="ZONE", help="read --at and show times in this IANA zone (default: local)"
    )
    oncall.add_argument("--json", action="store_true")
    oncall_actions = oncall.add_subparsers(
        dest="action", metavar="ACTION", required=False, parser_class=_Parser
    )
    export_ics = oncall_actions.add_parser(
        "export-ics", help="a person's cached shifts as an iCalendar file"
    )
    export_ics.add_argument("person", nargs="+", metavar="PERSON", help="name or e-mail")
    export_ics.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")

    people = commands.add_parser("people", help="list contacts and how to reach them")
    people.add_argument("query", nargs="*", metavar="QUERY", help="words to match")
    people.add_argument("--json", action="store_true")

    search = commands.add_parser("search", help="search the runbooks")
    search.add_argument("query", nargs="+", metavar="QUERY")
    search.add_argument("--limit", type=_positive, default=20, metavar="N")
    search.add_argument("--service", metavar="S", help="only runbooks for this service")
    search.add_argument("--owner", metavar="O", help="only runbooks owned by this team")
    search.add_argument(
        "--stale", action="store_true", help="only runbooks overdue for review (or never reviewed)"
    )
    search.add_argument("--json", action="store_true")

    _sync_parsers(commands)
    for name in AREAS:
        _area(name).add_parsers(commands, importing)

    db = commands.add_parser("db", help="check, back up and restore the database").add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=_Parser
    )
    db.add_parser(
        "check", help="integrity check; tells locked, read-only, missing and damaged apart"
    ).add_argument("--json", action="store_true")
    db.add_parser("backup", help="take a backup now")
    db.add_parser("backups", help="list backups, newest first").add_argument(
        "--json", action="store_true"
    )
    restore = db.add_parser(
        "restore", help="replace the database with a backup (the current file is kept aside)"
    )
    restore.add_argument(
        "--backup", metavar="FILE", help="default: the newest backup that passes its check"
    )
    db.add_parser("set-aside", help="move the database aside and start with an empty one")
    return parser


def _sync_parsers(commands: Any) -> None:
    account = commands.add_parser(
        "account", help="PagerDuty/Opsgenie accounts the outbox is pushed to"
    ).add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    add = account.add_parser(
        "add",
        help="add an account (or replace its settings); the token goes to the OS keyring",
        description="The token is read from standard input (never an argument: it would "
        "show in the process list and shell history) and kept in the OS keyring. "
        "Head-less: set RESPONDER_CONSOLE_PAGERDUTY_TOKEN / _OPSGENIE_TOKEN instead.",
    )
    add.add_argument("vendor", choices=("pagerduty", "opsgenie"))
    add.add_argument("--base-url", help="API base URL (PagerDuty EU, Opsgenie EU, an emulator)")
    add.add_argument("--from", dest="from_email", metavar="EMAIL", help="PagerDuty From header")
    add.add_argument(
        "--default-service",
        metavar="ID",
        help="service id for incidents (PagerDuty; Opsgenie in incident mode)",
    )
    add.add_argument(
        "--mode",
        choices=("alert", "incident"),
        help="Opsgenie: push incidents as alerts (default) or as Opsgenie incidents",
    )
    add.add_argument(
        "--token-stdin", action="store_true", help="read the token from standard input"
    )
    add.add_argument("--json", action="store_true")
    listing = account.add_parser("list", help="the accounts and where their tokens come from")
    listing.add_argument("--json", action="store_true")
    remove = account.add_parser("remove", help="remove an account and forget its token")
    remove.add_argument("vendor", choices=("pagerduty", "opsgenie"))

    sync = commands.add_parser(
        "sync", help="push the outbox to PagerDuty or Opsgenie, pull their changes"
    ).add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    once = sync.add_parser(
        "once", help="one pass: push what is queued, then pull; report the outcome"
    )
    once.add_argument(
        "--vendor",
        choices=("pagerduty", "opsgenie"),
        help="the account to push to (needed only when there are two)",
    )
    once.add_argument("--json", action="store_true")
    # pull (issue 5): the remote → local half on its own
    pull = sync.add_parser(
        "pull", help="pull incidents' remote activity, people, schedules and policies"
    )
    pull.add_argument("--json", action="store_true")
    status = sync.add_parser("status", help="accounts, queued and failed operations")
    status.add_argument("--json", action="store_true")
    for action, text in (
        ("retry", "queue a failed operation (or a creation holding others back) again"),
        ("discard", "give a failed or blocked operation up"),
    ):
        decide = sync.add_parser(action, help=text)
        decide.add_argument("op_id", type=_positive, metavar="OPERATION")
        if action == "discard":
            decide.add_argument(
                "--with-dependants",
                action="store_true",
                help="discarding an incident's creation: its later operations go too",
            )


def _people_import_parsers(importing: Any) -> None:
    for kind, text in (
        ("contacts", "contacts: CSV or vCard files (also PagerDuty users JSON)"),
        (
            "oncall",
            "schedules and policies: iCalendar files, saved PagerDuty/Opsgenie JSON responses",
        ),
    ):
        parser = importing.add_parser(kind, help=text)
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument(
            "--region",
            metavar="CC",
            help="country for phone numbers written without +code (e.g. GB, US)",
        )
        parser.add_argument(
            "--weeks",
            type=_positive,
            default=4,
            metavar="N",
            help="expand calendars N weeks ahead (default 4)",
        )
        parser.add_argument(
            "--tz", metavar="ZONE", help="zone for calendar times without one (default: local)"
        )
        parser.add_argument("--json", action="store_true")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def main(
    argv: Sequence[str] | None = None,
    *,
    gui: GuiLauncher | None = None,
    stdout: TextIO | None = None,
) -> int:
    out = stdout or sys.stdout
    args = build_parser().parse_args(argv)
    base = data_dir(args.data_dir)
    # The demo never mixes into real data: it always lives in <data folder>/demo.
    folder = demo_dir(base) if args.demo else base
    if args.command in (None, "gui"):
        launcher = gui or _gui_from_entry_point()
        if launcher is None:
            print(
                "responder-console: the window is not installed; "
                "install the package with its ui/ part",
                file=sys.stderr,
            )
            return EXIT_FAILED
        return launcher(GuiRequest(folder, args.demo, args.actor, args.no_error_windows))
    from console.logs import configure

    configure(folder if folder.exists() else None, verbose=args.verbose)
    try:
        if args.command == "db":
            return _db(args, folder, out)
        if args.command == "import":
            return _import(args, folder, out)
        if args.command == "search":
            return _search(args, folder, out)
        if args.command == "blast-radius":
            return _blast_radius(args, folder, out)
        if args.command == "oncall":
            return _oncall(args, folder, out)
        if args.command == "people":
            return _people(args, folder, out)
        if args.command == "account":
            return _account(args, folder, out)
        if args.command == "sync":
            return _sync(args, folder, out)
        if args.command == "actions":
            return _actions(args, folder, out)
        for name in AREAS:
            handler = _area(name).HANDLERS.get(args.command)
            if handler is not None:
                return int(handler(args, folder, out))
        return _incident(args, folder, out)
    except ConsoleError as error:
        print(f"responder-console: {error}", file=sys.stderr)
        return error.exit_code
    except BrokenPipeError:
        # The reader stopped reading (``… | head``): no traceback. What is left to
        # flush goes nowhere, as the Python docs advise, and the exit says "failed".
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


def _gui_from_entry_point() -> GuiLauncher | None:
    from importlib.metadata import entry_points

    for point in entry_points(group="responder_console.gui"):
        launcher: GuiLauncher = point.load()
        return launcher
    return None


def _incident(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    from console.ops.export import entry_json, incident_json

    workspace = _open(args, folder)
    try:
        service, queries = workspace.incidents, workspace.queries
        action = args.action
        if action == "declare":
            outcome = service.declare(
                args.title,
                parse_severity(args.severity),
                summary=args.summary,
                commander=args.ic,
                services=args.services,
            )
            view = outcome.incident
            _emit(
                out,
                args.json,
                incident_json(view),
                f"Declared incident {view.id} ({view.severity.value}): {view.title}",
            )
            return EXIT_OK
        if action == "list":
            incidents = queries.incidents(active_only=args.active)
            lines = [
                f"{i.id:>5}  {i.severity.value}  {i.status.value:<13} "
                f"{format_time(i.declared_at, DisplayZone.UTC, 'datetime')}  {i.title}"
                for i in incidents
            ]
            _emit(
                out,
                args.json,
                {"incidents": [incident_json(i) for i in incidents]},
                "\n".join(lines) if lines else "No incidents.",
            )
            return EXIT_OK
        incident = queries.find_incident(args.id)
        if action == "show":
            entries = queries.timeline(incident.id)
            text = [f"{incident.title} — {incident.severity.value}, {incident.status.value}"]
            text += [
                f"{e.seq:>5} {format_time(e.occurred_at, DisplayZone.UTC, 'seconds')} "
                f"{e.author}: {e.text}"
                for e in entries
            ]
            _emit(
                out,
                args.json,
                {"incident": incident_json(incident), "timeline": [entry_json(e) for e in entries]},
                "\n".join(text),
            )
            return EXIT_OK
        if action in ("update", "import-timeline"):
            return _comms(args, workspace, incident.id, out)
        if action == "export":
            document = _export(args, workspace, incident.id)
            if args.out:
                from console.files import write_file  # whole or not at all

                write_file(Path(args.out), document, what="the export")
            else:
                out.write(document if document.endswith("\n") else document + "\n")
            return EXIT_OK
        if action == "note":
            outcome = service.add_note(incident.id, " ".join(args.text))
        elif action == "status":
            outcome = service.change_status(incident.id, parse_status(args.status))
        elif action == "severity":
            outcome = service.change_severity(incident.id, parse_severity(args.severity))
        else:  # role
            outcome = service.assign_role(incident.id, parse_role(args.role), " ".join(args.person))
        entry = outcome.entry
        _emit(out, args.json, entry_json(entry), f"Logged #{entry.seq}: {entry.text}")
        return EXIT_OK
    finally:
        workspace.close()


def _export(args: argparse.Namespace, workspace: Any, incident_id: int) -> str:
    from console.ops.export import export_json, export_markdown

    if args.postmortem:
        from console.comms.kit import CommsKit

        if args.format == "json":
            raise InvalidInputError("a postmortem exports as --format markdown or html")
        postmortems = CommsKit.of(workspace).postmortems
        return postmortems.export(incident_id, args.format)
    if args.format == "json":
        return export_json(workspace.queries, incident_id)
    markdown = export_markdown(workspace.queries, incident_id)
    if args.format == "html":
        from console.comms.postmortem import to_html

        return to_html(markdown)
    return markdown


def _comms(args: argparse.Namespace, workspace: Any, incident_id: int, out: TextIO) -> int:
    from console.ops.export import entry_json

    if args.action == "import-timeline":
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        from console.comms.timeline_import import import_timeline

        try:
            zone = ZoneInfo(args.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInputError(f"unknown time zone {args.tz!r}") from None
        report = import_timeline(
            workspace.db,
            workspace.incidents,
            incident_id,
            [Path(p) for p in args.paths],
            zone=zone,
            clock=workspace.clock,
        )
        code = _import_exit(report.refused, report.read_any)
        _emit(
            out,
            args.json,
            {
                "added": len(report.added),
                "duplicates": report.duplicates,
                "refused": [
                    {"path": r.path, "line": r.line, "reason": r.reason} for r in report.refused
                ],
                "entries": [entry_json(e) for e in report.added],
            },
            f"Timeline: {len(report.added)} events added, {report.duplicates} already there, "
            f"{len(report.refused)} refused.",
        )
        return code
    from console.comms.kit import CommsKit

    comms = CommsKit.of(workspace).updates
    templates, refused = comms.templates()
    for refusal in refused:
        print(f"template refused: {refusal}", file=sys.stderr)
    if args.list or not args.template:
        _emit(
            out,
            args.json,
            {
                "templates": [
                    {"name": t.id, "title": t.title, "audience": t.audience, "user": t.user}
                    for t in templates
                ],
                "refused": [{"path": r.path, "line": r.line, "reason": r.reason} for r in refused],
            },
            "\n".join(f"{t.id:<24} {t.title}" for t in templates),
        )
        return EXIT_PARTIAL if refused else EXIT_OK
    draft = comms.draft(incident_id, args.template)
    text = draft.plain if args.plain else draft.markdown
    document: dict[str, Any] = {
        "template": draft.template.id,
        "title": draft.template.title,
        "audience": draft.template.audience,
        "markdown": draft.markdown,
        "plain": draft.plain,
        "next_update": draft.next_update.isoformat() if draft.next_update else None,
        "sent": None,
    }
    if args.send:
        outcome = comms.send(incident_id, draft.template, draft.markdown)
        assert outcome.entry is not None
        document["sent"] = entry_json(outcome.entry)
        print(f"Logged #{outcome.entry.seq} as sent.", file=sys.stderr)
    _emit(out, args.json, document, text)
    return EXIT_OK


def _actions(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    from console.comms.actions import action_json, export_csv, parse_day
    from console.comms.actions import export_markdown as actions_markdown
    from console.comms.kit import CommsKit

    workspace = _open(args, folder)
    try:
        items = CommsKit.of(workspace).actions
        today = workspace.clock().date()
        incident_id = (
            workspace.queries.find_incident(args.incident).id
            if getattr(args, "incident", None)
            else None
        )
        if args.action == "list":
            if args.overdue:
                listed = [
                    i
                    for i in items.overdue(today)
                    if incident_id is None or i.incident_id == incident_id
                ]
            else:
                listed = items.items(incident_id=incident_id, open_only=args.open)
            if args.json:
                _emit(out, True, {"action_items": [action_json(i, today) for i in listed]}, "")
            elif args.format == "csv":
                out.write(export_csv(listed))
            elif args.format == "markdown":
                out.write(actions_markdown(listed, today))
            else:
                lines = [
                    f"{i.id:>4}  {i.status:<11} {i.priority} {i.kind:<8} "
                    f"{i.due_on.isoformat() if i.due_on else '—':<10} "
                    f"{'OVERDUE ' if i.overdue(today) else ''}{i.title} ({i.owner})"
                    for i in listed
                ]
                _emit(out, False, None, "\n".join(lines) if lines else "No action items.")
            return EXIT_OK
        if args.action == "add":
            item = items.add(
                " ".join(args.title),
                owner=args.owner,
                incident_id=incident_id,
                due_on=parse_day(args.due),
                priority=args.priority,
                kind=args.type,
            )
        else:
            item = items.done(args.item)
        _emit(
            out,
            args.json,
            action_json(item, today),
            f"Action item {item.id} ({item.status}): {item.title}",
        )
        return EXIT_OK
    finally:
        workspace.close()


def _import(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    if args.kind == "catalog":
        return _import_catalog(args, folder, out)
    if args.kind in ("contacts", "oncall"):
        return _import_people(args, folder, out)
    from console.cli.runbooks import report_problems
    from console.importers.runbooks import import_runbooks

    report = _import_with(args, folder, lambda ws, paths: import_runbooks(ws.db, paths))
    code = report_problems(report)
    counts = {
        "imported": report.imported,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "removed": report.removed,
    }
    warned = len({w.path for w in report.warnings})
    formats = ", ".join(f"{n} {name}" for name, n in sorted(report.formats.items()))
    lines = [
        f"Runbooks: {report.imported} new, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.removed} removed, "
        f"{len(report.refused)} refused"
        + (f", {len(report.skipped)} skipped" if report.skipped else "")
        + (
            f"; {_plural(len(report.warnings), 'warning')} in {_plural(warned, 'runbook')}"
            if warned
            else ""
        )
        + "."
    ]
    if formats:
        lines.append(
            f"Read as: {formats}"
            + (f" ({report.landing} landing pages)" if report.landing else "")
            + "."
        )
    for nothing in report.nothing_found:
        lines.append(f"Nothing recognised as a runbook in {nothing.folder}.")
    from console.cli.runbooks import source_lines, sources_json

    # each path named is a source: which, and (several) what the import did to each
    if len(report.sources) == 1:
        source = report.sources[0]
        lines.append(f"Source '{source.name}'" + (" (new)." if source.created else "."))
    else:
        lines += source_lines(report)
    _emit(
        out,
        args.json,
        {
            "sources": sources_json(report),
            **counts,
            "refused": [{"path": r.path, "reason": r.reason} for r in report.refused],
            "skipped": [{"path": r.path, "reason": r.reason} for r in report.skipped],
            "warnings": [{"path": w.path, "warning": w.reason} for w in report.warnings],
            "formats": dict(sorted(report.formats.items())),
            "landing": report.landing,
            "nothing_found": [
                {"folder": n.folder, "found": dict(n.found)} for n in report.nothing_found
            ],
        },
        "\n".join(lines),
    )
    return code


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _import_catalog(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    from console.importers.catalog import import_catalog

    report = _import_with(
        args, folder, lambda ws, paths: import_catalog(ws.db, paths, clock=ws.clock)
    )
    code = _import_exit(
        report.refused, report.read_any, [f"{p} [{p.code}]" for p in report.problems]
    )
    lines = [report.summary()]
    if report.skipped:
        lines.append(f"{len(report.skipped)} YAML files hold no catalog entity (skipped).")
    if report.ignored:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(report.ignored.items()))
        lines.append(f"Not services, passed over: {kinds}.")
    _emit(out, args.json, report.as_json(), "\n".join(lines))
    return code


def _import_people(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    from console.domain.oncall import zone
    from console.importers.oncall import import_people_and_schedules
    from console.importers.reach import check_region

    region = check_region(args.region)
    local = zone(args.tz) if args.tz else None
    workspace = _open(args, folder)
    try:
        report = import_people_and_schedules(
            workspace.db,
            [Path(p) for p in args.paths],
            region=region,
            weeks=args.weeks,
            local=local,
            clock=workspace.clock,
        )
    finally:
        workspace.close()
    for refusal in report.refused:
        print(refusal, file=sys.stderr)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    document = {
        "files": [
            {
                "path": f.path,
                "kind": f.kind,
                "contacts": f.contacts,
                "schedules": f.schedules,
                "shifts": f.shifts,
                "policies": f.policies,
            }
            for f in report.files
        ],
        "contacts": {
            "new": report.contacts_new,
            "updated": report.contacts_updated,
            "unchanged": report.contacts_unchanged,
        },
        "schedules": report.schedules,
        "shifts": report.shifts,
        "policies": report.policies,
        "refused": [{"path": r.path, "line": r.line, "reason": r.reason} for r in report.refused],
        "notes": [{"path": n.path, "line": n.line, "reason": n.reason} for n in report.notes],
    }
    _emit(
        out,
        args.json,
        document,
        f"Contacts: {report.contacts_new} new, {report.contacts_updated} updated, "
        f"{report.contacts_unchanged} unchanged. Schedules: {report.schedules} "
        f"({report.shifts} shifts). Escalation policies: {report.policies}. "
        f"{len(report.refused)} refused.",
    )
    if report.refused:
        return EXIT_PARTIAL if report.read_any else EXIT_FAILED
    return EXIT_OK


def _blast_radius(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    from console.catalog import catalog_for

    workspace = _open(args, folder)
    try:
        catalog = catalog_for(workspace)
        found = catalog.blast_radius(args.service, max_depth=args.depth)
        now = catalog.now()
    finally:
        workspace.close()

    def reached(items: Sequence[Any]) -> list[dict[str, Any]]:
        return [
            {
                "name": r.node.label,
                "ref": r.node.display_ref,
                "kind": r.node.kind,
                "owner": r.node.owner,
                "depth": r.depth,
                "via": r.via.label,
            }
            for r in items
        ]

    service = found.service
    fresh = found.freshness
    catalog_json = (
        {
            "imported_at": fresh.fetched_at.isoformat(),
            "source": fresh.source,
            "age_seconds": round(fresh.age_seconds(now)),
        }
        if fresh
        else None
    )
    document = {
        "service": {
            "name": service.label,
            "ref": service.display_ref,
            "kind": service.kind,
            "owner": service.owner,
            "system": service.system_label,
        },
        "catalog": catalog_json,
        "dependents": reached(found.dependents),
        "suspects": reached(found.suspects),
    }
    owner = f", owner {service.owner}" if service.owner else ", no owner"
    text = [f"{service.label} ({service.kind}{owner})"]
    text.append(
        f"Catalog {fresh.describe(now)} ({fresh.fetched_at:%Y-%m-%d %H:%M} UTC)."
        if fresh
        else "Catalog: never imported."
    )
    for title, items in (
        ("Blast radius — depends on it", found.dependents),
        ("Suspects — it depends on", found.suspects),
    ):
        text.append(f"{title}: {len(items)}")
        text += [
            f"  {r.depth:>2}  {r.node.label:<32} {r.node.kind:<10} {r.node.owner or '-':<16} "
            f"via {r.via.label}"
            for r in items
        ]
    _emit(out, args.json, document, "\n".join(text))
    return EXIT_OK


def _oncall(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    from console.domain.oncall import parse_at, zone
    from console.oncall import directory_for
    from console.oncall.export import answer_json, answer_text

    tz = zone(args.tz) if args.tz else None
    workspace = _open(args, folder)
    try:
        directory = directory_for(workspace)
        now = directory.now()
        if args.action == "export-ics":
            found, text = directory.export_ics(" ".join(args.person))
            if args.out:
                from console.files import write_file  # whole or not at all

                write_file(Path(args.out), text, what="the calendar")
                print(
                    f"Wrote {len(found.shifts)} shifts of {found.name} to {args.out}",
                    file=sys.stderr,
                )
            else:
                out.write(text)
            return EXIT_OK
        at = parse_at(args.at, now=now, tz=tz)
        answer = directory.who_is_on_call(at, args.service)
    finally:
        workspace.close()
    _emit(out, args.json, answer_json(answer, now), answer_text(answer, now=now, tz=tz))
    if args.service is not None and answer.policy is None:
        return EXIT_FAILED
    return EXIT_OK


def _people(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    from console.oncall import directory_for
    from console.oncall.export import contact_json

    workspace = _open(args, folder)
    try:
        found = directory_for(workspace).contacts(" ".join(args.query))
    finally:
        workspace.close()
    lines = []
    for contact in found:
        teams = f"  ({', '.join(contact.teams)})" if contact.teams else ""
        lines.append(f"{contact.name}{teams}")
        for method in contact.reach:
            flag = f"  (! {method.problem})" if method.problem else ""
            lines.append(f"    {method.kind.label:<7} {method.display}{flag}")
    _emit(
        out,
        args.json,
        {"people": [contact_json(c) for c in found]},
        "\n".join(lines) if lines else "No contacts match.",
    )
    return EXIT_OK


def _search(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    from console.search.runbooks import search_runbooks

    query = " ".join(args.query)
    workspace = _open(args, folder)
    try:
        found = search_runbooks(
            workspace.db,
            query,
            limit=args.limit,
            service=args.service,
            owner=args.owner,
            stale=True if args.stale else None,
            today=workspace.clock().date(),
        )
    finally:
        workspace.close()
    hits = found.hits
    results = [
        {
            "id": hit.slug,
            "title": hit.title,
            "path": hit.path,
            "snippet": hit.snippet,
            "score": hit.score,
            "owner": hit.owner,
            "services": list(hit.services),
            "last_reviewed": hit.last_reviewed.isoformat() if hit.last_reviewed else None,
            "overdue": hit.overdue,
        }
        for hit in hits
    ]
    lines = [f"Showing results for {found.corrected!r}."] if found.corrected and hits else []
    for hit in hits:
        flag = "  (review overdue)" if hit.overdue and hit.last_reviewed else ""
        lines.append(f"{hit.title}{flag}\n  {hit.path}\n  {hit.snippet}")
    _emit(
        out,
        args.json,
        {
            "query": query,
            "showing_results_for": found.corrected,
            "elapsed_ms": round(found.elapsed_ms, 3),
            "results": results,
        },
        "\n".join(lines) if lines else f"No runbook matches {query!r}.",
    )
    return EXIT_OK


def _account(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    from console.sync import Accounts, Tokens

    tokens = Tokens()
    workspace = _open(args, folder)
    try:
        accounts = Accounts(workspace.db, clock=workspace.clock)
        if args.action == "add":
            token = sys.stdin.readline().strip() if args.token_stdin else ""
            if args.token_stdin and not token:
                raise InvalidInputError("--token-stdin: standard input held no token")
            if token:
                tokens.store(args.vendor, token)  # before the settings: no half-added account
            account = accounts.add(
                args.vendor,
                base_url=args.base_url,
                from_email=args.from_email,
                default_service=args.default_service,
                mode=args.mode,
            )
            document = {**account.as_json(), "token": tokens.source(args.vendor)}
            hint = (
                ""
                if document["token"]
                else f"; no token yet: pipe one to --token-stdin or set {_token_env(args.vendor)}"
            )
            _emit(out, args.json, document, f"{account.vendor}: {account.base_url}{hint}")
            return EXIT_OK
        if args.action == "remove":
            accounts.remove(args.vendor)
            tokens.forget(args.vendor)
            out.write(f"{args.vendor}: removed; its token is forgotten\n")
            return EXIT_OK
        listed = [{**a.as_json(), "token": tokens.source(a.vendor)} for a in accounts.list()]
        lines = [
            f"{a['vendor']}\t{a['base_url']}\ttoken: {a['token'] or 'none'}"
            + (f"\tSTOPPED: {a['stopped']}" if a["stopped"] else "")
            for a in listed
        ]
        _emit(out, args.json, {"accounts": listed}, "\n".join(lines) or "No accounts.")
        return EXIT_OK
    finally:
        workspace.close()


def _token_env(vendor: str) -> str:
    from console.sync.tokens import ENV_VARS

    return ENV_VARS[vendor]


def _sync(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    from console.ops.outbox import Outbox
    from console.sync import Pusher, Tokens, sync_status
    from console.sync.pull import Puller

    tokens = Tokens()
    workspace = _open(args, folder)
    try:
        if args.action == "pull":
            pulled = Puller(workspace.db, tokens, clock=workspace.clock).run()
            _emit(
                out,
                args.json,
                {"pulled": [p.as_json() for p in pulled]},
                "\n".join(p.summary() for p in pulled) or "No accounts.",
            )
            return EXIT_PARTIAL if any(p.stopped or p.failed for p in pulled) else EXIT_OK
        if args.action == "once":
            pusher = Pusher(
                workspace.db,
                tokens,
                vendor=args.vendor,
                clock=workspace.clock,
                actor=args.actor or "sync",
            )
            report = pusher.run_pass()
            pulled = Puller(workspace.db, tokens, clock=workspace.clock).run()
            document = report.as_json()
            document["pulled"] = [p.as_json() for p in pulled]
            _emit(
                out,
                args.json,
                document,
                f"Pushed {report.pushed}, superseded {report.superseded}, failed "
                f"{report.failed}, deferred {report.deferred}; {report.waiting} waiting"
                + (f", {report.blocked} blocked (sync status says why)." if report.blocked else ".")
                + (f"\nStopped: {report.stopped}" if report.stopped else "")
                + "".join(f"\n{error}" for error in report.errors)
                + "".join(f"\n{p.summary()}" for p in pulled),
            )
            if report.stopped or report.failed or any(p.stopped or p.failed for p in pulled):
                return EXIT_PARTIAL
            return EXIT_OK
        if args.action == "retry":
            op = Outbox(workspace.db, clock=workspace.clock).retry(args.op_id)
            out.write(f"operation {op.id}: {op.state}\n")
            return EXIT_OK
        if args.action == "discard":
            return _sync_discard(workspace, args.op_id, args.with_dependants, out)
        status = sync_status(workspace.db, tokens, clock=workspace.clock)
        counts = status["outbox"]
        text = [
            f"{a['vendor']}: {a['base_url']}, token {a['token'] or 'missing'}, "
            f"last success {a['last_success_age']}"
            + (f", STOPPED: {a['stopped']}" if a["stopped"] else "")
            for a in status["accounts"]
        ] or ["No accounts."]
        blocked = counts["blocked"]
        text.append(
            f"Outbox: {counts['pending'] + counts['sent'] - blocked} waiting, "
            + (f"{blocked} blocked, " if blocked else "")
            + f"{counts['failed']} failed, {counts['superseded']} superseded, "
            f"{counts['done']} done."
        )
        text += [f"failed {f['id']} ({f['operation']}): {f['error']}" for f in status["failed"]]
        text += [_blocked_line(b) for b in status["blocked"]]
        text += [f"pulled {name}: {s['age']}" for name, s in status["pulled"].items()]
        _emit(out, args.json, status, "\n".join(text))
        return EXIT_OK
    finally:
        workspace.close()


def _blocked_line(blocked: dict[str, Any]) -> str:
    """``sync status``: one held-back operation, why, and the commands that decide."""
    line = f"blocked {blocked['id']} ({blocked['operation']}): {blocked['reason']}"
    cause = blocked["cause"]
    if cause is None:
        return f"{line}. Discard it: sync discard {blocked['id']}"
    if blocked["cause_state"] == "superseded":
        return (
            f"{line}. Retry the creation (sync retry {cause}) or discard these "
            f"(sync discard {cause} --with-dependants)"
        )
    return (
        f"{line}. Fix the cause and retry the creation (sync retry {cause}), or discard "
        f"it with these (sync discard {cause} --with-dependants)"
    )


def _sync_discard(workspace: Any, op_id: int, with_dependants: bool, out: TextIO) -> int:
    """Discard one operation; an incident's creation with later operations waiting
    behind it names them and needs ``--with-dependants``."""
    from console.ops.outbox import Outbox

    outbox = Outbox(workspace.db, clock=workspace.clock)
    dependants = outbox.dependants(op_id)
    op = outbox.discard(op_id, with_dependants=with_dependants)
    out.write(f"operation {op.id}: {op.state}\n")
    for dependant in dependants:
        out.write(f"operation {dependant.id} ({dependant.operation}): discarded with it\n")
    return EXIT_OK


def _db(args: argparse.Namespace, folder: Path, out: TextIO) -> int:
    from console.storage import (
        backup,
        diagnose,
        list_backups,
        newest_good_backup,
        open_database,
        restore_backup,
        start_empty,
    )

    path = database_path(folder)
    if args.action == "backups":
        found = list_backups(folder)
        _emit(
            out,
            getattr(args, "json", False),
            {"backups": [str(p) for p in found]},
            "\n".join(str(p) for p in found) or "No backups.",
        )
        return EXIT_OK
    if args.action == "set-aside":
        aside = start_empty(path)
        _emit(
            out,
            False,
            None,
            f"Moved {path} aside to {aside}; started with an empty database"
            if aside is not None
            else f"There was no database at {path}; started with an empty one",
        )
        return EXIT_OK
    if args.action == "restore":
        if args.backup:
            chosen: Path | None = Path(args.backup)
        else:
            chosen, bad = newest_good_backup(folder)
            if chosen is None:
                detail = "; ".join(f"{p.name}: {reason}" for p, reason in bad[:3])
                raise StorageError(
                    f"There is no backup in {folder / 'backups'}"
                    + (f" that passes its check ({detail})" if bad else "")
                    + ". Nothing was changed."
                )
        assert chosen is not None
        aside = restore_backup(path, chosen)
        note = f" (the previous file is kept at {aside})" if aside else ""
        _emit(out, False, None, f"Restored {path} from {chosen}{note}")
        return EXIT_OK
    if args.action == "backup":
        open_database(path).close()
        _emit(out, False, None, f"Backed up to {backup(path, reason='manual')}")
        return EXIT_OK
    # check: locked, read-only, missing, empty and damaged told apart, each with its way out
    diagnosis = diagnose(path)
    _emit(
        out,
        args.json,
        {
            "path": str(path),
            "ok": diagnosis.ok,
            "state": diagnosis.state,
            "problems": list(diagnosis.problems),
            "message": diagnosis.message,
        },
        diagnosis.message
        if diagnosis.ok
        else f"{path}: {diagnosis.state}" + "".join(f"\n{p}" for p in diagnosis.problems[:20]),
    )
    if not diagnosis.ok:
        print(f"responder-console: {diagnosis.message}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
