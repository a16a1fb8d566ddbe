"""What every view is handed: collaborators are passed in, never looked up globally."""

from __future__ import annotations

from dataclasses import dataclass

from console.domain.clock import Clock
from console.ops.workspace import Workspace
from ui.events import AppEvents
from ui.tasks import TaskRunner


@dataclass
class UiContext:
    """The open workspace plus the GUI's runner and event bus.

    Views call ``workspace.incidents`` (operations) through ``runner.write`` and
    ``workspace.queries`` (reads); they never touch ``workspace.db`` directly.
    """

    workspace: Workspace
    runner: TaskRunner
    events: AppEvents
    clock: Clock
    demo: bool = False
