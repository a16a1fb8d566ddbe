"""The readiness checks: fixed, set-based SQL on stdlib sqlite3, one snapshot.

Each check is one statement (or two) over a whole table, never a query per
service or per runbook, and returns its findings plus the objects it looked
at in its area (the denominators of the scores, :func:`console.domain.audit.score_areas`).

What counts as what:

* **services** are catalog entities of kind component or resource (systems, APIs and
  domains group or describe them; nobody is paged for an API document). Tier 1
  (``tier-1``, ``tier1``, ``1``, ``critical``) makes a service finding *high*.
* a service **has a runbook** when an imported runbook names it in ``services:``
  (case-insensitive); a runbook only linked from the catalog (``runbook:``) is not
  available offline, so the finding stays and its fix says to import it.
* **known alerts** come from three sources: runbooks' ``alerts:`` lists; catalog
  annotations whose key ends in ``/alerts`` or ``/alert`` (``prometheus.io/alerts:
  "A, B"``); and incidents' timeline entries that name one as ``Alert Name`` /
  ``alert: Name`` (a CamelCase name, so "alert fired" is not an alert).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from console.domain.audit import Area, AuditObject, Finding, ObjectKind, Severity, finding
from console.domain.freshness import FRESHNESS_LIMITS, describe_age
from console.domain.oncall import Gap
from console.domain.runbook import review_due
from console.oncall.lookup import gaps_after
from console.search.runbooks import filter_clauses
from console.storage.models import parse_utc

#: how far ahead schedules are checked for holes
GAP_HORIZON = timedelta(days=14)
#: a gap that starts sooner than this is high severity
GAP_URGENT = timedelta(hours=24)
SERVICE_KINDS = ("component", "resource")
CRITICAL_TIERS = frozenset({"tier-1", "tier1", "1", "critical", "mission-critical"})
MAJOR_SEVERITIES = ("SEV1", "SEV2")
DONE_STATUSES = ("resolved", "post-incident", "closed")
#: cached sets and the area their staleness weakens
CACHE_AREAS = {"catalog": Area.OWNED, "people": Area.REACHABLE, "schedules": Area.REACHABLE}

_ALERT_MENTION = re.compile(r"\balert(?:name)?\b[\s:=\"'`]*([A-Z][A-Za-z0-9_]+)", re.IGNORECASE)
_ALERT_NAME = re.compile(r"^[A-Z][A-Za-z0-9_]*[A-Z][A-Za-z0-9_]*$")
_SPLIT = re.compile(r"[\s,;]+")
_TIME = "%a %d %b %H:%M UTC"


@dataclass(frozen=True)
class Context:
    now: datetime

    @property
    def today(self) -> date:
        return self.now.date()


@dataclass
class Found:
    """What the checks found so far, and every object each area looked at."""

    findings: list[Finding] = field(default_factory=list)
    checked: dict[Area, set[str]] = field(default_factory=lambda: defaultdict(set))

    def look(self, area: Area, objects: Iterable[AuditObject]) -> None:
        self.checked[area].update(obj.ident for obj in objects)

    def look_keys(self, area: Area, kind: ObjectKind, rows: Iterable[tuple[object]]) -> None:
        """Every key of one column (``SELECT id FROM …``), without making objects."""
        prefix = f"{kind}:"
        self.checked[area].update(f"{prefix}{key}" for (key,) in rows)


Check = Callable[[sqlite3.Connection, Context, Found], None]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _critical(tier: str | None) -> bool:
    return tier is not None and tier.strip().lower().replace(" ", "-") in CRITICAL_TIERS


def _service_severity(tier: str | None) -> Severity:
    return Severity.HIGH if _critical(tier) else Severity.MEDIUM


# ------------------------------------------------------------------ services


def check_services(raw: sqlite3.Connection, ctx: Context, found: Found) -> None:
    """Services without an owner, an escalation policy or a runbook (one statement)."""
    rows = raw.execute(
        "WITH covered(name) AS (SELECT DISTINCT lower(j.value) FROM runbooks r, "
        "json_each(r.services) j WHERE j.type = 'text') "
        "SELECT s.ref, s.name, s.tier, s.owner, "
        "EXISTS (SELECT 1 FROM service_policies sp WHERE sp.service_name = s.name), "
        "lower(s.name) IN covered, "
        "(SELECT json_extract(l.value, '$.url') FROM json_each(s.links) l "
        " WHERE lower(json_extract(l.value, '$.title')) = 'runbook' LIMIT 1) "
        f"FROM services s WHERE s.kind IN ({','.join('?' * len(SERVICE_KINDS))}) "
        "ORDER BY s.name COLLATE NOCASE, s.ref",
        SERVICE_KINDS,
    ).fetchall()
    for ref, name, tier, owner, has_policy, has_runbook, link in rows:
        service = AuditObject(ObjectKind.SERVICE, ref, name)
        found.look(Area.OWNED, (service,))
        found.look(Area.RUNBOOKED, (service,))
        severity = _service_severity(tier)
        if not (owner or "").strip():
            found.findings.append(
                finding(
                    "service-without-owner",
                    Area.OWNED,
                    severity,
                    f"Service {name} has no owner",
                    (service,),
                    f"Set `owner:` on {name} in the catalog to the team that answers its pages, "
                    "and import the catalog again.",
                )
            )
        if not has_policy:
            found.findings.append(
                finding(
                    "service-without-escalation-policy",
                    Area.OWNED,
                    severity,
                    f"Service {name} has no escalation policy: nobody is paged for it",
                    (service,),
                    f"Add {name} to the `services:` of an escalation policy (its owner's) and "
                    "import the policies again (responder-console import oncall).",
                )
            )
        if not has_runbook:
            fix = (
                f"Import the runbook the catalog links for {name} ({link}) so it is there "
                "offline, with "
                if link
                else f"Write a runbook for {name} (symptoms, diagnosis, resolution) with "
            ) + f"`services: [{name}]` in its front matter, and import it."
            found.findings.append(
                finding(
                    "service-without-runbook",
                    Area.RUNBOOKED,
                    severity,
                    f"Service {name} has no runbook"
                    + (" available offline (only a link)" if link else ""),
                    (service,),
                    fix,
                )
            )


# ------------------------------------------------------------------ runbooks


def check_runbook_reviews(raw: sqlite3.Connection, ctx: Context, found: Found) -> None:
    """Runbooks past their review date, or never reviewed (the search filter's rule)."""
    found.look_keys(Area.RUNBOOKED, ObjectKind.RUNBOOK, raw.execute("SELECT id FROM runbooks"))
    where, params = filter_clauses(service=None, owner=None, stale=True, today=ctx.today)
    rows = raw.execute(
        "SELECT r.id, r.slug, r.title, r.owner, r.last_reviewed, r.review_every_days "
        f"FROM runbooks r WHERE {' AND '.join(where)} ORDER BY r.title COLLATE NOCASE, r.id",
        params,
    ).fetchall()
    # one finding per overdue runbook (thousands in a big library): enum members and
    # the date are looked up once, not per row (measured: 40 % of this check's time)
    kind, area, medium, low = ObjectKind.RUNBOOK, Area.RUNBOOKED, Severity.MEDIUM, Severity.LOW
    today, stamp = ctx.today, ctx.today.isoformat()
    for rid, slug, title, owner, last, every in rows:
        who = f" with {owner}" if owner else ""
        if last is None:
            severity, title_text = medium, f"Runbook {title} was never reviewed"
        else:
            due = review_due(date.fromisoformat(last), every, today)
            late = (today - due).days
            severity = medium if late > every else low
            title_text = f"Runbook {title} is {late} days past its review date ({due})"
        found.findings.append(
            finding(
                "runbook-review-overdue",
                area,
                severity,
                title_text,
                (AuditObject(kind, str(rid), title),),
                f"Review {slug}{who}: walk its steps against the system as it is today, "
                f"then set `last_reviewed: {stamp}` in its front matter and import it again.",
            )
        )


def check_runbook_warnings(raw: sqlite3.Connection, ctx: Context, found: Found) -> None:
    """Runbooks imported with warnings (an unclosed code fence, front matter that is
    not YAML, a value of the wrong kind): shown, but their files need fixing."""
    rows = raw.execute(
        "SELECT id, slug, title, path, warnings FROM runbooks WHERE warnings != '[]' "
        "ORDER BY title COLLATE NOCASE, id"
    ).fetchall()
    kind, area, low = ObjectKind.RUNBOOK, Area.RUNBOOKED, Severity.LOW
    for rid, slug, title, path, stored in rows:
        warnings = [str(w) for w in json.loads(stored or "[]")]
        if not warnings:
            continue
        count = f"{len(warnings)} warning" + ("" if len(warnings) == 1 else "s")
        found.findings.append(
            finding(
                "runbook-import-warnings",
                area,
                low,
                f"Runbook {title} was imported with {count}",
                (AuditObject(kind, str(rid), title),),
                f"Fix {path} ({slug}): " + "; ".join(warnings) + ". Then import it again.",
            )
        )


def alert_mentions(text: str) -> list[str]:
    """Alert names a timeline entry names (``Alert OrdersApi5xxRate fired``)."""
    return [name for name in _ALERT_MENTION.findall(text) if _ALERT_NAME.match(name)]


def check_alerts(raw: sqlite3.Connection, ctx: Context, found: Found) -> None:
    """Alerts the catalog or an incident knows that no runbook names."""
    covered = {
        name
        for (name,) in raw.execute(
            "SELECT DISTINCT lower(j.value) FROM runbooks r, json_each(r.alerts) j "
            "WHERE j.type = 'text'"
        )
    }
    spelled: dict[str, str] = {}
    services: dict[str, list[AuditObject]] = defaultdict(list)
    incidents: dict[str, list[AuditObject]] = defaultdict(list)
    for ref, name, value in raw.execute(
        "SELECT s.ref, s.name, a.value FROM services s, json_each(s.annotations) a "
        "WHERE (a.key LIKE '%/alerts' OR a.key LIKE '%/alert') AND a.type = 'text' "
        "ORDER BY s.name COLLATE NOCASE, s.ref"
    ):
        for alert in filter(None, _SPLIT.split(str(value))):
            spelled.setdefault(alert.lower(), alert)
            services[alert.lower()].append(AuditObject(ObjectKind.SERVICE, ref, name))
    seen: set[tuple[str, int]] = set()
    for incident_id, title, text in raw.execute(
        "SELECT t.incident_id, i.title, t.text FROM timeline_entries t "
        "JOIN incidents i ON i.id = t.incident_id WHERE t.text LIKE '%alert%' "
        "ORDER BY t.incident_id, t.seq"
    ):
        for alert in alert_mentions(text):
            spelled.setdefault(alert.lower(), alert)
            if (alert.lower(), incident_id) not in seen:
                seen.add((alert.lower(), incident_id))
                incidents[alert.lower()].append(
                    AuditObject(ObjectKind.INCIDENT, str(incident_id), f"#{incident_id} {title}")
                )
    for key in sorted(spelled):
        alert = AuditObject(ObjectKind.ALERT, spelled[key], spelled[key])
        found.look(Area.RUNBOOKED, (alert,))
        if key in covered:
            continue
        fired = incidents.get(key, [])
        where = ", ".join(obj.label for obj in services.get(key, [])[:3])
        found.findings.append(
            finding(
                "alert-without-runbook",
                Area.RUNBOOKED,
                Severity.HIGH if fired else Severity.MEDIUM,
                f"Alert {alert.label} has no runbook"
                + (
                    f" (it fired in {len(fired)} incident{'s' * (len(fired) > 1)})" if fired else ""
                ),
                (alert, *services.get(key, []), *fired),
                f"Write a runbook with `alerts: [{alert.label}]` in its front matter"
                + (f" and `services: [{where}]`" if where else "")
                + ", or add the alert to the runbook that already handles it.",
            )
        )


# ------------------------------------------------------------ people and paging


def check_policies(raw: sqlite3.Connection, ctx: Context, found: Found) -> None:
    """Escalation policies with a single level, or whose every target is one person."""
    rows = raw.execute(
        "SELECT p.key, p.name, "
        "(SELECT count(*) FROM escalation_levels l WHERE l.policy_id = p.id), "
        "(SELECT count(*) FROM escalation_targets t JOIN escalation_levels l "
        " ON l.id = t.level_id WHERE l.policy_id = p.id AND t.kind != 'person'), "
        "(SELECT count(DISTINCT lower(t.ref)) FROM escalation_targets t JOIN escalation_levels l "
        " ON l.id = t.level_id WHERE l.policy_id = p.id AND t.kind = 'person'), "
        "(SELECT min(t.name) FROM escalation_targets t JOIN escalation_levels l "
        " ON l.id = t.level_id WHERE l.policy_id = p.id AND t.kind = 'person'), "
        "(SELECT group_concat(sp.service_name, ', ') FROM service_policies sp "
        " WHERE sp.policy_id = p.id) "
        "FROM escalation_policies p ORDER BY p.name COLLATE NOCASE, p.key"
    ).fetchall()
    for key, name, levels, others, persons, person, services in rows:
        policy = AuditObject(ObjectKind.POLICY, key, name)
        found.look(Area.REACHABLE, (policy,))
        pages = f" (pages for {services})" if services else ""
        if levels <= 1:
            found.findings.append(
                finding(
                    "policy-single-level",
                    Area.REACHABLE,
                    Severity.HIGH,
                    f"Escalation policy {name} has {'no level' if levels == 0 else 'one level'}"
                    f"{pages}: a missed page goes nowhere",
                    (policy,),
                    f"Add a second level to {name}: a secondary schedule or the owning team, "
                    "paged after 10-15 minutes.",
                )
            )
        if levels and others == 0 and persons == 1:
            found.findings.append(
                finding(
                    "policy-single-person",
                    Area.REACHABLE,
                    Severity.HIGH,
                    f"Escalation policy {name} pages only {person}{pages}",
                    (policy,),
                    f"Page a schedule or a team from {name} instead of {person} alone, so "
                    "holidays, sleep and a dead phone do not leave it unanswered.",
                )
            )


def _when(gap: Gap) -> str:
    return f"{gap.start:{_TIME}} – {gap.end:{_TIME}}"


def check_schedules(raw: sqlite3.Connection, ctx: Context, found: Found) -> None:
    """Schedules with a coverage gap in the next 14 days (the on-call lookup's sweep)."""
    rows = raw.execute(
        "SELECT id, key, name, covered_until FROM schedules ORDER BY name COLLATE NOCASE, key"
    ).fetchall()
    until = ctx.now + GAP_HORIZON
    holes = gaps_after(raw, ctx.now, [row[0] for row in rows], until=until)
    for sid, key, name, covered_until in rows:
        schedule = AuditObject(ObjectKind.SCHEDULE, key, name)
        found.look(Area.REACHABLE, (schedule,))
        gaps = holes.get(sid, [])
        if not gaps:
            continue
        total = sum((gap.duration for gap in gaps), timedelta())
        hours = total.total_seconds() / 3600
        urgent = gaps[0].start - ctx.now < GAP_URGENT
        cached = parse_utc(covered_until) if covered_until else None
        short = cached is None or cached < until
        fix = f"Cover {_when(gaps[0])} in {name} with a shift or an override"
        if short:
            fix += (
                "; its cached shifts end "
                + ("nowhere (none cached)" if cached is None else f"{cached:{_TIME}}")
                + ": import a fresh schedule (responder-console import oncall)"
            )
        found.findings.append(
            finding(
                "schedule-gap",
                Area.REACHABLE,
                Severity.HIGH if urgent else Severity.MEDIUM,
                f"Schedule {name} has {_count(len(gaps), 'gap')} in the next 14 days "
                f"({hours:.0f} h uncovered; first {_when(gaps[0])})",
                (schedule,),
                fix + ".",
            )
        )


def check_contacts(raw: sqlite3.Connection, ctx: Context, found: Found) -> None:
    """Contacts with fewer than two ways to reach them (their e-mail counts as one)."""
    rows = raw.execute(
        "SELECT p.id, p.name, "
        "(SELECT count(*) FROM reach_methods r WHERE r.person_id = p.id) "
        "+ (p.email IS NOT NULL AND NOT EXISTS (SELECT 1 FROM reach_methods e "
        "   WHERE e.person_id = p.id AND e.kind = 'email' AND lower(e.value) = p.email)), "
        "(SELECT group_concat(r.kind) FROM reach_methods r WHERE r.person_id = p.id) "
        "FROM people p ORDER BY p.name COLLATE NOCASE, p.id"
    ).fetchall()
    for pid, name, methods, kinds in rows:
        person = AuditObject(ObjectKind.PERSON, str(pid), name)
        found.look(Area.REACHABLE, (person,))
        if methods >= 2:
            continue
        only = kinds or ("email" if methods else "")
        found.findings.append(
            finding(
                "contact-single-reach-method",
                Area.REACHABLE,
                Severity.HIGH if methods == 0 else Severity.MEDIUM,
                f"{name} has no way to be reached"
                if methods == 0
                else f"{name} can be reached only by {only}",
                (person,),
                f"Add a second way to reach {name} (a mobile and a backup number, or chat) "
                "to the contacts and import them again.",
            )
        )


# --------------------------------------------------------- learning, improving


def check_postmortems(raw: sqlite3.Connection, ctx: Context, found: Found) -> None:
    """Resolved SEV1/SEV2 incidents without a postmortem; postmortems without actions."""
    rows = raw.execute(
        "SELECT i.id, i.title, i.severity, pm.id IS NOT NULL, "
        "EXISTS (SELECT 1 FROM action_items a WHERE a.incident_id = i.id) "
        "FROM incidents i LEFT JOIN postmortems pm ON pm.incident_id = i.id "
        f"WHERE pm.id IS NOT NULL OR (i.severity IN ({','.join('?' * len(MAJOR_SEVERITIES))}) "
        f"AND i.status IN ({','.join('?' * len(DONE_STATUSES))})) ORDER BY i.id",
        (*MAJOR_SEVERITIES, *DONE_STATUSES),
    ).fetchall()
    for iid, title, severity, has_postmortem, has_actions in rows:
        incident = AuditObject(ObjectKind.INCIDENT, str(iid), f"#{iid} {title}")
        found.look(Area.LEARNING, (incident,))
        if not has_postmortem:
            found.findings.append(
                finding(
                    "incident-without-postmortem",
                    Area.LEARNING,
                    Severity.HIGH if severity == "SEV1" else Severity.MEDIUM,
                    f"{severity} incident #{iid} ({title}) has no postmortem",
                    (incident,),
                    f"Draft the postmortem of incident {iid} (Comms → Postmortem, or "
                    f"responder-console incident export {iid} --postmortem) and review it "
                    "with the responders.",
                )
            )
        elif not has_actions:
            found.findings.append(
                finding(
                    "postmortem-without-action-items",
                    Area.LEARNING,
                    Severity.MEDIUM,
                    f"The postmortem of #{iid} ({title}) has no action items",
                    (incident,),
                    f"Add at least one detect, prevent or mitigate action item to incident {iid} "
                    f"with an owner and a due date (responder-console actions add … "
                    f"--incident {iid}).",
                )
            )


def check_action_items(raw: sqlite3.Connection, ctx: Context, found: Found) -> None:
    """Open action items past their due date (the ``(status, due_on)`` index)."""
    found.look_keys(
        Area.IMPROVING,
        ObjectKind.ACTION_ITEM,
        raw.execute("SELECT id FROM action_items WHERE status != 'dropped'"),
    )
    rows = raw.execute(
        "SELECT a.id, a.title, a.owner, a.due_on, a.priority, a.incident_id, i.title "
        "FROM action_items a LEFT JOIN incidents i ON i.id = a.incident_id "
        "WHERE a.status IN ('open', 'in_progress') AND a.due_on < ? "
        "ORDER BY a.due_on, a.priority, a.id",
        (ctx.today.isoformat(),),
    ).fetchall()
    for aid, title, owner, due_on, priority, incident_id, incident_title in rows:
        objects = [AuditObject(ObjectKind.ACTION_ITEM, str(aid), title)]
        if incident_id is not None:
            objects.append(
                AuditObject(
                    ObjectKind.INCIDENT, str(incident_id), f"#{incident_id} {incident_title}"
                )
            )
        late = (ctx.today - date.fromisoformat(due_on)).days
        found.findings.append(
            finding(
                "action-item-overdue",
                Area.IMPROVING,
                Severity.HIGH if priority in ("P1", "P2") else Severity.MEDIUM,
                f"{priority} action item {aid} ({title}) is {late} days overdue ({owner})",
                objects,
                f"Ask {owner} to finish action item {aid} or set a new due date; drop it "
                "if it no longer matters (responder-console actions done "
                f"{aid} when it is done).",
            )
        )


def check_caches(raw: sqlite3.Connection, ctx: Context, found: Found) -> None:
    """Cached sets older than their freshness limit, or never imported."""
    stamped = {
        name: (parse_utc(when), source)
        for name, when, source in raw.execute("SELECT name, fetched_at, source FROM cache_sets")
    }
    for name, limit in FRESHNESS_LIMITS.items():
        area = CACHE_AREAS[name]
        cache = AuditObject(ObjectKind.CACHE, name, f"{name} cache")
        found.look(area, (cache,))
        command = "catalog" if name == "catalog" else "contacts" if name == "people" else "oncall"
        fix = f"Import fresh {name} (responder-console import {command} …) or sync the account."
        if name not in stamped:
            found.findings.append(
                finding(
                    "cache-stale",
                    area,
                    Severity.HIGH,
                    f"No {name} were ever imported",
                    (cache,),
                    fix,
                )
            )
            continue
        fetched, source = stamped[name]
        age = ctx.now - fetched
        if age <= limit:
            continue
        found.findings.append(
            finding(
                "cache-stale",
                area,
                Severity.HIGH if age > 2 * limit else Severity.MEDIUM,
                f"The {name} cache is {describe_age(fetched, ctx.now).removesuffix(' ago')} old "
                f"(limit {limit.days} days; from {source})",
                (cache,),
                fix,
            )
        )


#: every check, in the order the report lists areas
CHECKS: tuple[Check, ...] = (
    check_services,
    check_caches,
    check_policies,
    check_schedules,
    check_contacts,
    check_runbook_reviews,
    check_runbook_warnings,
    check_alerts,
    check_postmortems,
    check_action_items,
)


def run_checks(raw: sqlite3.Connection, now: datetime) -> Found:
    found = Found()
    ctx = Context(now)
    for check in CHECKS:
        check(raw, ctx, found)
    return found
