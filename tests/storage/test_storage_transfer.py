"""Copying a community's data between stores (`roadmap-tutor db copy`): SQLite to PostgreSQL and back unchanged,
a non-empty destination refused unless replaced, row counts checked per table, ids kept and continued."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage import SqliteStore, SqlStore
from bot.storage.base import QuizAttempt, ReviewCard, WeeklyProblem, WeeklySettings
from bot.storage.transfer import CopyFailed, CopyRefused, TableCopied, check_source_exists, copy_store
from tests.store_backends import PostgresBackend, SqliteBackend

T0 = datetime(2024, 5, 6, 12, 0, 0, 123456, tzinfo=UTC)  # microseconds survive both ways
GUILD, OTHER_GUILD = 1001, 2002
ALICE, BOB = 11, 22
# Discord ids are 64-bit: a 32-bit column would refuse them.
BIG_CHANNEL, BIG_MESSAGE = 1_234_567_890_123_456_789, 9_123_456_789_012_345_678 // 2

ALL_TABLES = [
    "activity_days",
    "ask_channels",
    "followed_roadmaps",
    "job_claims",
    "progress",
    "questions",
    "quiz_attempts",
    "review_cards",
    "review_reminders",
    "weekly_posts",
    "weekly_problems",
    "weekly_settings",
]


async def fill(store: SqlStore) -> None:
    """A little of everything a community leaves behind, in every table."""
    for guild in (GUILD, OTHER_GUILD):
        for user in (ALICE, BOB):
            await store.mark_done(guild, user, f"topic-{user}", T0)
            await store.record_activity(guild, user, T0.date())
            await store.record_activity(guild, user, date(2024, 5, 7))
            await store.log_question(guild, user, f"question from {user}", None, True, T0)
            later = T0 + timedelta(hours=1)
            await store.log_question(guild, user, "what is 'dropout'?", "regularization", False, later)
            await store.follow_roadmap(guild, user, "intermediate", T0)
            card = ReviewCard(f"topic-{user}", 2, None, 2.306515, 5.3186, T0 + timedelta(days=2), T0, 1, 0)
            right, wrong = (QuizAttempt(f"topic-{user}", key, 1, ok, T0) for key, ok in (("ab", True), ("ba", False)))
            await store.record_quiz_answer(guild, user, right, card)
            await store.record_quiz_answer(guild, user, wrong, None)
            await store.save_reminder(guild, user, 18, "Europe/Berlin", BIG_CHANNEL)
        await store.set_ask_channel(guild, BIG_CHANNEL, True)
    await store.claim_reminder_day(GUILD, ALICE, date(2024, 5, 6))
    await store.pause_reminders(GUILD, BOB, T0)
    await store.save_weekly_settings(
        GUILD, WeeklySettings(BIG_CHANNEL, 0, "18:00", "Europe/Berlin", True, roadmap_id="intermediate")
    )
    await store.save_weekly_settings(OTHER_GUILD, WeeklySettings(None, 3, "09:30", "UTC", False))
    await store.claim_weekly_post(GUILD, "2024-W19", "p1", T0)
    await store.claim_daily_job("retention purge", T0.date(), T0)
    await store.record_weekly_message(GUILD, "2024-W19", BIG_CHANNEL, BIG_MESSAGE, None)
    await store.claim_weekly_post(GUILD, "2024-W20", "p2", T0 + timedelta(weeks=1))
    problem = WeeklyProblem("Missing Permissions (50013)", T0, T0 + timedelta(hours=1))
    await store.save_weekly_problem(OTHER_GUILD, problem)


async def everything(store: SqlStore) -> dict[str, object]:
    """What the bot can read back: every member's export and every guild-level answer."""
    seen: dict[str, object] = {}
    for guild in (GUILD, OTHER_GUILD):
        for user in (ALICE, BOB):
            seen[f"export {guild} {user}"] = await store.export_member(guild, user)
        seen[f"channels {guild}"] = await store.get_ask_channels(guild)
        seen[f"weekly {guild}"] = await store.get_weekly_settings(guild)
        seen[f"posts {guild}"] = await store.last_weekly_posts(guild, 10)
        seen[f"stats {guild}"] = await store.question_stats(guild, T0 - timedelta(days=1))
        seen[f"quiz {guild}"] = await store.quiz_stats(guild, T0 - timedelta(days=1))
    seen["problems"] = await store.weekly_problems()
    seen["reminders"] = await store.active_reminders()
    seen["enabled"] = await store.guilds_with_weekly_enabled()
    return seen


async def raw_sqlite_rows(backend: SqliteBackend) -> dict[str, list[tuple[object, ...]]]:
    return {table: sorted(await backend.fetch(f"SELECT * FROM {table}"), key=repr) for table in ALL_TABLES}


@pytest.mark.asyncio
async def test_sqlite_to_postgresql_and_back_keeps_every_row_byte_for_byte(
    tmp_path: Path, postgres_backend: PostgresBackend
) -> None:
    original = SqliteBackend(tmp_path / "original.db")
    returned = SqliteBackend(tmp_path / "returned.db")
    async with original.store() as store:
        await fill(store)
        before = await everything(store)

    async with original.store() as source, postgres_backend.store() as middle:
        reported: list[TableCopied] = []
        copied = await copy_store(source, middle, on_table=reported.append)
        assert copied == reported
        assert [t.table for t in copied] == ALL_TABLES
        assert {t.table: t.rows for t in copied}["quiz_attempts"] == 8
        assert await everything(middle) == before
    for table in copied:
        assert await postgres_backend.count_rows(table.table) == table.rows

    async with postgres_backend.store() as source, returned.store() as destination:
        back = await copy_store(source, destination)
        assert back == copied
        assert await everything(destination) == before
    assert await raw_sqlite_rows(returned) == await raw_sqlite_rows(original)


@pytest.mark.asyncio
async def test_copied_ids_are_kept_and_new_rows_continue_after_them(
    tmp_path: Path, postgres_backend: PostgresBackend
) -> None:
    source_backend = SqliteBackend(tmp_path / "source.db")
    async with source_backend.store() as store:
        for i in range(5):
            await store.log_question(GUILD, ALICE, f"q{i}", None, True, T0)
        await store.purge_questions(T0)  # nothing older; ids 1..5 stay
    async with source_backend.store() as source, postgres_backend.store() as destination:
        await copy_store(source, destination)
        # A new question after the copy takes the next id rather than colliding with a copied one.
        await destination.log_question(GUILD, ALICE, "after the copy", None, True, T0)
        await destination.record_quiz_answer(GUILD, ALICE, QuizAttempt("t", "k", 0, True, T0), None)
    assert await postgres_backend.fetch("SELECT id, question FROM questions ORDER BY id") == [
        *[(i + 1, f"q{i}") for i in range(5)],
        (6, "after the copy"),
    ]


@pytest.mark.asyncio
async def test_a_destination_holding_data_is_refused_untouched_unless_replaced(
    tmp_path: Path, postgres_backend: PostgresBackend
) -> None:
    source_backend = SqliteBackend(tmp_path / "source.db")
    async with source_backend.store() as store:
        await fill(store)
    async with postgres_backend.store() as destination:
        await destination.mark_done(GUILD, ALICE, "only-in-the-destination", T0)
        await destination.log_question(GUILD, BOB, "only in the destination", None, True, T0)

    async with source_backend.store() as source, postgres_backend.store() as destination:
        with pytest.raises(CopyRefused) as refused:
            await copy_store(source, destination)
        message = str(refused.value)
        assert f"the destination {destination.display} already holds data" in message
        assert "progress: 1 rows, questions: 1 rows" in message
        assert "--force" in message
        assert await destination.completed_topics(GUILD, ALICE) == {"only-in-the-destination": T0}

        await copy_store(source, destination, replace=True)
        assert "only-in-the-destination" not in await destination.completed_topics(GUILD, ALICE)
    async with source_backend.store() as source, postgres_backend.store() as destination:
        assert await everything(destination) == await everything(source)


@pytest.mark.asyncio
async def test_a_table_whose_rows_do_not_all_arrive_is_rolled_back_and_named(
    tmp_path: Path, postgres_backend: PostgresBackend
) -> None:
    source_backend = SqliteBackend(tmp_path / "source.db")
    async with source_backend.store() as store:
        await fill(store)
    async with postgres_backend.store():
        pass  # the schema, so the trigger has a table to sit on
    # Something else writing to the destination during the copy: every insert into questions brings a stranger.
    postgres_backend.server.execute(
        "CREATE FUNCTION stranger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF pg_trigger_depth() = 1 THEN INSERT INTO questions (id, guild_id, user_id, question, abstained, asked_at) "
        "VALUES (1000000, 1, 1, 'stranger', 1, now()); END IF; RETURN NULL; END $$",
        "CREATE TRIGGER stranger AFTER INSERT ON questions FOR EACH STATEMENT EXECUTE FUNCTION stranger()",
        database=postgres_backend.database,
    )

    async with source_backend.store() as source, postgres_backend.store() as destination:
        with pytest.raises(CopyFailed) as failed:
            await copy_store(source, destination)
    message = str(failed.value)
    assert "table questions: read 8 rows" in message and "holds 9" in message
    assert "Tables already copied: activity_days, ask_channels, followed_roadmaps, job_claims, progress" in message
    assert await postgres_backend.count_rows("questions") == 0  # rolled back, stranger and all
    assert await postgres_backend.count_rows("progress") == 4  # the tables before it stay


@pytest.mark.asyncio
async def test_a_missing_sqlite_source_is_refused_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    with pytest.raises(CopyRefused, match=f"the source database {missing} does not exist"):
        check_source_exists(SqliteStore(missing))
    assert not missing.exists()


@pytest.mark.asyncio
async def test_copying_a_database_onto_itself_is_refused(postgres_backend: PostgresBackend) -> None:
    async with postgres_backend.store() as one, postgres_backend.store() as same:
        with pytest.raises(CopyRefused, match="the source and the destination are the same database"):
            await copy_store(one, same, replace=True)
