"""runbook indexes buffer up to 32 MB of terms before writing a segment

Revision ID: 0014_fts_hashsize
Revises: 0013_opsgenie
Create Date: 2026-11-24 09:00:00.000000

FTS5 keeps the terms of rows being written in memory and writes them out as a
new segment when that buffer passes ``hashsize`` (1 MB by default) and at the
end of every statement. An import writes 500 runbooks per statement, about 3 MB
of text: with the default, 3-4 small segments per statement, each merged into
larger ones later. At 32 MB a statement makes one segment per index. Measured
on the 10,000-runbook benchmark library (three runs each, same process): the
import took 4.5-5.9 s at 1 MB, 4.2-5.4 s at 32 MB. The buffer holds only what
one statement writes, so the memory it takes is bounded by the batch, not by
this figure. The setting is stored in each index's ``_config`` table.
"""

from __future__ import annotations

from alembic import op

revision = "0014_fts_hashsize"
down_revision = "0013_opsgenie"
branch_labels = None
depends_on = None

INDEXES = ("runbooks_fts", "runbooks_trigram")
HASHSIZE = 32 * 1024 * 1024
DEFAULT_HASHSIZE = 1024 * 1024


def _set(size: int) -> None:
    for table in INDEXES:
        op.execute(f"INSERT INTO {table}({table}, rank) VALUES ('hashsize', {size})")


def upgrade() -> None:
    _set(HASHSIZE)


def downgrade() -> None:
    _set(DEFAULT_HASHSIZE)
