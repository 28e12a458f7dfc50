"""The question cooldown (`discord.ask_cooldown`), through the stand-in: discord.py's cooldowns on /ask and on
free text, one allowance per member shared by both, and the polite reply with the time left."""

from __future__ import annotations

import asyncio
import re

import pytest

from standin import DiscordStandin
from tests.bot.discord_app.conftest import BotFactory, World

pytestmark = [pytest.mark.model]

SLOW_DOWN = re.compile(r"^Slow down a little: you can ask again in (\d+) s\.$")


def wait_in(text: str) -> int:
    """The seconds a cooldown reply tells the member to wait (fails on any other text)."""
    told = SLOW_DOWN.match(text)
    assert told is not None, text
    return int(told.group(1))


async def test_a_member_over_the_limit_is_told_how_long_to_wait_by_ask_and_by_mention_alike(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, c, alice = world.guild.id, world.channel.id, world.alice.id
    async with start_bot(ask_cooldown={"rate": 2, "per_seconds": 60}):
        first = await standin.slash(g, c, alice, "ask", {"question": "what is pruning"})
        assert (await first.wait_final(timeout=30)).embeds
        mention = await standin.user_message(c, alice, "what is dropout", mentions_bot=True)
        answered = await standin.wait_for_message(lambda m: m.reply_to == mention.id, timeout=30)
        assert answered.embeds  # the second question of the allowance, asked the other way

        refused = await standin.slash(g, c, alice, "ask", {"question": "what is adam"})
        told = await refused.wait_final(timeout=30)
        assert refused.ephemeral and not told.embeds and 50 <= wait_in(told.content) <= 60
        again = await standin.user_message(c, alice, "what is adam", mentions_bot=True)
        reply = await standin.wait_for_message(lambda m: m.reply_to == again.id, timeout=30)
        assert not reply.embeds and 50 <= wait_in(reply.content) <= 60
        assert not standin.pings(reply)

        other = await standin.slash(g, c, world.bob.id, "ask", {"question": "what is adam"})
        assert (await other.wait_final(timeout=30)).embeds  # another member keeps their own allowance
        assert not standin.rejections


async def test_the_wait_told_is_the_wait_and_the_window_comes_from_the_config(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, c, alice = world.guild.id, world.channel.id, world.alice.id
    async with start_bot(ask_cooldown={"rate": 1, "per_seconds": 3}):
        assert (await (await standin.slash(g, c, alice, "ask", {"question": "what is lasso"})).wait_final(30)).embeds
        refused = await standin.slash(g, c, alice, "ask", {"question": "what is ridge"})
        wait = wait_in((await refused.wait_final(timeout=30)).content)
        assert 1 <= wait <= 3
        await asyncio.sleep(wait + 0.5)
        again = await standin.user_message(c, alice, "what is ridge", mentions_bot=True)
        reply = await standin.wait_for_message(lambda m: m.reply_to == again.id, timeout=30)
        assert reply.embeds  # answered once the time it was told has passed
