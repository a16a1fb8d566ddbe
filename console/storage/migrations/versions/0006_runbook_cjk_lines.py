"""trigram index: only runbooks with CJK text, and of their bodies only the CJK lines

Revision ID: 0006_runbook_cjk_lines
Revises: 0005_oncall
Create Date: 2026-11-23 14:30:00.000000

0003 kept every runbook's short columns in ``runbooks_trigram`` and the whole
body of any runbook holding CJK text. Measured on the 10k benchmark library
(14 % of its runbooks carry a Japanese paragraph): the trigram table still cost
6.1 s of a 14 s write phase, as much as the word index. Now:

* only runbooks with ``has_cjk`` (any CJK character in a name column or the
  body, set by the importer) have a trigram row at all;
* its body column is fed ``runbooks.cjk_text``: the body's lines that hold CJK
  text (a Japanese runbook: nearly all of it; an English one with a Japanese
  note: that note).

Substrings of Latin names (``filesys`` in an alert name) are found by a LIKE
scan of the short columns instead (console.search.runbooks.NAMES).

Triggers use ``INSERT … SELECT … WHERE has_cjk`` so insert, delete and update
index exactly what was indexed before. Never ``rebuild`` the trigram table.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0006_runbook_cjk_lines"
down_revision = "0005_oncall"
branch_labels = None
depends_on = None

FTS_COLUMNS = ("title", "slug", "symptoms", "alerts", "services", "owner", "body")
#: the same class as console.domain.runbook.CJK_CLASS (a test pins it)
CJK_CLASS = "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f]"
_TRIGGERS = ("runbooks_fts_ai", "runbooks_fts_ad", "runbooks_fts_au")


def _values(row: str, *, trigram: bool) -> str:
    columns = [f"{row}.{c}" for c in FTS_COLUMNS]
    if trigram:
        columns[-1] = f"{row}.cjk_text"
    return ", ".join(columns)


def _create_triggers() -> None:
    columns = ", ".join(FTS_COLUMNS)
    new_words = _values("new", trigram=False)
    words_insert = f"INSERT INTO runbooks_fts(rowid, {columns}) VALUES (new.id, {new_words}); "
    words_delete = (
        f"INSERT INTO runbooks_fts(runbooks_fts, rowid, {columns}) "
        f"VALUES ('delete', old.id, {_values('old', trigram=False)}); "
    )
    trigram_insert = (
        f"INSERT INTO runbooks_trigram(rowid, {columns}) "
        f"SELECT new.id, {_values('new', trigram=True)} WHERE new.has_cjk; "
    )
    trigram_delete = (
        f"INSERT INTO runbooks_trigram(runbooks_trigram, rowid, {columns}) "
        f"SELECT 'delete', old.id, {_values('old', trigram=True)} WHERE old.has_cjk; "
    )
    watched = ", ".join((*FTS_COLUMNS, "has_cjk", "cjk_text"))
    op.execute(
        "CREATE TRIGGER runbooks_fts_ai AFTER INSERT ON runbooks "
        f"BEGIN {words_insert}{trigram_insert}END"
    )
    op.execute(
        "CREATE TRIGGER runbooks_fts_ad AFTER DELETE ON runbooks "
        f"BEGIN {words_delete}{trigram_delete}END"
    )
    op.execute(
        f"CREATE TRIGGER runbooks_fts_au AFTER UPDATE OF {watched} ON runbooks "
        f"BEGIN {words_delete}{trigram_delete}{words_insert}{trigram_insert}END"
    )


def _old_triggers() -> None:
    """0003's triggers (for the downgrade)."""
    columns = ", ".join(FTS_COLUMNS)

    def values(row: str, trigram: bool) -> str:
        parts = [f"{row}.{c}" for c in FTS_COLUMNS]
        if trigram:
            parts[-1] = f"CASE WHEN {row}.has_cjk THEN {row}.body ELSE '' END"
        return ", ".join(parts)

    tables = (("runbooks_fts", False), ("runbooks_trigram", True))
    inserts = "".join(
        f"INSERT INTO {t}(rowid, {columns}) VALUES (new.id, {values('new', g)}); "
        for t, g in tables
    )
    deletes = "".join(
        f"INSERT INTO {t}({t}, rowid, {columns}) VALUES ('delete', old.id, {values('old', g)}); "
        for t, g in tables
    )
    op.execute(f"CREATE TRIGGER runbooks_fts_ai AFTER INSERT ON runbooks BEGIN {inserts}END")
    op.execute(f"CREATE TRIGGER runbooks_fts_ad AFTER DELETE ON runbooks BEGIN {deletes}END")
    op.execute(
        f"CREATE TRIGGER runbooks_fts_au AFTER UPDATE OF {columns}, has_cjk ON runbooks "
        f"BEGIN {deletes}{inserts}END"
    )


def _recreate_trigram(select: str) -> None:
    columns = ", ".join(FTS_COLUMNS)
    op.execute("DROP TABLE IF EXISTS runbooks_trigram")
    op.execute(
        f"CREATE VIRTUAL TABLE runbooks_trigram USING fts5({columns}, "
        "content='runbooks', content_rowid='id', tokenize='trigram')"
    )
    op.execute(f"INSERT INTO runbooks_trigram(rowid, {columns}) {select}")


def cjk_lines(text: str, pattern: re.Pattern[str]) -> str:
    return "\n".join(line for line in text.split("\n") if pattern.search(line))


def upgrade() -> None:
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    with op.batch_alter_table("runbooks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cjk_text", sa.Text(), nullable=False, server_default=sa.text("''"))
        )
    bind = op.get_bind()
    cjk = re.compile(CJK_CLASS)
    rows = bind.execute(sa.text(f"SELECT id, {', '.join(FTS_COLUMNS)} FROM runbooks")).fetchall()
    updates = []
    for row_id, *texts in rows:
        body = texts[-1]
        flagged = any(t and not t.isascii() and cjk.search(t) for t in texts)
        updates.append(
            {"id": row_id, "flag": flagged, "lines": cjk_lines(body, cjk) if flagged else ""}
        )
    if updates:
        bind.execute(
            sa.text("UPDATE runbooks SET has_cjk = :flag, cjk_text = :lines WHERE id = :id"),
            updates,
        )
    _recreate_trigram(f"SELECT id, {_values('runbooks', trigram=True)} FROM runbooks WHERE has_cjk")
    _create_triggers()


def downgrade() -> None:
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    parts = [f"runbooks.{c}" for c in FTS_COLUMNS]
    parts[-1] = "CASE WHEN runbooks.has_cjk THEN runbooks.body ELSE '' END"
    _recreate_trigram(f"SELECT id, {', '.join(parts)} FROM runbooks")
    with op.batch_alter_table("runbooks", schema=None) as batch_op:
        batch_op.drop_column("cjk_text")
    _old_triggers()
