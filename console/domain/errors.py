"""Expected failures: typed exceptions that carry a message a person can act on.

Anything else that escapes is a bug and goes to the crash path.
"""

from __future__ import annotations


class ConsoleError(Exception):
    """An expected failure. ``str(error)`` is the message shown to the user."""

    #: process exit code the CLI uses for this error
    exit_code: int = 1


class NotFoundError(ConsoleError):
    """A named object (incident, entry, item) does not exist."""


class IllegalTransitionError(ConsoleError):
    """A lifecycle move the state machine does not allow."""


class InvalidInputError(ConsoleError):
    """A value typed or passed by a user is not acceptable."""

    exit_code = 2


class StorageError(ConsoleError):
    """The database file could not be used; the message names the file and what to do."""


class DatabaseTooNewError(StorageError):
    """The file was written by a newer Responder Console."""


class DatabaseCorruptError(StorageError):
    """The file is damaged. It is never overwritten; backups are offered."""

    def __init__(self, message: str, *, path: str, backups: tuple[str, ...]) -> None:
        super().__init__(message)
        self.path = path
        self.backups = backups


class DatabaseLockedError(StorageError):
    """Another process holds the write lock for longer than the busy timeout."""


class DiskFullError(StorageError):
    """The disk holding the database is full; the change was not saved."""


class ReadOnlyError(StorageError):
    """The data folder or file cannot be written."""
