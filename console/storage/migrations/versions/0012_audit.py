"""readiness audit runs

Revision ID: 0012_audit
Revises: 0011_packs
Create Date: 2026-11-27 09:00:00.000000

* ``audit_runs``: one row per readiness audit: when it ran, the score of each
  area and the finding counts (JSON), so the next audit shows the trend. The
  findings themselves are recomputed from the data on every run and not kept.

The lead rechains ``down_revision`` at merge (other workers add 0009).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_audit"
down_revision = "0011_packs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("ran_at", sa.String(length=27), nullable=False),
        sa.Column("ran_by", sa.Text(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_runs")),
        sa.UniqueConstraint("uuid", name=op.f("uq_audit_runs_uuid")),
    )
    with op.batch_alter_table("audit_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_runs_ran_at"), ["ran_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_runs_ran_at"))
    op.drop_table("audit_runs")
