"""postmortems and action items

Revision ID: 0008_postmortem
Revises: 0007_sync
Create Date: 2026-11-26 09:00:00.000000

* ``postmortems``: one editable Markdown document per incident.
* ``action_items``: follow-ups with owner, due date, priority, kind and status.

Imported timeline events need no table: they are ``timeline_entries`` with
``source = 'imported'`` and ``remote_id`` = a hash of (incident, source, time,
message), so the existing unique (source, remote_id) index dedupes a re-import.

The lead rechains ``down_revision`` at merge (another worker adds 0006).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_postmortem"
down_revision = "0007_sync"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "postmortems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("drafted_at", sa.String(length=27), nullable=False),
        sa.Column("updated_at", sa.String(length=27), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_postmortems_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postmortems")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_postmortems_incident_id")),
        sa.UniqueConstraint("uuid", name=op.f("uq_postmortems_uuid")),
    )
    op.create_table(
        "action_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("due_on", sa.String(length=10), nullable=True),
        sa.Column("priority", sa.String(length=2), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.String(length=27), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("done_at", sa.String(length=27), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_action_items_incident_id_incidents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_items")),
        sa.UniqueConstraint("uuid", name=op.f("uq_action_items_uuid")),
    )
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_action_items_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_action_items_status_due_on"), ["status", "due_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_items_status_due_on"))
        batch_op.drop_index(batch_op.f("ix_action_items_incident_id"))
    op.drop_table("action_items")
    op.drop_table("postmortems")
