"""Persistence for Roadmap Tutor: the `Store` contract, its errors, and `open_store`.

Usage::

    async with open_store(settings.database) as store:
        await store.mark_done(guild_id, user_id, "python-basics", datetime.now(UTC))
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

from bot.storage.base import (
    GuildActivity,
    LoggedQuestion,
    QuestionStats,
    Store,
    WeeklyPost,
    WeeklySettings,
)
from bot.storage.errors import (
    SchemaTooNewError,
    StorageBusy,
    StorageError,
    StorageUnavailable,
    StoreLockedError,
    UnsupportedStoreError,
)
from bot.storage.sqlite import MEMORY, SqliteStore

__all__ = [
    "MEMORY",
    "GuildActivity",
    "LoggedQuestion",
    "QuestionStats",
    "SchemaTooNewError",
    "SqliteStore",
    "StorageBusy",
    "StorageError",
    "StorageUnavailable",
    "Store",
    "StoreLockedError",
    "UnsupportedStoreError",
    "WeeklyPost",
    "WeeklySettings",
    "open_store",
]

_PLANNED_SCHEMES = frozenset({"postgres", "postgresql", "postgresql+asyncpg"})


def open_store(url_or_path: str | os.PathLike[str], *, busy_timeout: float = 5.0) -> Store:
    """Build the store for a filesystem path or a ``sqlite:///path`` URL; not opened yet.

    Open it with ``async with`` or ``await store.open()``. ``sqlite:///relative.db`` and
    ``sqlite:////absolute.db`` follow SQLAlchemy's convention; ``sqlite:///:memory:`` is a
    throw-away database.
    """
    text = os.fspath(url_or_path)
    if "://" not in text:
        return SqliteStore(text, busy_timeout=busy_timeout)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        if parts.netloc:
            raise UnsupportedStoreError(
                f"sqlite URL {text!r} names a host; use sqlite:///relative.db or sqlite:////absolute/path.db"
            )
        path = unquote(parts.path.removeprefix("/"))
        if not path:
            raise UnsupportedStoreError(f"sqlite URL {text!r} has no database path")
        return SqliteStore(path, busy_timeout=busy_timeout)
    if scheme in _PLANNED_SCHEMES:
        raise UnsupportedStoreError(
            f"the PostgreSQL store is not available yet ({scheme}://); use a SQLite path or sqlite:///path for now"
        )
    # The URL itself stays out of the message: it may carry a password.
    raise UnsupportedStoreError(f"unsupported store URL scheme {scheme!r}; use a file path or sqlite:///path")
