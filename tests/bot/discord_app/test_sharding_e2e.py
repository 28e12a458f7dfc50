"""Two bots on two shards of one bot user, each with its own PostgreSQL pool on one database, against the stand-in.

Each bot here is what one process of a sharded deployment runs (its own store, listening connection,
caches and loops); benchmarks/soak.py runs them as real processes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from discord.ext import commands

from bot.answering import Answerer
from bot.config import Settings
from bot.discord_app.client import TutorBot
from bot.storage import PostgresStore
from bot.storage.base import WeeklySettings
from bot.tutor import Member
from indexer.encoders import Encoder
from indexer.search import SearchIndex
from knowledge.loader import KnowledgeBase
from standin import DiscordStandin, Perm
from standin.gateway import Session
from standin.state import Channel, Guild
from tests.bot.discord_app.conftest import MANAGE_GUILD, NOTE, NOTE_QUESTION, NOTE_TITLE, SimClock, connected_bot
from tests.store_backends import PostgresBackend

pytestmark = [pytest.mark.model]

SHARDS = 2
# A guild's shard is (guild_id >> 22) % shard_count: these land on shard 0 and shard 1.
GUILD_ON_SHARD = {0: 5000 << 22, 1: 5001 << 22}
# A Monday 09:00:30 UTC: the weekly post set for Monday 09:00 UTC is due.
MONDAY_NINE = datetime(2026, 1, 5, 9, 0, 30, tzinfo=UTC)


@pytest.fixture
async def sharded_standin() -> AsyncIterator[DiscordStandin]:
    async with DiscordStandin(shard_count=SHARDS) as server:
        yield server


class Shard:
    """One guild on each shard, with a channel, a learner and an admin."""

    def __init__(self, standin: DiscordStandin, shard: int) -> None:
        self.guild: Guild = standin.add_guild(f"Guild on shard {shard}", guild_id=GUILD_ON_SHARD[shard])
        self.channel: Channel = standin.add_channel(self.guild.id, "general")
        self.learner = standin.add_member(self.guild.id, f"learner{shard}")
        self.admin = standin.add_member(self.guild.id, f"admin{shard}", permissions=MANAGE_GUILD | Perm.SENDING)


@contextlib.asynccontextmanager
async def shard_bot(
    standin: DiscordStandin,
    url: str,
    data_dir: Path,
    shard: int,
    answerer: Answerer,
    guild_ids: list[int],
    clock: Callable[[], datetime] | None = None,
    clock_tick: float = 30.0,
    config: dict[str, Any] | None = None,
) -> AsyncIterator[TutorBot]:
    """What one process runs: shard `shard` of `SHARDS`, on a PostgreSQL store of its own."""
    settings = Settings.model_validate(
        {
            "data_dir": str(data_dir),
            **(config or {}),
            "storage": {"url": url},
            "discord": {"guild_ids": guild_ids, "shard_count": SHARDS, "shard_ids": [shard]},
        }
    )
    store = PostgresStore(url)
    await store.open()
    try:
        async with connected_bot(standin, settings, store, answerer, clock, clock_tick) as bot:
            await asyncio.wait_for(store.listening.wait(), 10)
            yield bot
    finally:
        await store.close()


def session_of(standin: DiscordStandin, event: str, find: Callable[[dict[str, Any]], bool]) -> list[Session]:
    """The gateway sessions that were sent `event` with data matching `find`."""
    return [
        s
        for s in standin.gateway.sessions.values()
        if any(d.event == event and isinstance(d.data, dict) and find(d.data) for d in s.buffer)
    ]


async def test_each_guild_is_served_by_its_own_shard_and_direct_messages_by_shard_0(
    sharded_standin: DiscordStandin, postgres_backend: PostgresBackend, tmp_path: Path, real_answerer: Answerer
) -> None:
    standin = sharded_standin
    shards = [Shard(standin, 0), Shard(standin, 1)]
    guilds = [s.guild.id for s in shards]
    async with (
        shard_bot(standin, postgres_backend.url, tmp_path, 0, real_answerer, guilds) as first,
        shard_bot(standin, postgres_backend.url, tmp_path, 1, real_answerer, guilds) as second,
    ):
        assert isinstance(first, commands.AutoShardedBot) and first.shard_ids == [0] and first.shard_count == SHARDS
        assert [g.id for g in first.guilds] == [guilds[0]] and [g.id for g in second.guilds] == [guilds[1]]
        assert first.owns_guild(guilds[0]) and not first.owns_guild(guilds[1]) and first.owns_guild(None)
        assert second.owns_guild(guilds[1]) and not second.owns_guild(guilds[0]) and not second.owns_guild(None)
        assert sorted(i.shard for i in standin.gateway.identifies) == [(0, SHARDS), (1, SHARDS)]

        for number, shard in enumerate(shards):
            run = await standin.slash(shard.guild.id, shard.channel.id, shard.learner.id, "ask", {"question": "adam"})
            answer = await run.wait_final(timeout=30)
            assert answer.embeds and not run.ephemeral
            owners = session_of(standin, "INTERACTION_CREATE", lambda d, run=run: int(d["id"]) == run.id)
            assert [s.shard for s in owners] == [(number, SHARDS)]

        dm = standin.dm_channel(shards[1].learner)
        message = await standin.user_message(dm.id, shards[1].learner.id, "what is dropout")
        await standin.wait_for_message(lambda m: m.channel_id == dm.id and m.author_id == standin.bot_id, timeout=30)
        owners = session_of(standin, "MESSAGE_CREATE", lambda d: int(d["id"]) == message.id)
        assert [s.shard for s in owners] == [(0, SHARDS)]
    assert not standin.rejections and not standin.internal_errors


async def test_both_processes_due_at_once_post_each_guilds_weekly_prompt_once_and_purge_once(
    sharded_standin: DiscordStandin, postgres_backend: PostgresBackend, tmp_path: Path, real_answerer: Answerer
) -> None:
    standin = sharded_standin
    shards = [Shard(standin, 0), Shard(standin, 1)]
    guilds = [s.guild.id for s in shards]
    async with postgres_backend.store() as store:
        for shard in shards:
            await store.save_weekly_settings(
                shard.guild.id, WeeklySettings(shard.channel.id, 0, "09:00", "UTC", enabled=True)
            )
    clock = SimClock(MONDAY_NINE)
    async with (
        shard_bot(standin, postgres_backend.url, tmp_path, 0, real_answerer, guilds, clock, 0.05) as first,
        shard_bot(standin, postgres_backend.url, tmp_path, 1, real_answerer, guilds, clock, 0.05) as second,
    ):
        weeklies = [bot.get_cog("Weekly") for bot in (first, second)]
        await standin.wait_for(lambda: all(w.ticks >= 5 for w in weeklies), timeout=30, what="ticks")  # type: ignore[union-attr]
        privacies = [bot.get_cog("Privacy") for bot in (first, second)]
        await standin.wait_for(lambda: all(p.purges >= 1 for p in privacies), timeout=30, what="purges")  # type: ignore[union-attr]
        clock.advance(days=1)  # the next day's purge: again once
        await standin.wait_for(lambda: all(p.purges >= 2 for p in privacies), timeout=30, what="purges")  # type: ignore[union-attr]
        purged = sorted(day for p in privacies for day in p.purged_days)  # type: ignore[union-attr]
        assert purged == [MONDAY_NINE.date(), clock.now.date()]
    for shard in shards:
        posts = [m for m in standin.messages if m.channel_id == shard.channel.id and m.embeds]
        assert [p.embeds[0]["title"].startswith("Weekly project") for p in posts] == [True]
    assert await postgres_backend.count_rows("weekly_posts") == 2
    assert await postgres_backend.count_rows("job_claims") == 2


async def test_simultaneous_done_from_both_processes_leaves_one_row_and_clears_the_other_process_cache(
    sharded_standin: DiscordStandin, postgres_backend: PostgresBackend, tmp_path: Path, real_answerer: Answerer
) -> None:
    standin = sharded_standin
    shards = [Shard(standin, 0), Shard(standin, 1)]
    guilds = [s.guild.id for s in shards]
    shard = shards[0]
    member = Member(shard.guild.id, shard.learner.id)
    async with (
        shard_bot(standin, postgres_backend.url, tmp_path, 0, real_answerer, guilds) as first,
        shard_bot(standin, postgres_backend.url, tmp_path, 1, real_answerer, guilds) as second,
    ):
        assert await second.tutor.completed(member) == set()  # the other process holds this member in memory
        runs = await asyncio.gather(
            *(
                standin.slash(shard.guild.id, shard.channel.id, shard.learner.id, "done", {"topic": "adam"})
                for _ in range(25)
            )
        )
        # The same member's progress written from the other process at the same time (a DM on shard 0 would).
        direct = await asyncio.gather(
            *(second.tutor.mark_done(member, "adam") for _ in range(25)), return_exceptions=True
        )
        replies = [await run.wait_final(timeout=30) for run in runs]
        assert all(reply.text() for reply in replies)
        assert not [r for r in direct if isinstance(r, BaseException)]
        rows = await postgres_backend.fetch(f"SELECT topic_id FROM progress WHERE user_id = {shard.learner.id}")
        assert len(rows) == 1
        # The first process's cache heard of the other's writes: it reads the store again.
        await standin.wait_for(lambda: first.announcements_heard >= 1, timeout=10, what="an announcement")
        assert rows[0][0] in await first.tutor.completed(member)
        await second.tutor.undo(member, "adam")
        await standin.wait_for(lambda: first.tutor.cached_completed(member) is None, timeout=10, what="cache dropped")
        assert await first.tutor.completed(member) == set()

        # Ask channels set in one process reach the other's cache.
        await second.ask_channels(shard.guild.id)
        await first.set_ask_channel(shard.guild.id, shard.channel.id, True)
        await standin.wait_for(lambda: shard.guild.id not in second._ask_channels, timeout=10, what="ask channels")
        assert await second.ask_channels(shard.guild.id) == {shard.channel.id}


async def test_a_reindex_in_one_process_reaches_the_other_and_only_one_rebuilds(
    sharded_standin: DiscordStandin,
    postgres_backend: PostgresBackend,
    tmp_path: Path,
    shipped_kb: KnowledgeBase,
    real_encoder: Encoder,
    real_data_dir: Path,
) -> None:
    standin = sharded_standin
    shards = [Shard(standin, 0), Shard(standin, 1)]
    guilds = [s.guild.id for s in shards]
    notes = tmp_path / "notes"
    notes.mkdir()
    config = {"knowledge": {"dirs": [str(notes)]}}
    answerers = [Answerer(shipped_kb, SearchIndex.load(real_data_dir / "index"), real_encoder) for _ in range(2)]
    data = tmp_path / "data"  # one data directory both processes share, as in deploy/compose.yaml
    async with (
        shard_bot(standin, postgres_backend.url, data, 0, answerers[0], guilds, config=config) as first,
        shard_bot(standin, postgres_backend.url, data, 1, answerers[1], guilds, config=config) as second,
    ):
        (notes / "gpu-booking.md").write_text(NOTE, encoding="utf-8")
        async with second.store.exclusive("reindex") as held:  # another process is rebuilding
            assert held
            refused = await standin.slash(
                shards[0].guild.id, shards[0].channel.id, shards[0].admin.id, "admin", subcommand="reindex"
            )
            assert "Another bot process is rebuilding" in (await refused.wait_final(timeout=30)).content
        reindex = await standin.slash(
            shards[0].guild.id, shards[0].channel.id, shards[0].admin.id, "admin", subcommand="reindex"
        )
        assert "Rebuilt the index" in (await reindex.wait_final(timeout=180)).content
        await standin.wait_for(lambda: second.reindexes_followed == 1, timeout=120, what="the other process reindex")
        assert first.reindexes_followed == 0
        for shard in shards:
            run = await standin.slash(
                shard.guild.id,
                shard.channel.id,
                shard.learner.id,
                "ask",
                {"question": NOTE_QUESTION},
            )
            assert (await run.wait_final(timeout=30)).embeds[0]["title"] == NOTE_TITLE
    assert not standin.rejections and not standin.internal_errors
