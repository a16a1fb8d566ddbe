"""API tokens: in the OS keyring, the environment, or (GUI) this session only.

A token is never written to the database, a settings file, a log line or an
export. The environment wins (head-less use), then a session token, then the
keyring.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Mapping

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError

from console.domain.errors import ConsoleError

log = logging.getLogger(__name__)

SERVICE = "responder-console"
ENV_VARS = {
    "pagerduty": "RESPONDER_CONSOLE_PAGERDUTY_TOKEN",
    "opsgenie": "RESPONDER_CONSOLE_OPSGENIE_TOKEN",
}


class NoKeyringError(ConsoleError):
    """There is no usable OS keyring to keep a token in."""


class Tokens:
    def __init__(
        self,
        backend: KeyringBackend | None = None,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._backend = backend if backend is not None else keyring.get_keyring()
        self._environ = os.environ if environ is None else environ
        self._session: dict[str, str] = {}

    @property
    def keyring_name(self) -> str:
        return type(self._backend).__module__ + "." + type(self._backend).__name__

    def keyring_available(self) -> bool:
        # keyring's "fail" and "null" backends (no Secret Service, no Keychain) rank 0
        try:
            return float(self._backend.priority) > 0
        except Exception:  # a backend probing its OS service may raise anything
            return False

    def get(self, vendor: str) -> str | None:
        value = self._environ.get(ENV_VARS[vendor], "").strip()
        if value:
            return value
        if vendor in self._session:
            return self._session[vendor]
        if not self.keyring_available():
            return None
        try:
            return self._backend.get_password(SERVICE, vendor)
        except KeyringError as error:
            log.warning("the keyring could not be read for %s: %s", vendor, type(error).__name__)
            return None

    def source(self, vendor: str) -> str | None:
        """Where the token would come from: environment, session, keyring, or None."""
        if self._environ.get(ENV_VARS[vendor], "").strip():
            return "environment"
        if vendor in self._session:
            return "session"
        return "keyring" if self.get(vendor) is not None else None

    def store(self, vendor: str, token: str) -> None:
        token = token.strip()
        if not token:
            raise ConsoleError("the token is empty")
        if not self.keyring_available():
            raise NoKeyringError(self.no_keyring_message(vendor))
        try:
            self._backend.set_password(SERVICE, vendor, token)
        except KeyringError as error:
            raise NoKeyringError(
                f"the keyring refused the token ({type(error).__name__}); "
                + self.no_keyring_message(vendor)
            ) from None

    def keep_for_session(self, vendor: str, token: str) -> None:
        """The GUI's offer when there is no keyring: this process only, never written."""
        if not token.strip():
            raise ConsoleError("the token is empty")
        self._session[vendor] = token.strip()

    def forget(self, vendor: str) -> None:
        self._session.pop(vendor, None)
        if not self.keyring_available():
            return
        with contextlib.suppress(KeyringError):  # nothing stored: nothing to forget
            self._backend.delete_password(SERVICE, vendor)

    def no_keyring_message(self, vendor: str) -> str:
        return (
            f"no OS keyring is available to keep the {vendor} token "
            f"(keyring backend: {self.keyring_name}); set {ENV_VARS[vendor]} in the "
            "environment instead, or keep the token for this session only in the window"
        )
