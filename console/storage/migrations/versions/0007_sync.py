"""sync accounts, remote incident ids, the outbox's remote id

Revision ID: 0007_sync
Revises: 0006_runbook_cjk_lines
Create Date: 2026-12-02 09:00:00.000000

Accounts hold settings only; tokens stay in the OS keyring or the environment.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_sync"
down_revision = "0006_runbook_cjk_lines"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor", sa.String(length=16), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=False),
        sa.Column("from_email", sa.Text(), nullable=True),
        sa.Column("default_service", sa.Text(), nullable=True),
        sa.Column("created_at", sa.String(length=27), nullable=False),
        sa.Column("updated_at", sa.String(length=27), nullable=False),
        sa.Column("stopped_at", sa.String(length=27), nullable=True),
        sa.Column("stopped_reason", sa.Text(), nullable=True),
        sa.Column("last_success_at", sa.String(length=27), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_accounts")),
        sa.UniqueConstraint("vendor", name=op.f("uq_sync_accounts_vendor")),
    )
    op.create_table(
        "remote_incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.Text(), nullable=False),
        sa.Column("dedup_key", sa.Text(), nullable=False),
        sa.Column("html_url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.String(length=27), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["sync_accounts.id"],
            name=op.f("fk_remote_incidents_account_id_sync_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_remote_incidents_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_incidents")),
        sa.UniqueConstraint(
            "account_id", "incident_id", name=op.f("uq_remote_incidents_account_id_incident_id")
        ),
        sa.UniqueConstraint(
            "account_id", "remote_id", name=op.f("uq_remote_incidents_account_id_remote_id")
        ),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("remote_id", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("remote_id")
    op.drop_table("remote_incidents")
    op.drop_table("sync_accounts")
