"""Runbooks record the format they were read as, whether they are a landing page,
the warnings their import found, and their place in a site's navigation

Revision ID: 0016_runbook_format
Revises: 0015_cjk_bigrams
Create Date: 2026-12-07 23:30:00.000000

Issue 15: a collection is read in the format its site generator uses
(Middleman, Hugo, Jekyll, MkDocs/TechDocs, Docusaurus, GitHub wiki, Runme or
plain Markdown), a folder README or ``index.md`` is a runbook marked as a
landing page, and a file every renderer shows is imported with its problems
as warnings (a JSON list of texts) instead of refused. ``nav_order`` is the
page's place in ``mkdocs.yml``'s nav (or the ``weight`` / ``sidebar_position``
/ ``nav_order`` of its front matter), NULL when it has none.

Four plain ``ALTER TABLE … ADD COLUMN``: the table is not rebuilt, so the word
index's triggers stay as they are. Rows already imported are marked to be
read again (``mtime_ns`` 0 and no ``content_hash``): the next import of their
folder parses them in their format (they count as updated once), where it would
otherwise pass over files whose size and time have not changed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_runbook_format"
down_revision = "0015_cjk_bigrams"
branch_labels = None
depends_on = None

COLUMNS = ("format", "landing", "warnings", "nav_order")


def upgrade() -> None:
    op.add_column(
        "runbooks",
        sa.Column("format", sa.String(32), nullable=False, server_default=sa.text("'markdown'")),
    )
    op.add_column(
        "runbooks", sa.Column("landing", sa.Boolean(), nullable=False, server_default=sa.text("0"))
    )
    op.add_column(
        "runbooks", sa.Column("warnings", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
    )
    op.add_column("runbooks", sa.Column("nav_order", sa.Integer(), nullable=True))
    # UPDATE of columns no trigger watches: the word index is not touched
    op.execute("UPDATE runbooks SET mtime_ns = 0, content_hash = ''")


def downgrade() -> None:
    # SQLite (3.35+) drops a column in place; the triggers do not name these
    for name in reversed(COLUMNS):
        op.execute(f"ALTER TABLE runbooks DROP COLUMN {name}")
