"""End to end: the real discord.py client, the product's bot, the local stand-in of Discord."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.discord_app.main import StartupError, serve
from standin import DiscordStandin
from tests.bot.discord_app.conftest import BotFactory, World, bot_settings

pytestmark = [pytest.mark.model]

COMMANDS = {"ask", "next", "progress", "done", "undo", "roadmap", "topic", "follow"}


def embed_text(message) -> str:  # type: ignore[no-untyped-def]
    return json.dumps(message.embeds, ensure_ascii=False)


async def test_commands_sync_to_configured_guilds_within_discord_limits(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    async with start_bot():
        names = {c["name"] for c in standin.commands[world.guild.id]}
        assert names >= COMMANDS
        assert not standin.rejections and not standin.unknown_routes


async def test_ask_posts_a_public_answer_with_place_resources_and_buttons(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    async with start_bot():
        run = await standin.slash(
            world.guild.id, world.channel.id, world.alice.id, "ask", {"question": "L1 vs L2 regularization?"}
        )
        final = await run.wait_final(timeout=30)
        assert run.ack_latency is not None and run.ack_latency < 3.0
        assert not run.ephemeral
        embed = final.embeds[0]
        assert "L1 Regularization" in embed["title"]
        assert "Step 1" in embed["description"]
        study = next(f for f in embed["fields"] if f["name"] == "Study with")
        assert "](https://" in study["value"]
        ids = set(final.custom_ids())
        feedback = {c for c in ids if c.startswith("tutor:fb:")}
        assert ids - feedback == {"tutor:done:regularization", "tutor:next"}
        assert {c.rsplit(":", 2)[0] + ":" + c.rsplit(":", 2)[1] for c in feedback} == {
            f"tutor:fb:up:{world.alice.id}",
            f"tutor:fb:down:{world.alice.id}",
        }
        assert not standin.rejections


async def test_ask_out_of_scope_says_it_does_not_know(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    async with start_bot():
        run = await standin.slash(
            world.guild.id, world.channel.id, world.alice.id, "ask", {"question": "who painted the Mona Lisa?"}
        )
        final = await run.wait_final(timeout=30)
        assert "don't know" in final.embeds[0]["title"]
        assert "closest topics" in embed_text(final)
        assert "tutor:done" not in " ".join(final.custom_ids())


async def test_buttons_mark_done_for_the_clicker_and_show_next(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    async with start_bot() as bot:
        run = await standin.slash(world.guild.id, world.channel.id, world.alice.id, "ask", {"question": "what is relu"})
        answer = await run.wait_final(timeout=30)
        done_id = next(c for c in answer.custom_ids() if c.startswith("tutor:done:"))
        click = await standin.click(answer, done_id, world.bob.id)
        reply = await click.wait_final()
        assert click.ephemeral and "Activation Functions" in reply.content
        assert set(await bot.store.completed_topics(world.guild.id, world.bob.id)) == {"activation-functions"}
        assert await bot.store.completed_topics(world.guild.id, world.alice.id) == {}
        nxt = await standin.click(answer, "tutor:next", world.alice.id)
        assert "Your next step" in embed_text(await nxt.wait_final())


async def test_done_undo_autocomplete_next_and_progress(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, c, alice = world.guild.id, world.channel.id, world.alice.id
    async with start_bot():
        typo = await standin.autocomplete(g, c, alice, "done", "topic", "regularisaton")
        await typo.wait_response()
        assert typo.choices and typo.choices[0]["value"] == "regularization"
        everything = await standin.autocomplete(g, c, alice, "done", "topic", "")
        await everything.wait_response()
        assert 1 <= len(everything.choices) <= 25

        for topic in ("regularization", "evaluation-metrics"):
            done = await standin.slash(g, c, alice, "done", {"topic": topic})
            assert "as done" in (await done.wait_final()).content and done.ephemeral
        again = await standin.slash(g, c, alice, "done", {"topic": "regularization"})
        assert "already done" in (await again.wait_final()).content

        nxt = await standin.slash(g, c, alice, "next")
        text = embed_text(await nxt.wait_final())
        assert "Feedforward Neural Networks" in text
        assert (
            "you finished Regularization and Model Evaluation Metrics, which Feedforward Neural Networks needs" in text
        )

        undo_choices = await standin.autocomplete(g, c, alice, "undo", "topic", "")
        await undo_choices.wait_response()
        assert {ch["value"] for ch in undo_choices.choices} == {"regularization", "evaluation-metrics"}
        undo = await standin.slash(g, c, alice, "undo", {"topic": "evaluation-metrics"})
        assert "Unmarked" in (await undo.wait_final()).content

        progress = await standin.slash(g, c, alice, "progress")
        report = (await progress.wait_final()).embeds[0]
        assert progress.ephemeral and "1/4" in report["description"] and "█" in report["description"]
        assert any(f["name"] == "Streak" and f["value"].startswith("1 ") for f in report["fields"])

        unknown = await standin.slash(g, c, alice, "done", {"topic": "underwater basket weaving"})
        assert "couldn't find a topic" in (await unknown.wait_final()).content
        assert not standin.rejections


async def test_progress_of_another_member_only_within_the_guild(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, c = world.guild.id, world.channel.id
    async with start_bot():
        await (await standin.slash(g, c, world.bob.id, "done", {"topic": "regularization"})).wait_final()
        peek = await standin.slash(g, c, world.alice.id, "progress", {"member": world.bob.id})
        report = await peek.wait_final()
        assert "bob" in report.embeds[0]["title"] and "1/4" in report.embeds[0]["description"]
        foreign = await standin.slash(g, c, world.alice.id, "progress", {"member": world.stranger.id})
        assert "members of this server" in (await foreign.wait_final()).content


async def test_roadmap_and_topic_cards(standin: DiscordStandin, world: World, start_bot: BotFactory) -> None:
    g, c, alice = world.guild.id, world.channel.id, world.alice.id
    async with start_bot():
        whole = await standin.slash(g, c, alice, "roadmap")
        fields = (await whole.wait_final()).embeds[0]["fields"]
        assert [f["name"].split(":")[0] for f in fields] == [f"Step {n}" for n in range(1, 6)]
        step2 = await standin.slash(g, c, alice, "roadmap", {"step": 2})
        assert "🔒 Activation Functions" in embed_text(await step2.wait_final())
        card = await standin.slash(g, c, alice, "topic", {"name": "optimization-algorithms"})
        embed = (await card.wait_final()).embeds[0]
        assert embed["title"] == "Optimization Techniques" and "Step 2" in embed["description"]
        missing = await standin.slash(g, c, alice, "roadmap", {"step": 9})
        assert "no step 9" in (await missing.wait_final()).content
        assert not standin.rejections


async def test_free_text_mentions_and_dms_get_replies_that_ping_nobody(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    async with start_bot():
        question = await standin.user_message(
            world.channel.id, world.alice.id, "what is dropout? @everyone <@&1234>", mentions_bot=True
        )
        reply = await standin.wait_for_message(lambda m: m.message_reference is not None, timeout=30)
        assert reply.message_reference["message_id"] == str(question.id)
        assert not standin.pings(reply)

        await standin.user_message(world.channel.id, world.alice.id, "what is adam")  # no mention: stay quiet
        dm = standin.dm_channel(world.alice)
        await standin.user_message(dm.id, world.alice.id, "what is adam")
        dm_reply = await standin.wait_for_message(lambda m: m.channel_id == dm.id, timeout=30)
        assert "Adam" in embed_text(dm_reply)
        await asyncio.sleep(0.3)
        assert not [m for m in standin.messages if m.channel_id == world.channel.id and m is not reply]


async def test_ask_channels_need_the_message_content_flag(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    async with start_bot() as bot:
        await bot.set_ask_channel(world.guild.id, world.ask_channel.id, True)
        await standin.user_message(world.ask_channel.id, world.alice.id, "what is xgboost")
        await asyncio.sleep(0.5)
        assert not standin.messages  # the content arrives blank without the intent, and the flag is off
    async with start_bot(message_content=True):
        await standin.user_message(world.ask_channel.id, world.alice.id, "what is xgboost")
        reply = await standin.wait_for_message(lambda m: m.channel_id == world.ask_channel.id, timeout=30)
        assert "XGBoost" in embed_text(reply)


async def test_user_text_never_pings(standin: DiscordStandin, world: World, start_bot: BotFactory) -> None:
    async with start_bot():
        run = await standin.slash(
            world.guild.id,
            world.channel.id,
            world.alice.id,
            "ask",
            {"question": f"@everyone @here <@{world.bob.id}> <@&{world.guild.id}> what is softmax"},
        )
        final = await run.wait_final(timeout=30)
        assert not standin.pings(final)
        assert final.allowed_mentions == {"parse": []} or final.allowed_mentions.get("parse") == []


async def test_progress_survives_a_restart(standin: DiscordStandin, world: World, start_bot: BotFactory) -> None:
    g, c, alice = world.guild.id, world.channel.id, world.alice.id
    async with start_bot():
        await (await standin.slash(g, c, alice, "done", {"topic": "ensemble-methods"})).wait_final()
    async with start_bot():
        progress = await standin.slash(g, c, alice, "progress")
        assert "1/4" in (await progress.wait_final()).embeds[0]["description"]


async def test_twenty_concurrent_asks_are_all_acknowledged_in_time(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    members = [standin.add_member(world.guild.id, f"learner{i}") for i in range(20)]
    questions = ["what is lasso", "adam optimizer", "how to deploy with docker", "what is roc auc", "explain lstm"]
    async with start_bot():
        runs = await asyncio.gather(
            *(
                standin.slash(world.guild.id, world.channel.id, m.id, "ask", {"question": questions[i % 5]})
                for i, m in enumerate(members)
            )
        )
        finals = await asyncio.gather(*(run.wait_final(timeout=60) for run in runs))
        assert all(run.ack_latency is not None and run.ack_latency < 3.0 for run in runs)
        assert all(final.embeds for final in finals)
        assert not standin.rejections


async def test_run_uses_configured_endpoints_and_reports_token_problems(
    standin: DiscordStandin, world: World, tmp_path, real_answerer, monkeypatch
) -> None:
    monkeypatch.setattr("bot.serving.open_answerer", lambda settings: real_answerer)
    endpoints = {"api_base_url": standin.api_base_url, "gateway_url": standin.gateway_url}
    with pytest.raises(StartupError, match="no Discord token"):
        await serve(bot_settings(tmp_path, world, **endpoints))
    wrong = bot_settings(tmp_path, world, token="not-the-token", **endpoints)
    with pytest.raises(StartupError, match="rejected the token") as caught:
        await serve(wrong)
    assert "not-the-token" not in str(caught.value)

    good = bot_settings(tmp_path, world, token=standin.valid_token, **endpoints)
    task = asyncio.create_task(serve(good))
    try:
        await standin.wait_identified(1, timeout=60)
        await standin.wait_for(lambda: standin.commands.get(world.guild.id), timeout=30)
        run = await standin.slash(
            world.guild.id, world.channel.id, world.alice.id, "ask", {"question": "what is keras"}
        )
        assert "Keras" in embed_text(await run.wait_final(timeout=30))
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
