"""Sync accounts: the settings of a PagerDuty or Opsgenie connection, in the database.

The base URL is configurable (PagerDuty US/EU, Opsgenie US/EU, a loopback
emulator); plain ``http`` is accepted for loopback only, so a token never
crosses a network unencrypted. The token itself lives in console.sync.tokens.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, select

from console.domain.clock import Clock, utc_now
from console.domain.errors import InvalidInputError, NotFoundError
from console.domain.vendors import VENDOR_NAMES as VENDOR_NAMES  # re-exported: its old home
from console.storage.db import Database
from console.storage.models import SyncAccount

VENDORS = ("pagerduty", "opsgenie")
#: what a local incident becomes in Opsgenie (PagerDuty has incidents only)
OPSGENIE_MODES = ("alert", "incident")
DEFAULT_URLS = {
    "pagerduty": "https://api.pagerduty.com",
    "opsgenie": "https://api.opsgenie.com",
}
#: the vendors' regional API hosts, offered by the settings dialog (any other https
#: URL, or a loopback emulator, is typed in as a custom URL)
PRESETS: dict[str, tuple[tuple[str, str], ...]] = {
    "pagerduty": (
        ("PagerDuty US", DEFAULT_URLS["pagerduty"]),
        ("PagerDuty EU", "https://api.eu.pagerduty.com"),
    ),
    "opsgenie": (
        ("Opsgenie US", DEFAULT_URLS["opsgenie"]),
        ("Opsgenie EU", "https://api.eu.opsgenie.com"),
    ),
}


@dataclass(frozen=True)
class Account:
    id: int
    vendor: str
    base_url: str
    from_email: str | None
    default_service: str | None
    #: Opsgenie: "alert" or "incident"; None for PagerDuty
    mode: str | None
    created_at: datetime
    stopped_at: datetime | None
    stopped_reason: str | None
    last_success_at: datetime | None
    last_error: str | None

    def as_json(self) -> dict[str, object]:
        return {
            "vendor": self.vendor,
            "base_url": self.base_url,
            "from": self.from_email,
            "default_service": self.default_service,
            "mode": self.mode,
            "created_at": self.created_at.isoformat(),
            "stopped": self.stopped_reason,
            "last_success_at": _iso(self.last_success_at),
            "last_error": self.last_error,
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _account(row: SyncAccount) -> Account:
    return Account(
        id=row.id,
        vendor=row.vendor,
        base_url=row.base_url,
        from_email=row.from_email,
        default_service=row.default_service,
        mode=row.mode,
        created_at=row.created_at,
        stopped_at=row.stopped_at,
        stopped_reason=row.stopped_reason,
        last_success_at=row.last_success_at,
        last_error=row.last_error,
    )


def check_base_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInputError(f"{url!r} is not an http(s) URL")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise InvalidInputError(
            f"{url!r}: plain http is allowed for a loopback emulator only; use https"
        )
    if parts.query or parts.fragment:
        raise InvalidInputError(f"{url!r}: the base URL takes no query or fragment")
    return url.strip().rstrip("/")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _opsgenie_mode(mode: str | None, default_service: str | None) -> str:
    chosen = (mode or "alert").strip().lower()
    if chosen not in OPSGENIE_MODES:
        raise InvalidInputError(
            f"unknown Opsgenie mode {mode!r}; expected one of {', '.join(OPSGENIE_MODES)}"
        )
    if chosen == "incident" and not (default_service and default_service.strip()):
        raise InvalidInputError(
            "Opsgenie incidents need --default-service ID: the Opsgenie service id every "
            "incident is created on (the Incident API requires one)"
        )
    return chosen


class Accounts:
    def __init__(self, db: Database, *, clock: Clock = utc_now) -> None:
        self._db = db
        self._clock = clock

    def add(
        self,
        vendor: str,
        *,
        base_url: str | None = None,
        from_email: str | None = None,
        default_service: str | None = None,
        mode: str | None = None,
    ) -> Account:
        """Add the vendor's account, or replace its settings (clearing a stop)."""
        if vendor not in VENDORS:
            raise InvalidInputError(f"unknown vendor {vendor!r}; expected one of {VENDORS}")
        url = check_base_url(base_url or DEFAULT_URLS[vendor])
        if vendor == "pagerduty":
            if not from_email or "@" not in from_email.strip():
                raise InvalidInputError(
                    "PagerDuty needs --from EMAIL: the e-mail of a PagerDuty user, "
                    "sent as the From header of every write"
                )
            if not default_service or not default_service.strip():
                raise InvalidInputError(
                    "PagerDuty needs --default-service ID: the service incidents go to "
                    "when their services carry no PagerDuty id"
                )
        if vendor == "opsgenie":
            mode = _opsgenie_mode(mode, default_service)
        elif mode is not None:
            raise InvalidInputError("--mode is an Opsgenie setting (alert or incident)")
        now = self._clock()
        with self._db.writer() as session:
            row = session.scalars(select(SyncAccount).where(SyncAccount.vendor == vendor)).first()
            if row is None:
                row = SyncAccount(vendor=vendor, created_at=now)
                session.add(row)
            row.base_url = url
            row.mode = mode
            row.from_email = from_email.strip() if from_email else None
            row.default_service = default_service.strip() if default_service else None
            row.updated_at = now
            row.stopped_at = None
            row.stopped_reason = None
            session.flush()
            return _account(row)

    def list(self) -> list[Account]:
        with self._db.reader() as session:
            rows = session.scalars(select(SyncAccount).order_by(SyncAccount.vendor)).all()
            return [_account(row) for row in rows]

    def find(self, vendor: str) -> Account | None:
        with self._db.reader() as session:
            row = session.scalars(select(SyncAccount).where(SyncAccount.vendor == vendor)).first()
            return None if row is None else _account(row)

    def get(self, vendor: str) -> Account:
        account = self.find(vendor)
        if account is None:
            raise NotFoundError(
                f"there is no {vendor} account; add one with "
                f"`responder-console account add {vendor}`"
            )
        return account

    def remove(self, vendor: str) -> None:
        self.get(vendor)
        with self._db.writer() as session:
            session.execute(delete(SyncAccount).where(SyncAccount.vendor == vendor))

    def stop(self, account_id: int, reason: str) -> None:
        """The vendor refused the token: nothing is sent until the account is added again."""
        self._update(account_id, stopped_at=self._clock(), stopped_reason=reason, last_error=reason)

    def succeeded(self, account_id: int) -> None:
        self._update(account_id, last_success_at=self._clock(), last_error=None)

    def errored(self, account_id: int, message: str) -> None:
        self._update(account_id, last_error=message)

    def _update(self, account_id: int, **values: object) -> None:
        with self._db.writer() as session:
            row = session.get(SyncAccount, account_id)
            if row is None:
                raise NotFoundError(f"there is no sync account {account_id}")
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = self._clock()
