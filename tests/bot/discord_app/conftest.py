"""The product's bot, running for real against the local Discord stand-in."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.answering import Answerer
from bot.config import Settings
from bot.discord_app.client import TutorBot, build_bot
from bot.discord_app.main import open_tutor, weekly_service
from bot.storage import SqliteStore, Store
from bot.tutor import utc_now
from indexer.encoders import Encoder
from indexer.search import SearchIndex
from knowledge.loader import KnowledgeBase
from standin import DiscordStandin, Perm
from standin.harness import running
from standin.state import Channel, Guild, Member
from tests.fakes import with_test_quizzes

MANAGE_GUILD = 1 << 5

# An admin's note the shipped knowledge knows nothing of, with a question only it answers (reindex tests).
NOTE = """---
title: Booking the community GPU server
aliases: [gpu booking, reserve the gpu server]
---
Members of this server can book the community GPU server, a machine with one RTX 4090 that the
moderators call "forge", for training runs longer than an hour. Book it in the #gpu-bookings channel
with the date, the hours you need and what you will train; bookings are first come, first served and
a single booking is at most eight hours. Copy your data to /scratch on forge, not to your home folder.
"""
NOTE_QUESTION = "can I book the forge gpu machine for eight hours"
NOTE_TITLE = "Booking the community GPU server"


class FastTutorBot(TutorBot):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py waits 5 s before re-identifying (Discord's rate limit); the stand-in has none.
        return None


@dataclass
class World:
    guild: Guild
    channel: Channel
    ask_channel: Channel
    alice: Member
    bob: Member
    admin: Member
    other_guild: Guild
    stranger: Member  # a member of the other guild only


@pytest_asyncio.fixture
async def standin() -> AsyncIterator[DiscordStandin]:
    async with DiscordStandin() as server:
        yield server


@pytest.fixture
def world(standin: DiscordStandin) -> World:
    guild = standin.add_guild("AI Learners")
    other = standin.add_guild("Elsewhere")
    return World(
        guild=guild,
        channel=standin.add_channel(guild.id, "general"),
        ask_channel=standin.add_channel(guild.id, "ask-the-tutor"),
        alice=standin.add_member(guild.id, "alice"),
        bob=standin.add_member(guild.id, "bob"),
        admin=standin.add_member(guild.id, "admin", permissions=MANAGE_GUILD | Perm.SENDING),
        other_guild=other,
        stranger=standin.add_member(other.id, "stranger"),
    )


def bot_settings(tmp_path: Path, world: World, config: dict[str, Any] | None = None, **discord: Any) -> Settings:
    """Settings for a test bot: `discord` keys as keyword arguments, other sections (knowledge, privacy) in `config`."""
    return Settings.model_validate(
        {
            "data_dir": str(tmp_path),
            **(config or {}),
            "discord": {"guild_ids": [world.guild.id, world.other_guild.id], **discord},
        }
    )


class SimClock:
    """A clock tests move by hand: `clock.now = ...` or `clock.advance(minutes=5)`."""

    def __init__(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


BotFactory = Callable[..., contextlib.AbstractAsyncContextManager[TutorBot]]


@contextlib.asynccontextmanager
async def connected_bot(
    standin: DiscordStandin,
    settings: Settings,
    store: Store,
    answerer: Answerer,
    clock: Callable[[], datetime] | None = None,
    clock_tick: float = 30.0,
) -> AsyncIterator[TutorBot]:
    """The product's bot on an open store, logged in to the stand-in with its commands synced: its collaborators
    built first, as `bot.discord_app.main.serve` builds them."""
    tutor = await open_tutor(settings, store, answerer, clock or utc_now)
    bot = build_bot(
        settings,
        store,
        tutor,
        weekly_service(tutor),
        bot_class=FastTutorBot,  # sharded when the settings name shards, as `serve` builds it
        clock_tick_seconds=clock_tick,
        guild_ready_timeout=0.05,
        chunk_guilds_at_startup=False,
    )
    try:
        async with running(bot, standin, ready_timeout=60):
            await bot.commands_synced.wait()
            yield bot
    finally:
        tutor.close()


@pytest.fixture
def start_bot(standin: DiscordStandin, world: World, tmp_path: Path, real_answerer: Answerer) -> BotFactory:
    """`async with start_bot(**discord_settings) as bot`: a connected bot with its own database.

    `clock` replaces the bot's clock (a callable returning an aware UTC datetime), `clock_tick` the
    seconds between weekly scheduler ticks, `config` other settings sections (knowledge, privacy).
    """

    @contextlib.asynccontextmanager
    async def start(
        answerer: Answerer | None = None,
        clock: Callable[[], datetime] | None = None,
        clock_tick: float = 30.0,
        config: dict[str, Any] | None = None,
        **discord: Any,
    ) -> AsyncIterator[TutorBot]:
        settings = bot_settings(tmp_path, world, config, **discord)
        store = SqliteStore(settings.database_path)
        await store.open()
        try:
            async with connected_bot(standin, settings, store, answerer or real_answerer, clock, clock_tick) as bot:
                yield bot
        finally:
            await store.close()

    return start


@pytest.fixture(scope="session")
def quiz_answerer(shipped_kb: KnowledgeBase, real_encoder: Encoder, real_data_dir: Path) -> Answerer:
    """The shipped knowledge with the test quiz questions only (tests/quizzes), on the shipped index: quizzes
    are not documents, so the index is the same."""
    return Answerer(with_test_quizzes(shipped_kb), SearchIndex.load(real_data_dir / "index"), real_encoder)
