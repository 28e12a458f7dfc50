"""Weekly posts and admin commands under faults: REST errors, gateway drops, a failing database, the token.

The bot runs on a simulated clock against the Discord stand-in, so the weekly slot comes when a test says.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.answering import Answerer
from bot.discord_app.client import TutorBot
from bot.storage import SqliteStore
from bot.storage.errors import StorageBusy
from standin import DiscordStandin, Message
from tests.bot.discord_app.conftest import SimClock, World, bot_settings, connected_bot
from tests.bot.discord_app.test_weekly_e2e import TICK, admin_weekly_set, ticks, utc
from tests.reliability.test_gateway_faults import DROPS
from tests.reliability.test_security import SECRET, debug_log

__all__ = ["debug_log"]  # a fixture shared with test_security

RATE_LIMITED = {"message": "You are being rate limited.", "retry_after": 0.4, "global": False}
SLOT = utc(2026, 11, 23, 9, 0)  # a Monday; every test posts on Mondays at 09:00 UTC
BEFORE = utc(2026, 11, 23, 8, 0)
WeeklyBotFactory = Callable[..., contextlib.AbstractAsyncContextManager[TutorBot]]


@pytest_asyncio.fixture
async def standin() -> AsyncIterator[DiscordStandin]:
    async with DiscordStandin(valid_token=SECRET) as server:
        yield server


@pytest.fixture
def weekly_bot(standin: DiscordStandin, world: World, tmp_path: Path, answerer: Answerer) -> WeeklyBotFactory:
    """`async with weekly_bot(clock, busy_timeout=...) as bot`: a connected bot ticking every TICK seconds."""

    @contextlib.asynccontextmanager
    async def start(
        clock: Callable[[], datetime], busy_timeout: float = 5.0, **discord: Any
    ) -> AsyncIterator[TutorBot]:
        settings = bot_settings(tmp_path, world, **discord)
        store = SqliteStore(settings.database_path, busy_timeout=busy_timeout)
        await store.open()
        try:
            async with connected_bot(standin, settings, store, answerer, clock, TICK) as bot:
                yield bot
        finally:
            await store.close()

    return start


def weekly_posts(standin: DiscordStandin) -> list[Message]:
    return [
        m
        for m in standin.messages
        if not m.deleted and m.embeds and m.embeds[0].get("title", "").startswith("Weekly project: ")
    ]


async def wait_posted(standin: DiscordStandin, timeout: float = 30) -> Message:
    await standin.wait_for(lambda: weekly_posts(standin), timeout=timeout, what="the weekly post")
    [post] = weekly_posts(standin)
    return post


async def ask(standin: DiscordStandin, world: World, question: str) -> str:
    run = await standin.slash(world.guild.id, world.channel.id, world.bob.id, "ask", {"question": question})
    return (await run.wait_final(timeout=30)).text()


def scheduler_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Warnings of the weekly scheduler itself (the storage layer warns about each failed call on its own)."""
    names = ("bot.weekly", "bot.discord_app.weekly")
    return [r.getMessage() for r in caplog.records if r.name.startswith(names) and r.levelno >= logging.WARNING]


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("bot") and r.exc_info]


# REST faults ----------------------------------------------------------------------------------------


async def test_weekly_post_rate_limited_then_failing_is_retried_and_posted_once(
    standin: DiscordStandin, world: World, weekly_bot: WeeklyBotFactory
) -> None:
    channel = world.channel.id
    route = rf"^/channels/{channel}/messages$"
    clock = SimClock(BEFORE)
    async with weekly_bot(clock) as bot:
        await admin_weekly_set(standin, world, channel, 0, "09:00", "UTC")
        limited = standin.fail_next("POST", route, 429, RATE_LIMITED)
        failing = standin.fail_next("POST", route, 500, times=2)

        clock.set(SLOT)
        post = await wait_posted(standin)
        assert limited.hits == 1 and failing.hits == 2
        sent = [r.status for r in standin.requests if r.method == "POST" and r.path == route[1:-1]]
        assert sent == [429, 500, 500, 200]  # discord.py's own retries, inside one tick
        await standin.wait_for(lambda: standin.threads, timeout=10, what="the submissions thread")

        await ticks(standin, bot, 10)
        assert weekly_posts(standin) == [post]  # the next ticks post nothing more
        assert [r.status for r in standin.requests if r.method == "POST" and r.path == route[1:-1]] == sent
        recorded = await bot.store.current_weekly_post(world.guild.id)
        assert recorded is not None and recorded.message_id == post.id
        assert bot.get_cog("Weekly").tick.is_running()  # type: ignore[union-attr]
        assert "Adam" in await ask(standin, world, "what is adam")
    assert not standin.rejections and not standin.internal_errors


# Gateway faults -------------------------------------------------------------------------------------


@pytest.mark.parametrize("drop", DROPS.values(), ids=DROPS.keys())
async def test_gateway_dropped_around_the_weekly_slot_the_prompt_is_posted_once(
    standin: DiscordStandin, world: World, weekly_bot: WeeklyBotFactory, drop: dict[str, bool]
) -> None:
    clock = SimClock(BEFORE)
    async with weekly_bot(clock) as bot:
        await admin_weekly_set(standin, world, world.channel.id, 0, "09:00", "UTC")
        await standin.drop_gateway(**drop)  # the connection goes just as the slot comes
        clock.set(SLOT)
        post = await wait_posted(standin)

        await standin.drop_gateway(**drop)  # and again right after the post
        expected = 2 if drop["resumable"] else 3
        if drop["resumable"]:
            await standin.wait_resumed(2, timeout=20)
        else:
            await standin.wait_identified(3, timeout=20)
        await standin.wait_for(lambda: standin.connected, timeout=20, what="the bot back on the gateway")
        await ticks(standin, bot, 10)
        assert weekly_posts(standin) == [post]
        assert (standin.resume_count if drop["resumable"] else standin.identify_count) == expected
        assert len(standin.threads) == 1
        assert "Adam" in await ask(standin, world, "what is adam")
    assert not standin.rejections and not standin.gateway.errors


# Storage faults -------------------------------------------------------------------------------------


async def test_locked_database_at_the_slot_is_warned_once_then_posted_once_when_it_frees(
    standin: DiscordStandin,
    world: World,
    weekly_bot: WeeklyBotFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = SimClock(BEFORE)
    async with weekly_bot(clock, busy_timeout=0.2) as bot:
        await admin_weekly_set(standin, world, world.channel.id, 0, "09:00", "UTC")
        # Another program holds the write lock: the claim of the week waits out the busy timeout and fails.
        other = sqlite3.connect(tmp_path / "tutor.sqlite3", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with caplog.at_level(logging.DEBUG, logger="bot"):
                clock.set(SLOT)
                await ticks(standin, bot, 10)
                assert "Adam" in await ask(standin, world, "what is adam")
                await ticks(standin, bot, 5)
            assert not weekly_posts(standin)
            [paused] = scheduler_warnings(caplog)  # once per outage, not once a tick
            assert "weekly prompts paused" in paused and "locked" in paused
            assert sum("still paused" in r.getMessage() for r in caplog.records) >= 10  # but tried every tick
            assert not tracebacks(caplog)
        finally:
            other.execute("ROLLBACK")
            other.close()

        with caplog.at_level(logging.INFO, logger="bot"):
            post = await wait_posted(standin)
            await ticks(standin, bot, 10)
        assert weekly_posts(standin) == [post]
        assert "weekly prompts resumed" in caplog.text
        recorded = await bot.store.current_weekly_post(world.guild.id)
        assert recorded is not None and recorded.message_id == post.id
    assert not tracebacks(caplog) and not standin.rejections


async def test_closed_store_at_the_slot_is_warned_once_then_posted_once_when_it_reopens(
    standin: DiscordStandin, world: World, weekly_bot: WeeklyBotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    clock = SimClock(BEFORE)
    async with weekly_bot(clock) as bot:
        await admin_weekly_set(standin, world, world.channel.id, 0, "09:00", "UTC")
        await bot.store.close()  # the store is unavailable: every call raises StorageUnavailable
        with caplog.at_level(logging.INFO, logger="bot"):
            clock.set(SLOT)
            await ticks(standin, bot, 20)
            assert "Adam" in await ask(standin, world, "what is adam")
        assert not weekly_posts(standin)
        [paused] = scheduler_warnings(caplog)
        assert "weekly prompts paused" in paused and "not open" in paused
        assert not tracebacks(caplog) and "weekly prompt tick failed" not in caplog.text

        await bot.store.open()
        post = await wait_posted(standin)
        await ticks(standin, bot, 10)
        assert weekly_posts(standin) == [post]
    assert not tracebacks(caplog) and not standin.rejections


async def test_a_post_that_cannot_be_recorded_is_never_posted_again(
    standin: DiscordStandin,
    world: World,
    weekly_bot: WeeklyBotFactory,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = SimClock(BEFORE)
    async with weekly_bot(clock) as bot:
        await admin_weekly_set(standin, world, world.channel.id, 0, "09:00", "UTC")

        async def busy(*args: object) -> None:
            raise StorageBusy("database is locked")

        # The database goes between the send and the record: the claim stays, and a claim counts as posted.
        monkeypatch.setattr(bot.store, "record_weekly_message", busy)
        with caplog.at_level(logging.INFO, logger="bot"):
            clock.set(SLOT)
            post = await wait_posted(standin)
            await ticks(standin, bot, 10)
            monkeypatch.undo()
            await ticks(standin, bot, 10)
        assert weekly_posts(standin) == [post]
        assert "posted to guild" in caplog.text and "but not recorded" in caplog.text
        assert not tracebacks(caplog)


# The token ------------------------------------------------------------------------------------------


async def test_the_token_never_appears_in_an_export_or_the_debug_log_of_admin_and_weekly_work(
    standin: DiscordStandin, world: World, weekly_bot: WeeklyBotFactory, debug_log: Path
) -> None:
    g, c = world.guild.id, world.channel.id
    clock = SimClock(BEFORE)
    async with weekly_bot(clock) as bot:
        await admin_weekly_set(standin, world, c, 0, "09:00", "UTC")
        stats = await standin.slash(g, c, world.admin.id, "admin", subcommand="stats")
        assert (await stats.wait_final(timeout=30)).text()
        refused = await standin.slash(g, c, world.alice.id, "admin", subcommand="reindex", force=True)
        assert "Only server admins" in (await refused.wait_final(timeout=30)).content
        await (await standin.slash(g, c, world.alice.id, "ask", {"question": "what is adam"})).wait_final(timeout=30)
        await (await standin.slash(g, c, world.alice.id, "done", {"topic": "regularization"})).wait_final(timeout=30)

        clock.set(SLOT)
        await wait_posted(standin)
        await ticks(standin, bot, 3)

        export = await standin.slash(g, c, world.alice.id, "privacy", subcommand="export")
        [attachment] = (await export.wait_final(timeout=30)).attachments
        data = json.loads(attachment.data)
        assert data["user_id"] == world.alice.id and data["progress"] and data["questions"]
        assert SECRET not in attachment.data.decode() and SECRET.split(".")[-1] not in attachment.data.decode()

    log = debug_log.read_text(encoding="utf-8")
    for happened in ("IDENTIFY", "/api/v10/", "posted weekly prompt", "/interactions/", "/webhooks/"):
        assert happened in log, happened  # the session really went through all of it, at DEBUG
    assert SECRET not in log
    assert SECRET.split(".")[-1] not in log
