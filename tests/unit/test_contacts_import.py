"""Contacts from CSV and vCard: aliases real exports use, bad rows and cards, merging."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from console.domain.errors import InvalidInputError
from console.domain.oncall import ReachKind
from console.importers.contacts import decode_text, parse_csv, parse_vcard
from console.importers.oncall import import_people_and_schedules
from console.importers.reach import check_region, method
from console.oncall import OnCallDirectory
from console.storage.db import Database
from tests.unit.support import FakeClock, raw_rows, raw_scalar

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "oncall"


def test_phone_numbers_are_normalised_or_kept_and_flagged() -> None:
    national = method(ReachKind.MOBILE, "07911 123456", region="GB")
    assert national is not None
    assert (national.e164, national.formatted, national.problem) == (
        "+447911123456",
        "+44 7911 123456",
        None,
    )
    uri = method(ReachKind.OFFICE, "tel:+1-212-555-0199;ext=12", region=None)
    assert uri is not None
    assert uri.e164 == "+12125550199"
    no_region = method(ReachKind.MOBILE, "07911 123456", region=None)
    assert no_region is not None
    assert no_region.e164 is None
    assert "--region" in str(no_region.problem)
    words = method(ReachKind.BACKUP, "ask the front desk", region="GB")
    assert words is not None
    assert (words.value, words.e164) == ("ask the front desk", None)
    assert "not a phone number" in str(words.problem)
    unused = method(ReachKind.MOBILE, "+44 7700 900123", region=None)  # Ofcom's drama range
    assert unused is not None
    assert unused.e164 == "+447700900123"
    assert "not a number in use in GB" in str(unused.problem)
    short = method(ReachKind.PHONE, "12", region="GB")
    assert short is not None
    assert short.e164 is None
    assert short.problem
    assert method(ReachKind.PHONE, "   ", region="GB") is None
    mail = method(ReachKind.EMAIL, "mailto:Ana@Example.COM", region=None)
    assert mail is not None
    assert (mail.value, mail.problem) == ("ana@example.com", None)


def test_region_is_checked() -> None:
    assert check_region("gb") == "GB"
    assert check_region(None) is None
    with pytest.raises(InvalidInputError, match="two-letter"):
        check_region("United Kingdom")


def test_text_decoding() -> None:
    assert decode_text("\ufeffName\n".encode()) == "Name\n"
    assert decode_text("Ñame".encode("utf-16")) == "Ñame"
    with pytest.raises(ValueError, match="byte 0xe9 at byte offset 1"):
        decode_text("Café".encode("latin-1")[2:])


# ----------------------------------------------------------------------- CSV


def test_google_contacts_export() -> None:
    text = (FIXTURES / "contacts_google.csv").read_text(encoding="utf-8")
    drafts, refused = parse_csv(text, "g.csv", region="GB")
    assert refused == []
    priya, hanna = drafts
    assert (priya.name, priya.email, priya.teams) == (
        "Priya Raman",
        "priya.raman@larkspur.example",
        ["team-data"],
    )
    kinds = [(m.kind, m.e164) for m in priya.reach if m.kind.is_phone]
    assert kinds == [(ReachKind.MOBILE, "+447911123456"), (ReachKind.OFFICE, "+442079460123")]
    assert hanna.name == "Hanna Berg"  # from Given + Family when Name is empty
    assert hanna.teams == ["team-platform"]


def test_outlook_export_with_semicolons_and_bad_rows() -> None:
    text = (FIXTURES / "contacts_outlook.csv").read_text(encoding="utf-8")
    drafts, refused = parse_csv(text, "o.csv", region="ES")
    assert [d.name for d in drafts] == ["Diego Alvarez"]
    assert drafts[0].email == "diego.alvarez@larkspur.example"
    assert drafts[0].teams == ["team-payments"]
    assert [(r.line, r.reason) for r in refused] == [
        (3, "'not-an-address' is not an e-mail address"),
        (5, "9 fields but the header has 7 (an unquoted separator inside a value?)"),
    ]
    assert all(r.path == "o.csv" for r in refused)


def test_csv_without_a_name_column_is_refused_whole() -> None:
    drafts, refused = parse_csv("Colour,Size\nred,L\n", "x.csv", region=None)
    assert drafts == []
    [refusal] = refused
    assert refusal.line == 1
    assert "no column for a name or an e-mail" in refusal.reason
    assert "Colour, Size" in refusal.reason


def test_csv_row_with_neither_name_nor_address_and_multiline_fields() -> None:
    text = (
        'Name,Email,Phone,Slack\n"Ana\nLima",ana@x.example,+1 415 555 0142,@ana\n'
        ",,+44 20 7946 0000,\n"
    )
    drafts, refused = parse_csv(text, "m.csv", region=None)
    assert [d.name for d in drafts] == ["Ana\nLima"]
    assert [(m.kind, m.display) for m in drafts[0].reach] == [
        (ReachKind.EMAIL, "ana@x.example"),
        (ReachKind.PHONE, "+1 415-555-0142"),
        (ReachKind.CHAT, "@ana"),
    ]
    assert [(r.line, "no name and no e-mail" in r.reason) for r in refused] == [(4, True)]


# --------------------------------------------------------------------- vCard


def test_vcard_three_and_four_with_folded_lines_and_bad_cards() -> None:
    text = (FIXTURES / "contacts.vcf").read_text(encoding="utf-8")
    drafts, refused = parse_vcard(text, "c.vcf", region="GB")
    aiko, noah, sam = drafts
    assert (aiko.name, aiko.email, aiko.teams) == (
        "Aiko Tanaka",
        "aiko.tanaka@larkspur.example",
        ["team-catalog"],
    )
    # the fax is dropped, the Slack IMPP kept, the Twitter profile is no way to page anyone
    assert [(m.kind, m.value) for m in aiko.reach] == [
        (ReachKind.EMAIL, "aiko.tanaka@larkspur.example"),
        (ReachKind.MOBILE, "+81 90 1234 5678"),
        (ReachKind.CHAT, "slack:aiko"),
    ]
    assert [(m.kind, m.e164) for m in noah.reach if m.kind.is_phone] == [
        (ReachKind.MOBILE, "+14155550187"),
        (ReachKind.SMS, "+14155550187"),
        (ReachKind.OFFICE, "+12125550199"),  # folded across two lines, extension dropped
    ]
    assert any(m.kind is ReachKind.CHAT and "slack.com" in m.value for m in noah.reach)
    assert sam.name == "Sam Whitfield"  # from N
    assert [(m.kind, m.label, m.problem is None) for m in sam.reach] == [
        (ReachKind.BACKUP, "backup", True),  # Apple's item1.X-ABLabel names the kind
        (ReachKind.HOME, "", False),  # kept as written, flagged
    ]
    assert [(r.line, r.reason) for r in refused] == [
        (21, "card has no FN, N or EMAIL: nothing to know this person by"),
        (32, "vCard version '5.0' is not supported (3.0 and 4.0 are)"),
        (36, "card never closed with END:VCARD"),
    ]


def test_vcard_two_one_bare_parameters_and_quoted_printable() -> None:
    text = (
        "BEGIN:VCARD\nVERSION:2.1\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Silva;Tom=C3=A1s\n"
        "TEL;CELL;VOICE:+351 912 345 678\nEND:VCARD\n"
    )
    [draft], refused = parse_vcard(text, "old.vcf", region=None)
    assert refused == []
    assert draft.name == "Tomás Silva"
    assert [(m.kind, m.e164) for m in draft.reach] == [(ReachKind.MOBILE, "+351912345678")]


def test_vcard_junk_is_refused_with_lines() -> None:
    _drafts, refused = parse_vcard("hello\nEND:VCARD\n", "j.vcf", region=None)
    assert [(r.line, r.reason[:19]) for r in refused] == [
        (1, "text outside a card"),
        (2, "END:VCARD without B"),
    ]
    bad = (
        "BEGIN:VCARD\nVERSION:3.0\nFN:X\nEMAIL:nope\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nno colon\nEND:VCARD\n"
    )
    _drafts, refused = parse_vcard(bad, "b.vcf", region=None)
    assert [r.reason for r in refused] == [
        "EMAIL 'nope' is not an e-mail address",
        "line 8: not a 'NAME:value' line: 'no colon'",
    ]


# --------------------------------------------------------------------- merge


def people(db: Database) -> list[tuple[str, str | None]]:
    with db.raw_reader() as raw:
        return [tuple(r) for r in raw.execute("SELECT name, email FROM people ORDER BY name")]


def test_import_merges_by_email_then_name_and_records_the_cache(
    db: Database, db_path: Path, clock: FakeClock, tmp_path: Path
) -> None:
    first = tmp_path / "first.csv"
    first.write_text(
        "Name,Email,Mobile,Team\nPriya Raman,PRIYA@larkspur.example,07911 123456,team-data\n"
        "Hanna Berg,,+46 70 123 45 67,team-platform\n",
        encoding="utf-8",
    )
    report = import_people_and_schedules(db, [first], region="GB", clock=clock)
    assert (report.contacts_new, report.contacts_updated, report.refused) == (2, 0, [])
    assert raw_scalar(db_path, "SELECT source FROM cache_sets WHERE name = 'people'") == (
        f"import: {first}"
    )
    clock.advance(hours=1)
    second = tmp_path / "second.vcf"
    second.write_text(
        "BEGIN:VCARD\nVERSION:3.0\nFN:Priya R.\nEMAIL:priya@larkspur.example\n"
        "TEL;TYPE=cell:+44 7911 123456\nTEL;TYPE=work:+44 20 7946 0123\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nFN:hanna  BERG\nEMAIL:hanna.berg@larkspur.example\n"
        "ORG:Larkspur;team-platform\nEND:VCARD\n",
        encoding="utf-8",
    )
    report = import_people_and_schedules(db, [second], clock=clock)
    assert (report.contacts_new, report.contacts_updated) == (0, 2)
    assert people(db) == [
        ("Priya R.", "priya@larkspur.example"),  # same address: the newer name
        ("hanna  BERG", "hanna.berg@larkspur.example"),  # same name: the address filled in
    ] or people(db) == [
        ("hanna  BERG", "hanna.berg@larkspur.example"),
        ("Priya R.", "priya@larkspur.example"),
    ]
    priya = OnCallDirectory(db, clock=clock).contacts("priya")[0]
    # the mobile written two ways is one method; the office number is new
    assert [(m.kind, m.e164) for m in priya.reach if m.kind.is_phone] == [
        (ReachKind.MOBILE, "+447911123456"),
        (ReachKind.OFFICE, "+442079460123"),
    ]
    assert raw_scalar(db_path, "SELECT count(*) FROM teams") == 2
    again = import_people_and_schedules(db, [second], clock=clock)
    assert (again.contacts_new, again.contacts_updated, again.contacts_unchanged) == (0, 0, 2)


def test_two_people_with_one_name_but_different_addresses_stay_two(
    db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    sheet = tmp_path / "same-name.csv"
    sheet.write_text(
        "Name,Email\nAlex Chen,alex.chen@a.example\nAlex Chen,alex.chen@b.example\n",
        encoding="utf-8",
    )
    import_people_and_schedules(db, [sheet], clock=clock)
    assert len(people(db)) == 2


def test_a_refused_file_changes_nothing_and_the_rest_imports(
    db: Database, db_path: Path, clock: FakeClock, tmp_path: Path
) -> None:
    good = tmp_path / "good.csv"
    good.write_text("Name,Email\nAna,ana@x.example\n", encoding="utf-8")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("Name,Email\nJosé,jose@x.example\n".encode("latin-1"))
    empty = tmp_path / "empty.vcf"
    empty.write_bytes(b"")
    binary = tmp_path / "photo.vcf"
    binary.write_bytes(b"\x89PNG\x00\x00")
    report = import_people_and_schedules(
        db, [good, latin, empty, binary, tmp_path / "missing.csv"], clock=clock
    )
    assert people(db) == [("Ana", "ana@x.example")]
    reasons = {Path(r.path).name: r.reason for r in report.refused}
    assert reasons["latin.csv"].startswith("not UTF-8: byte 0xe9")
    assert reasons["empty.vcf"] == "empty file"
    assert reasons["photo.vcf"].startswith("binary file")
    assert reasons["missing.csv"] == "no such file or folder"
    assert [Path(f.path).name for f in report.files] == ["good.csv"]


def test_0004_carries_old_reach_and_team_over(
    data_dir: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database from before 0004 (people.reach JSON, people.team) is upgraded with them."""
    from alembic import command
    from sqlalchemy.engine import Engine

    import console.storage.db as dbmod
    from console.storage.db import HEAD_REVISION, open_database
    from console.storage.migrate import alembic_config

    path = data_dir / "console.db"

    def upgrade_to_0002(engine: Engine) -> None:
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0002_runbooks")

    with monkeypatch.context() as patched:
        patched.setattr(dbmod, "KNOWN_REVISIONS", ("0001_initial", "0002_runbooks"))
        patched.setattr(dbmod, "HEAD_REVISION", "0002_runbooks")
        open_database(path, clock=clock, migrate=upgrade_to_0002).close()
    connection = sqlite3.connect(path)
    try:
        connection.execute(
            "INSERT INTO people (uuid, name, email, team, reach, source) VALUES "
            "('a1', 'Priya  Raman', 'priya@x.example', 'team-data', ?, 'demo'), "
            "('b2', 'Hanna Berg', NULL, 'team-data', '[]', 'demo'), "
            "('c3', 'Odd', NULL, NULL, 'not json', 'demo')",
            (
                json.dumps(
                    {
                        "methods": [
                            {"kind": "mobile", "value": "+44 7911 123456"},
                            {"kind": "mobile", "value": "+44 7911 123456"},
                            {"kind": "chat", "value": "@priya"},
                            {"value": "no kind"},
                        ]
                    }
                ),
            ),
        )
        connection.commit()
    finally:
        connection.close()
    open_database(path, clock=clock).close()
    assert raw_scalar(path, "SELECT version_num FROM alembic_version") == HEAD_REVISION
    assert raw_rows(
        path,
        "SELECT p.name_key, r.position, r.kind, r.value FROM reach_methods r "
        "JOIN people p ON p.id = r.person_id ORDER BY r.position",
    ) == [("priya raman", 0, "mobile", "+44 7911 123456"), ("priya raman", 2, "chat", "@priya")]
    assert raw_rows(
        path,
        "SELECT t.name, count(*) FROM teams t JOIN team_members m ON m.team_id = t.id "
        "GROUP BY t.name",
    ) == [("team-data", 2)]
    columns = [row[1] for row in raw_rows(path, "PRAGMA table_info(people)")]
    assert "reach" not in columns
    assert "team" not in columns
