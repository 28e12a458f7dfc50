"""Persistence for Roadmap Tutor: the `Store` contract, its errors, and `open_store`.

Usage::

    async with open_store(settings.store_url) as store:
        await store.mark_done(guild_id, user_id, "python-basics", datetime.now(UTC))

A path or ``sqlite:///path`` opens a `SqliteStore`; ``postgresql://...`` a `PostgresStore`. Both
run the same queries (`bot.storage.sql_store`) and raise the same errors.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

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
from bot.storage.sql_store import SqlStore
from bot.storage.sqlite import MEMORY, SqliteStore
from bot.storage.urls import parse_store_url, redact_url

if TYPE_CHECKING:
    from bot.storage.postgres import PostgresStore

__all__ = [
    "MEMORY",
    "GuildActivity",
    "LoggedQuestion",
    "PostgresStore",
    "QuestionStats",
    "SchemaTooNewError",
    "SqlStore",
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
    "parse_store_url",
    "redact_url",
]


def open_store(url_or_path: str | os.PathLike[str], *, busy_timeout: float = 5.0, pool_size: int = 10) -> SqlStore:
    """Build the store for a filesystem path, a ``sqlite:///path`` URL or a ``postgresql://`` URL; not opened yet.

    Open it with ``async with`` or ``await store.open()``. ``sqlite:///relative.db`` and
    ``sqlite:////absolute.db`` follow SQLAlchemy's convention; ``sqlite:///:memory:`` is a
    throw-away database. `pool_size` is the most connections a PostgreSQL store holds.
    Raises `UnsupportedStoreError` for anything else, without repeating a password.
    """
    location = parse_store_url(url_or_path)
    if location.backend == "postgresql":
        from bot.storage.postgres import PostgresStore

        return PostgresStore(location.target, busy_timeout=busy_timeout, pool_size=pool_size)
    return SqliteStore(location.target, busy_timeout=busy_timeout)


def __getattr__(name: str) -> Any:
    # asyncpg loads only when PostgreSQL is used: `roadmap-tutor ask` never needs it.
    if name == "PostgresStore":
        from bot.storage.postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
