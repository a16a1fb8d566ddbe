"""Contacts from CSV and vCard files, and the one writer that merges them into ``people``.

:func:`parse_csv` and :func:`parse_vcard` turn a file's text into
:class:`ContactDraft` values plus a :class:`Refusal` (file + line + reason) for
each row or card they cannot take; the rest of the file still imports.
:func:`store_contacts` merges drafts into the database: a contact is the same
person as a stored one when the vendor id matches, else the e-mail address,
else the name (casefolded) when the stored person has no other address.

CSV headers are matched through aliases real exports use (README, "Contacts").
"""

from __future__ import annotations

import csv
import io
import quopri
import re
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from icalendar.parser import Contentline

from console.domain.oncall import ReachKind, ReachMethod, Refusal, name_key
from console.importers.reach import kind_of, method, valid_email

# ------------------------------------------------------------------ drafts


@dataclass
class ContactDraft:
    """One person as a file describes them, before merging."""

    name: str
    email: str | None = None
    teams: list[str] = field(default_factory=list)
    reach: list[ReachMethod] = field(default_factory=list)
    #: the vendor's id (``pagerduty:PXPGF42``)
    vendor_ref: str | None = None
    #: where the row or card starts, for messages
    line: int | None = None
    #: only adds reach methods to a person already known by ``vendor_ref`` (PagerDuty's
    #: ``/users/{id}/contact_methods`` names nobody)
    attach_only: bool = False

    def add(self, found: ReachMethod | None) -> None:
        if found is None:
            return
        for known in self.reach:
            if known.kind is found.kind and (
                known.value == found.value or (known.e164 and known.e164 == found.e164)
            ):
                return
        self.reach.append(found)

    def add_team(self, team: str) -> None:
        cleaned = " ".join(team.split())
        if cleaned and cleaned not in self.teams:
            self.teams.append(cleaned)


def decode_text(data: bytes) -> str:
    """UTF-8 (BOM or not) or UTF-16 with a BOM; ValueError naming the bad byte otherwise."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"not UTF-8: byte 0x{data[error.start]:02x} at byte offset {error.start} "
            "(export the file as UTF-8)"
        ) from None


# --------------------------------------------------------------------- CSV

#: normalised header → field. Google Contacts ("E-mail 1 - Value", "Phone 1 - Type"/"Label",
#: "Phone 1 - Value", "Organization 1 - Department"), Outlook ("E-mail Address", "Mobile
#: Phone", "Business Phone", "Home Phone", "Other Phone", "Pager", "Department"), PagerDuty
#: and Opsgenie user exports ("Name"/"Full Name", "Email"/"Username", "Teams") and hand-made
#: sheets ("Slack", "Backup number", "Team").
CSV_ALIASES: dict[str, str] = {
    "name": "name",
    "full name": "name",
    "fullname": "name",
    "display name": "name",
    "contact": "name",
    "contact name": "name",
    "person": "name",
    "first name": "first",
    "firstname": "first",
    "given name": "first",
    "middle name": "middle",
    "additional name": "middle",
    "last name": "last",
    "lastname": "last",
    "family name": "last",
    "surname": "last",
    "email": "email",
    "e mail": "email",
    "email address": "email",
    "e mail address": "email",
    "mail": "email",
    "username": "email",
    "login": "email",
    "mobile": "mobile",
    "mobile phone": "mobile",
    "mobile number": "mobile",
    "cell": "mobile",
    "cell phone": "mobile",
    "cellphone": "mobile",
    "office": "office",
    "office phone": "office",
    "work phone": "office",
    "business phone": "office",
    "business phone 2": "office",
    "desk phone": "office",
    "home phone": "home",
    "home phone 2": "home",
    "backup": "backup",
    "backup phone": "backup",
    "backup number": "backup",
    "other phone": "backup",
    "secondary phone": "backup",
    "alternate phone": "backup",
    "emergency phone": "backup",
    "phone": "phone",
    "phone number": "phone",
    "telephone": "phone",
    "tel": "phone",
    "pager": "phone",
    "sms": "sms",
    "sms number": "sms",
    "text": "sms",
    "chat": "chat",
    "chat handle": "chat",
    "slack": "chat",
    "slack handle": "chat",
    "slack id": "chat",
    "im": "chat",
    "im address": "chat",
    "matrix": "chat",
    "team": "team",
    "teams": "team",
    "group": "team",
    "groups": "team",
    "squad": "team",
    "department": "team",
    "organization department": "team",
    "organization 1 department": "team",
    "group membership": "team",
}
_GOOGLE_MULTI = re.compile(r"^(e mail|email|phone|im) (\d+) (value|type|label)$")
_OUTLOOK_EMAIL = re.compile(r"^e mail (\d+) address$")
_TEAM_SPLIT = re.compile(r"\s*(?::::|;|,)\s*")
_REACH_FIELDS = {
    "mobile": ReachKind.MOBILE,
    "office": ReachKind.OFFICE,
    "home": ReachKind.HOME,
    "backup": ReachKind.BACKUP,
    "phone": ReachKind.PHONE,
    "sms": ReachKind.SMS,
    "chat": ReachKind.CHAT,
}


def _header_key(header: str) -> str:
    return " ".join(re.sub(r"[\s_\-.:]+", " ", header.strip().lower()).split())


def _column_roles(header: Sequence[str]) -> dict[int, tuple[str, str]]:
    """Column → (field, group): group ties Google's "Phone 2 - Type" to "Phone 2 - Value"."""
    roles: dict[int, tuple[str, str]] = {}
    for index, raw in enumerate(header):
        key = _header_key(raw)
        multi = _GOOGLE_MULTI.match(key)
        if multi:
            what = "email" if multi.group(1) in ("e mail", "email") else multi.group(1)
            part = "value" if multi.group(3) == "value" else "type"
            roles[index] = (f"{what}-{part}", multi.group(2))
        elif _OUTLOOK_EMAIL.match(key):
            roles[index] = ("email-value", f"outlook{index}")
        elif key in CSV_ALIASES:
            roles[index] = (CSV_ALIASES[key], "")
    return roles


def parse_csv(
    text: str, path: str, *, region: str | None
) -> tuple[list[ContactDraft], list[Refusal]]:
    """Contacts from a CSV export (comma, semicolon or tab separated, header first)."""
    # The header decides the separator: Excel in many European locales writes ';'.
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return [], [Refusal(path, "empty file")]
    except csv.Error as error:
        return [], [Refusal(path, f"unreadable CSV header: {error}", 1)]
    roles = _column_roles(header)
    fields = {f for f, _ in roles.values()}
    if not fields & {"name", "first", "last", "email", "email-value"}:
        shown = ", ".join(h.strip() for h in header[:8] if h.strip()) or "(none)"
        return [], [
            Refusal(
                path,
                f"no column for a name or an e-mail address in the header (found: {shown}); "
                "name one e.g. 'Name' and 'Email'",
                1,
            )
        ]
    drafts: list[ContactDraft] = []
    refused: list[Refusal] = []
    line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            refused.append(Refusal(path, f"unreadable CSV: {error}", line))
            break
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
            refused.append(
                Refusal(
                    path,
                    f"{len(row)} fields but the header has {len(header)} "
                    "(an unquoted separator inside a value?)",
                    start,
                )
            )
            continue
        try:
            drafts.append(_csv_row(row, roles, region, start))
        except ValueError as error:
            refused.append(Refusal(path, str(error), start))
    return drafts, refused


def _csv_row(
    row: Sequence[str], roles: dict[int, tuple[str, str]], region: str | None, line: int
) -> ContactDraft:
    values: dict[str, list[str]] = {}
    grouped: dict[tuple[str, str], dict[str, str]] = {}
    for index, (name, group) in roles.items():
        cell = row[index].strip() if index < len(row) else ""
        if not cell:
            continue
        if group:
            what, part = name.split("-")
            grouped.setdefault((what, group), {})[part] = cell
        else:
            values.setdefault(name, []).append(cell)
    name = " ".join(values.get("name", [])[:1])
    if not name:
        name = " ".join(v for f in ("first", "middle", "last") for v in values.get(f, [])[:1])
    addresses = list(values.get("email", []))
    phones: list[tuple[ReachKind, str, str]] = []
    chats: list[str] = []
    for (what, _group), parts in sorted(grouped.items(), key=lambda item: item[0][1]):
        value = parts.get("value", "")
        if what == "email":
            addresses.extend(v for v in re.split(r"\s*:::\s*", value) if v)
        elif what == "phone":
            label = parts.get("type", "").lstrip("* ").strip()
            kind = kind_of(label.split()[0] if label else "", ReachKind.PHONE) or ReachKind.PHONE
            if not kind.is_phone:
                kind = ReachKind.PHONE
            for one in re.split(r"\s*:::\s*", value):
                phones.append((kind, one, label))
        elif what == "im":
            chats.extend(v for v in re.split(r"\s*:::\s*", value) if v)
    draft = _draft_with_emails(
        name,
        addresses,
        line=line,
        region=region,
        what="",
        nameless="no name and no e-mail address: nothing to know this person by",
    )
    for field_name, kind in _REACH_FIELDS.items():
        for value in values.get(field_name, []):
            draft.add(method(kind, value, region=region))
    for kind, value, label in phones:
        draft.add(method(kind, value, region=region, label=label))
    for chat in chats:
        draft.add(method(ReachKind.CHAT, chat, region=region))
    for teams in values.get("team", []):
        for team in _TEAM_SPLIT.split(teams):
            if team and not team.startswith("*"):  # Google's "* myContacts", "* starred"
                draft.add_team(team)
    return draft


# ------------------------------------------------------------------- vCard

_VERSIONS = ("2.1", "3.0", "4.0")


def _unfold(text: str) -> list[tuple[int, str]]:
    """Logical lines with the number of the physical line each starts on (RFC 6350 §3.2)."""
    logical: list[tuple[int, str]] = []
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        if raw[:1] in (" ", "\t") and logical:
            start, so_far = logical[-1]
            logical[-1] = (start, so_far + raw[1:])
        elif raw.strip():
            logical.append((number, raw))
    return logical


def _split_unquoted(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


@dataclass(frozen=True)
class _Property:
    name: str
    group: str
    params: dict[str, list[str]]
    raw: str

    @property
    def types(self) -> set[str]:
        return {t.lower() for t in self.params.get("TYPE", [])}

    def text(self) -> str:
        return _unescape(self.raw)

    def components(self) -> list[str]:
        """A structured value (N, ORG): split on unescaped ``;``, then unescaped."""
        return [_unescape(part) for part in re.split(r"(?<!\\);", self.raw)]


def _unescape(value: str) -> str:
    return re.sub(
        r"\\([\\,;nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value
    ).strip()


def _property(line: str) -> _Property:
    """Name, group, parameters and the raw value of one content line (ValueError if unreadable).

    Parameters go through icalendar's content-line parser (quoting, lists, RFC 6868);
    vCard 2.1's bare parameters (``TEL;CELL:``) are read as ``TYPE=CELL``."""
    head_and_value = _split_unquoted(line, ":")
    if len(head_and_value) < 2:
        raise ValueError(f"not a 'NAME:value' line: {line[:60]!r}")
    head, raw = head_and_value[0], ":".join(head_and_value[1:])
    pieces = _split_unquoted(head, ";")
    loose = [p for p in pieces[1:] if p and "=" not in p]  # vCard 2.1: TEL;CELL;VOICE:
    fixed = [pieces[0], *(p for p in pieces[1:] if "=" in p)]
    if loose:
        fixed.append("TYPE=" + ",".join(loose))
    try:
        # icalendar's Contentline is a str subclass whose constructor is not annotated
        line_obj = Contentline(";".join(fixed) + ":x")  # type: ignore[no-untyped-call]
        name, parameters, _value = line_obj.parts()
    except ValueError as error:
        raise ValueError(f"unreadable parameters in {head[:60]!r}: {error}") from None
    group, _, bare = name.rpartition(".")
    params: dict[str, list[str]] = {}
    for key, value in parameters.items():
        items = value if isinstance(value, list) else [value]
        params[key.upper()] = [s.strip() for v in items for s in str(v).split(",") if s.strip()]
    if "QUOTED-PRINTABLE" in {e.upper() for e in params.get("ENCODING", [])}:
        charset = (params.get("CHARSET") or ["utf-8"])[0]
        try:
            raw = quopri.decodestring(raw.encode("ascii", "replace")).decode(charset, "replace")
        except LookupError:
            raise ValueError(f"unknown CHARSET {charset!r}") from None
    return _Property(bare.upper(), group.lower(), params, raw)


def parse_vcard(
    text: str, path: str, *, region: str | None
) -> tuple[list[ContactDraft], list[Refusal]]:
    """Contacts from a vCard file (3.0 or 4.0; 2.1 read too), one or many cards."""
    drafts: list[ContactDraft] = []
    refused: list[Refusal] = []
    card: list[tuple[int, str]] | None = None
    card_line = 0
    for number, line in _unfold(text):
        upper = line.strip().upper()
        if upper == "BEGIN:VCARD":
            if card is not None:
                refused.append(Refusal(path, "card never closed with END:VCARD", card_line))
            card, card_line = [], number
        elif upper == "END:VCARD":
            if card is None:
                refused.append(Refusal(path, "END:VCARD without BEGIN:VCARD", number))
                continue
            try:
                drafts.append(_card(card, region, card_line))
            except ValueError as error:
                refused.append(Refusal(path, str(error), card_line))
            card = None
        elif card is not None:
            card.append((number, line))
        else:
            refused.append(Refusal(path, f"text outside a card: {line.strip()[:60]!r}", number))
    if card is not None:
        refused.append(Refusal(path, "card never closed with END:VCARD", card_line))
    if not drafts and not refused:
        refused.append(Refusal(path, "no BEGIN:VCARD in the file"))
    return drafts, refused


def _card(lines: Sequence[tuple[int, str]], region: str | None, start: int) -> ContactDraft:
    properties: list[_Property] = []
    for number, line in lines:
        try:
            properties.append(_property(line))
        except ValueError as error:
            raise ValueError(f"line {number}: {error}") from None
    version = next((p.text() for p in properties if p.name == "VERSION"), "")
    if version not in _VERSIONS:
        raise ValueError(
            f"vCard version {version or '(missing)'!r} is not supported (3.0 and 4.0 are)"
        )
    labels = {p.group: p.text() for p in properties if p.name == "X-ABLABEL" and p.group}
    name = next((p.text() for p in properties if p.name == "FN" and p.text()), "")
    if not name:
        structured = next((p.components() for p in properties if p.name == "N"), [])
        if structured:
            family, given, *rest = [*structured, "", ""]
            name = " ".join(x for x in (given, rest[0] if rest else "", family) if x)
    emails = [p for p in properties if p.name == "EMAIL" and p.text()]
    emails.sort(key=lambda p: not ("pref" in p.types or p.params.get("PREF")))
    draft = _draft_with_emails(
        name,
        [prop.text() for prop in emails],
        line=start,
        region=region,
        what="EMAIL ",
        nameless="card has no FN, N or EMAIL: nothing to know this person by",
    )
    for prop in properties:
        label = labels.get(prop.group, "")
        if prop.name == "TEL":
            for kind in _tel_kinds(prop.types, label):
                draft.add(method(kind, prop.text(), region=region, label=label))
        elif prop.name in ("IMPP", "X-SOCIALPROFILE") or prop.name in _CHAT_PROPERTIES:
            if prop.name == "X-SOCIALPROFILE" and not prop.types & _CHAT_NETWORKS:
                continue  # a Twitter or LinkedIn profile is no way to page someone
            draft.add(method(ReachKind.CHAT, prop.text(), region=region, label=label))
        elif prop.name == "ORG":
            parts = [c for c in prop.components() if c]
            if parts:
                draft.add_team(parts[-1])
    return draft


_CHAT_PROPERTIES = frozenset({"X-JABBER", "X-SKYPE", "X-MSN", "X-SLACK"})
_CHAT_NETWORKS = frozenset({"slack", "teams", "msteams", "matrix", "skype", "xmpp", "jabber"})


def _tel_kinds(types: set[str], label: str) -> list[ReachKind]:
    if "fax" in types and not types & {"voice", "cell", "text"}:
        return []  # nobody is paged by fax
    labelled = kind_of(label.strip("_$!<>").split()[0]) if label.strip("_$!<>") else None
    if labelled is not None and labelled.is_phone:
        kind = labelled
    elif types & {"cell", "mobile", "iphone"}:
        kind = ReachKind.MOBILE
    elif "work" in types:
        kind = ReachKind.OFFICE
    elif "home" in types:
        kind = ReachKind.HOME
    elif types & {"text", "sms", "textphone"} and not types & {"voice"}:
        kind = ReachKind.SMS
    else:
        kind = ReachKind.PHONE
    kinds = [kind]
    if kind is not ReachKind.SMS and types & {"text", "sms"}:
        kinds.append(ReachKind.SMS)
    return kinds


# ------------------------------------------------------------------ writer


@dataclass
class MergeCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    #: attach-only drafts whose person is not known (their methods were not stored)
    unknown: list[ContactDraft] = field(default_factory=list)


def store_contacts(
    raw: sqlite3.Connection, drafts: Iterable[ContactDraft], *, source: str, now: str
) -> MergeCounts:
    """Merge ``drafts`` into ``people`` inside the caller's write transaction.

    The same person: vendor id, else e-mail, else name (when the stored person has
    no different e-mail address). Names and vendor ids are filled in, reach methods
    and teams are added (a number already known in another spelling is not doubled);
    nothing a person already has is removed."""
    counts = MergeCounts()
    for draft in sorted(drafts, key=lambda d: d.attach_only):  # people before their methods
        before = raw.total_changes
        if draft.attach_only:
            known = find_person(raw, ref=draft.vendor_ref, email=None, name="")
            if known is None:
                counts.unknown.append(draft)
                continue
            person_id, created = known, False
        else:
            person_id, created = _find_or_create(raw, draft, source, now)
        _add_reach(raw, person_id, draft.reach)
        for team in draft.teams:
            raw.execute("INSERT OR IGNORE INTO teams (name) VALUES (?)", (team,))
            raw.execute(
                "INSERT OR IGNORE INTO team_members (team_id, person_id) "
                "SELECT id, ? FROM teams WHERE name = ?",
                (person_id, team),
            )
        if created:
            counts.new += 1
        elif raw.total_changes != before:
            raw.execute(
                "UPDATE people SET source = ?, updated_at = ? WHERE id = ?",
                (source, now, person_id),
            )
            counts.updated += 1
        else:
            counts.unchanged += 1
    return counts


def find_person(
    raw: sqlite3.Connection, *, ref: str | None, email: str | None, name: str
) -> int | None:
    """The stored person a (vendor id, e-mail, name) names, in that order of trust."""
    if ref:
        row = raw.execute("SELECT id FROM people WHERE vendor_ref = ?", (ref,)).fetchone()
        if row:
            return int(row[0])
    if email:
        row = raw.execute("SELECT id FROM people WHERE email = ?", (email,)).fetchone()
        if row:
            return int(row[0])
    if not name.strip():
        return None
    rows = raw.execute(
        "SELECT id, email FROM people WHERE name_key = ? ORDER BY id", (name_key(name),)
    ).fetchall()
    for person_id, stored_email in rows:
        if email is None or stored_email is None:
            return int(person_id)
    return None


def _find_or_create(
    raw: sqlite3.Connection, draft: ContactDraft, source: str, now: str
) -> tuple[int, bool]:
    found = find_person(raw, ref=draft.vendor_ref, email=draft.email, name=draft.name)
    if found is None:
        cursor = raw.execute(
            "INSERT INTO people (uuid, name, name_key, email, vendor_ref, source, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                uuid.uuid4().hex,
                draft.name,
                name_key(draft.name),
                draft.email,
                draft.vendor_ref,
                source,
                now,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid, True
    row = raw.execute(
        "SELECT name, email, vendor_ref FROM people WHERE id = ?", (found,)
    ).fetchone()
    name, email, ref = row
    if draft.name and draft.name != name and draft.name != draft.email:
        raw.execute(
            "UPDATE people SET name = ?, name_key = ? WHERE id = ?",
            (draft.name, name_key(draft.name), found),
        )
    if draft.email and email is None:
        taken = raw.execute("SELECT 1 FROM people WHERE email = ?", (draft.email,)).fetchone()
        if not taken:
            raw.execute("UPDATE people SET email = ? WHERE id = ?", (draft.email, found))
    if draft.vendor_ref and ref is None:
        taken = raw.execute(
            "SELECT 1 FROM people WHERE vendor_ref = ?", (draft.vendor_ref,)
        ).fetchone()
        if not taken:
            raw.execute("UPDATE people SET vendor_ref = ? WHERE id = ?", (draft.vendor_ref, found))
    return found, False


def _add_reach(raw: sqlite3.Connection, person_id: int, methods: Sequence[ReachMethod]) -> None:
    if not methods:
        return
    stored = raw.execute(
        "SELECT id, kind, value, e164, formatted, problem FROM reach_methods WHERE person_id = ?",
        (person_id,),
    ).fetchall()
    position = len(stored)
    for found in methods:
        same = next(
            (
                row
                for row in stored
                if row[1] == found.kind.value
                and (row[2] == found.value or (found.e164 and row[3] == found.e164))
            ),
            None,
        )
        if same is None:
            raw.execute(
                "INSERT INTO reach_methods (person_id, position, kind, value, e164, formatted, "
                "label, problem) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    person_id,
                    position,
                    found.kind.value,
                    found.value,
                    found.e164,
                    found.formatted,
                    found.label,
                    found.problem,
                ),
            )
            position += 1
        elif same[2] == found.value and tuple(same[3:6]) != (
            found.e164,
            found.formatted,
            found.problem,
        ):
            # re-normalised (another region, newer metadata): keep the row, update its reading
            raw.execute(
                "UPDATE reach_methods SET e164 = ?, formatted = ?, problem = ? WHERE id = ?",
                (found.e164, found.formatted, found.problem, same[0]),
            )


def _draft_with_emails(
    name: str,
    addresses: list[str],
    *,
    line: int,
    region: str | None,
    what: str,
    nameless: str,
) -> ContactDraft:
    """A contact from its name and e-mail addresses (the first valid one is its key).

    Raises ValueError naming a bad address (prefixed by ``what``), or ``nameless``
    when there is neither a name nor an address."""
    email: str | None = None
    for address in addresses:
        checked = valid_email(address)
        if checked is None:
            raise ValueError(f"{what}{address!r} is not an e-mail address")
        email = email or checked
    if not name and email is None:
        raise ValueError(nameless)
    draft = ContactDraft(name=name or (email or ""), email=email, line=line)
    for address in addresses:
        draft.add(method(ReachKind.EMAIL, address, region=region))
    return draft
