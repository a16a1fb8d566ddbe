"""Shared set-up for the sync tests: a workspace, an emulator, a pusher wired to both."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from console.domain.incident import Severity
from console.ops.workspace import Workspace
from console.sync import Accounts, Pusher, SyncPolicy, Tokens, opsgenie, pagerduty
from console.sync.http import Backoff, Timeouts
from tests.emulators.keyrings import MemoryKeyring
from tests.emulators.loopback import LoopbackEmulator
from tests.emulators.opsgenie import OpsgenieEmulator
from tests.emulators.pagerduty import PagerDutyEmulator
from tests.emulators.spec_check import OPSGENIE_SPEC as OPSGENIE_SPEC
from tests.emulators.spec_check import PAGERDUTY_SPEC

SPEC = PAGERDUTY_SPEC
SERVICE = "PSERVC1"
OPSGENIE_SERVICE = "svc-checkout"
#: short deadlines and back-off so fault-heavy runs stay quick in CI
FAST = SyncPolicy(
    timeouts=Timeouts(connect=1.0, total=0.3),
    backoff_base=0.02,
    backoff_cap=0.2,
    max_inline_wait=3.0,
)


def workspace(folder: Path) -> Workspace:
    return Workspace.open(folder, actor="alice", templates=[])


def declare(ws: Workspace, title: str = "Checkout down", severity: Severity = Severity.SEV2) -> int:
    """A new local incident (its creation queued for the vendor); its id."""
    outcome = ws.incidents.declare(title, severity, summary="500s on /pay")
    assert outcome.incident is not None
    return outcome.incident.id


def connect(
    ws: Workspace, emulator: LoopbackEmulator, *, token: str | None = None, mode: str = "alert"
) -> tuple[Tokens, MemoryKeyring]:
    """Add the account of the emulator's vendor (Opsgenie in ``mode``) with a token."""
    keyring = MemoryKeyring()
    tokens = Tokens(keyring, environ={})
    add_account(ws, emulator, mode=mode)
    vendor = "pagerduty" if isinstance(emulator, PagerDutyEmulator) else "opsgenie"
    tokens.store(vendor, token or emulator.token)
    return tokens, keyring


def add_account(ws: Workspace, emulator: LoopbackEmulator, *, mode: str = "alert") -> None:
    if isinstance(emulator, PagerDutyEmulator):
        Accounts(ws.db).add(
            "pagerduty",
            base_url=emulator.base_url,
            from_email="alice@example.com",
            default_service=SERVICE,
        )
    else:
        Accounts(ws.db).add(
            "opsgenie", base_url=emulator.base_url, default_service=OPSGENIE_SERVICE, mode=mode
        )


def pusher(
    ws: Workspace,
    tokens: Tokens,
    *,
    policy: SyncPolicy = FAST,
    http: requests.Session | None = None,
    seed: int = 7,
) -> Pusher:
    return Pusher(
        ws.db,
        tokens,
        http=http,
        policy=policy,
        backoff=Backoff(policy.backoff_base, policy.backoff_cap, random.Random(seed)),
    )


def drain(make: Callable[[], Pusher], *, passes: int = 200) -> list[Any]:
    """Run passes until nothing waits (a fresh pusher each time, as after a restart)."""
    reports = []
    for _ in range(passes):
        report = make().run_pass()
        reports.append(report)
        if report.waiting == 0 or report.stopped:
            return reports
    raise AssertionError(f"still waiting after {passes} passes: {reports[-1]}")


def validating_session(
    problems: list[str],
    base_url: str,
    spec_path: Path = SPEC,
    *,
    unspecified: Callable[[str, str], bool] = lambda method, path: False,
) -> requests.Session:
    """A requests session that checks every request and reply against the vendor's spec.
    ``unspecified(method, path)`` names calls the spec lacks (taken from the vendor's
    public docs): those are not checked."""
    from urllib.parse import urlsplit

    from openapi_core import Config, OpenAPI
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

    document = json.loads(spec_path.read_text())
    document["servers"] = [{"url": base_url}]
    spec = OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))
    session = requests.Session()

    def check(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if unspecified(str(response.request.method), urlsplit(response.url).path):
            return
        request = RequestsOpenAPIRequest(response.request)
        for error in spec.iter_request_errors(request):
            problems.append(f"request {response.request.method} {response.url}: {error!r}")
        for error in spec.iter_response_errors(request, RequestsOpenAPIResponse(response)):
            problems.append(f"response {response.status_code} {response.url}: {error!r}")

    session.hooks["response"].append(check)
    return session


def remote_notes(emulator: LoopbackEmulator, remote_id: str) -> list[str]:
    """The notes the vendor holds on one remote incident or alert, marker stripped."""
    if isinstance(emulator, PagerDutyEmulator):
        texts = [n["content"] for n in emulator.incidents[remote_id].notes]
    else:
        assert isinstance(emulator, OpsgenieEmulator)
        remote = emulator.alerts.get(remote_id) or emulator.incidents[remote_id]
        texts = [n["note"] for n in remote.notes]
    return [text.rsplit("\n\n[rc:", 1)[0] for text in texts]


def remote_severity(emulator: LoopbackEmulator, remote_id: str) -> str:
    """PagerDuty's urgency or Opsgenie's priority of one remote incident or alert."""
    if isinstance(emulator, PagerDutyEmulator):
        return emulator.incidents[remote_id].urgency
    assert isinstance(emulator, OpsgenieEmulator)
    return (emulator.alerts.get(remote_id) or emulator.incidents[remote_id]).priority


def severity_there(emulator: LoopbackEmulator, severity: Severity) -> str:
    if isinstance(emulator, PagerDutyEmulator):
        return pagerduty.URGENCY[severity]
    return opsgenie.PRIORITY[severity]


def made(emulator: LoopbackEmulator) -> int:
    """How many incidents/alerts the vendor holds."""
    if isinstance(emulator, PagerDutyEmulator):
        return len(emulator.incidents)
    assert isinstance(emulator, OpsgenieEmulator)
    return len(emulator.alerts) + len(emulator.incidents)
