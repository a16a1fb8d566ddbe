"""contacts with reach methods and teams; schedules, shifts, escalation policies

Revision ID: 0005_oncall
Revises: 0004_catalog
Create Date: 2026-11-25 09:00:00.000000

``people.reach`` (a JSON list) becomes one ``reach_methods`` row per number or
handle, and ``people.team`` becomes ``teams`` + ``team_members`` (a person can
be in several teams). Existing rows are carried over: values as written, the
E.164 form left empty until the next import normalises them.

The lead rechains ``down_revision`` at merge (the catalog work adds 0003).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005_oncall"
down_revision = "0004_catalog"
branch_labels = None
depends_on = None

_NOW = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def upgrade() -> None:
    bind = op.get_bind()
    old_people = bind.execute(sa.text("SELECT id, name, email, team, reach FROM people")).all()

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("vendor_ref", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("updated_at", sa.String(length=27), nullable=False, server_default=_NOW)
        )
        batch_op.drop_column("team")
        batch_op.drop_column("reach")
    # The defaults only filled the old rows; the models give no server default.
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.alter_column("name_key", server_default=None)
        batch_op.alter_column("updated_at", server_default=None)
        batch_op.create_index(batch_op.f("ix_people_name_key"), ["name_key"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_people_vendor_ref"), ["vendor_ref"])

    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_teams_name")),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_team_members_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_team_members_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "person_id", name=op.f("pk_team_members")),
    )
    with op.batch_alter_table("team_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_team_members_person_id"), ["person_id"], unique=False)

    op.create_table(
        "reach_methods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("e164", sa.String(length=16), nullable=True),
        sa.Column("formatted", sa.Text(), nullable=True),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_reach_methods_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reach_methods")),
        sa.UniqueConstraint(
            "person_id", "kind", "value", name=op.f("uq_reach_methods_person_id_kind_value")
        ),
    )

    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("time_zone", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.String(length=27), nullable=False),
        sa.Column("longest_shift_s", sa.Integer(), nullable=False),
        sa.Column("has_permanent", sa.Boolean(), nullable=False),
        sa.Column("covered_until", sa.String(length=27), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("key", name=op.f("uq_schedules_key")),
        sa.UniqueConstraint("uuid", name=op.f("uq_schedules_uuid")),
    )
    op.create_table(
        "shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.String(length=27), nullable=False),
        sa.Column("end_at", sa.String(length=27), nullable=False),
        sa.Column("person_name", sa.Text(), nullable=False),
        sa.Column("person_key", sa.Text(), nullable=False),
        sa.Column("person_email", sa.Text(), nullable=True),
        sa.Column("person_ref", sa.Text(), nullable=True),
        sa.Column("layer", sa.Text(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("override", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_shifts_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shifts")),
    )
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shifts_start_at"), ["start_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_shifts_schedule_id_start_at_end_at"),
            ["schedule_id", "start_at", "end_at"],
            unique=False,
        )

    op.create_table(
        "escalation_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.String(length=27), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_policies")),
        sa.UniqueConstraint("key", name=op.f("uq_escalation_policies_key")),
        sa.UniqueConstraint("uuid", name=op.f("uq_escalation_policies_uuid")),
    )
    op.create_table(
        "escalation_levels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("delay_minutes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["escalation_policies.id"],
            name=op.f("fk_escalation_levels_policy_id_escalation_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_levels")),
        sa.UniqueConstraint(
            "policy_id", "level", name=op.f("uq_escalation_levels_policy_id_level")
        ),
    )
    op.create_table(
        "escalation_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["level_id"],
            ["escalation_levels.id"],
            name=op.f("fk_escalation_targets_level_id_escalation_levels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_targets")),
    )
    with op.batch_alter_table("escalation_targets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escalation_targets_level_id"), ["level_id"], unique=False
        )
    op.create_table(
        "service_policies",
        sa.Column("service_name", sa.Text(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["escalation_policies.id"],
            name=op.f("fk_service_policies_policy_id_escalation_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_name", name=op.f("pk_service_policies")),
    )
    with op.batch_alter_table("service_policies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_policies_policy_id"), ["policy_id"], unique=False
        )

    _carry_over(bind, old_people)


def _carry_over(bind: sa.Connection, old_people: Sequence[Any]) -> None:
    """Old ``team``/``reach`` values into the new tables; names get their match key."""
    teams: dict[str, int] = {}
    for person_id, name, _email, team, reach in old_people:
        bind.execute(
            sa.text("UPDATE people SET name_key = :key WHERE id = :id"),
            {"key": _name_key(str(name)), "id": person_id},
        )
        if isinstance(team, str) and team.strip():
            label = team.strip()
            if label not in teams:
                teams[label] = int(
                    bind.execute(
                        sa.text("INSERT INTO teams (name) VALUES (:name) RETURNING id"),
                        {"name": label},
                    ).scalar_one()
                )
            bind.execute(
                sa.text("INSERT INTO team_members (team_id, person_id) VALUES (:t, :p)"),
                {"t": teams[label], "p": person_id},
            )
        methods = _methods(reach)
        seen: set[tuple[str, str]] = set()
        for position, (kind, value) in enumerate(methods):
            if (kind, value) in seen:
                continue
            seen.add((kind, value))
            bind.execute(
                sa.text(
                    "INSERT INTO reach_methods (person_id, position, kind, value, e164, label, "
                    "problem) VALUES (:p, :pos, :kind, :value, NULL, '', NULL)"
                ),
                {"p": person_id, "pos": position, "kind": kind, "value": value},
            )


def _methods(reach: object) -> list[tuple[str, str]]:
    if isinstance(reach, str):
        try:
            reach = json.loads(reach)
        except ValueError:
            return []
    items = reach.get("methods", []) if isinstance(reach, dict) else reach
    found: list[tuple[str, str]] = []
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and item.get("kind") and item.get("value"):
                found.append((str(item["kind"])[:16], str(item["value"])))
    return found


def downgrade() -> None:
    for table in (
        "service_policies",
        "escalation_targets",
        "escalation_levels",
        "escalation_policies",
        "shifts",
        "schedules",
        "reach_methods",
        "team_members",
        "teams",
    ):
        op.drop_table(table)
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_people_vendor_ref"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_people_name_key"))
        batch_op.add_column(sa.Column("reach", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("team", sa.Text(), nullable=True))
        batch_op.drop_column("updated_at")
        batch_op.drop_column("vendor_ref")
        batch_op.drop_column("name_key")
