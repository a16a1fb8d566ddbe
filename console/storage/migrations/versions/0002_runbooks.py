"""runbooks and their full-text indexes

Revision ID: 0002_runbooks
Revises: 0001_initial
Create Date: 2026-11-24 09:00:00.000000

Two FTS5 tables over the same columns, both external-content on ``runbooks``
and kept in step by triggers (so every writer, even a raw SQL one, keeps them
true):

* ``runbooks_fts`` — ``unicode61 remove_diacritics 2``: word matching and
  bm25 ranking; small (about a sixth of the trigram index on the corpus).
* ``runbooks_trigram`` — ``trigram``: substring matches, and the only useful
  index for Japanese/Chinese text, which has no spaces between words.

The measurements behind the choice are in docs/ARCHITECTURE.md ("Search").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_runbooks"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

#: indexed columns, in the order the bm25() weights in console/search follow
FTS_COLUMNS = ("title", "slug", "symptoms", "alerts", "services", "owner", "body")
FTS_TABLES = {
    "runbooks_fts": "unicode61 remove_diacritics 2",
    "runbooks_trigram": "trigram",
}


def upgrade() -> None:
    op.create_table(
        "runbooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("source_root", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("mtime_ns", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("symptoms", sa.JSON(), nullable=False),
        sa.Column("alerts", sa.JSON(), nullable=False),
        sa.Column("severity_hint", sa.Text(), nullable=True),
        sa.Column("owner", sa.Text(), nullable=True),
        sa.Column("last_reviewed", sa.String(length=10), nullable=True),
        sa.Column("review_every_days", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.String(length=27), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runbooks")),
        sa.UniqueConstraint("path", name=op.f("uq_runbooks_path")),
        sa.UniqueConstraint("slug", name=op.f("uq_runbooks_slug")),
        sa.UniqueConstraint("uuid", name=op.f("uq_runbooks_uuid")),
    )
    with op.batch_alter_table("runbooks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runbooks_owner"), ["owner"], unique=False)
        batch_op.create_index(batch_op.f("ix_runbooks_source_root"), ["source_root"], unique=False)

    columns = ", ".join(FTS_COLUMNS)
    new_values = ", ".join(f"new.{c}" for c in FTS_COLUMNS)
    old_values = ", ".join(f"old.{c}" for c in FTS_COLUMNS)
    for table, tokenizer in FTS_TABLES.items():
        op.execute(
            f"CREATE VIRTUAL TABLE {table} USING fts5({columns}, "
            f"content='runbooks', content_rowid='id', tokenize='{tokenizer}')"
        )
    inserts = "".join(
        f"INSERT INTO {t}(rowid, {columns}) VALUES (new.id, {new_values}); " for t in FTS_TABLES
    )
    deletes = "".join(
        f"INSERT INTO {t}({t}, rowid, {columns}) VALUES ('delete', old.id, {old_values}); "
        for t in FTS_TABLES
    )
    op.execute(f"CREATE TRIGGER runbooks_fts_ai AFTER INSERT ON runbooks BEGIN {inserts}END")
    op.execute(f"CREATE TRIGGER runbooks_fts_ad AFTER DELETE ON runbooks BEGIN {deletes}END")
    # Only a change to an indexed column touches the indexes: re-stamping the
    # size/mtime of an unchanged file costs one row write.
    op.execute(
        f"CREATE TRIGGER runbooks_fts_au AFTER UPDATE OF {columns} ON runbooks "
        f"BEGIN {deletes}{inserts}END"
    )


def downgrade() -> None:
    for trigger in ("runbooks_fts_ai", "runbooks_fts_ad", "runbooks_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for table in FTS_TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table}")
    with op.batch_alter_table("runbooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runbooks_source_root"))
        batch_op.drop_index(batch_op.f("ix_runbooks_owner"))
    op.drop_table("runbooks")
