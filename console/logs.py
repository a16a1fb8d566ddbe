"""Logging: rotating file in the data folder, an in-memory ring for crash reports,
and a redaction filter so no token or auth header is ever written."""

from __future__ import annotations

import collections
import logging
import logging.handlers
import re
from pathlib import Path

REDACTIONS = [
    (
        re.compile(r"(?i)(authorization\s*[:=]\s*)(token|bearer|genieKey|basic)?\s*[^\s,'\"]+"),
        r"\1\2 [redacted]",
    ),
    (re.compile(r"(?i)(token\s*[=:]\s*)[^\s,'\"&]+"), r"\1[redacted]"),
    (re.compile(r"(?i)(api[_-]?key\s*[=:]\s*)[^\s,'\"&]+"), r"\1[redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class RingBufferHandler(logging.Handler):
    """The last N formatted records, for the log view and crash reports."""

    def __init__(self, capacity: int = 2000) -> None:
        super().__init__()
        self.records: collections.deque[str] = collections.deque(maxlen=capacity)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.records.append(self.format(record))
        except Exception:  # logging must never raise into the caller
            self.handleError(record)

    def tail(self, lines: int = 200) -> list[str]:
        return list(self.records)[-lines:]


FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure(folder: Path | None, *, verbose: bool = False) -> RingBufferHandler:
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    redactor = RedactingFilter()
    ring = RingBufferHandler()
    ring.setFormatter(logging.Formatter(FORMAT))
    ring.addFilter(redactor)
    root.addHandler(ring)
    if folder is not None:
        try:
            logs = folder / "logs"
            logs.mkdir(parents=True, exist_ok=True, mode=0o700)
            handler = logging.handlers.RotatingFileHandler(
                logs / "console.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
            )
        except OSError:
            logging.getLogger(__name__).warning("cannot write logs in %s", folder)
        else:
            handler.setFormatter(logging.Formatter(FORMAT))
            handler.addFilter(redactor)
            root.addHandler(handler)
    return ring
