"""Recorded HTTP sessions (VCR cassettes) of the on-call APIs, read as the saved responses.

Test suites and API explorers record their traffic: VCR.py and vcrpy-style YAML
(``interactions:``), Ruby VCR (``http_interactions:``), or the same as JSON. Each
interaction holds a request and its response; the response bodies of successful
calls are the JSON a person would otherwise have saved from the Opsgenie (or
PagerDuty) API, so they are imported exactly as that saved JSON is
(:func:`console.importers.vendors.parse_vendor_json`). What is not such a
response (a POST of an alert, a 404) is passed over with a note; a cassette in
which no interaction holds one is refused as recorded HTTP, never as a CSV.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import zlib
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import yaml

from console.domain.oncall import Refusal
from console.importers.schedules import ParsedFile
from console.importers.vendors import ShapeError, parse_vendor_json
from console.importers.yaml_support import LOAD_ERRORS, SAFE_LOADER, too_deep

KIND = "recorded-http"
_KEYS = ("interactions", "http_interactions")
_YAML_KEY = re.compile(r"^(?:http_)?interactions:", re.M)


def looks_like_cassette(text: str) -> bool:
    """A YAML or JSON document whose top level has ``interactions`` (cheap check)."""
    head = text.lstrip()[:1]
    if head == "{":
        return '"interactions"' in text or '"http_interactions"' in text
    return _YAML_KEY.search(text) is not None


def parse_cassette(
    text: str, path: str, *, saved_at: datetime, region: str | None
) -> ParsedFile | Refusal:
    """The on-call data of a cassette's recorded responses, or why there is none."""
    document = _load(text, path)
    if isinstance(document, Refusal):
        return document
    # a body already parsed is taken only from JSON: YAML aliases could make a small
    # cassette's body a structure billions of nodes large once written out
    parsed_bodies = text.lstrip().startswith("{")
    interactions = next(
        (document[key] for key in _KEYS if isinstance(document, dict) and key in document), None
    )
    if not isinstance(interactions, list):
        return Refusal(path, "recorded HTTP, not CSV: its 'interactions' is not a list")
    result = ParsedFile(kind=KIND)
    passed: list[str] = []
    for number, interaction in enumerate(interactions, 1):
        label, body, problem = _response(interaction, number, parsed_bodies)
        if problem is not None:
            passed.append(f"{label}: {problem}")
            continue
        try:
            parsed = parse_vendor_json(
                body, f"{path} ({label})", saved_at=_recorded_at(interaction, saved_at),
                region=region,
            )  # fmt: skip
        except ShapeError as error:
            passed.append(f"{label}: {str(error).split(';')[0]}")
            continue
        result.contacts.extend(parsed.contacts)
        result.schedules.extend(parsed.schedules)
        result.policies.extend(parsed.policies)
        result.refused.extend(parsed.refused)
        result.notes.extend(parsed.notes)
    if not (result.contacts or result.schedules or result.policies or result.refused):
        listed = "; ".join(passed[:4]) + (
            f"; and {len(passed) - 4} more" if len(passed) > 4 else ""
        )
        return Refusal(
            path,
            f"recorded HTTP, not CSV: none of its {len(interactions)} recorded responses is "
            f"an Opsgenie or PagerDuty on-call, schedule, user or policy response ({listed})",
        )
    result.notes.extend(Refusal(path, f"passed over: {text}") for text in passed)
    return result


def _load(text: str, path: str) -> Any:
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            return Refusal(path, f"recorded HTTP, not CSV: invalid JSON: {error.msg}", error.lineno)
    deep = too_deep(text)
    if deep is not None:
        return Refusal(path, f"recorded HTTP, not CSV: invalid YAML: {deep}")
    try:
        return yaml.load(text, Loader=SAFE_LOADER)
    except LOAD_ERRORS as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        return Refusal(path, f"recorded HTTP, not CSV: invalid YAML: {problem}", line)


def _response(interaction: object, number: int, parsed_bodies: bool) -> tuple[str, Any, str | None]:
    """(label, the response's JSON, why it is passed over or None)."""
    label = f"interaction {number}"
    if not isinstance(interaction, dict):
        return label, None, "not a request and response"
    request = interaction.get("request")
    if isinstance(request, dict):
        method = str(request.get("method") or "").upper()
        uri = str(request.get("uri") or request.get("url") or "")
        label = f"{label} ({method} {uri})".replace("( ", "(").replace(" )", ")")
    response = interaction.get("response")
    if not isinstance(response, dict):
        return label, None, "no response recorded"
    status = response.get("status")
    code = status.get("code") if isinstance(status, dict) else status
    if isinstance(code, int | str) and not str(code).startswith("2"):
        return label, None, f"HTTP {code}"
    raw = _body_bytes(response.get("body"), parsed_bodies)
    if raw is None or not raw.strip():
        return label, None, "no response body"
    raw = _decompressed(raw)
    try:
        return label, json.loads(raw.decode("utf-8-sig")), None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return label, None, "the response body is not JSON"


def _body_bytes(body: object, parsed_bodies: bool) -> bytes | None:
    """VCR.py: ``body: {string: ...}`` (text, or bytes from ``!!binary``); Ruby VCR:
    ``body: {encoding: UTF-8, string: ...}`` or ``base64_string``; some tools: a str."""
    if isinstance(body, dict):
        if isinstance(body.get("base64_string"), str):
            try:
                return base64.b64decode(body["base64_string"])
            except ValueError:
                return None
        body = body.get("string")
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if parsed_bodies and isinstance(body, dict | list):  # parsed JSON (JSON cassettes)
        return json.dumps(body).encode("utf-8")
    return None


def _decompressed(raw: bytes) -> bytes:
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error):
            return raw
    return raw


def _recorded_at(interaction: dict[str, Any], saved_at: datetime) -> datetime:
    """Ruby VCR's ``recorded_at`` (an RFC 2822 date), else when the file was saved."""
    value = interaction.get("recorded_at")
    if isinstance(value, str):
        try:
            recorded = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return saved_at
        return recorded if recorded.tzinfo is not None else recorded.replace(tzinfo=UTC)
    return saved_at
