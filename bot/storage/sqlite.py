"""The SQLite implementation of `Store`: one aiosqlite connection, one writer process per file.

The queries are `SqlStore`'s, shared with PostgreSQL; this module connects them to a file.

Design notes:

- One connection serves the whole bot and every call takes ``self._lock``, so the statements of
  one call never interleave with another's (aiosqlite runs statements one at a time but would
  happily run a second coroutine's statement inside the first one's transaction).
- The connection is in autocommit mode; multi-statement writes use ``BEGIN IMMEDIATE`` so they
  take the write lock up front instead of failing half-way with SQLITE_BUSY.
- A process-wide advisory lock (``flock`` on ``<db>.lock``) keeps a second bot process off the
  same file: two writers would not corrupt SQLite, but they would each post the weekly prompt
  schedule and fight over the busy timeout. ``flock`` belongs to the open file description, so
  two `SqliteStore` objects in one process also exclude each other, and the kernel drops the
  lock when a process dies, so a crash leaves no stale lock behind.
- Times are stored as fixed-width ISO-8601 UTC text, so text order is time order; days as
  ``YYYY-MM-DD``. `_SqliteSession` writes them; the shared decoders read them back.
- sqlite3 errors are translated into `bot.storage.errors` classes at the one place every call
  goes through (`_session`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.storage.errors import (
    StorageBusy,
    StorageError,
    StorageUnavailable,
    StoreLockedError,
)
from bot.storage.migrations import Migration, migrate, shipped_migrations
from bot.storage.sql_store import Session, SqlStore, quote_identifier

__all__ = ["MEMORY", "SqliteStore", "translate_sqlite_error"]

log = logging.getLogger(__name__)

MEMORY = ":memory:"
"""Path for a throw-away in-memory database (tests, console experiments); no lock file."""

_TOP_TOPICS = 10

# Primary result codes (the low byte of an extended code) and what they mean to an operator.
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_UNAVAILABLE_REASONS = {
    sqlite3.SQLITE_READONLY: "is read-only (check file and directory permissions)",
    sqlite3.SQLITE_CORRUPT: "is corrupt; restore a backup or move the file aside",
    sqlite3.SQLITE_NOTADB: "is not a SQLite database (corrupt?); restore a backup or move it aside",
    sqlite3.SQLITE_FULL: "cannot grow: the disk is full",
    sqlite3.SQLITE_IOERR: "could not be read or written (I/O error)",
    sqlite3.SQLITE_CANTOPEN: "cannot be opened (missing directory or no permission)",
    sqlite3.SQLITE_PERM: "is not accessible (permission denied)",
}


def translate_sqlite_error(exc: sqlite3.Error, path: str) -> StorageError:
    """Map a sqlite3 exception to the backend-neutral error the bot knows how to handle."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in _BUSY_CODES:
        return StorageBusy(f"database {path} stayed locked by another connection: {exc}")
    reason = _UNAVAILABLE_REASONS.get(primary) if primary is not None else None
    if reason is not None:
        return StorageUnavailable(f"database {path} {reason} ({exc})")
    return StorageError(f"database error on {path}: {exc}")


def _to_db_time(at: datetime) -> str:
    # Fixed-width UTC text sorts in time order, so range queries can compare strings.
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got naive {at!r}")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _to_db_value(value: Any) -> Any:
    # datetime before date: a datetime is a date too.
    if isinstance(value, datetime):
        return _to_db_time(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _to_db_values(params: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(_to_db_value(value) for value in params)


class _SqliteSession:
    """`Session` on the store's one connection: datetimes and dates go in as the text SQLite keeps."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await self.db.execute_fetchall(sql, _to_db_values(params))]

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self.db.execute(sql, _to_db_values(params)) as cursor:
            return cursor.rowcount

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.db.executemany(sql, [_to_db_values(row) for row in rows])


class _WriterLock:
    """An exclusive, non-blocking ``flock`` on ``<database>.lock``."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = database.with_name(database.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise StorageUnavailable(f"cannot create lock file {self.path}: {exc}") from exc
            # A read-only deployment may still have a lock file; flock works on a read-only fd.
            try:
                fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                raise StorageUnavailable(f"cannot create lock file {self.path}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._read_holder(fd)
            os.close(fd)
            raise StoreLockedError(
                f"another Roadmap Tutor process is using {self.database}{holder}; stop it, or "
                "give this process its own database"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise StorageUnavailable(f"cannot lock {self.path}: {exc}") from exc
        self._fd = fd
        # The pid is only a hint for the "already in use" message; a read-only fd cannot hold it.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        # The file stays: unlinking it would let a third process lock a fresh inode while a
        # second one still waits on the old one.
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    @staticmethod
    def _read_holder(fd: int) -> str:
        with contextlib.suppress(OSError, ValueError):
            pid = int(os.pread(fd, 32, 0).decode().strip())
            return f" (pid {pid})"
        return ""


class SqliteStore(SqlStore):
    """`Store` on a SQLite file or `MEMORY`; open with ``await store.open()`` or ``async with``."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 5.0,
        migrations: Sequence[Migration] | None = None,
    ) -> None:
        """`busy_timeout` is how long, in seconds, a write waits for another connection's lock
        before raising `StorageBusy`. `migrations` replaces the shipped ones (tests only)."""
        self._path = None if os.fspath(path) == MEMORY else Path(path)
        self._display = MEMORY if self._path is None else str(self._path)
        self._busy_timeout_ms = max(0, int(busy_timeout * 1000))
        self._migrations = tuple(shipped_migrations() if migrations is None else migrations)
        self._db: aiosqlite.Connection | None = None
        self._writer_lock: _WriterLock | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        state = "open" if self._db is not None else "closed"
        return f"<SqliteStore {self._display} {state}>"

    @property
    def path(self) -> str:
        """The database location as given (for logs and admin commands)."""
        return self._display

    @property
    def display(self) -> str:
        return self._display

    # Lifecycle

    async def open(self) -> None:
        """Lock the file, connect, configure, and migrate; raises `StorageError` subclasses."""
        async with self._lock:
            if self._db is None:
                await self._open()

    async def _open(self) -> None:
        writer_lock = None
        if self._path is not None:
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageUnavailable(f"cannot create the directory for database {self._path}: {exc}") from exc
            writer_lock = _WriterLock(self._path.resolve())
            writer_lock.acquire()
        db: aiosqlite.Connection | None = None
        try:
            db = await aiosqlite.connect(self._display, isolation_level=None)
            await self._configure(db)
            await self._check_integrity(db)
            migration = await migrate(db, self._migrations, path=self._display)
        except BaseException as exc:
            if db is not None:
                with contextlib.suppress(Exception):
                    await db.close()
            if writer_lock is not None:
                writer_lock.release()
            if isinstance(exc, sqlite3.Error):
                raise translate_sqlite_error(exc, self._display) from exc
            raise
        self._db = db
        self._writer_lock = writer_lock
        self.migration = migration
        log.info("Opened store %s at schema version %d", self._display, migration.after)

    async def _configure(self, db: aiosqlite.Connection) -> None:
        await db.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        await db.execute("PRAGMA foreign_keys = ON")
        try:
            # WAL lets readers (a backup, the sqlite3 shell) work while the bot writes.
            await db.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_READONLY:
                raise
            # A read-only file can still serve reads; writes will raise StorageUnavailable.
            log.warning("Database %s is read-only; progress cannot be saved", self._display)
        # NORMAL is durable across application crashes in WAL mode and avoids an fsync per write.
        await db.execute("PRAGMA synchronous = NORMAL")

    async def _check_integrity(self, db: aiosqlite.Connection) -> None:
        # Fail at start-up with a clear message rather than on some later command. quick_check
        # reads every page once, which is milliseconds for a bot-sized database.
        rows = list(await db.execute_fetchall("PRAGMA quick_check(1)"))
        result = rows[0][0] if rows else "no result"
        if result != "ok":
            raise StorageUnavailable(
                f"database {self._display} is corrupt ({result}); restore a backup or move the file aside"
            )

    async def close(self) -> None:
        """Finish the call in progress, close the connection and release the file lock."""
        async with self._lock:
            db, self._db = self._db, None
            try:
                if db is not None:
                    await db.close()
            except sqlite3.Error:
                log.warning("Error while closing store %s", self._display, exc_info=True)
            finally:
                if self._writer_lock is not None:
                    self._writer_lock.release()
                    self._writer_lock = None
        if db is not None:
            log.info("Closed store %s", self._display)

    # Plumbing every call goes through

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            if self._db is None:
                raise StorageUnavailable(f"store {self._display} is not open")
            try:
                yield self._db
            except sqlite3.Error as exc:
                error = translate_sqlite_error(exc, self._display)
                # Callers decide how loud a failure is (an apology, a once-per-outage warning); here it is detail.
                log.debug("storage call failed: %s", error)
                raise error from exc

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[Session]:
        async with self._connection() as db:
            yield _SqliteSession(db)

    # One connection behind a lock: nobody else in the process writes while a call reads, and the
    # writer lock keeps other processes out, so a plain session already reads one moment.
    _snapshot = _session

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Session]:
        async with self._connection() as db:
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteSession(db)
            except BaseException:
                if db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")

    # Copying (roadmap-tutor db copy)

    async def _table_names(self) -> list[str]:
        rows = await self._fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        return [name for (name,) in rows]

    async def _column_names(self, session: Session, table: str) -> list[str]:
        rows = await session.fetch(f"PRAGMA table_info({quote_identifier(table)})")
        return [row[1] for row in rows]

    async def _insert_rows(
        self, session: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        names = ", ".join(quote_identifier(column) for column in columns)
        marks = ", ".join("?" for _ in columns)
        await session.execute_many(f"INSERT INTO {quote_identifier(table)} ({names}) VALUES ({marks})", rows)
