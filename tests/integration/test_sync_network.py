"""Network behaviour the sync issue asks for beyond the vendors' contracts: a proxy
named in the environment carries every request, and TLS verification stays on (a
vendor URL whose certificate does not verify gets nothing, and says why)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ssl
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from console.ops.outbox import Outbox
from console.sync import Accounts, Tokens
from tests.emulators.keyrings import MemoryKeyring
from tests.emulators.pagerduty import PagerDutyEmulator
from tests.integration.sync_support import (
    FAST,
    SERVICE,
    connect,
    declare,
    made,
    pusher,
    workspace,
)


class _ForwardingProxy(BaseHTTPRequestHandler):
    """A plain HTTP proxy: requests arrive with an absolute URL and are forwarded."""

    seen: list[str]

    def _forward(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        request = urllib.request.Request(self.path, data=body, headers=headers, method=self.command)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy loop
        try:
            reply = opener.open(request, timeout=5)
            status, reply_headers, data = reply.status, reply.headers, reply.read()
        except urllib.error.HTTPError as error:
            status, reply_headers, data = error.code, error.headers, error.read()
        self.send_response(status)
        for key, value in reply_headers.items():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _forward  # noqa: N815 - http.server's names

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_ForwardingProxy,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_proxy_from_the_environment_carries_every_request(
    data_dir: Path, proxy: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    address, seen = proxy
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, address)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    emulator = PagerDutyEmulator().start()
    ws = workspace(data_dir)
    try:
        tokens, _ = connect(ws, emulator)
        incident = declare(ws)
        ws.incidents.add_note(incident, "through the proxy")
        report = pusher(ws, tokens).run_pass()  # the pusher's own session, as shipped
        assert report.pushed == 2
        assert Outbox(ws.db).counts() == {"done": 2}
        assert made(emulator) == 1
        assert seen, "no request went through the proxy"
        assert all(line.split()[1].startswith(emulator.base_url) for line in seen)
        assert len(seen) == len(emulator.requests)  # every request, none around it
    finally:
        ws.close()
        emulator.stop()


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_a_vendor_whose_certificate_does_not_verify_gets_nothing(
    data_dir: Path, tmp_path: Path
) -> None:
    """TLS verification is never turned off: a self-signed certificate stops the call
    before any request is sent, the operation stays queued, and the error says why."""
    requests_seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            requests_seen.append(self.path)
            self.send_response(201)
            self.end_headers()

        do_GET = do_POST  # noqa: N815 - http.server's names

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*_self_signed(tmp_path))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ws = workspace(data_dir)
    try:
        Accounts(ws.db).add(
            "pagerduty",
            base_url=f"https://127.0.0.1:{server.server_address[1]}",
            from_email="alice@example.com",
            default_service=SERVICE,
        )
        tokens = Tokens(MemoryKeyring(), environ={})
        tokens.store("pagerduty", "secret-token")
        declare(ws)
        policy = dataclasses.replace(FAST, max_pass_seconds=2.0)  # it would retry for ever
        report = pusher(ws, tokens, policy=policy).run_pass()
        assert report.pushed == 0
        assert requests_seen == []
        [held] = Outbox(ws.db).heads()  # still queued, with the reason
        assert held.last_error is not None
        assert "TLS certificate did not verify (self-signed certificate)" in held.last_error
        assert "REQUESTS_CA_BUNDLE" in held.last_error  # what to do next
        assert Outbox(ws.db).counts().get("done", 0) == 0
    finally:
        ws.close()
        server.shutdown()
        server.server_close()
