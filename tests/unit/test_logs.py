"""Logging: tokens never reach a log line; the log file rotates without logging.handlers."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from console.logs import RedactingFilter, RingBufferHandler, configure, redact, rotate


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("GET /incidents Authorization: Token token=y_NbAkKc66ryYTWUXYEu", "y_NbAkKc66ryYTWUXYEu"),
        (
            "headers={'Authorization': 'GenieKey eb243592-faa2-4ba2-a551q-1afdf565c889'}",
            "eb243592-faa2-4ba2-a551q-1afdf565c889",
        ),
        ("retrying with token=abc123SECRET&limit=100", "abc123SECRET"),
        ("api_key: 0123456789abcdef", "0123456789abcdef"),
    ],
)
def test_redact_removes_tokens(line: str, secret: str) -> None:
    cleaned = redact(line)
    assert secret not in cleaned
    assert "[redacted]" in cleaned


def test_configure_writes_redacted_file_and_ring(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        ring = configure(tmp_path)
        logging.getLogger("console.test").info("sending Authorization: Token sekrit-value")
        for handler in root.handlers:
            handler.flush()
        text = (tmp_path / "logs" / "console.log").read_text(encoding="utf-8")
        assert "sekrit-value" not in text
        assert "[redacted]" in text
        assert ring.tail()
        assert "sekrit-value" not in ring.tail()[-1]
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()


def test_ring_buffer_is_bounded() -> None:
    ring = RingBufferHandler(capacity=3)
    ring.addFilter(RedactingFilter())
    logger = logging.getLogger("console.test.ring")
    logger.addHandler(ring)
    logger.propagate = False
    try:
        for n in range(10):
            logger.warning("line %d", n)
    finally:
        logger.removeHandler(ring)
        logger.propagate = True
    assert [r.endswith(f"line {n}") for r, n in zip(ring.tail(), (7, 8, 9), strict=True)] == [
        True,
        True,
        True,
    ]


def test_rotate_keeps_the_newest_files(tmp_path: Path) -> None:
    path = tmp_path / "console.log"
    for n in range(5):
        path.write_text("x" * 100 + str(n))
        rotate(path, max_bytes=50, keep=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "console.log.1",
        "console.log.2",
        "console.log.3",
    ]
    assert (tmp_path / "console.log.1").read_text().endswith("4")
    assert (tmp_path / "console.log.3").read_text().endswith("2")


def test_rotate_leaves_small_files_alone(tmp_path: Path) -> None:
    path = tmp_path / "console.log"
    path.write_text("short")
    rotate(path, max_bytes=50)
    assert path.read_text() == "short"
