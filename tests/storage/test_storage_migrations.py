"""Schema migrations on both backends: from empty, from an older version, refusing newer, rolling back failures;
one sequence with a PostgreSQL twin for every step; several PostgreSQL stores starting at once migrate once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.storage import PostgresStore, SchemaTooNewError, SqliteStore, StorageError
from bot.storage.migrations import (
    Migration,
    latest_version,
    load_migrations,
    load_postgres_migrations,
    shipped_migrations,
    shipped_postgres_migrations,
)
from tests.store_backends import PostgresBackend, StoreBackend

T0 = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
GUILD, ALICE = 1001, 11
REPO = Path(__file__).resolve().parents[2]


def test_shipped_migrations_are_numbered_from_one_without_gaps() -> None:
    versions = [m.version for m in shipped_migrations()]
    assert versions == list(range(1, latest_version() + 1))
    assert latest_version() >= 2


def test_every_migration_has_a_postgresql_twin_with_the_same_number_and_name() -> None:
    sqlite_steps = [(m.version, m.name) for m in shipped_migrations()]
    assert [(m.version, m.name) for m in shipped_postgres_migrations()] == sqlite_steps


def test_a_step_without_its_postgresql_twin_is_named(tmp_path: Path) -> None:
    # What a branch adding 0006 for SQLite alone would meet on PostgreSQL.
    postgres_dir = tmp_path / "postgresql"
    postgres_dir.mkdir()
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE a (x INTEGER);")
    (postgres_dir / "0001_first.sql").write_text("CREATE TABLE a (x BIGINT);")
    (tmp_path / "0002_feedback.sql").write_text("CREATE TABLE b (x INTEGER);")
    with pytest.raises(ValueError, match=r"missing: 0002_feedback\.sql"):
        load_postgres_migrations(postgres_dir, load_migrations(tmp_path))


@pytest.mark.asyncio
async def test_empty_database_is_migrated_to_the_latest_version(store_backend: StoreBackend) -> None:
    async with store_backend.store() as store:
        await store.completed_topics(0, 0)
        assert store.migration is not None
        assert (store.migration.before, store.migration.after) == (0, latest_version())
        assert len(store.migration.applied) == latest_version()
    assert await store_backend.schema_version() == latest_version()
    assert {
        "progress",
        "activity_days",
        "questions",
        "ask_channels",
        "weekly_settings",
        "weekly_posts",
        "review_cards",
        "quiz_attempts",
        "review_reminders",
    } <= await store_backend.table_names()


@pytest.mark.asyncio
async def test_store_uses_wal_journal_and_enforces_foreign_keys(sqlite_store: SqliteStore) -> None:
    # Reaching into the connection is the only way to see per-connection settings.
    db = sqlite_store._db
    assert db is not None

    async def pragma(name: str) -> object:
        ((value,),) = await db.execute_fetchall(f"PRAGMA {name}")
        return value

    assert await pragma("journal_mode") == "wal"
    assert await pragma("foreign_keys") == 1
    assert await pragma("busy_timeout") == 200


@pytest.mark.asyncio
async def test_version_one_database_is_upgraded_and_keeps_its_data(store_backend: StoreBackend) -> None:
    # What the first release of the bot left on disk.
    async with store_backend.store(migrations=store_backend.migrations()[:1]) as old:
        await old.mark_done(GUILD, ALICE, "basics", T0)
    # Today's log_question writes columns version 1 did not have: the row is written as version 1 wrote it.
    await store_backend.execute(
        "INSERT INTO questions (guild_id, user_id, question, top_topic_id, abstained, asked_at) "
        f"VALUES ({GUILD}, {ALICE}, 'what is a list?', NULL, 1, '{T0.isoformat(timespec='microseconds')}')"
    )
    assert await store_backend.schema_version() == 1
    assert "weekly_posts" not in await store_backend.table_names()

    async with store_backend.store() as store:
        assert store.migration is not None and store.migration.before == 1
        assert await store.completed_topics(GUILD, ALICE) == {"basics": T0}
        assert len(await store.unanswered_questions(GUILD, 10)) == 1
        assert await store.claim_weekly_post(GUILD, "2024-W19", "p1", T0) is True
        # The first release's question ids carry on: a new question is not refused as a duplicate.
        await store.log_question(GUILD, ALICE, "and a tuple?", None, True, T0)
        questions = (await store.feedback_summary(GUILD, T0, 10)).questions
        assert {question.question for question in questions} == {"what is a list?", "and a tuple?"}
        assert {(question.top_result_id, question.answer_key) for question in questions} == {(None, None)}
    assert await store_backend.schema_version() == latest_version()


@pytest.mark.asyncio
async def test_reopening_a_current_database_applies_nothing(store_backend: StoreBackend) -> None:
    async with store_backend.store() as store:
        await store.mark_done(GUILD, ALICE, "basics", T0)
    # Re-running 0001 would fail on CREATE TABLE, so a clean reopen proves nothing reran.
    async with store_backend.store() as store:
        assert store.migration is not None and store.migration.applied == ()
        assert await store.completed_topics(GUILD, ALICE) == {"basics": T0}
    assert await store_backend.schema_version() == latest_version()


@pytest.mark.asyncio
async def test_database_newer_than_the_code_is_refused_untouched(store_backend: StoreBackend) -> None:
    async with store_backend.store():
        pass
    newer = latest_version() + 5
    await store_backend.set_schema_version(newer)

    with pytest.raises(SchemaTooNewError) as refused:
        await store_backend.store().open()
    message = str(refused.value)
    assert store_backend.url in message
    assert f"schema version {newer}" in message
    assert f"up to {latest_version()}" in message
    assert await store_backend.schema_version() == newer

    # The refused open released what it held (SQLite's writer lock, PostgreSQL's pool).
    await store_backend.set_schema_version(latest_version())
    async with store_backend.store() as store:
        await store.completed_topics(0, 0)


@pytest.mark.asyncio
async def test_failing_migration_leaves_the_database_at_its_previous_version(store_backend: StoreBackend) -> None:
    async with store_backend.store(migrations=store_backend.migrations()[:1]) as old:
        await old.mark_done(GUILD, ALICE, "basics", T0)
    broken = Migration(
        latest_version() + 1,
        "broken",
        "CREATE TABLE half_done (x INTEGER);\nCREATE TABLE progress (duplicate INTEGER);",
    )

    with pytest.raises(StorageError, match="already exists"):
        await store_backend.store(migrations=(*store_backend.migrations(), broken)).open()

    # All pending steps share one transaction: neither 0002 nor half of the broken one stuck.
    assert await store_backend.schema_version() == 1
    tables = await store_backend.table_names()
    assert "half_done" not in tables
    assert "weekly_posts" not in tables
    async with store_backend.store(migrations=store_backend.migrations()[:1]) as old:
        assert await old.completed_topics(GUILD, ALICE) == {"basics": T0}


def test_migration_files_with_a_gap_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE a (x);")
    (tmp_path / "0003_third.sql").write_text("CREATE TABLE c (x);")
    with pytest.raises(ValueError, match="without gaps"):
        load_migrations(tmp_path)


def test_misnamed_migration_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "1_first.sql").write_text("CREATE TABLE a (x);")
    with pytest.raises(ValueError, match=r"NNNN_lowercase_name\.sql"):
        load_migrations(tmp_path)


# PostgreSQL: several processes may start at once on one database.


@pytest.mark.asyncio
async def test_eight_postgresql_stores_opening_at_once_migrate_exactly_once(postgres_backend: PostgresBackend) -> None:
    # Each store has its own pool, so its own connection and session, as separate processes would.
    # A slow first step widens the window in which the others would otherwise start migrating too.
    slow_first = Migration(1, "initial", "SELECT pg_sleep(0.3);\n" + shipped_postgres_migrations()[0].sql)
    migrations = (slow_first, *shipped_postgres_migrations()[1:])
    stores = [PostgresStore(postgres_backend.url, migrations=migrations) for _ in range(8)]
    try:
        await asyncio.gather(*(store.open() for store in stores))
        results = [store.migration for store in stores]
    finally:
        await asyncio.gather(*(store.close() for store in stores))

    assert all(result is not None and result.after == latest_version() for result in results)
    migrated = [result for result in results if result is not None and result.applied]
    assert len(migrated) == 1, results
    assert migrated[0].applied == tuple(f"{m.version:04d}_{m.name}" for m in migrations)
    assert await postgres_backend.fetch("SELECT version FROM schema_migrations ORDER BY version") == [
        (v,) for v in range(1, latest_version() + 1)
    ]


def test_three_migrate_commands_started_at_once_on_postgresql_all_succeed_and_migrate_once(
    postgres_backend: PostgresBackend, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  url: {postgres_backend.url}\n")
    command = [sys.executable, "-m", "bot", "db", "migrate", "--config", str(config)]
    children = [
        subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)
    ]
    outputs = [child.communicate(timeout=120) for child in children]

    assert [child.returncode for child in children] == [0, 0, 0], outputs
    reports = sorted(stdout.strip() for stdout, _ in outputs)
    assert sum("from schema version 0 to" in report for report in reports) == 1, reports
    assert sum("already at schema version" in report for report in reports) == 2, reports
    assert asyncio.run(postgres_backend.schema_version()) == latest_version()
