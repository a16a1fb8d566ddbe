"""Operations (the one writer path) and queries (the read side)."""

from console.ops.export import export_json, export_markdown
from console.ops.incidents import IncidentService, Outcome
from console.ops.queries import Queries
from console.ops.templates import load_templates
from console.ops.workspace import Workspace, default_actor

__all__ = [
    "IncidentService",
    "Outcome",
    "Queries",
    "Workspace",
    "default_actor",
    "export_json",
    "export_markdown",
    "load_templates",
]
