"""`/admin` end to end: who may use it, reindexing under load, stats, unanswered questions, ask channels."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.answering import Answerer
from indexer.documents import build_documents
from indexer.encoders import Encoder
from indexer.search import SearchIndex
from knowledge.loader import KnowledgeBase
from standin import DiscordStandin
from tests.bot.discord_app.conftest import MANAGE_GUILD, NOTE, NOTE_QUESTION, NOTE_TITLE, BotFactory, SimClock, World

pytestmark = [pytest.mark.model]


# Enough options to run each subcommand; the schema says which ones a subcommand requires.
OPTION_VALUES = {"weekday": 0, "time": "09:00", "timezone": "UTC", "question": "who painted it?", "entry": "docker"}


@pytest.fixture
def fresh_answerer(shipped_kb: KnowledgeBase, real_encoder: Encoder, real_data_dir: Path) -> Answerer:
    """An answerer of its own, so a reindex swaps nothing the other tests share."""
    return Answerer(shipped_kb, SearchIndex.load(real_data_dir / "index"), real_encoder)


def admin_subcommands(standin: DiscordStandin, guild_id: int) -> list[tuple[str, list[dict[str, Any]]]]:
    """Every `/admin ...` subcommand as synced, with its options: ("weekly set", [...]), ("reindex", [...])..."""
    admin = next(c for c in standin.commands[guild_id] if c["name"] == "admin")
    found = []
    for option in admin["options"]:
        if option["type"] == 2:
            found += [(f"{option['name']} {sub['name']}", sub.get("options") or []) for sub in option["options"]]
        else:
            found.append((option["name"], option.get("options") or []))
    return found


async def test_plain_members_are_refused_every_admin_command_even_when_they_force_it(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, c = world.guild.id, world.channel.id
    async with start_bot() as bot:
        kb_before = bot.tutor.kb
        admin = next(cmd for cmd in standin.commands[g] if cmd["name"] == "admin")
        assert int(admin["default_member_permissions"]) == MANAGE_GUILD
        subcommands = admin_subcommands(standin, g)
        names = {name for name, _ in subcommands}
        assert {"weekly set", "weekly on", "weekly off", "weekly show", "reindex", "stats", "unanswered"} <= names
        assert {"ask-channels add", "ask-channels remove", "ask-channels list"} <= names
        assert {"feedback", "teach", "untaught"} <= names
        for name, options in subcommands:
            values = {
                o["name"]: world.channel.id if o["type"] == 7 else OPTION_VALUES[o["name"]]
                for o in options
                if o.get("required")
            }
            with pytest.raises(PermissionError):  # Discord doesn't even offer it to them
                await standin.slash(g, c, world.alice.id, "admin", values, subcommand=name)
            forced = await standin.slash(g, c, world.alice.id, "admin", values, subcommand=name, force=True)
            reply = await forced.wait_final()
            assert forced.ephemeral, name
            assert "Only server admins" in reply.content, name
        assert await bot.store.get_weekly_settings(g) is None
        assert await bot.store.get_ask_channels(g) == set()
        assert bot.tutor.kb is kb_before
        assert not (bot.settings.data_dir / "taught.yaml").exists() and bot.tutor.teacher.current == []
        assert not [m for m in standin.messages if not m.ephemeral]
    assert not standin.rejections


async def test_admin_role_from_config_and_manage_server_both_grant_admin(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, c = world.guild.id, world.channel.id
    role = standin.add_role(g, "tutor-admins")
    helper = standin.add_member(g, "helper", roles=[role])
    async with start_bot(admin_role_ids=[role.id]):
        # The role gives no Manage Server, so Discord hides the command unless the server allows the role.
        as_role = await standin.slash(g, c, helper.id, "admin", subcommand="weekly show", force=True)
        assert "Not set up yet" in (await as_role.wait_final()).text()
        as_manager = await standin.slash(g, c, world.admin.id, "admin", subcommand="weekly show")
        assert "Not set up yet" in (await as_manager.wait_final()).text()
    async with start_bot():  # without the role in the config, the same member is refused
        refused = await standin.slash(g, c, helper.id, "admin", subcommand="weekly show", force=True)
        assert "Only server admins" in (await refused.wait_final()).content


async def test_reindex_while_questions_are_asked_swaps_in_the_new_index(
    standin: DiscordStandin, world: World, start_bot: BotFactory, tmp_path: Path, fresh_answerer: Answerer
) -> None:
    g, c = world.guild.id, world.channel.id
    notes = tmp_path / "notes"
    notes.mkdir()
    members = [standin.add_member(g, f"learner{i}") for i in range(30)]
    questions = ["what is lasso", "adam optimizer", "how do transformers use attention", "what is dropout"]
    async with start_bot(answerer=fresh_answerer, config={"knowledge": {"dirs": [str(notes)]}}) as bot:
        before = await standin.slash(g, c, world.alice.id, "ask", {"question": NOTE_QUESTION})
        assert (await before.wait_final(timeout=30)).embeds[0]["title"] != NOTE_TITLE
        old_kb = bot.tutor.kb

        (notes / "gpu-booking.md").write_text(NOTE, encoding="utf-8")
        reindex = await standin.slash(g, c, world.admin.id, "admin", subcommand="reindex")
        await reindex.wait_response()
        assert reindex.deferred and reindex.ephemeral
        second = await standin.slash(g, c, world.admin.id, "admin", subcommand="reindex")
        assert "already running" in (await second.wait_final()).content and second.ephemeral

        asked, answered_during = [], 0
        for i, member in enumerate(members):  # keep asking until the reindex reports back
            if reindex.final is not None:
                break
            run = await standin.slash(g, c, member.id, "ask", {"question": questions[i % len(questions)]})
            asked.append(run)
            await run.wait_final(timeout=30)
            answered_during += reindex.final is None
        done = await reindex.wait_final(timeout=120)
        assert answered_during >= 2  # questions were answered while the index was being rebuilt
        assert all(run.ack_latency is not None and run.ack_latency < 3.0 for run in asked)
        assert all(run.final is not None and run.final.embeds and not run.ephemeral for run in asked)
        assert "Rebuilt the index" in done.content
        assert f"{len(build_documents(bot.tutor.kb))} documents" in done.content
        assert bot.tutor.kb is not old_kb and [n.title for n in bot.tutor.kb.notes] == [NOTE_TITLE]

        after = await standin.slash(g, c, world.bob.id, "ask", {"question": NOTE_QUESTION})
        answer = (await after.wait_final(timeout=30)).embeds[0]
        assert answer["title"] == NOTE_TITLE
        assert "#gpu-bookings" in answer["description"]
    assert not standin.rejections and not standin.internal_errors


async def test_a_broken_knowledge_file_fails_the_reindex_with_file_field_and_reason_and_the_old_index_serves(
    standin: DiscordStandin, world: World, start_bot: BotFactory, tmp_path: Path, fresh_answerer: Answerer
) -> None:
    g, c = world.guild.id, world.channel.id
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "broken.md").write_text("---\naliases: [oops]\n---\nA note whose front matter has no title.\n")
    async with start_bot(answerer=fresh_answerer, config={"knowledge": {"dirs": [str(notes)]}}) as bot:
        old_kb, old_index = bot.tutor.kb, bot.tutor.answerer.index
        reindex = await standin.slash(g, c, world.admin.id, "admin", subcommand="reindex")
        report = await reindex.wait_final(timeout=60)
        assert reindex.ephemeral
        fields = {f["name"]: f["value"] for f in report.embeds[0]["fields"]}
        assert fields["File"].endswith("broken.md`")
        assert fields["Field"] == "`title`"
        assert "Field required" in fields["Reason"]
        assert "kept the current index" in report.embeds[0]["description"]
        assert bot.tutor.kb is old_kb and bot.tutor.answerer.index is old_index

        answer = await standin.slash(g, c, world.alice.id, "ask", {"question": "what is xgboost"})
        assert "XGBoost" in (await answer.wait_final(timeout=30)).text()

        # Half fixed: the next reindex runs (the failure released the lock) and names the next problem.
        (notes / "broken.md").write_text("---\ntitle: Oops\ntopics: [no-such-topic]\n---\nA note about nothing.\n")
        again = await standin.slash(g, c, world.admin.id, "admin", subcommand="reindex")
        fields = {f["name"]: f["value"] for f in (await again.wait_final(timeout=60)).embeds[0]["fields"]}
        assert fields["Field"] == "`topics[0]`" and "no-such-topic" in fields["Reason"]
        assert bot.tutor.kb is old_kb
    assert not standin.rejections


async def test_stats_and_unanswered_show_the_window_grouped_by_topic_with_user_text_inert(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, c = world.guild.id, world.channel.id
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    clock = SimClock(now)
    async with start_bot(clock=clock) as bot:
        store = bot.store
        day = timedelta(days=1)
        log = [
            (world.alice.id, "what is l1 regularisation", "regularization", False, now - day),
            (world.alice.id, "ridge vs lasso", "regularization", False, now - 2 * day),
            (world.bob.id, "adam vs sgd", "optimization-algorithms", False, now - day),
            (world.bob.id, f"@everyone <@&{g}> **bold** regularise a llama?", "regularization", True, now - day),
            (world.alice.id, "regularising my sourdough starter", "regularization", True, now - 3 * day),
            (world.alice.id, "who painted the Mona Lisa", None, True, now - 2 * day),
            (world.bob.id, "an old unanswered question", "regularization", True, now - 40 * day),
        ]
        for user, question, topic, abstained, at in log:
            await store.log_question(g, user, question, topic, abstained, at)
        await store.log_question(world.other_guild.id, world.stranger.id, "elsewhere?", None, True, now - day)
        await store.mark_done(g, world.alice.id, "regularization", now - day)
        await store.mark_done(g, world.bob.id, "regularization", now - 50 * day)

        stats = await standin.slash(g, c, world.admin.id, "admin", {"days": 30}, subcommand="stats")
        embed = (await stats.wait_final()).embeds[0]
        assert stats.ephemeral
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields["Active members"] == "2"
        assert fields["Topics completed"] == "1"
        assert fields["Questions asked"] == "6"
        assert fields["Couldn't answer"].startswith("3 ")
        assert fields["Most asked topics"].splitlines() == ["1. Regularization · 2", "2. Optimization Techniques · 1"]

        unanswered = await standin.slash(g, c, world.admin.id, "admin", subcommand="unanswered")
        message = await unanswered.wait_final()
        embed = message.embeds[0]
        groups = [(f["name"], f["value"]) for f in embed["fields"]]
        assert [name for name, _ in groups] == ["Regularization (2)", "No close topic (1)"]
        regularization = groups[0][1]
        assert regularization.index("llama") < regularization.index("sourdough")  # newest first
        assert "old unanswered" not in message.text() and "elsewhere" not in message.text()
        assert "@everyone" not in regularization and f"<@&{g}>" not in regularization
        assert "\\*\\*bold\\*\\*" in regularization
        assert not standin.pings(message)

        for i in range(100):  # a flood of long questions still fits Discord's embed limits
            await store.log_question(g, world.alice.id, f"question {i} " + "why " * 250, f"topic-{i % 15}", True, now)
        flood = await standin.slash(g, c, world.admin.id, "admin", {"limit": 100}, subcommand="unanswered")
        assert (await flood.wait_final()).embeds[0]["fields"]
    assert not standin.rejections


async def test_ask_channels_add_list_remove_and_warn_when_message_content_is_off(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, c, ask = world.guild.id, world.channel.id, world.ask_channel.id
    async with start_bot() as bot:
        added = await standin.slash(g, c, world.admin.id, "admin", {"channel": ask}, subcommand="ask-channels add")
        text = (await added.wait_final()).content
        assert f"<#{ask}>" in text and "message_content" in text and "Message Content intent" in text
        assert await bot.ask_channels(g) == {ask}
        listed = await standin.slash(g, c, world.admin.id, "admin", subcommand="ask-channels list")
        assert f"Ask channels: <#{ask}>" in (await listed.wait_final()).content
    async with start_bot(message_content=True) as bot:
        listed = await standin.slash(g, c, world.admin.id, "admin", subcommand="ask-channels list")
        text = (await listed.wait_final()).content
        assert f"<#{ask}>" in text and "message_content" not in text
        await standin.user_message(ask, world.alice.id, "what is xgboost")
        reply = await standin.wait_for_message(lambda m: m.channel_id == ask, timeout=30)
        assert "XGBoost" in reply.text()

        removed = await standin.slash(g, c, world.admin.id, "admin", {"channel": ask}, subcommand="ask-channels remove")
        assert "no longer" in (await removed.wait_final()).content
        assert await bot.ask_channels(g) == set()
        await standin.user_message(ask, world.alice.id, "what is catboost")
        await asyncio.sleep(0.5)
        assert len([m for m in standin.messages if m.channel_id == ask]) == 1
    assert not standin.rejections
