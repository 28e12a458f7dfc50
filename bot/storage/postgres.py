"""The PostgreSQL implementation of `Store`: the shared queries on an asyncpg connection pool.

Design notes:

- The queries are `SqlStore`'s, the same text SQLite runs; `?` placeholders become `$1, $2, ...`
  here. Concurrency comes from the database rather than a lock in the process: every write is one
  statement or one transaction, and the idempotent ones (marking a topic done, claiming a weekly
  post or a reminder day) rely on primary keys and ``ON CONFLICT`` / conditional ``UPDATE``, so
  several calls, or several bot processes, agree on one winner.
- The pool opens connections on demand (``min_size=0``) and drops ones the server closed, so a
  restarted server or a terminated backend costs the calls in flight an apology and nothing more:
  the next call connects again, without restarting the bot. A connection lost mid-call is
  `StorageBusy` (try again), as a locked SQLite file is; a server that cannot be reached at all is
  `StorageUnavailable`.
- ``lock_timeout`` is the busy timeout: a write blocked by another transaction's lock for longer
  gives up with `StorageBusy`, as SQLite's ``busy_timeout`` does.
- Migrations run when the store opens, under an advisory lock (`migrate_postgres`), so several
  processes starting at once migrate exactly once. There is no writer lock as SQLite has: several
  processes may share one database.
- Processes sharing the database hear each other through LISTEN/NOTIFY on one channel: `announce`
  sends a small JSON payload naming its process, `listen` keeps one connection of its own (outside the
  pool) listening and hands other processes' payloads to the bot. A listening connection lost and
  made again may have missed some, so the handler then hears ``resync`` and drops what it caches.
- `exclusive` is a session advisory lock held on a pooled connection for the block: work one process
  does for all (an index rebuild) takes it with ``pg_try_advisory_lock``, so a second process is told
  someone else is doing it rather than waiting. A lost connection releases it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, cast

import asyncpg

from bot.storage.errors import StorageBusy, StorageError, StorageUnavailable
from bot.storage.migrations import Migration, migrate_postgres, shipped_postgres_migrations
from bot.storage.sql_store import Session, SqlStore, quote_identifier
from bot.storage.urls import parse_store_url

__all__ = [
    "APPLICATION_NAME",
    "NOTIFY_CHANNEL",
    "PostgresStore",
    "to_postgres_placeholders",
    "translate_postgres_error",
]

log = logging.getLogger(__name__)

APPLICATION_NAME = "roadmap-tutor"
"""Shown in pg_stat_activity, so an operator can tell the bot's connections from others."""

NOTIFY_CHANNEL = "roadmap_tutor"
"""The LISTEN/NOTIFY channel the processes sharing a database announce changes on."""

_CONNECT_TIMEOUT = 10.0
_LISTEN_RETRY = 5.0  # seconds between attempts to make the listening connection again
_LISTEN_PING = 30.0  # a listening connection silent this long is asked a SELECT 1, so a dead one is noticed
_ACQUIRE_TIMEOUT = 30.0  # waiting for a free pooled connection (or a new one) before calling it busy

# SQLSTATEs and what they mean to an operator. Busy: transient, the next call is expected to work.
_BUSY_STATES = {
    "55P03": "a lock stayed held by another connection for longer than the busy timeout",
    "40001": "a concurrent transaction conflicted with this one (serialization failure)",
    "40P01": "a deadlock with another connection was broken",
    "57014": "the statement was cancelled (statement timeout or an operator)",
    "53300": "has no free connection slots (too many connections)",
    "57P03": "is starting up or shutting down",
}
_LOST_STATES = {"57P01", "57P02"}  # admin_shutdown (pg_terminate_backend, fast shutdown), crash_shutdown
_UNAVAILABLE_STATES = {
    "25006": "is read-only (a standby, or default_transaction_read_only); progress cannot be saved",
    "53100": "cannot grow: the disk is full",
    "53200": "is out of memory",
    "58030": "could not read or write a file (I/O error)",
    "28000": "refused the login (check the user, and pg_hba.conf)",
    "28P01": "refused the login (check the user and password)",
    "3D000": "does not exist; create it first (CREATE DATABASE)",
    "42501": "refused access (the user lacks a privilege on the tables)",
    "3F000": "has no such schema (check search_path)",
}


def translate_postgres_error(exc: BaseException, where: str) -> StorageError:
    """Map an asyncpg or socket exception to the backend-neutral error the bot knows how to handle."""
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(exc, asyncpg.PostgresError) and isinstance(sqlstate, str):
        if sqlstate.startswith("08") or sqlstate in _LOST_STATES:
            return StorageBusy(f"lost the connection to PostgreSQL at {where} ({exc}); the next call reconnects")
        if sqlstate in _BUSY_STATES:
            return StorageBusy(f"database {where}: {_BUSY_STATES[sqlstate]} ({exc})")
        if sqlstate in _UNAVAILABLE_STATES:
            return StorageUnavailable(f"database {where} {_UNAVAILABLE_STATES[sqlstate]} ({exc})")
        return StorageError(f"database error on {where}: {exc} (SQLSTATE {sqlstate})")
    if isinstance(exc, asyncpg.InterfaceError):
        text = str(exc)
        if "pool is clos" in text:
            return StorageUnavailable(f"store {where} is not open ({text})")
        if "connection is closed" in text or "connection was closed" in text:
            return StorageBusy(f"lost the connection to PostgreSQL at {where} ({text}); the next call reconnects")
        return StorageError(f"database error on {where}: {text}")
    if isinstance(exc, TimeoutError):
        return StorageBusy(f"no connection to PostgreSQL at {where} became free or could be made in time")
    if isinstance(exc, OSError):
        return StorageUnavailable(f"cannot reach PostgreSQL at {where}: {exc}")
    return StorageError(f"database error on {where}: {exc}")


# What the driver or the network raise; anything else (a ValueError from a bad argument) passes untouched.
_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)

_PLACEHOLDER_OR_LITERAL = re.compile(r"'(?:[^']|'')*'|\?")


@functools.lru_cache(maxsize=512)
def to_postgres_placeholders(sql: str) -> str:
    """The shared SQL's ``?`` placeholders as PostgreSQL's ``$1, $2, ...`` (string literals left alone)."""
    numbers = itertools.count(1)
    return _PLACEHOLDER_OR_LITERAL.sub(lambda m: f"${next(numbers)}" if m[0] == "?" else m[0], sql)


def _rows_changed(status: str) -> int:
    # asyncpg returns the command tag: "INSERT 0 1", "UPDATE 3", "DELETE 0".
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class _PostgresSession:
    """`Session` on one pooled connection."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        rows = await self.connection.fetch(to_postgres_placeholders(sql), *params)
        return [tuple(row) for row in rows]

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return _rows_changed(await self.connection.execute(to_postgres_placeholders(sql), *params))

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.connection.executemany(to_postgres_placeholders(sql), list(rows))


class PostgresStore(SqlStore):
    """`Store` on a PostgreSQL database; open with ``await store.open()`` or ``async with``."""

    retry_open_while_unreachable = True

    def __init__(
        self,
        url: str,
        *,
        busy_timeout: float = 5.0,
        pool_size: int = 10,
        migrations: Sequence[Migration] | None = None,
    ) -> None:
        """`url` is a ``postgresql://`` URL. `busy_timeout` is how long, in seconds, a write waits
        for another transaction's lock before raising `StorageBusy`; `pool_size` how many
        connections this process may hold. `migrations` replaces the shipped ones (tests only)."""
        location = parse_store_url(url)
        if location.backend != "postgresql":
            raise ValueError(f"not a PostgreSQL URL: {location.display}")
        self._dsn = location.target
        self._display = location.display
        self._lock_timeout_ms = max(1, int(busy_timeout * 1000))
        self._pool_size = pool_size
        self._migrations = tuple(shipped_postgres_migrations() if migrations is None else migrations)
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self.instance = uuid.uuid4().hex[:12]  # tells this process's announcements from the others'
        self._handler: Callable[[str, dict[str, Any]], Awaitable[None]] | None = None
        self._listening: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()  # set while the listening connection is up (tests wait for it)
        self._handling: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        state = "open" if self._pool is not None else "closed"
        return f"<PostgresStore {self._display} {state}>"

    @property
    def display(self) -> str:
        return self._display

    # Lifecycle

    async def open(self) -> None:
        """Connect and migrate; raises `StorageError` subclasses."""
        async with self._opening:
            if self._pool is None:
                await self._open()

    async def _open(self) -> None:
        pool: asyncpg.Pool | None = None
        try:
            pool = await asyncpg.create_pool(
                self._dsn,
                min_size=0,  # connect on demand: nothing to restore (and log) while the server is away
                max_size=self._pool_size,
                timeout=_CONNECT_TIMEOUT,
                server_settings={"application_name": APPLICATION_NAME, "lock_timeout": str(self._lock_timeout_ms)},
            )
            async with pool.acquire(timeout=_ACQUIRE_TIMEOUT) as connection:
                migration = await migrate_postgres(connection, self._migrations, where=self._display)
        except BaseException as exc:
            if pool is not None:
                pool.terminate()
            if isinstance(exc, _DRIVER_ERRORS):
                raise translate_postgres_error(exc, self._display) from exc
            raise
        self._pool = pool
        self.migration = migration
        log.info("Opened store %s at schema version %d", self._display, migration.after)

    async def close(self) -> None:
        """Let the calls in progress finish, then close every connection."""
        await self.stop_listening()
        async with self._opening:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), timeout=_ACQUIRE_TIMEOUT)
        except (TimeoutError, *_DRIVER_ERRORS):
            log.warning("Closing store %s did not finish cleanly; dropping its connections", self._display)
            pool.terminate()
        log.info("Closed store %s", self._display)

    # Plumbing every call goes through

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        pool = self._pool
        if pool is None:
            raise StorageUnavailable(f"store {self._display} is not open")
        try:
            async with pool.acquire(timeout=_ACQUIRE_TIMEOUT) as connection:
                yield connection
        except _DRIVER_ERRORS as exc:
            error = translate_postgres_error(exc, self._display)
            # Callers decide how loud a failure is (an apology, a once-per-outage warning); here it is detail.
            log.debug("storage call failed: %s", error)
            raise error from exc

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[Session]:
        async with self._connection() as connection:
            yield _PostgresSession(connection)

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Session]:
        async with self._connection() as connection, connection.transaction():
            yield _PostgresSession(connection)

    @contextlib.asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[Session]:
        # Several reads over several tables that must agree with each other (an export, a copy).
        async with self._connection() as connection, connection.transaction(isolation="repeatable_read", readonly=True):
            yield _PostgresSession(connection)

    # Several processes on one database

    @contextlib.asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[bool]:
        pool = self._pool
        if pool is None:
            raise StorageUnavailable(f"store {self._display} is not open")
        key = f"{APPLICATION_NAME}:{name}"
        connection: asyncpg.Connection | None = None
        try:
            connection = await pool.acquire(timeout=_ACQUIRE_TIMEOUT)
            held = bool(await connection.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", key))
        except _DRIVER_ERRORS as exc:
            if connection is not None:
                await pool.release(connection)
            raise translate_postgres_error(exc, self._display) from exc
        try:
            yield held  # the block's own errors pass through untranslated
        finally:
            try:
                if held:
                    await connection.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)
            except _DRIVER_ERRORS as exc:  # a lost connection took the lock with it
                log.debug("releasing lock %s: %s", name, exc)
            finally:
                await pool.release(connection)

    async def announce(self, kind: str, **fields: int | str | None) -> None:
        payload = json.dumps({"from": self.instance, "kind": kind, **fields})
        await self._fetchall("SELECT pg_notify(?, ?)", (NOTIFY_CHANNEL, payload))

    async def listen(self, handler: Callable[[str, dict[str, Any]], Awaitable[None]]) -> None:
        self._handler = handler
        if self._listening is None:
            self._listening = asyncio.create_task(self._keep_listening(), name="listen to the other processes")

    async def stop_listening(self) -> None:
        task, self._listening = self._listening, None
        self._handler = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _keep_listening(self) -> None:
        missed = False  # a listening connection was lost: announcements may have gone unheard
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(
                    self._dsn, timeout=_CONNECT_TIMEOUT, server_settings={"application_name": APPLICATION_NAME}
                )
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _, lost=lost: lost.set())
                await connection.add_listener(NOTIFY_CHANNEL, self._heard)
                self.listening.set()
                if missed:
                    log.warning("listening to the other processes again; dropping what this one cached")
                    self._deliver("resync", {})
                missed = False
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), _LISTEN_PING)
                    if not lost.is_set():
                        await asyncio.wait_for(connection.fetchval("SELECT 1"), _CONNECT_TIMEOUT)
                raise ConnectionError("the listening connection closed")
            except (*_DRIVER_ERRORS, TimeoutError) as exc:
                if not missed:
                    log.warning("not hearing the other processes (%s); trying again every %g s", exc, _LISTEN_RETRY)
                missed = True
            finally:
                self.listening.clear()
                if connection is not None:
                    connection.terminate()
            await asyncio.sleep(_LISTEN_RETRY)

    def _heard(self, connection: object, pid: int, channel: str, payload: str) -> None:
        try:
            fields = json.loads(payload)
            kind, origin = fields.pop("kind"), fields.pop("from")
        except (ValueError, KeyError, AttributeError):
            log.warning("ignored a malformed announcement on %s", channel)
            return
        if origin != self.instance:
            self._deliver(kind, fields)

    def _deliver(self, kind: str, fields: dict[str, Any]) -> None:
        handler = self._handler
        if handler is None:
            return

        async def handle() -> None:
            try:
                await handler(kind, fields)
            except Exception:  # a failed handler must not stop the listening
                log.exception("handling the announcement %r %s failed", kind, fields)

        task = asyncio.create_task(handle())
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)

    # Copying (roadmap-tutor db copy)

    async def _table_names(self) -> list[str]:
        rows = await self._fetchall(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' ORDER BY table_name"
        )
        return [name for (name,) in rows]

    async def _columns(self, session: Session, table: str) -> list[tuple[str, str, bool]]:
        rows = await session.fetch(
            "SELECT column_name, data_type, is_identity = 'YES' FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
        return [(name, data_type, bool(identity)) for name, data_type, identity in rows]

    async def _column_names(self, session: Session, table: str) -> list[str]:
        return [name for name, _, _ in await self._columns(session, table)]

    async def _insert_rows(
        self, session: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        described = await self._columns(session, table)
        kinds = {name: data_type for name, data_type, _ in described}
        # Rows from SQLite carry times and days as the ISO text it keeps; COPY wants the values.
        readers = [_READERS.get(kinds[column]) for column in columns]
        records = [
            tuple(value if read is None else read(value) for read, value in zip(readers, row, strict=True))
            for row in rows
        ]
        connection = cast(_PostgresSession, session).connection
        await connection.copy_records_to_table(table, records=records, columns=list(columns))
        for name, _, identity in described:
            if identity:
                # Copied rows keep their ids; new ones must start after them.
                column = quote_identifier(name)
                await session.fetch(
                    f"SELECT setval(pg_get_serial_sequence(?, ?), COALESCE(MAX({column}), 0) + 1, false) "
                    f"FROM {quote_identifier(table)}",
                    (quote_identifier(table), name),
                )


def _read_time(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _read_day(value: Any) -> Any:
    return date.fromisoformat(value) if isinstance(value, str) else value


_READERS = {"timestamp with time zone": _read_time, "date": _read_day}
