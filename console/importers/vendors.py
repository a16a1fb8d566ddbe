"""Saved JSON responses of PagerDuty's and Opsgenie's APIs → contact, schedule and policy drafts.

The shape is recognised from the content (never the file name):

==========================  =================================================================
PagerDuty ``/oncalls``       ``{"oncalls": [...]}``
``/schedules/{id}``          ``{"schedule": {... "final_schedule" | "schedule_layers" ...}}``
``/schedules``               ``{"schedules": [...]}`` (names and zones only, no shifts)
``/escalation_policies``     ``{"escalation_policies": [...]}`` or ``{"escalation_policy": {}}``
``/users``                   ``{"users": [...]}`` or ``{"user": {...}}`` (+ contact_methods)
``/users/{id}/contact_...``  ``{"contact_methods": [...]}``
Opsgenie on-calls            ``{"data": {"_parent": ..., "onCallParticipants"|...}}``
Opsgenie timeline            ``{"data": {"_parent": ..., "finalTimeline"|"baseTimeline"}}``
==========================  =================================================================

Every shape error names the place in the document (``oncalls[3].start``) and
what was expected. An entry that cannot be read is refused alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from console.domain.oncall import FOREVER_END, FOREVER_START, ReachKind, Refusal, Shift, TargetKind
from console.importers.contacts import ContactDraft
from console.importers.reach import kind_of, method, valid_email
from console.importers.schedules import (
    LevelDraft,
    ParsedFile,
    PolicyDraft,
    ScheduleDraft,
    TargetDraft,
)

#: An Opsgenie on-calls response says who is on call *when it was fetched* and
#: carries no times: it is kept as a shift of this length from the file's
#: modification time (README, "On-call files").
SNAPSHOT_VALIDITY = timedelta(hours=1)
PD, OG = "pagerduty", "opsgenie"


class ShapeError(ValueError):
    """The document is not the response it looks like; the message names where."""


class ZeroLengthShift(Exception):  # noqa: N818 - not an error: a note
    """An entry whose end equals its start: no time on call, skipped with a note."""


def _span(start: datetime, end: datetime, place: str) -> None:
    """Refuse an entry that ends before it starts; skip (with a note) one of no length."""
    if end < start:
        raise ShapeError(f"{place}: ends before it starts")
    if end == start:
        raise ZeroLengthShift(
            f"{place}: shift of no length skipped (its end equals its start, {start.isoformat()})"
        )


def parse_vendor_json(
    document: object, path: str, *, saved_at: datetime, region: str | None
) -> ParsedFile:
    """Recognise and parse one saved response. ShapeError when it is none we know."""
    if isinstance(document, dict):
        for keys, parser in _SHAPES:
            if any(key in document for key in keys):
                return parser(document, path, saved_at, region)
        data = document.get("data")
        if isinstance(data, dict) and "_parent" in data:
            if any(k in data for k in ("finalTimeline", "baseTimeline", "overrideTimeline")):
                return _opsgenie_timeline(data, path)
            if any(k in data for k in ("onCallParticipants", "onCallRecipients")):
                return _opsgenie_oncalls(data, path, saved_at)
        found = ", ".join(sorted(map(str, document))[:8]) or "none"
        raise ShapeError(
            f"JSON of an unknown shape (top-level keys: {found}); expected a saved PagerDuty "
            "response (oncalls, schedule, schedules, escalation_policies, users, "
            "contact_methods) or an Opsgenie on-calls/timeline response"
        )
    raise ShapeError(
        f"JSON of an unknown shape (a {_kind(document)} at the top); expected an object "
        'such as PagerDuty\'s {"oncalls": [...]} or Opsgenie\'s {"data": {...}}'
    )


def _kind(value: object) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


# -------------------------------------------------------------------- helpers


def _time(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise ShapeError(f"{where}: expected a date-time string, found a {_kind(value)}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ShapeError(f"{where}: {value!r} is not an ISO-8601 date-time") from None
    if parsed.tzinfo is None:
        raise ShapeError(f"{where}: {value!r} has no UTC offset")
    return parsed


def _list(document: dict[str, Any], key: str, where: str) -> list[Any]:
    value = document.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ShapeError(f"{where}{key}: expected a list, found a {_kind(value)}")
    return value


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ShapeError(f"{where}: expected an object, found a {_kind(value)}")
    return value


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _each(
    items: list[Any], where: str, path: str, parsed: ParsedFile, read: Callable[[Any, str], None]
) -> None:
    """Run ``read`` on every entry; a ShapeError refuses that entry alone."""
    for index, item in enumerate(items):
        place = f"{where}[{index}]"
        try:
            read(item, place)
        except ShapeError as error:
            parsed.refused.append(Refusal(path, str(error)))
        except ZeroLengthShift as note:
            parsed.notes.append(Refusal(path, str(note)))


# ------------------------------------------------------------------ PagerDuty


def _pd_person(user: object, where: str) -> tuple[str, str | None, str | None]:
    """(name, e-mail, vendor ref) of a PagerDuty user or user reference."""
    data = _object(user, where)
    name = _text(data.get("name")) or _text(data.get("summary"))
    ref = f"{PD}:{data['id']}" if isinstance(data.get("id"), str) else None
    if not name and ref is None:
        raise ShapeError(f"{where}: a user without an id or a name")
    return name or ref or "", valid_email(_text(data.get("email"))), ref


def _pd_oncalls(
    document: dict[str, Any], path: str, _saved: datetime, _r: str | None
) -> ParsedFile:
    parsed = ParsedFile(kind="pagerduty-oncalls")
    drafts: dict[str, ScheduleDraft] = {}

    def read(entry: object, where: str) -> None:
        data = _object(entry, where)
        name, email, ref = _pd_person(data.get("user"), f"{where}.user")
        start = _time(data["start"], f"{where}.start") if data.get("start") else FOREVER_START
        end = _time(data["end"], f"{where}.end") if data.get("end") else FOREVER_END
        _span(start, end, where)
        schedule = data.get("schedule")
        level = data.get("escalation_level")
        if isinstance(schedule, dict) and schedule.get("id"):
            key = f"{PD}:{schedule['id']}"
            label = _text(schedule.get("summary")) or key
        else:
            policy = _object(data.get("escalation_policy"), f"{where}.escalation_policy")
            if not policy.get("id"):
                raise ShapeError(f"{where}: neither a schedule nor an escalation policy")
            key = f"{PD}:{policy['id']}:level{level}"
            label = f"{_text(policy.get('summary')) or policy['id']} — level {level} (direct)"
        draft = drafts.setdefault(key, ScheduleDraft(key=key, name=label))
        draft.shifts.append(Shift(start, end, name, email=email, ref=ref, layer="on-call"))

    _each(_list(document, "oncalls", ""), "oncalls", path, parsed, read)
    parsed.schedules.extend(drafts.values())
    return parsed


def _pd_schedule(
    document: dict[str, Any], path: str, _saved: datetime, _r: str | None
) -> ParsedFile:
    parsed = ParsedFile(kind="pagerduty-schedule")
    data = _object(document["schedule"], "schedule")
    draft = _pd_schedule_draft(data, "schedule")
    final = data.get("final_schedule")
    overrides = data.get("overrides_subschedule")

    def entries(holder: object, where: str, layer: str, priority: int, override: bool) -> None:
        if holder is None:
            return
        block = _object(holder, where)

        def read(entry: object, place: str) -> None:
            item = _object(entry, place)
            name, email, ref = _pd_person(item.get("user"), f"{place}.user")
            start = _time(item.get("start"), f"{place}.start")
            end = _time(item.get("end"), f"{place}.end")
            _span(start, end, place)
            draft.shifts.append(
                Shift(start, end, name, email=email, ref=ref, layer=layer, priority=priority,
                      override=override)
            )  # fmt: skip

        key = "rendered_schedule_entries"
        _each(_list(block, key, f"{where}."), f"{where}.{key}", path, parsed, read)

    if final is not None:
        # The final schedule is PagerDuty's own resolution of layers and overrides;
        # overrides are kept as overrides too, so an answer can say so.
        entries(final, "schedule.final_schedule", "final", 0, False)
        entries(overrides, "schedule.overrides_subschedule", "override", 0, True)
    else:
        for index, layer in enumerate(_list(data, "schedule_layers", "schedule.")):
            where = f"schedule.schedule_layers[{index}]"
            label = _text(_object(layer, where).get("name")) or f"Layer {index + 1}"
            entries(layer, where, label, index, False)
        entries(overrides, "schedule.overrides_subschedule", "override", 0, True)
    since, until = data.get("since") or document.get("since"), data.get("until")
    if since and until:
        draft.window = (_time(since, "schedule.since"), _time(until, "schedule.until"))
    parsed.schedules.append(draft)
    return parsed


def _pd_schedule_draft(data: dict[str, Any], where: str) -> ScheduleDraft:
    if not isinstance(data.get("id"), str):
        raise ShapeError(f"{where}.id: a schedule needs its id")
    key = f"{PD}:{data['id']}"
    zone = _text(data.get("time_zone")) or None
    return ScheduleDraft(key=key, name=_text(data.get("name")) or key, time_zone=zone)


def _pd_schedules(
    document: dict[str, Any], path: str, _saved: datetime, _r: str | None
) -> ParsedFile:
    parsed = ParsedFile(kind="pagerduty-schedules")

    def read(entry: object, where: str) -> None:
        parsed.schedules.append(_pd_schedule_draft(_object(entry, where), where))

    _each(_list(document, "schedules", ""), "schedules", path, parsed, read)
    return parsed


def _pd_policies(
    document: dict[str, Any], path: str, _saved: datetime, _r: str | None
) -> ParsedFile:
    parsed = ParsedFile(kind="pagerduty-escalation-policies")
    items = (
        [document["escalation_policy"]]
        if "escalation_policy" in document
        else _list(document, "escalation_policies", "")
    )

    def read(entry: object, where: str) -> None:
        data = _object(entry, where)
        if not isinstance(data.get("id"), str):
            raise ShapeError(f"{where}.id: a policy needs its id")
        key = f"{PD}:{data['id']}"
        loops = data.get("num_loops")
        policy = PolicyDraft(
            key=key,
            name=_text(data.get("name")) or _text(data.get("summary")) or key,
            repeat=loops if isinstance(loops, int) and loops > 0 else 0,
        )
        for number, rule in enumerate(_list(data, "escalation_rules", f"{where}.")):
            place = f"{where}.escalation_rules[{number}]"
            rule_data = _object(rule, place)
            delay = rule_data.get("escalation_delay_in_minutes", 0)
            if not isinstance(delay, int) or delay < 0:
                raise ShapeError(f"{place}.escalation_delay_in_minutes: not a number of minutes")
            level = LevelDraft(delay_minutes=delay)
            for t_index, target in enumerate(_list(rule_data, "targets", f"{place}.")):
                spot = f"{place}.targets[{t_index}]"
                item = _object(target, spot)
                kind = _text(item.get("type")).removesuffix("_reference")
                if not isinstance(item.get("id"), str):
                    raise ShapeError(f"{spot}.id: a target needs its id")
                label = _text(item.get("summary")) or _text(item.get("name")) or item["id"]
                if kind == "user":
                    level.targets.append(
                        TargetDraft(TargetKind.PERSON, f"{PD}:{item['id']}", label)
                    )
                elif kind == "schedule":
                    level.targets.append(
                        TargetDraft(TargetKind.SCHEDULE, f"{PD}:{item['id']}", label)
                    )
                else:
                    raise ShapeError(f"{spot}.type: {item.get('type')!r} is not a user or schedule")
            policy.levels.append(level)
        for s_index, service in enumerate(_list(data, "services", f"{where}.")):
            name = _text(_object(service, f"{where}.services[{s_index}]").get("summary"))
            if name:
                policy.services.append(name)
        parsed.policies.append(policy)

    _each(items, "escalation_policies", path, parsed, read)
    return parsed


#: PagerDuty contact-method types (v2 ``*_contact_method``, v1 bare words) → kinds
_PD_METHODS = {
    "email": ReachKind.EMAIL,
    "phone": ReachKind.PHONE,
    "sms": ReachKind.SMS,
}


def _pd_method(item: dict[str, Any], where: str, region: str | None) -> list[Any]:
    kind_word = _text(item.get("type")).lower().removesuffix("_reference")
    kind_word = kind_word.removesuffix("_contact_method")
    kind = _PD_METHODS.get(kind_word)
    address = _text(item.get("address")) or _text(item.get("phone_number"))
    if kind is None or not address:
        return []  # push notifications, references without an address
    label = _text(item.get("label"))
    if kind is ReachKind.PHONE:
        kind = kind_of(label.split()[0] if label else "", ReachKind.PHONE) or ReachKind.PHONE
        if not kind.is_phone:
            kind = ReachKind.PHONE
    country = item.get("country_code")
    if kind.is_phone and isinstance(country, int) and not address.startswith("+"):
        address = f"+{country} {address}"
    found = method(kind, address, region=region, label=label)
    return [found] if found is not None else []


def _pd_users(
    document: dict[str, Any], path: str, _saved: datetime, region: str | None
) -> ParsedFile:
    parsed = ParsedFile(kind="pagerduty-users")
    items = [document["user"]] if "user" in document else _list(document, "users", "")

    def read(entry: object, where: str) -> None:
        data = _object(entry, where)
        name, email, ref = _pd_person(data, where)
        draft = ContactDraft(name=name, email=email, vendor_ref=ref)
        if email:
            draft.add(method(ReachKind.EMAIL, email, region=region))
        for index, item in enumerate(_list(data, "contact_methods", f"{where}.")):
            for found in _pd_method(
                _object(item, f"{where}.contact_methods[{index}]"), where, region
            ):
                draft.add(found)
        for index, team in enumerate(_list(data, "teams", f"{where}.")):
            team_data = _object(team, f"{where}.teams[{index}]")
            draft.add_team(_text(team_data.get("summary")) or _text(team_data.get("name")))
        parsed.contacts.append(draft)

    _each(items, "users", path, parsed, read)
    return parsed


_USER_IN_URL = re.compile(r"/users/([A-Z0-9]+)/")


def _pd_contact_methods(
    document: dict[str, Any], path: str, _saved: datetime, region: str | None
) -> ParsedFile:
    parsed = ParsedFile(kind="pagerduty-contact-methods")
    by_user: dict[str, ContactDraft] = {}

    def read(entry: object, where: str) -> None:
        data = _object(entry, where)
        user = _text(data.get("user_id"))
        if not user:
            match = _USER_IN_URL.search(_text(data.get("self")))
            user = match.group(1) if match else ""
        if not user:
            raise ShapeError(f"{where}: whose contact method? (no user_id, no user in 'self')")
        draft = by_user.setdefault(
            user, ContactDraft(name="", vendor_ref=f"{PD}:{user}", attach_only=True)
        )
        for found in _pd_method(data, where, region):
            draft.add(found)

    _each(_list(document, "contact_methods", ""), "contact_methods", path, parsed, read)
    parsed.contacts.extend(by_user.values())
    return parsed


_SHAPES: tuple[
    tuple[tuple[str, ...], Callable[[dict[str, Any], str, datetime, str | None], ParsedFile]], ...
] = (
    (("oncalls",), _pd_oncalls),
    (("schedule",), _pd_schedule),
    (("schedules",), _pd_schedules),
    (("escalation_policies", "escalation_policy"), _pd_policies),
    (("users", "user"), _pd_users),
    (("contact_methods",), _pd_contact_methods),
)


# ------------------------------------------------------------------- Opsgenie


def _og_parent(data: dict[str, Any]) -> ScheduleDraft:
    parent = _object(data.get("_parent"), "data._parent")
    ident = _text(parent.get("id")) or _text(parent.get("name"))
    if not ident:
        raise ShapeError("data._parent: the schedule has no id or name")
    return ScheduleDraft(key=f"{OG}:{ident}", name=_text(parent.get("name")) or ident)


def _og_person(recipient: object, where: str) -> tuple[str, str | None] | None:
    """(name, e-mail) of a user recipient; None for teams, escalations and "none"."""
    data = _object(recipient, where)
    if _text(data.get("type")).lower() not in ("user", ""):
        return None
    name = _text(data.get("name")) or _text(data.get("username"))
    if not name:
        return None
    return name, valid_email(name)  # Opsgenie names users by their e-mail address


def _opsgenie_oncalls(data: dict[str, Any], path: str, saved_at: datetime) -> ParsedFile:
    parsed = ParsedFile(kind="opsgenie-oncalls")
    draft = _og_parent(data)
    people: list[tuple[str, str | None]] = []

    def walk(participants: list[Any], where: str) -> None:
        for index, item in enumerate(participants):
            place = f"{where}[{index}]"
            found = _og_person(item, place)
            if found is not None and found not in people:
                people.append(found)
            nested = _object(item, place).get("onCallParticipants")
            if isinstance(nested, list):
                walk(nested, f"{place}.onCallParticipants")

    walk(_list(data, "onCallParticipants", "data."), "data.onCallParticipants")
    for index, name in enumerate(_list(data, "onCallRecipients", "data.")):
        if not isinstance(name, str):
            raise ShapeError(f"data.onCallRecipients[{index}]: expected a user name")
        if name.strip() and all(name.strip() != known for known, _ in people):
            people.append((name.strip(), valid_email(name)))
    start, end = saved_at, saved_at + SNAPSHOT_VALIDITY
    draft.window = (start, end)
    for name, email in people:
        draft.shifts.append(Shift(start, end, name, email=email, layer="on-call snapshot"))
    parsed.notes.append(
        Refusal(
            path,
            "Opsgenie on-calls carry no times: kept as who was on call for "
            f"{int(SNAPSHOT_VALIDITY.total_seconds() // 60)} min from when the file was saved "
            f"({saved_at.isoformat(timespec='minutes')}); save the timeline for coming weeks",
        )
    )
    parsed.schedules.append(draft)
    return parsed


def _opsgenie_timeline(data: dict[str, Any], path: str) -> ParsedFile:
    parsed = ParsedFile(kind="opsgenie-timeline")
    draft = _og_parent(data)
    if data.get("startDate") and data.get("endDate"):
        draft.window = (
            _time(data["startDate"], "data.startDate"),
            _time(data["endDate"], "data.endDate"),
        )

    def timeline(key: str, forced_override: bool) -> None:
        if data.get(key) is None:
            return
        block = _object(data[key], f"data.{key}")
        for r_index, rotation in enumerate(_list(block, "rotations", f"data.{key}.")):
            where = f"data.{key}.rotations[{r_index}]"
            rot = _object(rotation, where)
            label = _text(rot.get("name")) or f"Rotation {r_index + 1}"

            def read(entry: object, place: str, label: str = label) -> None:
                period = _object(entry, place)
                found = _og_person(period.get("recipient"), f"{place}.recipient")
                if found is None:
                    return  # "none": nobody, a gap
                start = _time(period.get("startDate"), f"{place}.startDate")
                end = _time(period.get("endDate"), f"{place}.endDate")
                _span(start, end, place)
                kind = _text(period.get("type")).lower()
                replaced = kind in ("override", "forwarding")
                # The final timeline is Opsgenie's own resolution: every rotation in it is
                # on call together, so an override there only renames its layer.
                draft.shifts.append(
                    Shift(
                        start,
                        end,
                        found[0],
                        email=found[1],
                        layer=f"{label} · {kind}" if replaced and not forced_override else label,
                        override=forced_override,
                    )
                )

            _each(_list(rot, "periods", f"{where}."), f"{where}.periods", path, parsed, read)

    if data.get("finalTimeline") is not None:
        timeline("finalTimeline", False)
    else:
        timeline("baseTimeline", False)
        timeline("overrideTimeline", True)
    parsed.schedules.append(draft)
    return parsed


#: Opsgenie contact methods → kinds ("mobile" is the Opsgenie app's push: no address)
_OG_METHODS = {"email": ReachKind.EMAIL, "sms": ReachKind.SMS, "voice": ReachKind.PHONE}
_OG_MINUTES = {"days": 1440, "hours": 60, "minutes": 1, "seconds": 1 / 60}


def opsgenie_people(
    users: list[Any],
    contacts: dict[str, list[Any]],
    teams: list[Any],
    path: str,
    *,
    region: str | None,
) -> ParsedFile:
    """Opsgenie ``/v2/users`` entries, each user's ``/v2/users/{id}/contacts`` (by user
    id) and ``/v2/teams/{id}`` documents (their ``members``) → contacts. Opsgenie names
    a user by the e-mail address they log in with (``username``)."""
    parsed = ParsedFile(kind="opsgenie-users")
    teams_of: dict[str, list[str]] = {}

    def read_team(entry: object, where: str) -> None:
        team = _object(entry, where)
        name = _text(team.get("name"))
        for index, member in enumerate(_list(team, "members", f"{where}.")):
            user = _object(_object(member, f"{where}.members[{index}]").get("user"), where)
            ident = _text(user.get("id"))
            if ident and name:
                teams_of.setdefault(ident, []).append(name)

    _each(teams, "teams", path, parsed, read_team)

    def read(entry: object, where: str) -> None:
        data = _object(entry, where)
        ident, username = _text(data.get("id")), _text(data.get("username"))
        if not ident or not username:
            raise ShapeError(f"{where}: an Opsgenie user needs its id and username")
        email = valid_email(username)
        draft = ContactDraft(
            name=_text(data.get("fullName")) or username, email=email, vendor_ref=f"{OG}:{ident}"
        )
        if email:
            draft.add(method(ReachKind.EMAIL, email, region=region))
        for index, contact in enumerate(contacts.get(ident, [])):
            item = _object(contact, f"{where}.contacts[{index}]")
            word = _text(item.get("contactMethod") or item.get("method")).lower()
            kind = _OG_METHODS.get(word)
            status = item.get("status") if isinstance(item.get("status"), dict) else {}
            enabled = item.get("enabled", status.get("enabled", True) if status else True)
            if kind is not None and enabled is not False:
                draft.add(method(kind, _text(item.get("to")), region=region))
        for team in teams_of.get(ident, []):
            draft.add_team(team)
        parsed.contacts.append(draft)

    _each(users, "users", path, parsed, read)
    return parsed


def opsgenie_policies(escalations: list[Any], path: str) -> ParsedFile:
    """Opsgenie ``/v2/escalations`` entries → policies. An Opsgenie rule's delay counts
    from the alert's creation; rules with the same delay form one level, and a level's
    wait is the time until the next level's delay (the last waits 0)."""
    parsed = ParsedFile(kind="opsgenie-escalations")

    def read(entry: object, where: str) -> None:
        data = _object(entry, where)
        ident = _text(data.get("id"))
        if not ident:
            raise ShapeError(f"{where}.id: an escalation needs its id")
        repeat = data.get("repeat") if isinstance(data.get("repeat"), dict) else {}
        count = repeat.get("count") if isinstance(repeat, dict) else None
        policy = PolicyDraft(
            key=f"{OG}:{ident}",
            name=_text(data.get("name")) or ident,
            repeat=count if isinstance(count, int) and count > 0 else 0,
        )
        by_delay: dict[int, list[TargetDraft]] = {}
        for number, rule in enumerate(_list(data, "rules", f"{where}.")):
            place = f"{where}.rules[{number}]"
            rule_data = _object(rule, place)
            delay = _object(rule_data.get("delay"), f"{place}.delay")
            amount, unit = delay.get("timeAmount"), _text(delay.get("timeUnit")) or "minutes"
            if not isinstance(amount, int) or amount < 0 or unit not in _OG_MINUTES:
                raise ShapeError(f"{place}.delay: not a time amount in days/hours/minutes")
            recipient = _object(rule_data.get("recipient"), f"{place}.recipient")
            kind, rid = _text(recipient.get("type")).lower(), _text(recipient.get("id"))
            label = _text(recipient.get("name")) or _text(recipient.get("username")) or rid
            if kind == "user":
                ref = f"{OG}:{rid}" if rid else valid_email(label) or label
                target = TargetDraft(TargetKind.PERSON, ref, label)
            elif kind == "schedule":
                target = TargetDraft(TargetKind.SCHEDULE, f"{OG}:{rid or label}", label)
            elif kind == "team":
                target = TargetDraft(TargetKind.TEAM, label, label)
            else:
                raise ShapeError(
                    f"{place}.recipient.type: {kind!r} is not a user, schedule or team"
                )
            by_delay.setdefault(int(amount * _OG_MINUTES[unit]), []).append(target)
        delays = sorted(by_delay)
        for index, at in enumerate(delays):
            wait = delays[index + 1] - at if index + 1 < len(delays) else 0
            policy.levels.append(LevelDraft(delay_minutes=wait, targets=by_delay[at]))
        parsed.policies.append(policy)

    _each(escalations, "escalations", path, parsed, read)
    return parsed
