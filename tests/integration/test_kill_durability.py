"""SIGKILL a writer at random moments: every note it reported as saved survives.

The child (tests/integration/writer_child.py) prints ``saved <seq> <uuid>`` only
after ``add_note`` returned. It is killed without warning, again and again on the
same data folder; after each kill the database must open, pass SQLite's integrity
check, hold every reported note, number the timeline 1..last_seq without gaps, and
keep exactly one outbox row per note.
"""

from __future__ import annotations

import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from console.storage.db import open_database

REPO = Path(__file__).resolve().parents[2]
SEED = 1729
ROUNDS = 20
LINE_TIMEOUT = 30.0


class LineReader:
    """Lines from a child's stdout pipe, with a deadline instead of a hang."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        self._fd = process.stdout.fileno()
        self._buffer = b""

    def readline(self, timeout: float = LINE_TIMEOUT) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the writer child printed nothing for too long")
            ready, _, _ = select.select([self._fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._fd, 65536)
            if not chunk:
                return None  # the child exited
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode()


@dataclass
class Ledger:
    """Everything the children promised, across all rounds."""

    saved: dict[uuid.UUID, int] = field(default_factory=dict)  # uuid → seq
    incident_ids: set[int] = field(default_factory=set)


def run_round(folder: Path, ledger: Ledger, rng: random.Random, log: Path) -> int:
    with log.open("ab") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.writer_child", str(folder)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=errors,
        )
    try:
        reader = LineReader(process)
        first = reader.readline()
        assert first is not None, f"the child died at start: {log.read_text()[-2000:]}"
        kind, incident = first.split()
        assert kind == "incident"
        ledger.incident_ids.add(int(incident))
        wanted = rng.randint(5, 200)
        got = 0
        while got < wanted:
            line = reader.readline()
            assert line is not None, f"the child died early: {log.read_text()[-2000:]}"
            word, seq, entry_uuid = line.split()
            assert word == "saved"
            ledger.saved[uuid.UUID(entry_uuid)] = int(seq)
            got += 1
        if rng.random() < 0.5:
            # land the kill somewhere inside the next transaction, not at a line boundary
            time.sleep(rng.uniform(0, 0.003))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=LINE_TIMEOUT)
        assert process.returncode == -signal.SIGKILL
        return got
    finally:
        if process.poll() is None:  # pragma: no cover - only when an assertion failed above
            process.kill()
            process.wait()
        assert process.stdout is not None
        process.stdout.close()


def verify(folder: Path, ledger: Ledger, context: str) -> int:
    path = folder / "console.db"
    # reopening goes through the real start-up path (header, revision, pragmas)
    database = open_database(path)
    database.close()
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)], context
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == [], context
        entries = connection.execute(
            "SELECT uuid, incident_id, seq, kind FROM timeline_entries"
        ).fetchall()
        outbox = connection.execute(
            "SELECT uuid, entry_uuid, operation, incident_id FROM outbox ORDER BY id"
        ).fetchall()
        incidents = dict(connection.execute("SELECT id, last_seq FROM incidents").fetchall())
    finally:
        connection.close()

    by_uuid = {uuid.UUID(u): (incident_id, seq, kind) for u, incident_id, seq, kind in entries}
    assert len(by_uuid) == len(entries), f"duplicate entry uuids; {context}"
    missing = [u for u in ledger.saved if u not in by_uuid]
    assert not missing, f"{len(missing)} notes reported saved are gone: {missing[:3]}; {context}"
    for entry_uuid, seq in ledger.saved.items():
        assert by_uuid[entry_uuid][1] == seq, f"note {entry_uuid} changed its seq; {context}"
        assert by_uuid[entry_uuid][2] == "note", context

    assert set(incidents) == ledger.incident_ids, context
    for incident_id, last_seq in incidents.items():
        seqs = sorted(seq for (i, seq, _k) in by_uuid.values() if i == incident_id)
        assert seqs == list(range(1, last_seq + 1)), (
            f"incident {incident_id}: seqs not 1..{last_seq} (got {len(seqs)}, "
            f"max {max(seqs, default=0)}); {context}"
        )

    assert len({row[0] for row in outbox}) == len(outbox), f"duplicate outbox uuids; {context}"
    per_entry = Counter(uuid.UUID(row[1]) for row in outbox)
    dangling = [e for e in per_entry if e not in by_uuid]
    assert not dangling, f"outbox rows point at missing entries {dangling[:3]}; {context}"
    expected_operation = {"note": "incident.note", "declared": "incident.create"}
    operations = {uuid.UUID(row[1]): row[2] for row in outbox}
    for entry_uuid, (_incident, _seq, kind) in by_uuid.items():
        rows = per_entry[entry_uuid]
        assert rows == 1, f"{kind} {entry_uuid} has {rows} outbox rows; {context}"
        assert operations[entry_uuid] == expected_operation[kind], context
    for _row_uuid, entry_uuid, _op, incident_id in outbox:
        assert by_uuid[uuid.UUID(entry_uuid)][0] == incident_id, context
    drain_order = [by_uuid[uuid.UUID(row[1])][1] for row in outbox]
    assert drain_order == sorted(drain_order), f"outbox not in timeline order; {context}"
    return len(entries)


@pytest.mark.slow
def test_sigkill_never_loses_a_saved_note(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    log = tmp_path / "child-stderr.log"
    rng = random.Random(SEED)
    ledger = Ledger()
    total_entries = 0
    for round_number in range(1, ROUNDS + 1):
        context = f"round {round_number} of {ROUNDS}, random seed {SEED}"
        reported = run_round(folder, ledger, rng, log)
        assert reported >= 5, context
        count = verify(folder, ledger, context)
        assert count >= total_entries, f"entries went missing; {context}"
        total_entries = count
    assert len(ledger.incident_ids) == 1  # every round reused the incident it found
    assert len(ledger.saved) >= ROUNDS * 5
    assert "Traceback" not in log.read_text(), log.read_text()[-2000:]
