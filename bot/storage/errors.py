"""Storage failures the bot can catch, apologise for, and keep answering through.

Every error carries two texts: ``str(error)`` is the operator's detail for the log (it may name
files), and ``error.user_message`` is a short sentence that is safe to show in Discord.
Nothing here mentions SQLite, so a PostgreSQL backend raises the same classes.
"""

from __future__ import annotations

__all__ = [
    "SchemaTooNewError",
    "StorageBusy",
    "StorageError",
    "StorageUnavailable",
    "StoreLockedError",
    "UnsupportedStoreError",
]


class StorageError(Exception):
    """Base class for every storage failure."""

    user_message: str = "I couldn't reach my records just now. Please try again in a moment."

    def __init__(self, detail: str, *, user_message: str | None = None) -> None:
        super().__init__(detail)
        if user_message is not None:
            self.user_message = user_message


class StorageBusy(StorageError):
    """The database stayed locked by another writer for longer than the busy timeout.

    Transient: retrying later is expected to work.
    """

    user_message = "My records are busy right now. Please try again in a few seconds."


class StorageUnavailable(StorageError):
    """The database cannot be used: read-only, corrupt, disk full, missing or closed.

    Not transient: an operator has to act, but answering questions still works.
    """

    user_message = (
        "My progress records are unavailable at the moment, so I can't save or show progress. "
        "I can still answer questions."
    )


class StoreLockedError(StorageUnavailable):
    """Another process already holds the single-writer lock on this database."""


class SchemaTooNewError(StorageUnavailable):
    """The database was written by a newer version of the bot than the one running."""


class UnsupportedStoreError(StorageError):
    """The configured store URL names a backend this version cannot use."""
