"""``pull_large_opsgenie``: pull 5,000 users with their contacts and 90 days of
on-call timelines for 200 schedules from the Opsgenie emulator.

Value = requests made; floor = the fewest the API allows: user pages of 100
(``ceil(users / 100)``), one ``/contacts`` per user (Opsgenie's user list carries
no contacts), ``/v2/teams`` plus one per team (members), ``/v2/schedules``, one
timeline per schedule (90 days fit one request: ``interval=90&intervalUnit=days``),
``/v2/escalations`` and one alert page. Target: ratio ≤ 1.1. The time is reported
beside it. Quick mode: 500 users, 20 schedules.
"""

from __future__ import annotations

import math
import time
from datetime import timedelta

from console.domain.clock import utc_now
from console.sync.pull import Puller, PullOptions
from tests.benchmarks.fixtures import BenchResult, Target, log, quick_mode, temp_folder
from tests.emulators.opsgenie import OpsgenieEmulator
from tests.integration.sync_support import connect, workspace

USERS_FULL, USERS_QUICK = 5_000, 500
SCHEDULES_FULL, SCHEDULES_QUICK = 200, 20
TEAMS = 20
DAYS = 90
PAGE = 100


def pull_large_opsgenie() -> BenchResult:
    users = USERS_QUICK if quick_mode() else USERS_FULL
    schedules = SCHEDULES_QUICK if quick_mode() else SCHEDULES_FULL
    emulator = OpsgenieEmulator()
    for n in range(users):
        emulator.add_user(
            f"u{n}", f"user{n}@example.com", f"User {n}", sms=f"+44 7700 9{n % 100000:05d}"
        )
    for t in range(TEAMS):
        emulator.add_team(f"t{t}", f"Team {t}", *(f"u{n}" for n in range(t, users, TEAMS)))
    start = utc_now().replace(hour=0, minute=0, second=0, microsecond=0)
    for s in range(schedules):
        periods = [
            (
                "Daily",
                start + timedelta(days=d),
                start + timedelta(days=d + 1),
                f"u{(s + d) % users}",
            )
            for d in range(DAYS + 1)
        ]
        emulator.add_schedule(f"s{s}", f"Schedule {s}", periods)
    emulator.start()
    with temp_folder() as folder:
        ws = workspace(folder / "data")
        try:
            tokens, _ = connect(ws, emulator)
            log.info("pull_large_opsgenie: %d users, %d schedules; pulling", users, schedules)
            started = time.monotonic()
            [report] = Puller(
                ws.db, tokens, vendors=["opsgenie"], options=PullOptions(days=DAYS)
            ).run()
            elapsed = time.monotonic() - started
            with ws.db.raw_reader() as raw:
                shifts = raw.execute("SELECT count(*) FROM shifts").fetchone()[0]
                reach = raw.execute("SELECT count(*) FROM reach_methods").fetchone()[0]
        finally:
            ws.close()
            emulator.stop()
    minimum = math.ceil(users / PAGE) + users + 1 + TEAMS + 1 + schedules + 1 + 1
    return BenchResult(
        name="pull_large_opsgenie",
        value=report.requests,
        unit="requests",
        floor=minimum,
        target=Target("ratio", 1.1),
        samples=1,
        detail={
            "users": users,
            "schedules": schedules,
            "days": DAYS,
            "seconds": round(elapsed, 2),
            "shifts_stored": shifts,
            "reach_methods_stored": reach,
            "failed_sets": sorted(report.failed),
        },
    )
