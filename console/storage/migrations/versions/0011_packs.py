"""signed content packs: pinned keys and installed pack versions

Revision ID: 0011_packs
Revises: 0010_word_index_without_prefix
Create Date: 2026-11-23 16:00:00.000000

* ``trusted_pack_keys``: minisign public keys ``pack import`` accepts (several for rotation).
* ``pack_installs``: every pack applied; the newest version per publisher refuses rollbacks.

The lead rechains ``down_revision`` at merge.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_packs"
down_revision = "0010_word_index_without_prefix"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trusted_pack_keys",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("added_at", sa.String(length=27), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_trusted_pack_keys")),
    )
    op.create_table(
        "pack_installs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("publisher", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=128), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("created", sa.String(length=27), nullable=False),
        sa.Column("expires", sa.String(length=27), nullable=True),
        sa.Column("installed_at", sa.String(length=27), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pack_installs")),
        sa.UniqueConstraint(
            "publisher", "version", name=op.f("uq_pack_installs_publisher_version")
        ),
    )


def downgrade() -> None:
    op.drop_table("pack_installs")
    op.drop_table("trusted_pack_keys")
