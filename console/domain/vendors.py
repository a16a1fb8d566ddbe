"""The vendors the console syncs with, by the names people know them by."""

from __future__ import annotations

#: vendor key ("pagerduty") → its name in messages ("PagerDuty")
VENDOR_NAMES = {"pagerduty": "PagerDuty", "opsgenie": "Opsgenie"}
