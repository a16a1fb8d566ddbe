"""``pull_large``: pull 5,000 PagerDuty users with their contact methods and 90 days
of on-calls for 200 schedules (a shift a day each: 18,200 on-calls, past the
10,000 records PagerDuty serves by offset) from the emulator.

Value = requests made; floor = the fewest the pagination allows (each listing's
records / 100, rounded up; an empty listing takes one page) for the same data,
counted in the same run. Target: ratio ≤ 1.1. The time is in ``detail``.
"""

from __future__ import annotations

import math
import time

from console.sync.pull import Puller, PullOptions, PullPolicy
from tests.benchmarks.fixtures import BenchResult, Target, log, quick_mode, temp_folder
from tests.emulators.pagerduty import PagerDutyEmulator
from tests.integration.sync_support import connect, workspace

USERS_FULL, USERS_QUICK = 5_000, 300
SCHEDULES_FULL, SCHEDULES_QUICK = 200, 20
DAYS = 90
PAGE = 100


def pull_large() -> BenchResult:
    users = USERS_QUICK if quick_mode() else USERS_FULL
    schedules = SCHEDULES_QUICK if quick_mode() else SCHEDULES_FULL
    emulator = PagerDutyEmulator().start()
    emulator.populate(users=users, schedules=schedules, days=DAYS + 1)
    with temp_folder() as folder:
        ws = workspace(folder / "data")
        try:
            tokens, _ = connect(ws, emulator)
            log.info("pull_large: %d users, %d schedules; pulling", users, schedules)
            started = time.monotonic()
            (report,) = Puller(
                ws.db, tokens, policy=PullPolicy(), options=PullOptions(days=DAYS)
            ).run()
            elapsed = time.monotonic() - started
        finally:
            ws.close()
            emulator.stop()
    assert not report.failed, report.failed
    oncalls = report.sets["schedules"]["shifts"]
    pages = {
        "users": math.ceil(users / PAGE),
        "schedules": math.ceil(schedules / PAGE),
        "escalation_policies": math.ceil(schedules / PAGE),
        "oncalls": math.ceil(oncalls / PAGE),
        # empty listings still take a page each
        "services": 1,
        "business_services": 1,
        "log_entries": 1,
    }
    minimum = sum(pages.values())
    made = {
        path.strip("/"): sum(1 for r in emulator.requests if r.path == path)
        for path in (
            "/users",
            "/schedules",
            "/escalation_policies",
            "/oncalls",
            "/services",
            "/business_services",
            "/log_entries",
        )
    }
    return BenchResult(
        name="pull_large",
        value=report.requests,
        unit="requests",
        floor=minimum,
        target=Target("ratio", 1.1),
        samples=report.requests,
        detail={
            "users": users,
            "contact_methods": users * 2,
            "schedules": schedules,
            "days": DAYS,
            "oncalls": oncalls,
            "minimum_pages": pages,
            "requests_by_listing": made,
            "seconds": round(elapsed, 2),
            "people_stored": report.sets["users"].get("contacts_new", 0),
        },
    )
