"""Every request an emulator receives, checked against the vendor's OpenAPI document
(tests only).

The emulators record each request as it arrives — also the ones a fault then
drops, times out or refuses, which a client-side check never sees — and
:func:`request_violations` checks them with openapi-core after the test, so the
check never slows a reply (some tests run with deadlines of a few hundred ms).
``tests/conftest.py`` fails a test whose emulators received any request the spec
does not allow.

The specs are in the shared folder (tests/shared.py: ``RESPONDER_CONSOLE_SHARED``,
by default ``../shared`` beside the repository). Without them nothing is checked
here; the tests that need them skip locally and fail in CI.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from tests import shared

SPECS = shared.SPECS
PAGERDUTY_SPEC = SPECS / "pagerduty" / "rest-openapiv3.json"
OPSGENIE_SPEC = SPECS / "opsgenie" / "openapi3.json"
#: the spec's servers are replaced by this (paths are matched relative to it)
_HOST = "http://emulator.invalid"


@dataclass(frozen=True)
class Received:
    """One request as it reached an emulator."""

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def describe(self) -> str:
        query = f"?{self.query}" if self.query else ""
        return f"{self.method} {self.path}{query}"


def _writable_references(document: dict[str, Any]) -> None:
    """PagerDuty's ``Reference`` (every ``*_reference``: the service of a new
    incident, …) requires ``id`` and ``type`` but takes both from ``Tag``, which marks
    them ``readOnly``, so no request naming a service could ever pass — the spec's
    own example for ``POST /incidents`` included. A reference *is* its id and type:
    here they are writable (the other ``Tag`` fields stay read-only). Applied in
    memory to the PagerDuty document only; the file stays byte-for-byte upstream's."""
    schemas = document.get("components", {}).get("schemas", {})
    reference, tag = schemas.get("Reference"), schemas.get("Tag")
    if not (isinstance(reference, dict) and isinstance(tag, dict)):
        return
    inherited = tag["allOf"][0]["properties"]
    properties = {
        **inherited,
        "id": {"type": "string"},
        "type": {"type": "string", "description": inherited["type"].get("description", "")},
    }
    schemas["Reference"] = {"type": "object", "required": ["type", "id"], "properties": properties}


@functools.cache
def _spec(path: Path) -> Any:
    from openapi_core import Config, OpenAPI

    document = json.loads(path.read_text(encoding="utf-8"))
    document["servers"] = [{"url": _HOST}]
    if path == PAGERDUTY_SPEC:
        _writable_references(document)
    return OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))


def request_violations(
    spec_path: Path,
    received: Iterable[Received],
    *,
    unspecified: Callable[[str, str], bool] = lambda method, path: False,
) -> list[str]:
    """What the spec at ``spec_path`` finds wrong with each request (its parameters,
    headers and body), one line per problem. ``unspecified(method, path)`` names calls
    the spec lacks (taken from the vendor's public docs): those are not checked."""
    if not spec_path.exists():
        return []
    from openapi_core.testing import MockRequest

    spec = _spec(spec_path)
    problems: list[str] = []
    seen: set[Received] = set()
    for request in received:
        if request in seen or unspecified(request.method, request.path):
            continue
        seen.add(request)
        headers: Mapping[str, str] = dict(request.headers)
        content_type = next(
            (v for k, v in request.headers if k.lower() == "content-type"), "application/json"
        )
        mock = MockRequest(
            _HOST,
            request.method,
            request.path,
            args=parse_qs(request.query, keep_blank_values=True),
            headers=dict(headers),
            data=request.body or None,
            content_type=content_type.split(";")[0].strip(),
        )
        for error in spec.iter_request_errors(mock):
            problems.append(f"{request.describe()}: {_explain(error)}")
    return problems


def _explain(error: BaseException) -> str:
    """The validator's own words, down to the schema errors (an InvalidRequestBody says
    nothing by itself: its cause lists what does not match)."""
    parts = [repr(error)]
    cause = error.__cause__
    while cause is not None:
        details = getattr(cause, "schema_errors", None)
        if details:
            parts += [f"{'/'.join(map(str, e.path)) or '(body)'}: {e.message}" for e in details]
        else:
            parts.append(repr(cause))
        cause = cause.__cause__
    return "; ".join(parts)
