"""``sync_drain_10k``: drain 10,000 queued notes to the PagerDuty emulator, which
enforces a rate limit of R requests per minute. Floor = R (the fastest the limit
allows, as a time per request); target: achieved rate ≥ 0.9 R (ratio ≤ 1/0.9) with
no 429 provoked after the first.

R is 3,000/min (a window of 100 requests per 2 s) so a full run takes ~3.5 min and
the quick run ~15 s; PagerDuty's own limit (960/min per user token) would take
over 10 minutes for the same backlog. The drainer learns the limit from the
``ratelimit-*`` headers only: nothing tells it R.

``sync_drain_10k_opsgenie``: the same backlog to the Opsgenie emulator (alerts)
with the same R. Opsgenie publishes no remaining budget, only
``X-RateLimit-State: THROTTLED`` + ``X-RateLimit-Period-In-Sec`` once the limit is
hit, so the first 429 is how the drainer learns R; none should follow it.
"""

from __future__ import annotations

import time

from console.domain.incident import Severity
from tests.benchmarks.fixtures import BenchResult, Target, log, quick_mode, temp_folder
from tests.emulators.loopback import LoopbackEmulator
from tests.emulators.opsgenie import OpsgenieEmulator
from tests.emulators.pagerduty import PagerDutyEmulator
from tests.integration.sync_support import FAST, connect, pusher, workspace

NOTES_FULL, NOTES_QUICK = 10_000, 600
INCIDENTS = 10
WINDOW_SECONDS, WINDOW_LIMIT = 2.0, 100
PER_MINUTE = WINDOW_LIMIT * 60 / WINDOW_SECONDS


def sync_drain_10k() -> BenchResult:
    emulator = PagerDutyEmulator(limit=WINDOW_LIMIT, window=WINDOW_SECONDS)
    return _drain("sync_drain_10k", emulator)


def sync_drain_10k_opsgenie() -> BenchResult:
    emulator = OpsgenieEmulator(limit=WINDOW_LIMIT, window=WINDOW_SECONDS)
    return _drain("sync_drain_10k_opsgenie", emulator)


def _drain(name: str, emulator: LoopbackEmulator) -> BenchResult:
    notes = NOTES_QUICK if quick_mode() else NOTES_FULL
    emulator.start()
    with temp_folder() as folder:
        ws = workspace(folder / "data")
        try:
            tokens, _ = connect(ws, emulator)
            # PagerDuty takes at most 2,000 notes per incident: ten incidents share them
            ids = []
            for number in range(INCIDENTS):
                outcome = ws.incidents.declare(f"Backlog {number}", Severity.SEV2)
                assert outcome.incident is not None
                ids.append(outcome.incident.id)
            for number in range(notes):
                ws.incidents.add_note(ids[number % INCIDENTS], f"offline note {number}")
            log.info("%s: %d notes queued; draining", name, notes)
            started = time.monotonic()
            pushed = 0
            while True:
                report = pusher(ws, tokens).run_pass()
                pushed += report.pushed
                if report.waiting == 0:
                    break
            elapsed = time.monotonic() - started
        finally:
            ws.close()
            emulator.stop()
    requests = len(emulator.requests)
    limited = len(emulator.rate_limited)
    rate = requests / elapsed * 60
    return BenchResult(
        name=name,
        value=60_000 / rate,
        unit="ms/request",
        floor=60_000 / PER_MINUTE,
        target=Target("ratio", round(1 / 0.9, 4)),
        samples=requests,
        detail={
            "notes": notes,
            "incidents": INCIDENTS,
            "pushed": pushed,
            "requests": requests,
            "seconds": round(elapsed, 2),
            "achieved_per_min": round(rate, 1),
            "limit_per_min": PER_MINUTE,
            "share_of_limit": round(rate / PER_MINUTE, 3),
            "responses_429": limited,
            "responses_429_after_the_first": max(0, limited - 1),
            "policy_max_inline_wait_s": FAST.max_inline_wait,
        },
    )
