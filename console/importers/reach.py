"""Reach methods from what files say: kind words to :class:`ReachKind`, numbers to E.164.

Phone numbers go through ``phonenumbers`` (Google's libphonenumber metadata). A
number written nationally (``020 7946 0000``) needs a default region (``GB``);
one that cannot be read as a number is kept exactly as written and flagged,
never dropped: at 03:00 a number with a note beats no number.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from console.domain.errors import InvalidInputError
from console.domain.oncall import ReachKind, ReachMethod

#: words real exports use for a kind of reach method (vCard TYPE, CSV headers, vendor types)
KIND_WORDS: dict[str, ReachKind] = {
    "cell": ReachKind.MOBILE,
    "cellular": ReachKind.MOBILE,
    "mobile": ReachKind.MOBILE,
    "iphone": ReachKind.MOBILE,
    "work": ReachKind.OFFICE,
    "office": ReachKind.OFFICE,
    "business": ReachKind.OFFICE,
    "desk": ReachKind.OFFICE,
    "main": ReachKind.OFFICE,
    "home": ReachKind.HOME,
    "private": ReachKind.HOME,
    "backup": ReachKind.BACKUP,
    "other": ReachKind.BACKUP,
    "emergency": ReachKind.BACKUP,
    "voice": ReachKind.PHONE,
    "phone": ReachKind.PHONE,
    "tel": ReachKind.PHONE,
    "pager": ReachKind.PHONE,
    "text": ReachKind.SMS,
    "sms": ReachKind.SMS,
    "textphone": ReachKind.SMS,
    "email": ReachKind.EMAIL,
    "e-mail": ReachKind.EMAIL,
    "mail": ReachKind.EMAIL,
    "internet": ReachKind.EMAIL,
    "chat": ReachKind.CHAT,
    "im": ReachKind.CHAT,
    "impp": ReachKind.CHAT,
    "slack": ReachKind.CHAT,
    "teams": ReachKind.CHAT,
    "xmpp": ReachKind.CHAT,
    "matrix": ReachKind.CHAT,
}

_REGION = re.compile(r"^[A-Za-z]{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_region(region: str | None) -> str | None:
    """``gb`` → ``GB``; None stays None. InvalidInputError for anything libphonenumber lacks."""
    if region is None:
        return None
    cleaned = region.strip().upper()
    if not _REGION.match(cleaned) or cleaned not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInputError(
            f"{region!r} is not a region phonenumbers knows: give a two-letter country code "
            "such as GB, US, DE"
        )
    return cleaned


def kind_of(word: str, default: ReachKind | None = None) -> ReachKind | None:
    """The kind a word names (``cell`` → mobile), or ``default``."""
    return KIND_WORDS.get(word.strip().lower(), default)


def read_phone(value: str, region: str | None) -> tuple[str | None, str | None, str | None]:
    """``(e164, international format, problem)`` of a number as written."""
    text = value.strip()
    if text.lower().startswith("tel:"):
        text = text[4:].split(";", 1)[0]
    if not text:
        return None, None, "empty number"
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as error:
        if error.error_type == NumberParseException.INVALID_COUNTRY_CODE and region is None:
            return (
                None,
                None,
                (
                    "written without a country code and no default region was given "
                    "(import with --region, e.g. --region GB)"
                ),
            )
        return None, None, f"not a phone number ({_reason(error)})"
    if not phonenumbers.is_possible_number(number):
        return None, None, "not a possible phone number (too short or too long)"
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    formatted = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    if not phonenumbers.is_valid_number(number):
        code = number.country_code or 0
        where = phonenumbers.region_code_for_country_code(code)
        if where in ("ZZ", "001"):  # unknown or non-geographic
            where = f"+{code}"
        return e164, formatted, f"not a number in use in {where}: check it"
    return e164, formatted, None


def _reason(error: NumberParseException) -> str:
    reasons = {
        NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        NumberParseException.NOT_A_NUMBER: "no digits to dial",
        NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        NumberParseException.TOO_SHORT_NSN: "too short",
        NumberParseException.TOO_LONG: "too long",
    }
    return reasons.get(error.error_type, "unreadable")


def method(
    kind: ReachKind, value: str, *, region: str | None, label: str = ""
) -> ReachMethod | None:
    """A reach method from a file's value (None when the value is empty).

    Phones are normalised; e-mail addresses lower-cased and flagged when malformed;
    chat handles kept as written."""
    text = " ".join(value.split())
    if not text:
        return None
    if kind.is_phone:
        e164, formatted, problem = read_phone(text, region)
        return ReachMethod(kind, text, e164=e164, label=label, problem=problem, formatted=formatted)
    if kind is ReachKind.EMAIL:
        address = text.removeprefix("mailto:").strip().lower()
        problem = None if _EMAIL.match(address) else "not an e-mail address"
        return ReachMethod(kind, address, label=label, problem=problem)
    return ReachMethod(kind, text, label=label)


def valid_email(value: str | None) -> str | None:
    """A lower-cased address when ``value`` looks like one, else None."""
    if not value:
        return None
    address = value.strip().removeprefix("mailto:").strip().lower()
    return address if _EMAIL.match(address) else None
