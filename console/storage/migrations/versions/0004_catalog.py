"""service catalog: entity refs and metadata, edge kinds, owners, incident services

Revision ID: 0004_catalog
Revises: 0003_runbook_trigram
Create Date: 2026-11-25 09:00:00.000000

* ``services`` becomes a catalog entity: ``ref`` (``kind:namespace/name``, lower
  case) is its identity instead of ``name`` (Backstage allows a Component and an
  API of the same name, and the same name in two namespaces), plus namespace,
  title, spec type, lifecycle, owner ref, system, tags, annotations, links, the
  declared relations, source file and import time. Rows of a 0002 database
  (the demo's) get ``component:default/<name>``-style refs from kind and name.
* ``service_dependencies.kind``: depends / api / part.
* ``catalog_owners``: Groups and Users.
* ``incident_services``: the services an incident names, by ref.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_catalog"
down_revision = "0003_runbook_trigram"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 1. new columns, nullable while existing rows are filled in
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ref", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("namespace", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("title", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("spec_type", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("lifecycle", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("owner_ref", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("system", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("annotations", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("links", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("relations", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("source_file", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("imported_at", sa.String(length=27), nullable=True))
    # ':' || 'default/' — a literal ':default' would read as a bind parameter
    op.execute(
        "UPDATE services SET ref = lower(kind || ':' || 'default/' || name), "
        "namespace = 'default', owner_ref = CASE WHEN owner IS NULL THEN NULL "
        "ELSE lower('group' || ':' || 'default/' || owner) END, "
        "tags = '[]', annotations = '{}', links = '[]', relations = '{}'"
    )
    # 2. now every row has them: NOT NULL, the new identity, and name as a plain index
    with op.batch_alter_table("services", schema=None) as batch_op:
        for column, kind in (
            ("ref", sa.Text()),
            ("namespace", sa.Text()),
            ("tags", sa.JSON()),
            ("annotations", sa.JSON()),
            ("links", sa.JSON()),
            ("relations", sa.JSON()),
        ):
            batch_op.alter_column(column, existing_type=kind, nullable=False)
        batch_op.drop_constraint(batch_op.f("uq_services_name"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_services_ref"), ["ref"])
        batch_op.create_index(batch_op.f("ix_services_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_services_source"), ["source"], unique=False)

    with op.batch_alter_table("service_dependencies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=8), nullable=False, server_default="depends")
        )
    with op.batch_alter_table("service_dependencies", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=8), server_default=None)

    op.create_table(
        "catalog_owners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("namespace", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("parent", sa.Text(), nullable=True),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.Column("imported_at", sa.String(length=27), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_owners")),
        sa.UniqueConstraint("ref", name=op.f("uq_catalog_owners_ref")),
        sa.UniqueConstraint("uuid", name=op.f("uq_catalog_owners_uuid")),
    )
    with op.batch_alter_table("catalog_owners", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_owners_source"), ["source"], unique=False)

    op.create_table(
        "incident_services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("service_ref", sa.Text(), nullable=False),
        sa.Column("service_name", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_services_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_services")),
        sa.UniqueConstraint(
            "incident_id", "service_ref", name=op.f("uq_incident_services_incident_id_service_ref")
        ),
        sa.UniqueConstraint("uuid", name=op.f("uq_incident_services_uuid")),
    )
    with op.batch_alter_table("incident_services", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_services_service_ref"), ["service_ref"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("incident_services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_services_service_ref"))
    op.drop_table("incident_services")
    with op.batch_alter_table("catalog_owners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_owners_source"))
    op.drop_table("catalog_owners")
    with op.batch_alter_table("service_dependencies", schema=None) as batch_op:
        batch_op.drop_column("kind")
    # Names were unique before 0004: keep one row per name (the first) so the
    # old constraint can come back.
    op.execute("DELETE FROM services WHERE id NOT IN (SELECT min(id) FROM services GROUP BY name)")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_services_source"))
        batch_op.drop_index(batch_op.f("ix_services_name"))
        batch_op.drop_constraint(batch_op.f("uq_services_ref"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_services_name"), ["name"])
        for column in (
            "imported_at",
            "source_file",
            "relations",
            "links",
            "annotations",
            "tags",
            "system",
            "owner_ref",
            "lifecycle",
            "spec_type",
            "title",
            "namespace",
            "ref",
        ):
            batch_op.drop_column(column)
