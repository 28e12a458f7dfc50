"""Discord's REST API answers 429 and 5xx: the bot waits, retries as discord.py does, and posts once."""

from __future__ import annotations

import logging
import time

import pytest

from standin import DiscordStandin
from tests.bot.discord_app.conftest import World
from tests.reliability.conftest import BotFactory, messages_of

RATE_LIMITED = {"message": "You are being rate limited.", "retry_after": 0.4, "global": False}


async def test_followup_rate_limited_then_failing_is_retried_and_the_answer_posted_once(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, c = world.guild.id, world.channel.id
    async with start_bot():
        # The answer goes out as the followup of a deferred /ask: first 429, then two 500s, then through.
        limited = standin.fail_next("POST", r"^/webhooks/\d+/[^/]+$", 429, RATE_LIMITED)
        failing = standin.fail_next("POST", r"^/webhooks/\d+/[^/]+$", 500, times=2)
        started = time.monotonic()
        run = await standin.slash(g, c, world.alice.id, "ask", {"question": "what is xgboost"})
        answer = await run.wait_final(timeout=30)

        assert limited.hits == 1 and failing.hits == 2
        # retry_after, then discord.py's back-off after each 500: 1 + 2 × attempt seconds (attempts 1 and 2).
        assert time.monotonic() - started >= 0.4 + 3 + 5 - 0.05
        assert "XGBoost" in answer.text()
        followups = [r.status for r in standin.requests if r.method == "POST" and r.path.startswith("/webhooks/")]
        assert followups == [429, 500, 500, 200]
        assert len(messages_of(standin, run)) == 1
        assert [m for m in standin.messages if m.channel_id == c and not m.loading] == [answer]

        after = await standin.slash(g, c, world.bob.id, "ask", {"question": "what is adam"})
        assert "Adam" in (await after.wait_final(timeout=30)).text()
        assert not standin.rejections


async def test_reply_rate_limited_then_failing_is_retried_and_posted_once(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    async with start_bot():
        route = rf"^/channels/{world.channel.id}/messages$"
        limited = standin.fail_next("POST", route, 429, RATE_LIMITED)
        failing = standin.fail_next("POST", route, 502)
        question = await standin.user_message(world.channel.id, world.alice.id, "what is softmax", mentions_bot=True)
        reply = await standin.wait_for_message(lambda m: m.reply_to == question.id, timeout=30)

        assert limited.hits == 1 and failing.hits == 1
        assert "Softmax" in reply.text()
        posts = [r.status for r in standin.requests if r.method == "POST" and r.path == route[1:-1]]
        assert posts == [429, 502, 200]
        assert [m.id for m in standin.messages if m.channel_id == world.channel.id] == [reply.id]
        assert not standin.rejections


async def test_rate_limited_acknowledgement_is_retried_within_the_deadline(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    async with start_bot():
        limited = standin.fail_next("POST", r"^/interactions/\d+/[^/]+/callback$", 429, RATE_LIMITED)
        run = await standin.slash(world.guild.id, world.channel.id, world.alice.id, "next")
        reply = await run.wait_final(timeout=10)
        assert limited.hits == 1 and run.ack_latency is not None and run.ack_latency < 3.0
        assert "Your next step" in reply.text() and run.ephemeral
        assert len(messages_of(standin, run)) == 1 and not standin.rejections


async def test_an_acknowledgement_that_misses_the_deadline_fails_clearly_and_the_bot_carries_on(
    standin: DiscordStandin, world: World, start_bot: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    g, c = world.guild.id, world.channel.id
    async with start_bot():
        standin.delay_next("POST", r"^/interactions/\d+/[^/]+/callback$", 3.2)  # Discord answers 10062
        with caplog.at_level(logging.WARNING, logger="bot"):
            late = await standin.slash(g, c, world.alice.id, "ask", {"question": "what is pruning"})
            await late.wait_rejected(timeout=10)
            await standin.wait_for(lambda: "could not tell user" in caplog.text, timeout=10, what="the log")
        assert late.late and late.final is None and not messages_of(standin, late)
        failure = next(r for r in caplog.records if r.levelno == logging.ERROR)
        assert f"/ask failed for user {world.alice.id} in guild {g}" in failure.getMessage()
        assert "Unknown interaction" in caplog.text

        after = await standin.slash(g, c, world.alice.id, "ask", {"question": "what is pruning"})
        assert (await after.wait_final(timeout=30)).embeds
