"""`/privacy export` and `/privacy forget` end to end, and the retention of the question log."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from standin import DiscordStandin, InteractionRecord, Message
from tests.bot.discord_app.conftest import BotFactory, SimClock, World

pytestmark = [pytest.mark.model]


async def run(
    standin: DiscordStandin, guild_id: int, channel_id: int, user_id: int, name: str, **options: str
) -> InteractionRecord:
    """Run a command and wait for its answer."""
    record = await standin.slash(guild_id, channel_id, user_id, name, options or None)
    await record.wait_final(timeout=30)
    return record


async def some_history(standin: DiscordStandin, world: World) -> int:
    """Alice and Bob learn in the main server; Alice also in the other one. Returns the other server's channel."""
    g, c = world.guild.id, world.channel.id
    standin.add_member(world.other_guild.id, "alice", user_id=world.alice.id)
    elsewhere = standin.add_channel(world.other_guild.id, "general").id
    await run(standin, g, c, world.alice.id, "done", topic="regularization")
    await run(standin, g, c, world.alice.id, "ask", question="what is the adam optimizer")
    await run(standin, g, c, world.bob.id, "done", topic="keras")
    await run(standin, g, c, world.bob.id, "ask", question="bob's question about pruning")
    await run(standin, world.other_guild.id, elsewhere, world.alice.id, "done", topic="pytorch")
    await run(standin, world.other_guild.id, elsewhere, world.alice.id, "ask", question="alice elsewhere on lstm")
    return elsewhere


def topics_done(progress: InteractionRecord) -> str:
    """How many topics /progress says are done ("Topics done: 1 of 21" → "1")."""
    assert progress.final is not None
    fields = {f["name"]: f["value"] for f in progress.final.embeds[0]["fields"]}
    return fields["Topics done"].split()[0]


def button(message: Message, label: str) -> str:
    for row in message.components:
        for component in row.get("components") or []:
            if component.get("label") == label:
                return component["custom_id"]
    raise LookupError(f"no button {label!r} on the message")


async def test_export_is_an_ephemeral_json_file_of_this_members_data_in_this_server_only(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, c = world.guild.id, world.channel.id
    async with start_bot():
        await some_history(standin, world)
        export = await standin.slash(g, c, world.alice.id, "privacy", subcommand="export")
        reply = await export.wait_final()
        assert export.ephemeral
        [attachment] = reply.attachments
        assert attachment.filename.endswith(".json")
        data = json.loads(attachment.data)
        assert (data["guild_id"], data["user_id"]) == (g, world.alice.id)
        assert [p["topic_id"] for p in data["progress"]] == ["regularization"]
        assert [q["question"] for q in data["questions"]] == ["what is the adam optimizer"]
        assert data["activity_days"]
        text = attachment.data.decode()
        assert "keras" not in text and "bob's question" not in text  # Bob's data
        assert "pytorch" not in text and "elsewhere" not in text  # Alice's data in the other server
    assert not standin.rejections


async def test_forget_deletes_only_this_members_data_here_after_their_own_confirmation(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, c, alice = world.guild.id, world.channel.id, world.alice.id
    async with start_bot() as bot:
        await some_history(standin, world)
        assert topics_done(await run(standin, g, c, alice, "progress")) == "1"

        forget = await standin.slash(g, c, alice, "privacy", subcommand="forget")
        prompt = await forget.wait_final()
        assert forget.ephemeral and "Are you sure?" in prompt.content

        with pytest.raises(PermissionError):  # the prompt is ephemeral: Bob's client does not have it
            await standin.click(prompt, button(prompt, "Delete my data"), world.bob.id)
        bob_click = await standin.click(prompt, button(prompt, "Delete my data"), world.bob.id, force=True)
        refusal = await bob_click.wait_final()
        assert bob_click.ephemeral and "Only the member who asked" in refusal.content
        assert (await bot.store.export_member(g, alice))["progress"]  # nothing deleted

        cancel = await standin.click(prompt, button(prompt, "Cancel"), alice)
        await cancel.wait_response()
        assert "nothing was deleted" in prompt.content and not prompt.custom_ids()
        assert (await bot.store.export_member(g, alice))["progress"]

        forget = await standin.slash(g, c, alice, "privacy", subcommand="forget")
        prompt = await forget.wait_final()
        confirm = await standin.click(prompt, button(prompt, "Delete my data"), alice)
        await confirm.wait_response()
        assert "I deleted everything" in prompt.content and not prompt.custom_ids()

        gone = await bot.store.export_member(g, alice)
        assert gone["progress"] == [] and gone["questions"] == [] and gone["activity_days"] == []
        kept_elsewhere = await bot.store.export_member(world.other_guild.id, alice)
        assert [p["topic_id"] for p in kept_elsewhere["progress"]] == ["pytorch"]
        assert [p["topic_id"] for p in (await bot.store.export_member(g, world.bob.id))["progress"]] == ["keras"]

        # The tutor's in-memory progress was forgotten too, not only the database rows.
        assert topics_done(await run(standin, g, c, alice, "progress")) == "0"
        undo = await standin.autocomplete(g, c, alice, "undo", "topic", "")
        await undo.wait_response()
        assert undo.choices == []
    assert not standin.rejections


async def test_forget_buttons_are_disabled_when_the_request_expires(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, c = world.guild.id, world.channel.id
    async with start_bot() as bot:
        await run(standin, g, c, world.alice.id, "done", topic="regularization")
        bot.get_cog("Privacy").confirm_timeout = 0.3  # type: ignore[union-attr]
        forget = await standin.slash(g, c, world.alice.id, "privacy", subcommand="forget")
        prompt = await forget.wait_final()
        await standin.wait_for(lambda: "expired" in prompt.content, timeout=5, what="the request to expire")
        buttons = [b for row in prompt.components for b in row["components"]]
        assert buttons and all(b.get("disabled") for b in buttons)
        with pytest.raises(ValueError, match="disabled"):
            await standin.click(prompt, buttons[0]["custom_id"], world.alice.id)
        assert (await bot.store.export_member(g, world.alice.id))["progress"]
    assert not standin.rejections


async def test_questions_older_than_the_retention_are_purged_when_the_bot_starts(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g = world.guild.id
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    clock = SimClock(now)
    retention = {"privacy": {"question_log_days": 30}}
    async with start_bot(clock=clock, config=retention) as bot:
        for days, question in ((45, "too old"), (31, "just too old"), (29, "recent enough"), (1, "fresh")):
            await bot.store.log_question(g, world.alice.id, question, None, True, now - timedelta(days=days))
    # The day's purge is claimed once in the database (job_claims), whichever process or start runs it: the
    # first start claimed today's, so the restart that purges is the next day's.
    clock.advance(days=1)
    async with start_bot(clock=clock, config=retention) as bot:
        cog = bot.get_cog("Privacy")
        await standin.wait_for(lambda: cog.purges >= 1, what="the purge at start")  # type: ignore[union-attr]
        await asyncio.sleep(0)
        kept = [q.question for q in await bot.store.unanswered_questions(g, 10)]
        assert kept == ["fresh", "recent enough"]


async def test_a_running_bot_purges_once_a_day_by_its_clock(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g = world.guild.id
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    clock = SimClock(now)
    async with start_bot(clock=clock, clock_tick=0.02, config={"privacy": {"question_log_days": 30}}) as bot:
        cog = bot.get_cog("Privacy")
        await standin.wait_for(lambda: cog.purges >= 1, what="the purge at start")  # type: ignore[union-attr]
        await bot.store.log_question(g, world.alice.id, "29 days old today", None, True, now - timedelta(days=29))
        await asyncio.sleep(0.1)  # several ticks on the same day
        assert cog.purges == 1  # type: ignore[union-attr]
        clock.advance(days=2)
        await standin.wait_for(lambda: cog.purges >= 2, what="the next day's purge")  # type: ignore[union-attr]
        await asyncio.sleep(0)
        assert await bot.store.unanswered_questions(g, 10) == []
