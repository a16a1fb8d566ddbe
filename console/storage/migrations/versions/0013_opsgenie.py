"""Opsgenie push target: alerts or incidents

Revision ID: 0013_opsgenie
Revises: 0012_audit
Create Date: 2026-11-23 15:40:00.000000

* ``sync_accounts.mode``: what a local incident becomes at the vendor. Opsgenie
  has two objects: ``alert`` (the default; a client ``alias`` deduplicates) and
  ``incident`` (the Incident API, Standard/Enterprise plans). PagerDuty leaves it
  empty.

The lead rechains ``down_revision`` at merge (other workers add 0009-0011).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_opsgenie"
down_revision = "0012_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_accounts") as batch:
        batch.add_column(sa.Column("mode", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_accounts") as batch:
        batch.drop_column("mode")
