"""`roadmap-tutor db`: bring the configured database to the current schema, or copy one database into another.

Both print what they did on stdout; a storage problem (unreachable server, a refused copy, a
database newer than the code) is one line on stderr and exit status 2, like the other commands'
errors. The storage package is imported here rather than by the command line, so `ask` does not
load database drivers it never uses.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, TextIO

from bot.config import Settings
from bot.storage import StorageError, open_store
from bot.storage.transfer import TableCopied, check_source_exists, copy_store

__all__ = ["run_copy_command", "run_migrate_command"]


def _run(command: Coroutine[Any, Any, int]) -> int:
    try:
        return asyncio.run(command)
    except StorageError as exc:
        print(f"roadmap-tutor: {exc}", file=sys.stderr)
        return 2


def run_migrate_command(settings: Settings, out: TextIO | None = None) -> int:
    """Open the configured store, which applies any pending migrations, and say what was done."""
    return _run(_migrate(settings, out or sys.stdout))


async def _migrate(settings: Settings, out: TextIO) -> int:
    if settings.storage.url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    async with open_store(settings.store_url, pool_size=settings.storage.pool_size) as store:
        result = store.migration
    assert result is not None  # set by every successful open
    if result.applied:
        print(
            f"Migrated {store.display} from schema version {result.before} to {result.after} "
            f"({', '.join(result.applied)}).",
            file=out,
        )
    else:
        print(f"{store.display} is already at schema version {result.after}; nothing to do.", file=out)
    return 0


def run_copy_command(source: str, destination: str, *, force: bool, out: TextIO | None = None) -> int:
    """Copy every table from `source` to `destination` (paths or URLs); refuse to overwrite unless `force`."""
    return _run(_copy(source, destination, force, out or sys.stdout))


async def _copy(source_url: str, destination_url: str, force: bool, out: TextIO) -> int:
    source = open_store(source_url)
    check_source_exists(source)
    destination = open_store(destination_url)
    async with source, destination:

        def report(table: TableCopied) -> None:
            print(f"  {table.table}: {table.rows} rows", file=out, flush=True)

        print(f"Copying {source.display} to {destination.display}:", file=out, flush=True)
        copied = await copy_store(source, destination, replace=force, on_table=report)
    total = sum(table.rows for table in copied)
    print(f"Copied {total} rows in {len(copied)} tables; every table's row count matches the source.", file=out)
    return 0
