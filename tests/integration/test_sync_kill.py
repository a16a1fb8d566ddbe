"""SIGKILL the drainer in the middle of a drain, again and again, then let a fresh
process finish: every operation reaches the vendor (PagerDuty, Opsgenie alerts,
Opsgenie incidents) exactly once, in order."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.domain.incident import Severity
from console.ops.outbox import Outbox
from console.sync import Accounts
from console.sync.tokens import ENV_VARS
from tests.emulators.loopback import LoopbackEmulator
from tests.emulators.opsgenie import OpsgenieEmulator
from tests.emulators.pagerduty import PagerDutyEmulator
from tests.integration.sync_support import add_account, made, remote_notes, workspace

REPO = Path(__file__).resolve().parents[2]
NOTES = 300
KILLS = 6


@pytest.mark.slow
@pytest.mark.parametrize(
    ("vendor", "mode"), [("pagerduty", "alert"), ("opsgenie", "alert"), ("opsgenie", "incident")]
)
def test_killed_mid_drain_then_restarted_still_exactly_once(
    data_dir: Path, vendor: str, mode: str
) -> None:
    rng = random.Random(99)
    emulator: LoopbackEmulator = (
        PagerDutyEmulator() if vendor == "pagerduty" else OpsgenieEmulator()
    ).start()
    ws = workspace(data_dir)
    try:
        add_account(ws, emulator, mode=mode)
        incidents = []
        for n in range(3):
            outcome = ws.incidents.declare(f"kill {n}", Severity.SEV2)
            assert outcome.incident is not None
            incidents.append(outcome.incident.id)
        expected: dict[int, list[str]] = {i: [] for i in incidents}
        for n in range(NOTES):
            incident = incidents[n % 3]
            ws.incidents.add_note(incident, f"note {n}")
            expected[incident].append(f"note {n}")
    finally:
        ws.close()
    env = {**os.environ, ENV_VARS[vendor]: emulator.token}
    command = [sys.executable, "-m", "tests.integration.sync_child", str(data_dir)]
    try:
        for _ in range(KILLS):
            before = len(emulator.requests)
            child = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL)
            # kill it once it has sent a few requests: somewhere inside a drain
            deadline = time.monotonic() + 30
            wanted = before + rng.randint(3, 30)
            while len(emulator.requests) < wanted and child.poll() is None:
                assert time.monotonic() < deadline, "the child sent nothing"
                time.sleep(0.005)
            child.send_signal(signal.SIGKILL)
            child.wait()
        finisher = subprocess.run(command, cwd=REPO, env=env, capture_output=True, timeout=120)
        assert finisher.returncode == 0, finisher.stderr.decode()[-2000:]
    finally:
        emulator.stop()
    ws = workspace(data_dir)
    try:
        assert Outbox(ws.db).counts() == {"done": NOTES + 3}
        account = Accounts(ws.db).get(vendor)
        assert made(emulator) == 3
        for incident in incidents:
            link = Outbox(ws.db).link(account.id, incident)
            assert link is not None
            assert remote_notes(emulator, link.remote_id) == expected[incident]
    finally:
        ws.close()
