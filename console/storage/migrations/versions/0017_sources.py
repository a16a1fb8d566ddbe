"""Runbook sources: each imported folder is a source; ids are unique within it

Revision ID: 0017_sources
Revises: 0016_runbook_format
Create Date: 2026-12-08 00:10:00.000000

Issue 15: two collections with the same layout (the PagerDuty docs and their
Japanese translation) gave the same ids and the second was refused.

* ``runbook_sources``: name (unique; the prefix of an id another source already
  holds), path (unique), kind (the format most of its runbooks are in), origin
  (``folder``, ``pack``, ``legacy``), when added and last imported, and what its
  last import did (JSON).
* ``runbooks.source_id`` and ``runbooks.local_id`` (the id within the source,
  unique with ``source_id``). ``runbooks.slug`` stays the library-wide id: a
  runbook keeps the id it had, so timeline entries (``data.runbook_id``) and
  everything else that names a runbook by id keep working.

Existing rows: one ``legacy`` source per stored import root (``source_root``),
named after the folder (its parent's name in front, then ``-2``, ``-3`` … when
two folders share a name);
``local_id`` is the stored id. Plain ``ALTER TABLE … ADD COLUMN`` and
``UPDATE`` of columns no trigger watches: the word index is not touched.
"""

from __future__ import annotations

import json
import os
import re

import sqlalchemy as sa
from alembic import op

revision = "0017_sources"
down_revision = "0016_runbook_format"
branch_labels = None
depends_on = None


def _slug(text: str) -> str:
    # console.domain.runbook.slugify, as it was when this was written
    return re.sub(r"[^\w]+", "-", text.lower()).strip("-_") or "runbooks"


def upgrade() -> None:
    op.create_table(
        "runbook_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("added_at", sa.String(length=27), nullable=False),
        sa.Column("imported_at", sa.String(length=27), nullable=True),
        sa.Column("last_import", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runbook_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_runbook_sources_name")),
        sa.UniqueConstraint("path", name=op.f("uq_runbook_sources_path")),
    )
    # no declared reference: such a column could never be dropped in place (downgrade)
    op.execute("ALTER TABLE runbooks ADD COLUMN source_id INTEGER")
    op.execute("ALTER TABLE runbooks ADD COLUMN local_id TEXT DEFAULT '' NOT NULL")
    bind = op.get_bind()
    roots = bind.execute(
        sa.text(
            "SELECT source_root, min(imported_at), max(imported_at), count(*) FROM runbooks "
            "GROUP BY source_root ORDER BY source_root"
        )
    ).fetchall()
    taken: set[str] = set()
    for root, first, last, count in roots:
        trimmed = str(root).rstrip("/\\")
        name = base = _slug(os.path.basename(trimmed) or "runbooks")
        if name in taken:  # docs → team-docs, as a new source is named
            name = base = _slug(f"{os.path.basename(os.path.dirname(trimmed))}-{base}")
        number = 1
        while name in taken:
            number += 1
            name = f"{base}-{number}"
        taken.add(name)
        kind_row = bind.execute(
            sa.text(
                "SELECT format FROM runbooks WHERE source_root = :root GROUP BY format "
                "ORDER BY count(*) DESC, format LIMIT 1"
            ),
            {"root": root},
        ).fetchone()
        source_id = bind.execute(
            sa.text(
                "INSERT INTO runbook_sources (name, path, kind, origin, added_at, imported_at, "
                "last_import) VALUES (:name, :path, :kind, 'legacy', :added, :last, :report) "
                "RETURNING id"
            ),
            {
                "name": name,
                "path": root,
                "kind": kind_row[0] if kind_row else "markdown",
                "added": first,
                "last": last,
                "report": json.dumps({"runbooks": count}),
            },
        ).scalar_one()
        bind.execute(
            sa.text(
                "UPDATE runbooks SET source_id = :id, local_id = slug WHERE source_root = :root"
            ),
            {"id": source_id, "root": root},
        )
    op.create_index(
        op.f("ix_runbooks_source_id_local_id"),
        "runbooks",
        ["source_id", "local_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_runbooks_source_id_local_id"), table_name="runbooks")
    # SQLite (3.35+) drops a column in place; the triggers do not name these
    op.execute("ALTER TABLE runbooks DROP COLUMN local_id")
    op.execute("ALTER TABLE runbooks DROP COLUMN source_id")
    op.drop_table("runbook_sources")
