"""Storage errors. ``storage`` knows nothing of ``monitor``; the CLI catches these too."""

from __future__ import annotations


class StorageError(Exception):
    """A storage operation failed in a way the user can act on."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class SchemaOutOfDateError(StorageError):
    """The database schema is older (or newer) than this code expects."""
