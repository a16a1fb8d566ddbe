"""word index without the 3-character prefix index

Revision ID: 0010_word_index_without_prefix
Revises: 0009_change_tokens
Create Date: 2026-11-23 16:00:00.000000

Migration 0003 gave ``runbooks_fts`` ``prefix='3'``. FTS5 uses a prefix index
only for a prefix of exactly that length, so it helped the one case of a
three-character still-typed word ("cra" in "kube pod cra"), and it was the
largest single cost of an import: building it took 31 % of the SQL time of a
runbook import (2,000 runbooks: 1.47 s → 1.01 s of CPU without it). Over the
10,000-runbook search benchmark the queries ran as fast without it (p95 of the
per-query medians 2.57 ms without, 2.82 ms with; "kube pod cra" 2.14 vs 1.95 ms).
The table is recreated with the same columns and tokenizer and rebuilt from
``runbooks``; the triggers of 0003 name the table, not its options, and stay.
"""

from __future__ import annotations

from alembic import op

revision = "0010_word_index_without_prefix"
down_revision = "0009_change_tokens"
branch_labels = None
depends_on = None

#: as in 0002/0003, the bm25() weights in console/search follow this order
FTS_COLUMNS = ("title", "slug", "symptoms", "alerts", "services", "owner", "body")


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
    _recreate_words(prefix=False)


def downgrade() -> None:
    _recreate_words(prefix=True)
