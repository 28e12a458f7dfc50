"""The gateway connection drops while a command is running: the bot reconnects and nothing is lost."""

from __future__ import annotations

import pytest

from standin import DiscordStandin
from tests.bot.discord_app.conftest import World
from tests.reliability.conftest import BotFactory, messages_of

DROPS = {
    "clean-close-resumable": {"abrupt": False, "resumable": True},
    "tcp-reset-resumable": {"abrupt": True, "resumable": True},
    "session-invalidated": {"abrupt": True, "resumable": False},
}


@pytest.mark.parametrize("drop", DROPS.values(), ids=DROPS.keys())
async def test_drop_right_after_ask_is_dispatched_the_ask_is_answered_and_the_bot_reconnects(
    standin: DiscordStandin, world: World, start_bot: BotFactory, drop: dict[str, bool]
) -> None:
    g, c = world.guild.id, world.channel.id
    async with start_bot():
        run = await standin.slash(g, c, world.alice.id, "ask", {"question": "what is dropout?"})
        await standin.drop_gateway(**drop)  # the event is in the bot's socket; the connection goes now

        answer = await run.wait_final(timeout=30)
        assert answer.embeds and "Regularization" in answer.embeds[0]["title"]
        assert len(messages_of(standin, run)) == 1  # answered once, not again after the reconnect

        if drop["resumable"]:
            await standin.wait_resumed(timeout=20)
            assert standin.identify_count == 1
        else:
            await standin.wait_identified(2, timeout=20)
        await standin.wait_for(lambda: standin.connected, timeout=20, what="the bot back on the gateway")

        later = await standin.slash(g, c, world.bob.id, "done", {"topic": "regularization"})
        assert "as done" in (await later.wait_final(timeout=30)).content
        assert not standin.rejections and not standin.gateway.errors


async def test_a_question_sent_while_the_bot_is_disconnected_is_replayed_and_answered(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    async with start_bot():
        await standin.drop_gateway(abrupt=True, resumable=True)
        # Discord keeps the session's events while the bot is away and replays them on RESUME.
        question = await standin.user_message(world.channel.id, world.alice.id, "what is adam?", mentions_bot=True)
        await standin.wait_resumed(timeout=20)
        reply = await standin.wait_for_message(lambda m: m.reply_to == question.id, timeout=30)
        assert "Adam" in reply.text()
        assert standin.identify_count == 1 and standin.gateway.resumes[-1].replayed >= 1


async def test_repeated_drops_during_a_burst_of_commands_leave_every_command_answered_once(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, c = world.guild.id, world.channel.id
    members = [standin.add_member(g, f"learner{i}") for i in range(6)]
    async with start_bot():
        runs = []
        for round_ in range(3):
            for member in members:
                runs.append(await standin.slash(g, c, member.id, "done", {"topic": "regularization"}))
            await standin.drop_gateway(abrupt=round_ % 2 == 0, resumable=True)
            await standin.wait_resumed(round_ + 1, timeout=20)
        finals = [await run.wait_final(timeout=30) for run in runs]
        assert [f.content.startswith("Marked") for f in finals] == [True] * 6 + [False] * 12
        assert all(len(messages_of(standin, run)) == 1 for run in runs)
        assert standin.identify_count == 1 and not standin.rejections
