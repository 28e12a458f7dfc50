"""Store operations per second, SQLite beside PostgreSQL: the calls a busy server makes most, 16 at a time.

Each backend gets a fresh database (a SQLite file; a throw-away PostgreSQL server as the tests start it,
fsync off on both sides' defaults aside) and the same operations in the same order: marking topics done
(a new row each), reading a member's finished topics, logging a question, the weekly claim (one row per
guild and week, most calls losing to the first) and a read of the ask channels. PostgreSQL is skipped
when its server binaries are not installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.measure import JSON, Workspace
from bot.storage import PostgresStore, SqliteStore, SqlStore

log = logging.getLogger(__name__)

CONCURRENCY = 16
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def _rate(count: int, operation: Callable[[int], Awaitable[object]]) -> float:
    """Operations per second of `count` calls of `operation(i)`, at most `CONCURRENCY` in flight."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> None:
        async with gate:
            await operation(i)

    began = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    return round(count / (time.perf_counter() - began), 1)


async def measure(store: SqlStore, count: int) -> JSON:
    members = 200
    return {
        "mark_done": await _rate(count, lambda i: store.mark_done(1, i % members, f"topic-{i}", T0)),
        "completed_topics": await _rate(count, lambda i: store.completed_topics(1, i % members)),
        "log_question": await _rate(count, lambda i: store.log_question(1, i % members, f"q{i}", "adam", True, T0)),
        "claim_weekly_post": await _rate(count, lambda i: store.claim_weekly_post(i % 50, "2026-W02", "p1", T0)),
        "get_ask_channels": await _rate(count, lambda i: store.get_ask_channels(i % 50)),
    }


async def _both(count: int, scratch: Path) -> JSON:
    results: JSON = {"concurrency": CONCURRENCY, "operations_each": count}
    async with SqliteStore(scratch / "ops.sqlite3") as sqlite:
        results["sqlite_ops_per_second"] = await measure(sqlite, count)
    from tests.store_backends import PostgresUnavailable, running_postgres_server

    try:
        with running_postgres_server() as server, server.fresh_database() as database:
            async with PostgresStore(server.url(database)) as postgres:
                results["postgresql_ops_per_second"] = await measure(postgres, count)
    except PostgresUnavailable as exc:
        results["postgresql_ops_per_second"] = {"skipped": str(exc)}
    return results


def run(_workspace: Workspace, quick: bool) -> JSON:
    with tempfile.TemporaryDirectory(prefix="roadmap-tutor-store-ops-") as scratch:
        return asyncio.run(_both(500 if quick else 5000, Path(scratch)))


if __name__ == "__main__":
    import json
    import sys

    with contextlib.suppress(BrokenPipeError):
        json.dump(run(None, "--quick" in sys.argv), sys.stdout, indent=2)  # type: ignore[arg-type]
        sys.stdout.write("\n")
