"""Child process for the kill test: writes notes as fast as it can until it is killed.

Run as ``python -m tests.integration.writer_child DATA_DIR``. Prints
``incident <id>`` once, then ``saved <seq> <uuid>`` after each
``IncidentService.add_note`` call has returned (that is, committed), and flushes
stdout only then: a line on stdout is a promise that the note is durable.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from console.domain.incident import Severity
from console.ops.workspace import Workspace


def main(argv: list[str]) -> int:
    folder = Path(argv[1])
    workspace = Workspace.open(folder, actor="writer", templates=[])
    active = workspace.queries.incidents(active_only=True)
    if active:
        incident_id = active[0].id
    else:
        outcome = workspace.incidents.declare("Kill test", Severity.SEV2)
        assert outcome.incident is not None
        incident_id = outcome.incident.id
    out = sys.stdout
    out.write(f"incident {incident_id}\n")
    out.flush()
    number = 0
    pid = os.getpid()
    while True:
        number += 1
        entry = workspace.incidents.add_note(incident_id, f"note {number} from {pid}").entry
        assert entry is not None
        out.write(f"saved {entry.seq} {entry.uuid}\n")
        out.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
