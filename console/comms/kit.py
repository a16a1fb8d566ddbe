"""The comms operations bound to one open workspace (the CLI and the window share it)."""

from __future__ import annotations

from dataclasses import dataclass

from console.comms.actions import ActionItems
from console.comms.postmortem import Postmortems
from console.comms.updates import Communications
from console.ops.workspace import Workspace


@dataclass(frozen=True)
class CommsKit:
    updates: Communications
    postmortems: Postmortems
    actions: ActionItems

    @classmethod
    def of(cls, workspace: Workspace) -> CommsKit:
        actor = workspace.incidents.actor
        return cls(
            updates=Communications(
                workspace.db,
                workspace.incidents,
                folder=workspace.folder,
                checklists=workspace.templates,
                clock=workspace.clock,
            ),
            postmortems=Postmortems(
                workspace.db, actor=actor, folder=workspace.folder, clock=workspace.clock
            ),
            actions=ActionItems(workspace.db, actor=actor, clock=workspace.clock),
        )
