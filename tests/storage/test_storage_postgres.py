"""How the PostgreSQL store fails and recovers, on a real server: a lock held too long, a connection terminated
mid-call, the server stopped and started again, a read-only database; and what it keeps the same as SQLite
whatever the database's locale."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest
import pytest_asyncio

from bot.storage import PostgresStore, StorageBusy, StorageError, StorageUnavailable
from bot.storage.base import QuizAttempt
from bot.storage.postgres import APPLICATION_NAME, to_postgres_placeholders, translate_postgres_error
from tests.store_backends import PostgresBackend, PostgresServer

T0 = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
GUILD, ALICE, BOB = 1001, 11, 22


@pytest_asyncio.fixture
async def pg_store(postgres_backend: PostgresBackend) -> AsyncIterator[PostgresStore]:
    store = postgres_backend.store(busy_timeout=0.3)
    assert isinstance(store, PostgresStore)
    async with store:
        yield store


@pytest_asyncio.fixture
async def other_connection(postgres_backend: PostgresBackend) -> AsyncIterator[asyncpg.Connection]:
    """A connection that is not the store's: a maintenance script, psql, another program."""
    connection = await asyncpg.connect(postgres_backend.url)
    try:
        yield connection
    finally:
        await connection.close()


async def store_backend_pids(connection: asyncpg.Connection, *, waiting_on_a_lock: bool = False) -> list[int]:
    condition = " AND wait_event_type = 'Lock'" if waiting_on_a_lock else ""
    rows = await connection.fetch(
        f"SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database(){condition}",
        APPLICATION_NAME,
    )
    return [row["pid"] for row in rows]


async def wait_for_a_store_call_waiting_on_a_lock(connection: asyncpg.Connection) -> int:
    for _ in range(200):
        pids = await store_backend_pids(connection, waiting_on_a_lock=True)
        if pids:
            return pids[0]
        await asyncio.sleep(0.01)
    raise AssertionError("the store's call never waited on the lock")


# Busy: a lock held by another connection


@pytest.mark.asyncio
async def test_write_blocked_by_another_connections_lock_raises_busy_then_recovers(
    pg_store: PostgresStore, other_connection: asyncpg.Connection
) -> None:
    await pg_store.mark_done(GUILD, ALICE, "basics", T0)
    holding = other_connection.transaction()
    await holding.start()
    await other_connection.execute("LOCK TABLE progress IN EXCLUSIVE MODE")  # writers wait, readers do not
    try:
        with pytest.raises(StorageBusy) as busy:
            await pg_store.mark_done(GUILD, ALICE, "loops", T0)
        assert "lock stayed held by another connection" in str(busy.value)
        assert "try again" in busy.value.user_message
        with pytest.raises(StorageBusy):
            await pg_store.forget_member(GUILD, ALICE)
        # Reads are not blocked by a writer's lock.
        assert await pg_store.completed_topics(GUILD, ALICE) == {"basics": T0}
    finally:
        await holding.rollback()

    # Busy is transient: nothing was left half done, so the next writes go through.
    assert await pg_store.mark_done(GUILD, ALICE, "loops", T0) is True
    assert await pg_store.forget_member(GUILD, ALICE) == 2


# A lost connection


@pytest.mark.asyncio
async def test_a_connection_terminated_mid_call_apologises_as_a_locked_sqlite_file_and_the_next_call_reconnects(
    pg_store: PostgresStore, other_connection: asyncpg.Connection
) -> None:
    await pg_store.mark_done(GUILD, ALICE, "basics", T0)
    # Hold the call on the server (waiting for a lock), then kill the backend serving it.
    holding = other_connection.transaction()
    await holding.start()
    await other_connection.execute("LOCK TABLE progress IN EXCLUSIVE MODE")
    # With a password in the URL (trust authentication ignores it): the error must not repeat it.
    slow_store = PostgresStore(pg_store._dsn.replace("postgres@", "postgres:s3cret@"), busy_timeout=30)
    await slow_store.open()
    try:
        call = asyncio.create_task(slow_store.mark_done(GUILD, ALICE, "loops", T0))
        pid = await wait_for_a_store_call_waiting_on_a_lock(other_connection)
        assert await other_connection.fetchval("SELECT pg_terminate_backend($1)", pid)
        with pytest.raises(StorageBusy) as lost:
            await call
        await holding.rollback()

        assert "lost the connection to PostgreSQL" in str(lost.value)
        assert "s3cret" not in str(lost.value)
        # The same apology the bot gives for a locked SQLite file.
        assert lost.value.user_message == StorageBusy("a locked SQLite file").user_message
        # No restart, no reopen: the pool connects again.
        assert await slow_store.mark_done(GUILD, ALICE, "loops", T0) is True
        assert set(await slow_store.completed_topics(GUILD, ALICE)) == {"basics", "loops"}
    finally:
        await slow_store.close()


@pytest.mark.asyncio
async def test_idle_connections_terminated_by_an_operator_are_replaced_without_an_error(
    pg_store: PostgresStore, other_connection: asyncpg.Connection
) -> None:
    await asyncio.gather(*(pg_store.mark_done(GUILD, ALICE, f"topic-{i}", T0) for i in range(5)))
    pids = await store_backend_pids(other_connection)
    assert pids
    for pid in pids:
        await other_connection.fetchval("SELECT pg_terminate_backend($1)", pid)
    await asyncio.sleep(0.2)  # the server's goodbye reaches the pooled connections

    assert len(await pg_store.completed_topics(GUILD, ALICE)) == 5
    assert not set(await store_backend_pids(other_connection)) & set(pids)


@pytest.mark.asyncio
async def test_a_stopped_server_is_unavailable_and_the_same_store_serves_again_once_it_is_back(
    postgres_server: PostgresServer, pg_store: PostgresStore
) -> None:
    await pg_store.mark_done(GUILD, ALICE, "basics", T0)
    try:
        await asyncio.to_thread(postgres_server.stop)  # pg_ctl stop -m fast: every backend terminated
        await asyncio.sleep(0.2)
        with pytest.raises(StorageUnavailable) as down:
            await pg_store.completed_topics(GUILD, ALICE)
        assert f"cannot reach PostgreSQL at {pg_store.display}" in str(down.value)
        assert "I can still answer questions" in down.value.user_message
        with pytest.raises(StorageUnavailable):
            await pg_store.mark_done(GUILD, ALICE, "loops", T0)
    finally:
        if not postgres_server.running:
            await asyncio.to_thread(postgres_server.start)

    assert await pg_store.completed_topics(GUILD, ALICE) == {"basics": T0}
    assert await pg_store.mark_done(GUILD, ALICE, "loops", T0) is True


# Read-only


@pytest.mark.asyncio
async def test_a_read_only_database_opens_serves_reads_and_refuses_writes(postgres_backend: PostgresBackend) -> None:
    async with postgres_backend.store() as store:
        await store.mark_done(GUILD, ALICE, "basics", T0)
    # What a hot standby, or an operator freezing the database, looks like to the bot.
    database = postgres_backend.database
    postgres_backend.server.execute(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')

    async with postgres_backend.store() as store:
        await store.completed_topics(0, 0)
        assert await store.completed_topics(GUILD, ALICE) == {"basics": T0}
        with pytest.raises(StorageUnavailable, match="read-only") as refused:
            await store.mark_done(GUILD, ALICE, "loops", T0)
        assert postgres_backend.url in str(refused.value)
        with pytest.raises(StorageUnavailable, match="read-only"):
            await store.record_quiz_answer(GUILD, ALICE, QuizAttempt("basics", "k", 0, True, T0), None)
        assert await store.completed_topics(GUILD, ALICE) == {"basics": T0}


# The same answers as SQLite whatever the database's locale


@pytest.fixture
def human_sorted_backend(postgres_server: PostgresServer) -> Iterator[PostgresBackend]:
    # An ICU database sorts "a" < "B" < "b"; SQLite sorts bytes: "B" < "a" < "b".
    with postgres_server.fresh_database(icu_locale="en-US") as database:
        yield PostgresBackend(postgres_server, database)


@pytest.mark.asyncio
async def test_ids_sort_byte_by_byte_as_in_sqlite_in_a_database_with_a_human_locale(
    human_sorted_backend: PostgresBackend,
) -> None:
    topics = ["b", "B", "a", "topic-b", "topicA"]
    async with human_sorted_backend.store() as store:
        for topic in topics:
            await store.mark_done(GUILD, ALICE, topic, T0)
            await store.log_question(GUILD, ALICE, "q", topic, False, T0)
            await store.record_quiz_answer(GUILD, ALICE, QuizAttempt(topic, "k", 0, True, T0), None)
        for week, prompt in enumerate(["p-b", "p-B", "p-a"]):
            await store.claim_weekly_post(GUILD, f"2024-W{10 + week}", prompt, T0)

        byte_order = sorted(topics)
        assert byte_order == ["B", "a", "b", "topic-b", "topicA"]
        assert list(await store.completed_topics(GUILD, ALICE)) == byte_order
        assert [topic for topic, _ in (await store.question_stats(GUILD, T0)).top_topics] == byte_order
        assert [stats.topic_id for stats in await store.quiz_stats(GUILD, T0)] == byte_order
        assert await store.used_prompt_ids(GUILD) == ["p-B", "p-a", "p-b"]


# Translation


def test_placeholders_are_numbered_and_question_marks_in_literals_are_left_alone() -> None:
    assert (
        to_postgres_placeholders("SELECT '?', 'it''s ?' FROM t WHERE a = ? AND b IN (?, ?)")
        == "SELECT '?', 'it''s ?' FROM t WHERE a = $1 AND b IN ($2, $3)"
    )


@pytest.mark.asyncio
async def test_unexpected_postgresql_errors_become_the_base_storage_error(
    pg_store: PostgresStore, other_connection: asyncpg.Connection
) -> None:
    with pytest.raises(asyncpg.PostgresError) as raw:
        await other_connection.execute("SELEKT 1")
    error = translate_postgres_error(raw.value, pg_store.display)
    assert type(error) is StorageError
    assert "42601" in str(error) and pg_store.display in str(error)
    assert error.user_message


@pytest.mark.asyncio
async def test_purges_and_stats_agree_on_times_stored_as_timestamptz(pg_store: PostgresStore) -> None:
    # timestamptz compares instants, so a time given in another zone is the same moment.
    berlin = datetime(2024, 5, 6, 14, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin"))
    await pg_store.log_question(GUILD, ALICE, "old", None, True, T0 - timedelta(days=91))
    await pg_store.log_question(GUILD, ALICE, "new", None, True, berlin)
    assert await pg_store.purge_questions(T0 - timedelta(days=90)) == 1
    [kept] = await pg_store.unanswered_questions(GUILD, 10)
    assert (kept.question, kept.at) == ("new", T0 + timedelta(hours=2))
