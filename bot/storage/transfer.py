"""Copy a community's data from one store to another: SQLite to PostgreSQL, or back (`roadmap-tutor db copy`).

Both stores are opened first, which brings both to the current schema, so their tables match
column for column. The source is read in one consistent snapshot; each table is written to the
destination in a transaction of its own that ends by counting the destination's rows: a count
that differs from what was read (a bot writing to the destination meanwhile, a row refused)
rolls that table back and stops the copy. A destination that already holds data is refused
unless the caller asks to replace it; then each table is emptied inside its own transaction.
Row ids (the question log's, the quiz answers') are kept, so an export after a round trip is
identical.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.storage.errors import StorageError
from bot.storage.sql_store import SqlStore, count_rows, quote_identifier
from bot.storage.sqlite import MEMORY, SqliteStore

__all__ = ["CopyFailed", "CopyRefused", "TableCopied", "check_source_exists", "copy_store"]

log = logging.getLogger(__name__)


class CopyRefused(StorageError):
    """The copy would overwrite data, or its source or destination are not what they should be."""


class CopyFailed(StorageError):
    """A table could not be copied whole; the tables before it are in the destination."""


@dataclass(frozen=True, slots=True)
class TableCopied:
    table: str
    rows: int


def check_source_exists(source: SqlStore) -> None:
    """Refuse a SQLite source file that does not exist (opening it would create an empty one)."""
    if isinstance(source, SqliteStore) and source.path != MEMORY and not Path(source.path).exists():
        raise CopyRefused(f"the source database {source.path} does not exist")


async def copy_store(
    source: SqlStore,
    destination: SqlStore,
    *,
    replace: bool = False,
    on_table: Callable[[TableCopied], None] | None = None,
) -> list[TableCopied]:
    """Copy every table of the open `source` into the open `destination`; return the rows copied per table.

    Refuses (`CopyRefused`) when the destination holds data and `replace` is false, and when
    the two stores' tables differ. A table whose rows do not all arrive raises `CopyFailed`,
    with that table rolled back and the ones before it kept.
    """
    if source.display == destination.display:
        raise CopyRefused(f"the source and the destination are the same database ({source.display})")
    tables = await source._table_names()
    destination_tables = await destination._table_names()
    if tables != destination_tables:
        raise CopyRefused(
            f"the two databases do not hold the same tables (only in the source: "
            f"{', '.join(sorted(set(tables) - set(destination_tables))) or 'none'}; only in the destination: "
            f"{', '.join(sorted(set(destination_tables) - set(tables))) or 'none'}); are both at the same version?"
        )
    await _refuse_to_overwrite(destination, tables, replace=replace)

    copied: list[TableCopied] = []
    async with source._snapshot() as reading:
        for table in tables:
            columns = await source._column_names(reading, table)
            async with destination._session() as session:
                destination_columns = await destination._column_names(session, table)
            if sorted(columns) != sorted(destination_columns):
                raise CopyRefused(
                    f"table {table} has columns {', '.join(columns)} in the source but "
                    f"{', '.join(destination_columns)} in the destination"
                )
            names = ", ".join(quote_identifier(column) for column in columns)
            rows = await reading.fetch(f"SELECT {names} FROM {quote_identifier(table)}")
            try:
                async with destination._transaction() as writing:
                    if replace:
                        await writing.execute(f"DELETE FROM {quote_identifier(table)}")
                    await destination._insert_rows(writing, table, columns, rows)
                    arrived = await count_rows(writing, table)
                    if arrived != len(rows):
                        raise CopyFailed(
                            f"table {table}: read {len(rows)} rows from {source.display} but "
                            f"{destination.display} holds {arrived}; is something writing to it? "
                            "That table was rolled back"
                        )
            except (ValueError, StorageError) as exc:
                done = ", ".join(t.table for t in copied) or "none"
                raise CopyFailed(
                    f"{exc if isinstance(exc, CopyFailed) else f'table {table}: {exc}'}. "
                    f"Tables already copied: {done}; copy again with --force to replace them"
                ) from exc
            result = TableCopied(table, len(rows))
            log.info("Copied %s: %d rows", table, len(rows))
            copied.append(result)
            if on_table is not None:
                on_table(result)
    return copied


async def _refuse_to_overwrite(destination: SqlStore, tables: list[str], *, replace: bool) -> None:
    if replace:
        return
    async with destination._session() as session:
        held = [(table, await count_rows(session, table)) for table in tables]
    held = [(table, rows) for table, rows in held if rows]
    if held:
        counts = ", ".join(f"{table}: {rows} rows" for table, rows in held)
        raise CopyRefused(
            f"the destination {destination.display} already holds data ({counts}); "
            "copy into an empty database, or pass --force to replace what it holds"
        )
