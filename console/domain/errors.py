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


class DatabaseUnusableError(StorageError):
    """The database cannot be used as it is, and the way out is a backup or starting empty.

    ``backups`` holds the newest backup that passed its check first (empty when there is
    none): the one ``db restore`` and the start-up dialog offer.
    """

    def __init__(self, message: str, *, path: str, backups: tuple[str, ...]) -> None:
        super().__init__(message)
        self.path = path
        self.backups = backups


class DatabaseCorruptError(DatabaseUnusableError):
    """The file is damaged. It is never overwritten; backups are offered."""


class DatabaseMissingError(DatabaseUnusableError):
    """The file is missing or empty (0 bytes) although the folder has backups: the data
    was lost, this is not a new workspace. The newest good backup is offered."""


class DatabaseInUseError(StorageError):
    """Another program has the file open: it is not moved aside or replaced meanwhile."""


class DatabaseLockedError(StorageError):
    """Another process holds the write lock for longer than the busy timeout."""


class DiskFullError(StorageError):
    """The disk holding the database is full; the change was not saved."""


class ReadOnlyError(StorageError):
    """The data folder or file cannot be written."""


class BackupError(StorageError):
    """A backup could not be written, or one offered for a restore fails its check."""


class FileWriteError(ConsoleError):
    """A file the console writes could not be written; nothing partial was left.

    ``reason``: disk-full, missing-folder, is-a-folder, read-only or io-error.
    """

    def __init__(self, message: str, *, path: str, reason: str) -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason
