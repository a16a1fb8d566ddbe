"""What the vendor emulators share (tests only): a real HTTP server on 127.0.0.1,
port 0, a thread per connection; fault injection; a fixed-window rate limit; a
request log so tests can assert exactly once.

A vendor emulator subclasses :class:`LoopbackEmulator` and supplies ``handle``
(apply one request), ``rate_headers`` (its rate-limit headers) and ``refusal``
(its error body). Faults (``Faults``) are drawn per request with ``Faults.rate``,
or scripted for the next requests with :meth:`LoopbackEmulator.script` (or for the
next requests to one path with :meth:`LoopbackEmulator.script_on`).

Every request is recorded as it arrives (``received``) and checked against the
vendor's spec after the test (tests/emulators/spec_check.py, tests/conftest.py).
"""

from __future__ import annotations

import enum
import json
import random
import re
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, urlsplit

from tests.emulators.spec_check import Received, request_violations


class Fault(enum.Enum):
    RESET = "reset"  # close without a reply: nothing applied (refused at the application)
    TIMEOUT = "timeout"  # hold the connection past the client's deadline, apply nothing
    SLOW_BODY = "slow_body"  # apply, then trickle the reply slower than the client waits
    RATE_429 = "429"  # refuse with 429 + Retry-After
    E500 = "500"
    E502 = "502"
    E503 = "503"
    E401 = "401"
    DROP_AFTER_APPLY = "drop"  # apply the write, then drop the connection
    # scripted only: refusals that apply nothing
    E404 = "404"  # the vendor's "not found" though the object may well exist
    E404_FOREIGN = "404-foreign"  # a bare 404 not in the vendor's format (a proxy's)
    #: a refusal whose text repeats the request's Authorization header (a vendor's
    #: debugging echo): 400 refuses the one operation, 500 is retried, 401 stops
    ECHO_400 = "echo-400"
    ECHO_500 = "echo-500"
    ECHO_401 = "echo-401"


#: the faults a random draw picks from (401 stops the account, 404 and the echoes
#: are refusals: scripted only)
RANDOM_FAULTS = (
    Fault.RESET,
    Fault.TIMEOUT,
    Fault.SLOW_BODY,
    Fault.RATE_429,
    Fault.E500,
    Fault.E502,
    Fault.E503,
    Fault.DROP_AFTER_APPLY,
)
STATUS_BY_FAULT = {
    Fault.E500: 500,
    Fault.E502: 502,
    Fault.E503: 503,
    Fault.E401: 401,
    Fault.E404: 404,
}
ECHO_STATUS = {Fault.ECHO_400: 400, Fault.ECHO_500: 500, Fault.ECHO_401: 401}


@dataclass
class Faults:
    rate: float = 0.0
    kinds: tuple[Fault, ...] = RANDOM_FAULTS
    #: how long TIMEOUT holds and SLOW_BODY trickles (longer than the client's deadline)
    hold_seconds: float = 0.6
    retry_after: str = "1"
    rng: random.Random = field(default_factory=lambda: random.Random(5))


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    status: int | None
    fault: Fault | None
    #: the write took effect (it may have been applied though the client saw no reply)
    applied: bool


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


#: every emulator started since tests/conftest.py last cleared it (it checks their requests)
STARTED: list[LoopbackEmulator] = []


class LoopbackEmulator(ABC):
    #: methods that change state (a 2xx reply to one is logged as applied)
    WRITES = ("POST", "PUT", "PATCH", "DELETE")
    #: the vendor's OpenAPI document every received request is checked against
    SPEC: ClassVar[Path | None] = None

    def __init__(
        self,
        *,
        token: str,
        limit: int = 1_000_000,
        window: float = 60.0,
        faults: Faults | None = None,
    ) -> None:
        self.token = token
        self.limit = limit
        self.window = window
        self.faults = faults or Faults()
        self.requests: list[Logged] = []
        #: every request as it arrived, faults included (checked against ``SPEC``)
        self.received: list[Received] = []
        self.rate_limited: list[float] = []
        self._scripted: list[Fault] = []
        self._scripted_on: list[tuple[str, re.Pattern[str], Fault]] = []
        #: rewrites a reply before it leaves: (method, path, status, body) → (status, body);
        #: the vendor surprises a test wants (a field missing, an id already linked …)
        self.tamper: Callable[[str, str, int, Any], tuple[int, Any]] | None = None
        self._lock = threading.RLock()
        self._window_start = time.monotonic()
        self._window_used = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # ------------------------------------------------------- vendor specifics

    @abstractmethod
    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: Any
    ) -> tuple[int, Any]:
        """Apply one request; returns (status, JSON body)."""

    @abstractmethod
    def rate_headers(self, remaining: int, reset: float, allowed: bool) -> dict[str, str]:
        """The vendor's rate-limit headers for a reply."""

    @abstractmethod
    def refusal(self, status: int) -> Any:
        """The body of an injected or rate-limit refusal (None: no body)."""

    @abstractmethod
    def echo(self, status: int, text: str) -> Any:
        """The vendor's error body for a refusal whose message is ``text``."""

    def unspecified(self, method: str, path: str) -> bool:
        """Calls the spec lacks (the vendor's docs describe them): not checked."""
        return False

    def violations(self) -> list[str]:
        """What the vendor's spec finds wrong with the requests received so far."""
        if self.SPEC is None:
            return []
        with self._lock:
            received = list(self.received)
        return request_violations(self.SPEC, received, unspecified=self.unspecified)

    # ------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        emulator: LoopbackEmulator = self

        class Handler(_Handler):
            owner = emulator

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        if self not in STARTED:
            STARTED.append(self)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @contextmanager
    def offline(self) -> Iterator[None]:
        """Close the listening socket: connections are refused until the block ends."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, *faults: Fault) -> None:
        """The next requests meet these faults, in order."""
        with self._lock:
            self._scripted.extend(faults)

    def script_on(self, method: str, path: str, *faults: Fault) -> None:
        """The next ``method`` requests to a path matching the regular expression
        ``path`` (in full) meet these faults, in order; other requests go through."""
        pattern = re.compile(path)
        with self._lock:
            self._scripted_on.extend((method, pattern, fault) for fault in faults)

    # -------------------------------------------------------------- handling

    def _draw(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for n, (wanted, pattern, fault) in enumerate(self._scripted_on):
                if wanted == method and pattern.fullmatch(path):
                    del self._scripted_on[n]
                    return fault
            if self._scripted:
                return self._scripted.pop(0)
            if self.faults.rate and self.faults.rng.random() < self.faults.rate:
                return self.faults.rng.choice(self.faults.kinds)
        return None

    def _rate(self) -> tuple[bool, dict[str, str]]:
        with self._lock:
            now = time.monotonic()
            if now - self._window_start >= self.window:
                self._window_start, self._window_used = now, 0
            reset = max(0.0, self.window - (now - self._window_start))
            allowed = self._window_used < self.limit
            if allowed:
                self._window_used += 1
            else:
                self.rate_limited.append(now)
            headers = self.rate_headers(max(0, self.limit - self._window_used), reset, allowed)
            if not allowed:
                headers["Retry-After"] = f"{reset:.3f}"
            return allowed, headers


class _Handler(BaseHTTPRequestHandler):
    owner: LoopbackEmulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # the request log is ours
        return

    def setup(self) -> None:
        super().setup()
        # headers and body leave in two writes: without this, Nagle + delayed ACK
        # add ~40 ms to every reply
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        emulator = self.owner
        split = urlsplit(self.path)
        fault = emulator._draw(self.command, split.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if len(raw) == length:  # a client killed mid-request sent no request to check
            with emulator._lock:
                emulator.received.append(
                    Received(
                        self.command, split.path, split.query, tuple(self.headers.items()), raw
                    )
                )
        if fault is Fault.RESET:
            emulator.requests.append(Logged(self.command, split.path, None, fault, False))
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is Fault.TIMEOUT:
            time.sleep(emulator.faults.hold_seconds)
            emulator.requests.append(Logged(self.command, split.path, None, fault, False))
            self.close_connection = True
            return
        allowed, limit_headers = emulator._rate()
        if not allowed or fault is Fault.RATE_429:
            if allowed:  # an injected 429 still says when to come back
                limit_headers["Retry-After"] = emulator.faults.retry_after
            emulator.requests.append(Logged(self.command, split.path, 429, fault, False))
            self._reply(429, emulator.refusal(429), limit_headers)
            return
        if fault in STATUS_BY_FAULT:
            assert fault is not None
            code = STATUS_BY_FAULT[fault]
            emulator.requests.append(Logged(self.command, split.path, code, fault, False))
            self._reply(code, emulator.refusal(code), limit_headers)
            return
        if fault is Fault.E404_FOREIGN:
            emulator.requests.append(Logged(self.command, split.path, 404, fault, False))
            self._reply(404, None, {})
            return
        if fault in ECHO_STATUS:
            assert fault is not None
            code = ECHO_STATUS[fault]
            emulator.requests.append(Logged(self.command, split.path, code, fault, False))
            echoed = self.headers.get("Authorization") or ""
            text = f"Request refused. Headers received: Authorization: {echoed}"
            self._reply(code, emulator.echo(code, text), limit_headers)
            return
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        status, document = emulator.handle(
            self.command, split.path, parse_qs(split.query), self.headers, body
        )
        if emulator.tamper is not None:
            status, document = emulator.tamper(self.command, split.path, status, document)
        applied = self.command in emulator.WRITES and 200 <= status < 300
        emulator.requests.append(Logged(self.command, split.path, status, fault, applied))
        if fault is Fault.DROP_AFTER_APPLY:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is Fault.SLOW_BODY:
            self._slow(status, document, limit_headers)
            return
        self._reply(status, document, limit_headers)

    def _reply(self, status: int, document: Any, headers: dict[str, str]) -> None:
        payload = b"" if document is None else json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def _slow(self, status: int, document: Any, headers: dict[str, str]) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.flush()
        steps = 6
        piece = max(1, len(payload) // steps)
        try:
            for start in range(0, len(payload), piece):
                self.wfile.write(payload[start : start + piece])
                self.wfile.flush()
                time.sleep(self.owner.faults.hold_seconds / steps)
        except OSError:
            pass  # the client gave up: that is the point
        self.close_connection = True

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()
