"""What several bot processes on one database rely on: daily claims, the rebuild lock, and hearing each other."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.storage import PostgresStore
from bot.weekly.service import WeeklyService
from tests.store_backends import PostgresBackend, StoreBackend

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def test_a_day_of_a_job_is_claimed_once_by_racing_stores(store_backend: StoreBackend) -> None:
    stores = [store_backend.store(busy_timeout=5.0) for _ in range(2 if store_backend.name == "postgresql" else 1)]
    for store in stores:
        await store.open()
    try:
        claims = [store.claim_daily_job("retention purge", T0.date(), T0) for store in stores for _ in range(20)]
        assert sum(await asyncio.gather(*claims)) == 1
        assert await stores[0].claim_daily_job("retention purge", (T0 + timedelta(days=1)).date(), T0)
        assert await stores[0].claim_daily_job("another job", T0.date(), T0)
    finally:
        for store in stores:
            await store.close()
    assert await store_backend.count_rows("job_claims") == 3


async def test_only_one_process_holds_the_rebuild_lock_at_a_time(postgres_backend: PostgresBackend) -> None:
    async with postgres_backend.store() as first, postgres_backend.store() as second:
        async with first.exclusive("reindex") as held:
            assert held
            async with second.exclusive("reindex") as also:
                assert not also
            async with second.exclusive("something else") as other:
                assert other
        async with second.exclusive("reindex") as now_free:  # released when the block ended
            assert now_free


async def test_the_rebuild_lock_is_released_when_its_block_fails(postgres_backend: PostgresBackend) -> None:
    async with postgres_backend.store() as first, postgres_backend.store() as second:
        try:
            async with first.exclusive("reindex"):
                raise OSError("the build failed")  # the block's own error, not translated into a storage error
        except OSError as exc:
            assert str(exc) == "the build failed"
        async with second.exclusive("reindex") as held:
            assert held


async def test_an_announcement_reaches_the_other_processes_but_not_its_own(postgres_backend: PostgresBackend) -> None:
    stores = [PostgresStore(postgres_backend.url) for _ in range(3)]
    heard: list[list[tuple[str, dict[str, object]]]] = [[], [], []]
    for store, inbox in zip(stores, heard, strict=True):
        await store.open()

        async def handler(kind: str, fields: dict[str, object], inbox: list = inbox) -> None:
            inbox.append((kind, fields))

        await store.listen(handler)
    try:
        await asyncio.wait_for(asyncio.gather(*(s.listening.wait() for s in stores)), 10)
        await stores[0].announce("member", guild=7, user=8)
        for _ in range(100):
            if heard[1] and heard[2]:
                break
            await asyncio.sleep(0.05)
        assert heard[1] == heard[2] == [("member", {"guild": 7, "user": 8})]
        assert heard[0] == []
    finally:
        for store in stores:
            await store.close()


async def test_a_lost_listening_connection_comes_back_and_says_resync(
    postgres_backend: PostgresBackend, monkeypatch
) -> None:
    monkeypatch.setattr("bot.storage.postgres._LISTEN_RETRY", 0.1)
    async with postgres_backend.store() as listener, postgres_backend.store() as speaker:
        heard: list[str] = []

        async def handler(kind: str, fields: dict[str, object]) -> None:
            heard.append(kind)

        await listener.listen(handler)
        await asyncio.wait_for(listener.listening.wait(), 10)
        await postgres_backend.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
        )
        for _ in range(100):
            if "resync" in heard:
                break
            await asyncio.sleep(0.05)
        assert heard == ["resync"]
        await asyncio.wait_for(listener.listening.wait(), 10)
        await speaker.announce("taught")
        for _ in range(100):
            if "taught" in heard:
                break
            await asyncio.sleep(0.05)
        assert heard == ["resync", "taught"]


async def test_weekly_claims_from_two_processes_due_at_once_post_each_week_once(
    postgres_backend: PostgresBackend, shipped_kb
) -> None:
    from bot.storage.base import WeeklySettings

    guilds = [101 << 22, 102 << 22, 103 << 22]
    async with postgres_backend.store(busy_timeout=5.0) as first, postgres_backend.store(busy_timeout=5.0) as second:
        for guild in guilds:
            await first.save_weekly_settings(guild, WeeklySettings(1, 0, "09:00", "UTC", enabled=True))
        clock = lambda: T0 + timedelta(seconds=30)  # noqa: E731
        services = [WeeklyService(store, lambda: shipped_kb, clock) for store in (first, second)]
        # Neither filters by shard here: the claim alone must decide.
        plans = await asyncio.gather(*(service.due_posts() for service in services for _ in range(3)))
    claimed = sorted(plan.guild_id for batch in plans for plan in batch)
    assert claimed == guilds
