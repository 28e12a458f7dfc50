"""Schema migrations: from empty, from an older version, refusing newer, rolling back failures."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.storage import SchemaTooNewError, SqliteStore, StorageError
from bot.storage.migrations import Migration, latest_version, load_migrations, shipped_migrations

T0 = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
GUILD, ALICE = 1001, 11


def user_version(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def table_names(path: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


def test_shipped_migrations_are_numbered_from_one_without_gaps() -> None:
    versions = [m.version for m in shipped_migrations()]
    assert versions == list(range(1, latest_version() + 1))
    assert latest_version() >= 2


@pytest.mark.asyncio
async def test_empty_database_is_migrated_to_the_latest_version(db_path: Path) -> None:
    async with SqliteStore(db_path) as store:
        await store.ping()
    assert user_version(db_path) == latest_version()
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
    } <= table_names(db_path)


@pytest.mark.asyncio
async def test_store_uses_wal_journal_and_enforces_foreign_keys(store: SqliteStore) -> None:
    # Reaching into the connection is the only way to see per-connection settings.
    db = store._db
    assert db is not None

    async def pragma(name: str) -> object:
        ((value,),) = await db.execute_fetchall(f"PRAGMA {name}")
        return value

    assert await pragma("journal_mode") == "wal"
    assert await pragma("foreign_keys") == 1
    assert await pragma("busy_timeout") == 200


@pytest.mark.asyncio
async def test_version_one_database_is_upgraded_and_keeps_its_data(db_path: Path) -> None:
    # What the first release of the bot left on disk.
    async with SqliteStore(db_path, migrations=shipped_migrations()[:1]) as old:
        await old.mark_done(GUILD, ALICE, "basics", T0)
    # Today's log_question writes columns version 1 did not have: the row is written as version 1 wrote it.
    with contextlib.closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute(
            "INSERT INTO questions (guild_id, user_id, question, top_topic_id, abstained, asked_at) "
            "VALUES (?, ?, ?, NULL, 1, ?)",
            (GUILD, ALICE, "what is a list?", T0.isoformat(timespec="microseconds")),
        )
    assert user_version(db_path) == 1
    assert "weekly_posts" not in table_names(db_path)

    async with SqliteStore(db_path) as store:
        assert await store.completed_topics(GUILD, ALICE) == {"basics": T0}
        assert len(await store.unanswered_questions(GUILD, 10)) == 1
        assert await store.claim_weekly_post(GUILD, "2024-W19", "p1", T0) is True
        (question,) = (await store.feedback_summary(GUILD, T0, 10)).questions
        assert (question.question, question.top_result_id, question.answer_key) == ("what is a list?", None, None)
    assert user_version(db_path) == latest_version()


@pytest.mark.asyncio
async def test_reopening_a_current_database_applies_nothing(db_path: Path) -> None:
    async with SqliteStore(db_path) as store:
        await store.mark_done(GUILD, ALICE, "basics", T0)
    # Re-running 0001 would fail on CREATE TABLE, so a clean reopen proves nothing reran.
    async with SqliteStore(db_path) as store:
        assert await store.completed_topics(GUILD, ALICE) == {"basics": T0}
    assert user_version(db_path) == latest_version()


@pytest.mark.asyncio
async def test_database_newer_than_the_code_is_refused_untouched(db_path: Path) -> None:
    async with SqliteStore(db_path):
        pass
    newer = latest_version() + 5
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        conn.execute(f"PRAGMA user_version = {newer}")

    with pytest.raises(SchemaTooNewError) as refused:
        await SqliteStore(db_path).open()
    message = str(refused.value)
    assert str(db_path) in message
    assert f"schema version {newer}" in message
    assert f"up to {latest_version()}" in message
    assert user_version(db_path) == newer

    # The refused open released the single-writer lock.
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        conn.execute(f"PRAGMA user_version = {latest_version()}")
    async with SqliteStore(db_path) as store:
        await store.ping()


@pytest.mark.asyncio
async def test_failing_migration_leaves_the_database_at_its_previous_version(
    db_path: Path,
) -> None:
    async with SqliteStore(db_path, migrations=shipped_migrations()[:1]) as old:
        await old.mark_done(GUILD, ALICE, "basics", T0)
    broken = Migration(
        latest_version() + 1,
        "broken",
        "CREATE TABLE half_done (x INTEGER);\nCREATE TABLE progress (duplicate INTEGER);",
    )

    with pytest.raises(StorageError, match="already exists"):
        await SqliteStore(db_path, migrations=(*shipped_migrations(), broken)).open()

    # All pending steps share one transaction: neither 0002 nor half of the broken one stuck.
    assert user_version(db_path) == 1
    tables = table_names(db_path)
    assert "half_done" not in tables
    assert "weekly_posts" not in tables
    async with SqliteStore(db_path, migrations=shipped_migrations()[:1]) as old:
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
