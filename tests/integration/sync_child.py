"""Child process for the sync kill test: drains the outbox to the emulator until killed.

Run as ``python -m tests.integration.sync_child DATA_DIR``; it pushes to the one
account there is, and the token comes from RESPONDER_CONSOLE_PAGERDUTY_TOKEN or
…_OPSGENIE_TOKEN (the head-less path). Prints ``pass`` after
each pass so the parent knows it is draining.
"""

from __future__ import annotations

import sys
from pathlib import Path

from console.sync import Pusher, SyncPolicy, Tokens
from console.sync.http import Timeouts
from tests.integration.sync_support import workspace


def main(argv: list[str]) -> int:
    ws = workspace(Path(argv[1]))
    policy = SyncPolicy(timeouts=Timeouts(connect=1.0, total=2.0), backoff_base=0.02)
    while True:
        report = Pusher(ws.db, Tokens(), policy=policy).run_pass()
        sys.stdout.write(f"pass {report.pushed} {report.waiting}\n")
        sys.stdout.flush()
        if report.waiting == 0:
            return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
