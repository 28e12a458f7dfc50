"""SQLite schema migrations: numbered SQL files in this folder, tracked by ``PRAGMA user_version``.

A file is named ``NNNN_what_it_does.sql`` and numbered 1, 2, 3, … without gaps. It holds plain
DDL/DML without BEGIN/COMMIT; the runner wraps all pending files plus the version bump in one
transaction, so a database is either fully upgraded or left exactly as it was. Shipped files are
never edited once released: a change is a new file.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import aiosqlite

from bot.storage.errors import SchemaTooNewError

__all__ = ["Migration", "latest_version", "load_migrations", "migrate", "shipped_migrations"]

log = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: the version it brings the database to, and its SQL."""

    version: int
    name: str
    sql: str


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
    """The migrations that ship with this code."""
    return tuple(load_migrations(Path(__file__).parent))


def latest_version() -> int:
    """The schema version this code writes."""
    return len(shipped_migrations())


async def migrate(db: aiosqlite.Connection, migrations: Sequence[Migration], *, path: str) -> int:
    """Bring the database at `path` up to the last of `migrations`; return the final version.

    `db` must be in autocommit mode (``isolation_level=None``) so the explicit transaction here
    is the only one. Refuses a database whose version is newer than the code.
    """
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    current = int(row[0]) if row else 0
    latest = migrations[-1].version if migrations else 0
    if current > latest:
        raise SchemaTooNewError(
            f"database {path} has schema version {current}, but this Roadmap Tutor only "
            f"knows versions up to {latest}; upgrade the bot or restore a backup made by "
            "this version"
        )
    pending = [m for m in migrations if m.version > current]
    if not pending:
        return current

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
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in pending)
    log.info("Migrated %s from schema version %d to %d (%s)", path, current, latest, names)
    return latest
