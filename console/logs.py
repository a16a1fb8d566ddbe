"""Logging: rotating file in the data folder, an in-memory ring for crash reports,
and a redaction filter so no token or auth header is ever written."""

from __future__ import annotations

import collections
import logging
import re
from pathlib import Path

REDACTIONS = [
    # header lines and dict reprs: Authorization: Token …, 'Authorization': 'GenieKey …'
    (
        re.compile(
            r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(token|bearer|geniekey|basic)?\s*[^\s,'\"]+"
        ),
        r"\1\2 [redacted]",
    ),
    (re.compile(r"(?i)(token\s*[=:]\s*)[^\s,'\"&]+"), r"\1[redacted]"),
    (re.compile(r"(?i)(api[_-]?key['\"]?\s*[=:]\s*['\"]?)[^\s,'\"&]+"), r"\1[redacted]"),
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


MAX_LOG_BYTES = 2_000_000
KEEP_LOGS = 3


def rotate(path: Path, *, max_bytes: int = MAX_LOG_BYTES, keep: int = KEEP_LOGS) -> None:
    """Rotate once at start (console.log → .1 → .2 …) when the file is too big.

    A plain FileHandler plus this keeps ``logging.handlers`` (socket, pickle,
    queue…) off the window's start-up path; a session rarely logs megabytes.
    """
    if not path.exists() or path.stat().st_size < max_bytes:
        return
    for index in range(keep - 1, 0, -1):
        older = path.with_name(f"{path.name}.{index}")
        if older.exists():
            older.replace(path.with_name(f"{path.name}.{index + 1}"))
    path.replace(path.with_name(f"{path.name}.1"))


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
            path = logs / "console.log"
            rotate(path)
            handler = logging.FileHandler(path, encoding="utf-8")
        except OSError:
            logging.getLogger(__name__).warning("cannot write logs in %s", folder)
        else:
            handler.setFormatter(logging.Formatter(FORMAT))
            handler.addFilter(redactor)
            root.addHandler(handler)
    return ring
