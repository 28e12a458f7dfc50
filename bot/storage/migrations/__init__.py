"""Schema migrations for both backends: numbered SQL files, one sequence, a SQLite and a PostgreSQL text of each.

A file is named ``NNNN_what_it_does.sql`` and numbered 1, 2, 3, … without gaps. The SQLite text is
in this folder; the PostgreSQL text of the same step, with the same file name, is in
``postgresql/`` (the dialects differ in types: 64-bit ids, ``timestamptz`` times, identity columns).
Every step must exist in both, so a new migration is two files with one number.

A file holds plain DDL/DML without BEGIN/COMMIT; each runner applies all pending files plus the
version bump in one transaction, so a database is either fully upgraded or left exactly as it was.
SQLite keeps its version in ``PRAGMA user_version``; PostgreSQL in the ``schema_migrations`` table,
one row per applied step, and there several processes may start at once, so its runner holds an
advisory lock while it reads the version and applies steps. Shipped files are never edited once
released: a change is a new file.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import aiosqlite

from bot.storage.errors import SchemaTooNewError

if TYPE_CHECKING:  # asyncpg loads only when a PostgreSQL store is used
    import asyncpg

__all__ = [
    "POSTGRES_MIGRATION_LOCK",
    "Migration",
    "MigrationResult",
    "latest_version",
    "load_migrations",
    "load_postgres_migrations",
    "migrate",
    "migrate_postgres",
    "shipped_migrations",
    "shipped_postgres_migrations",
]

log = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: the version it brings the database to, and its SQL."""

    version: int
    name: str
    sql: str


@dataclass(frozen=True, slots=True)
class MigrationResult:
    """What opening a database did to its schema: the version before, the version after, the steps applied."""

    before: int
    after: int
    applied: tuple[str, ...] = ()  # "NNNN_name" of each step applied, in order


def load_migrations(directory: Path) -> list[Migration]:
    """Read ``NNNN_name.sql`` files from `directory`, checking they run 1..N without gaps."""
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise ValueError(f"migration file {path} is not named NNNN_lowercase_name.sql")
        migrations.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    for expected, migration in enumerate(migrations, start=1):
        # A gap or duplicate would silently skip or reapply a step on some databases.
        if migration.version != expected:
            raise ValueError(
                f"migrations in {directory} must be numbered 1..N without gaps; "
                f"expected {expected:04d}, found {migration.version:04d}_{migration.name}"
            )
    return migrations


@cache
def shipped_migrations() -> tuple[Migration, ...]:
    """The SQLite migrations that ship with this code."""
    return tuple(load_migrations(Path(__file__).parent))


def load_postgres_migrations(directory: Path, sqlite_migrations: Sequence[Migration]) -> list[Migration]:
    """Read the PostgreSQL texts in `directory`, checking they are the same steps as `sqlite_migrations`."""
    postgres = load_migrations(directory)
    sqlite_steps = [(m.version, m.name) for m in sqlite_migrations]
    postgres_steps = [(m.version, m.name) for m in postgres]
    if postgres_steps != sqlite_steps:
        missing = sorted(set(sqlite_steps) - set(postgres_steps))
        extra = sorted(set(postgres_steps) - set(sqlite_steps))
        raise ValueError(
            f"the PostgreSQL migrations in {directory} must be the same steps as the SQLite ones; "
            f"missing: {_names(missing) or 'none'}; without a SQLite twin: {_names(extra) or 'none'}"
        )
    return postgres


@cache
def shipped_postgres_migrations() -> tuple[Migration, ...]:
    """The PostgreSQL migrations that ship with this code: the same steps as `shipped_migrations`."""
    return tuple(load_postgres_migrations(Path(__file__).parent / "postgresql", shipped_migrations()))


def _names(steps: Sequence[tuple[int, str]]) -> str:
    return ", ".join(f"{version:04d}_{name}.sql" for version, name in steps)


def latest_version() -> int:
    """The schema version this code writes."""
    return len(shipped_migrations())


def _too_new(where: str, current: int, latest: int) -> SchemaTooNewError:
    return SchemaTooNewError(
        f"database {where} has schema version {current}, but this Roadmap Tutor only "
        f"knows versions up to {latest}; upgrade the bot or restore a backup made by "
        "this version"
    )


async def migrate(db: aiosqlite.Connection, migrations: Sequence[Migration], *, path: str) -> MigrationResult:
    """Bring the SQLite database at `path` up to the last of `migrations`.

    `db` must be in autocommit mode (``isolation_level=None``) so the explicit transaction here
    is the only one. Refuses a database whose version is newer than the code.
    """
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    current = int(row[0]) if row else 0
    latest = migrations[-1].version if migrations else 0
    if current > latest:
        raise _too_new(path, current, latest)
    pending = [m for m in migrations if m.version > current]
    if not pending:
        return MigrationResult(current, current)

    # The single-writer lock held by the store means nobody else migrates between the read
    # above and this transaction. executescript would commit an open transaction before it
    # starts, so BEGIN/COMMIT live inside the script instead.
    script = ["BEGIN IMMEDIATE;"]
    for migration in pending:
        script.append(migration.sql)
        script.append(f";\nPRAGMA user_version = {migration.version};")
    script.append("COMMIT;")
    try:
        await db.executescript("\n".join(script))
    except BaseException:
        if db.in_transaction:
            await db.execute("ROLLBACK")
        raise
    names = tuple(f"{m.version:04d}_{m.name}" for m in pending)
    log.info("Migrated %s from schema version %d to %d (%s)", path, current, latest, ", ".join(names))
    return MigrationResult(current, latest, names)


POSTGRES_MIGRATION_LOCK = 0x526F61644D6170
"""The advisory lock key ("RoadMap") held while a PostgreSQL database is migrated; one migrator at a time."""


async def migrate_postgres(
    connection: asyncpg.Connection, migrations: Sequence[Migration], *, where: str
) -> MigrationResult:
    """Bring the PostgreSQL database on `connection` up to the last of `migrations`.

    Several bot processes may start at once. The transaction-scoped advisory lock makes the
    others wait until the first has committed (or rolled back), after which they read the new
    version and apply nothing; the lock goes with the transaction, so a migrator that dies
    leaves no lock behind.
    """
    latest = migrations[-1].version if migrations else 0
    async with connection.transaction():
        # The bot's connections give up on a lock after the busy timeout; waiting for another
        # process's migration, or for a table lock a schema change needs, may take longer.
        await connection.execute("SET LOCAL lock_timeout = '60s'")
        await connection.execute("SELECT pg_advisory_xact_lock($1)", POSTGRES_MIGRATION_LOCK)
        # Nothing is written when the schema is current, so a read-only database (a standby)
        # still opens and serves reads, as a read-only SQLite file does.
        if await connection.fetchval("SELECT to_regclass('schema_migrations') IS NULL"):
            await connection.execute(
                "CREATE TABLE schema_migrations ("
                " version INTEGER PRIMARY KEY,"
                " name TEXT NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
        current = int(await connection.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
        if current > latest:
            raise _too_new(where, current, latest)
        pending = [m for m in migrations if m.version > current]
        for migration in pending:
            # No arguments: the simple query protocol, which runs a file of several statements.
            await connection.execute(migration.sql)
            await connection.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", migration.version, migration.name
            )
    if not pending:
        return MigrationResult(current, current)
    names = tuple(f"{m.version:04d}_{m.name}" for m in pending)
    log.info("Migrated %s from schema version %d to %d (%s)", where, current, latest, ", ".join(names))
    return MigrationResult(current, latest, names)
