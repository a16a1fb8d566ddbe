"""PagerDuty as a pull source (see console.sync.pull for the protocol)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from console.sync.accounts import Account
from console.sync.outcomes import Call
from console.sync.pull import PullOptions, PullReport, PullSink


class PagerDutySource:
    vendor = "pagerduty"

    def __init__(self, account: Account, options: PullOptions) -> None:
        self._account = account
        self._options = options

    def pull(
        self,
        call: Call,
        since: datetime | None,
        sink: PullSink,
        report: PullReport,
        cancelled: Callable[[], bool],
    ) -> None:
        raise NotImplementedError
