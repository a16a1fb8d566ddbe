"""trigram index: bodies only when they hold CJK text; 3-character prefix index

Revision ID: 0003_runbook_trigram
Revises: 0002_runbooks
Create Date: 2026-11-23 13:10:00.000000

Indexing every body with ``trigram`` was 80 % of a runbook import (2.2 s of
2.7 s of SQL for 2,000 files) and made the index 4x the size of the text. The
trigram table exists for two things: words in scripts without spaces (Japanese,
Chinese, Korean), which only a trigram index finds, and substrings of alert
names and titles (``filesys`` in ``NodeFilesystemSpaceFillingUp``). So it now
indexes title, slug, symptoms, alerts, services and owner of every runbook,
and the body only where ``runbooks.has_cjk`` says the body has such text (set
by the importer). Latin-script body text is found by the word index, with
prefix matching on the last term.

The word index gains ``prefix='3'``: a still-typed last word matches as a
prefix from three characters (console.search.runbooks.MIN_PREFIX_CHARS), and
without a prefix index "pod*" over 10k runbooks cost twice "pod" (5.5 vs
2.6 ms); with it 1.6 ms, for 15 % more index-build time.

The triggers feed ``CASE WHEN has_cjk THEN body ELSE '' END`` on insert and on
delete alike, so the external-content ``delete`` always removes exactly what
was indexed. Never run FTS5 ``rebuild`` on ``runbooks_trigram``: it would read
every body from ``runbooks``; repopulate with the INSERT … SELECT below.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0003_runbook_trigram"
down_revision = "0002_runbooks"
branch_labels = None
depends_on = None

#: as in 0002, the bm25() weights in console/search follow this order
FTS_COLUMNS = ("title", "slug", "symptoms", "alerts", "services", "owner", "body")
#: Hiragana, Katakana, CJK ideographs (+ extension A, compatibility), Hangul,
#: half-width Katakana — the same class as console.search.runbooks (a test pins it)
CJK_CLASS = "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f]"
_TRIGGERS = ("runbooks_fts_ai", "runbooks_fts_ad", "runbooks_fts_au")


def _values(row: str, *, trigram: bool) -> str:
    def column(name: str) -> str:
        if trigram and name == "body":
            return f"CASE WHEN {row}.has_cjk THEN {row}.body ELSE '' END"
        return f"{row}.{name}"

    return ", ".join(column(c) for c in FTS_COLUMNS)


def _create_triggers(*, trigram_cases: bool) -> None:
    columns = ", ".join(FTS_COLUMNS)
    tables = (("runbooks_fts", False), ("runbooks_trigram", trigram_cases))
    inserts = "".join(
        f"INSERT INTO {t}(rowid, {columns}) VALUES (new.id, {_values('new', trigram=g)}); "
        for t, g in tables
    )
    deletes = "".join(
        f"INSERT INTO {t}({t}, rowid, {columns}) "
        f"VALUES ('delete', old.id, {_values('old', trigram=g)}); "
        for t, g in tables
    )
    watched = ", ".join((*FTS_COLUMNS, "has_cjk")) if trigram_cases else columns
    op.execute(f"CREATE TRIGGER runbooks_fts_ai AFTER INSERT ON runbooks BEGIN {inserts}END")
    op.execute(f"CREATE TRIGGER runbooks_fts_ad AFTER DELETE ON runbooks BEGIN {deletes}END")
    op.execute(
        f"CREATE TRIGGER runbooks_fts_au AFTER UPDATE OF {watched} ON runbooks "
        f"BEGIN {deletes}{inserts}END"
    )


def _recreate_trigram(*, cjk_only: bool) -> None:
    columns = ", ".join(FTS_COLUMNS)
    op.execute("DROP TABLE IF EXISTS runbooks_trigram")
    op.execute(
        f"CREATE VIRTUAL TABLE runbooks_trigram USING fts5({columns}, "
        "content='runbooks', content_rowid='id', tokenize='trigram')"
    )
    if cjk_only:
        op.execute(
            f"INSERT INTO runbooks_trigram(rowid, {columns}) "
            f"SELECT id, {_values('runbooks', trigram=True)} FROM runbooks"
        )
    else:
        op.execute("INSERT INTO runbooks_trigram(runbooks_trigram) VALUES ('rebuild')")


def _recreate_words(*, prefix: bool) -> None:
    columns = ", ".join(FTS_COLUMNS)
    option = ", prefix='3'" if prefix else ""
    op.execute("DROP TABLE IF EXISTS runbooks_fts")
    op.execute(
        f"CREATE VIRTUAL TABLE runbooks_fts USING fts5({columns}, content='runbooks', "
        f"content_rowid='id', tokenize='unicode61 remove_diacritics 2'{option})"
    )
    op.execute("INSERT INTO runbooks_fts(runbooks_fts) VALUES ('rebuild')")


def upgrade() -> None:
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    with op.batch_alter_table("runbooks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("has_cjk", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    bind = op.get_bind()
    cjk = re.compile(CJK_CLASS)
    flagged = [
        {"id": row_id}
        for row_id, body in bind.execute(sa.text("SELECT id, body FROM runbooks"))
        if not body.isascii() and cjk.search(body)
    ]
    if flagged:
        bind.execute(sa.text("UPDATE runbooks SET has_cjk = 1 WHERE id = :id"), flagged)
    _recreate_words(prefix=True)
    _recreate_trigram(cjk_only=True)
    _create_triggers(trigram_cases=True)


def downgrade() -> None:
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    _recreate_words(prefix=False)
    _recreate_trigram(cjk_only=False)
    with op.batch_alter_table("runbooks", schema=None) as batch_op:
        batch_op.drop_column("has_cjk")
    _create_triggers(trigram_cases=False)
