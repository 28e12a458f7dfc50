"""Both store backends for the tests: a throw-away PostgreSQL server, and one way to open and inspect either store.

The server is real: ``initdb`` into a fresh temporary directory, ``pg_ctl start`` on 127.0.0.1 at a
free port, ``pg_ctl stop -m fast`` and the directory removed at the end. PostgreSQL refuses to run
as root, so when the tests run as root (CI does) the server runs as the ``postgres`` system user
through ``runuser``, in a directory that user owns; otherwise the binaries run as the current user.
Each test gets a database of its own (``CREATE DATABASE``, about 30 ms), dropped after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import uuid
from collections.abc import Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg

from bot.storage import PostgresStore, SqliteStore, SqlStore
from bot.storage.migrations import Migration, shipped_migrations, shipped_postgres_migrations

SERVER_USER = "postgres"
"""The system user the server runs as when the tests run as root."""

# Test-only speed: nothing here has to survive a power cut.
_FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


class PostgresUnavailable(Exception):
    """The PostgreSQL server binaries are not installed (the only reason a PostgreSQL test may skip)."""


def run_in_thread(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run `coroutine` on a loop of its own in a worker thread, whatever loop the caller is in."""
    with ThreadPoolExecutor(1) as worker:
        return worker.submit(asyncio.run, coroutine).result()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """A PostgreSQL cluster in a temporary directory; `start`, `stop`, `destroy`."""

    def __init__(self) -> None:
        initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise PostgresUnavailable("PostgreSQL server binaries (initdb, pg_ctl) are not on PATH")
        self._initdb, self._pg_ctl = initdb, pg_ctl
        self._as_root = os.geteuid() == 0
        if self._as_root:
            try:
                owner = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise RuntimeError(
                    f"the tests run as root, and PostgreSQL refuses to: they need a {SERVER_USER!r} system user "
                    "to run the server as (useradd --system postgres), or run them as another user"
                ) from None
            if shutil.which("runuser") is None:
                raise RuntimeError("the tests run as root and need `runuser` to start PostgreSQL as another user")
        # Under /tmp rather than pytest's tmp_path: pytest's directory is private to its user, and
        # the server's user must be able to reach its own files.
        self.root = Path(tempfile.mkdtemp(prefix="roadmap-tutor-pg-"))
        if self._as_root:
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.root.chmod(0o700)
        self.data_dir = self.root / "data"
        self.log_path = self.root / "server.log"
        self.port = 0
        self.running = False
        self.seconds_to_start = 0.0

    def _run(self, *command: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", SERVER_USER, "--"] if self._as_root else []
        done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            log = self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""
            raise RuntimeError(
                f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}\nserver log:\n{log}"
            )
        return done

    def init(self) -> None:
        started = time.perf_counter()
        self._run(
            self._initdb,
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
            "--no-instructions",
        )
        self.seconds_to_start += time.perf_counter() - started

    def start(self) -> None:
        """Start (or restart) the server; the port stays the same across restarts, so URLs stay valid."""
        started = time.perf_counter()
        self.port = self.port or _free_port()
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 {_FAST}"
        data, log = str(self.data_dir), str(self.log_path)
        self._run(self._pg_ctl, "-D", data, "-l", log, "-o", options, "-w", "-t", "60", "start")
        self.running = True
        self.seconds_to_start += time.perf_counter() - started

    def stop(self) -> None:
        if self.running:
            self._run(self._pg_ctl, "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop")
            self.running = False

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, *statements: str, database: str = "postgres") -> None:
        """Run statements as the superuser on a connection of their own (from any thread or loop)."""

        async def run() -> None:
            connection = await asyncpg.connect(self.url(database))
            try:
                for statement in statements:
                    await connection.execute(statement)
            finally:
                await connection.close()

        run_in_thread(run())

    @contextlib.contextmanager
    def fresh_database(self, *, icu_locale: str | None = None) -> Iterator[str]:
        """A new empty database for one test; dropped after it, even with connections still open.

        `icu_locale` (e.g. "en-US") makes its text sort the way people read, not byte by byte.
        """
        name = f"tutor_{uuid.uuid4().hex[:12]}"
        locale = f" LOCALE_PROVIDER icu ICU_LOCALE '{icu_locale}' LOCALE 'C' TEMPLATE template0" if icu_locale else ""
        self.execute(f'CREATE DATABASE "{name}"{locale}')
        try:
            yield name
        finally:
            if self.running:
                self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def running_postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.destroy()


class StoreBackend:
    """One backend as the tests see it: open a store on the test's database, and look inside it directly."""

    name: str
    url: str

    def store(self, *, migrations: Sequence[Migration] | None = None, busy_timeout: float = 0.2) -> SqlStore:
        raise NotImplementedError

    def migrations(self) -> tuple[Migration, ...]:
        """This backend's shipped migrations (SQLite's or their PostgreSQL twins)."""
        raise NotImplementedError

    async def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of `sql` read on a connection of the test's own, not the store's."""
        raise NotImplementedError

    async def execute(self, sql: str) -> None:
        """Run and commit `sql` on a connection of the test's own (e.g. a row as an old release wrote it)."""
        raise NotImplementedError

    async def count_rows(self, table: str, where: str = "") -> int:
        ((count,),) = await self.fetch(f"SELECT COUNT(*) FROM {table} {where}")
        return int(count)

    async def schema_version(self) -> int:
        raise NotImplementedError

    async def set_schema_version(self, version: int) -> None:
        raise NotImplementedError

    async def table_names(self) -> set[str]:
        raise NotImplementedError


class SqliteBackend(StoreBackend):
    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = str(path)

    def store(self, *, migrations: Sequence[Migration] | None = None, busy_timeout: float = 0.2) -> SqlStore:
        return SqliteStore(self.path, busy_timeout=busy_timeout, migrations=migrations)

    def migrations(self) -> tuple[Migration, ...]:
        return shipped_migrations()

    async def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(self.path)) as connection:
            return [tuple(row) for row in connection.execute(sql).fetchall()]

    async def execute(self, sql: str) -> None:
        with contextlib.closing(sqlite3.connect(self.path)) as connection, connection:
            connection.execute(sql)

    async def schema_version(self) -> int:
        ((version,),) = await self.fetch("PRAGMA user_version")
        return int(version)

    async def set_schema_version(self, version: int) -> None:
        with contextlib.closing(sqlite3.connect(self.path)) as connection:
            connection.execute(f"PRAGMA user_version = {int(version)}")

    async def table_names(self) -> set[str]:
        return {name for (name,) in await self.fetch("SELECT name FROM sqlite_master WHERE type = 'table'")}


class PostgresBackend(StoreBackend):
    name = "postgresql"

    def __init__(self, server: PostgresServer, database: str) -> None:
        self.server = server
        self.database = database
        self.url = server.url(database)

    def store(self, *, migrations: Sequence[Migration] | None = None, busy_timeout: float = 0.2) -> SqlStore:
        return PostgresStore(self.url, busy_timeout=busy_timeout, migrations=migrations)

    def migrations(self) -> tuple[Migration, ...]:
        return shipped_postgres_migrations()

    async def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        connection = await asyncpg.connect(self.url)
        try:
            return [tuple(row) for row in await connection.fetch(sql)]
        finally:
            await connection.close()

    async def execute(self, sql: str) -> None:
        connection = await asyncpg.connect(self.url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def schema_version(self) -> int:
        ((version,),) = await self.fetch("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        return int(version)

    async def set_schema_version(self, version: int) -> None:
        connection = await asyncpg.connect(self.url)
        try:
            async with connection.transaction():
                await connection.execute("DELETE FROM schema_migrations")
                await connection.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, 'set by a test')", version
                )
        finally:
            await connection.close()

    async def table_names(self) -> set[str]:
        rows = await self.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return {name for (name,) in rows}
