"""change tokens: a fresh random value whenever contacts or schedules change

Revision ID: 0009_change_tokens
Revises: 0008_postmortem
Create Date: 2026-11-23 15:40:00.000000

``change_tokens`` has one row per watched set (``people``: people and their reach
methods; ``schedules``: schedule rows). Triggers give the row a new
``randomblob(8)`` on every insert, update or delete, whoever writes (an import, a
pull, a pack, a restore's later writes). Readers keep what they built from a set
(the on-call lookup's contact directory) for as long as the token is the same.
A random value rather than a counter: a restored backup followed by new writes can
never come back to a token seen before with other content.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_change_tokens"
down_revision = "0008_postmortem"
branch_labels = None
depends_on = None

#: watched set → the tables whose changes renew its token
WATCHED = {"people": ("people", "reach_methods"), "schedules": ("schedules",)}


def upgrade() -> None:
    op.create_table(
        "change_tokens",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("token", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_change_tokens")),
    )
    for name, tables in WATCHED.items():
        op.execute(f"INSERT INTO change_tokens (name, token) VALUES ('{name}', randomblob(8))")
        for table in tables:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_{event.lower()}_token AFTER {event} ON {table} "
                    f"BEGIN UPDATE change_tokens SET token = randomblob(8) "
                    f"WHERE name = '{name}'; END"
                )


def downgrade() -> None:
    for tables in WATCHED.values():
        for table in tables:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{event}_token")
    op.drop_table("change_tokens")
