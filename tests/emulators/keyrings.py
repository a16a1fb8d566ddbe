"""Keyring backends standing in for the OS's (tests only): one that keeps passwords
in memory, and keyring's own ``fail`` backend for a machine without any."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class NoKeyring(fail.Keyring):
    """keyring's own "no backend found" keyring (priority 0), typed."""

    def __init__(self) -> None:
        pass  # KeyringBackend.__init__ only reads KEYRING_PROPERTY_* from the environment
