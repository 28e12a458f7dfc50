"""Quizzes, reviews, reminders and the progress card end to end: the real bot on a simulated clock, through the
Discord stand-in (button clicks on ephemeral messages, file attachments, DMs and closed DMs)."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.answering import Answerer
from bot.discord_app.client import TutorBot
from bot.discord_app.quiz import NOT_YOURS
from bot.tutor import Member
from standin import CallbackType, DiscordStandin, InteractionRecord, Message
from tests.bot.discord_app.conftest import BotFactory, SimClock, World

pytestmark = [pytest.mark.model]

TICK = 0.02
MONDAY = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
LETTERS = "ABCDE"


async def run(standin: DiscordStandin, world: World, user_id: int, name: str, **options: Any) -> InteractionRecord:
    subcommand = options.pop("subcommand", None)
    record = await standin.slash(world.guild.id, world.channel.id, user_id, name, options or None, subcommand)
    await record.wait_final(timeout=30)
    return record


def answer_buttons(message: Message) -> dict[str, dict[str, Any]]:
    """Letter → the button, from the first row of a quiz message."""
    return {c["label"]: c for c in message.components[0]["components"]}


def key_of(message: Message) -> str:
    return answer_buttons(message)["A"]["custom_id"].split(":")[3]


def right_and_wrong(bot: TutorBot, message: Message) -> tuple[str, str]:
    """The custom ids of the right answer and of a wrong one on a quiz message."""
    entry = bot.tutor.kb.quiz_question(key_of(message))
    assert entry is not None
    buttons = list(answer_buttons(message).values())
    wrong = next(i for i in range(len(buttons)) if i != entry.item.answer)
    return buttons[entry.item.answer]["custom_id"], buttons[wrong]["custom_id"]


def button(message: Message, label: str) -> str:
    for row in message.components:
        for component in row.get("components") or []:
            if component.get("label", "").endswith(label) or component.get("label") == label:
                return component["custom_id"]
    raise LookupError(f"no button {label!r} on the message")


def timestamps(text: str) -> list[int]:
    return [int(t) for t in re.findall(r"<t:(\d+):R>", text)]


async def reminder_ticks(standin: DiscordStandin, bot: TutorBot, n: int = 3) -> None:
    cog = bot.get_cog("Quizzes")
    target = cog.ticks + n  # type: ignore[union-attr]
    await standin.wait_for(lambda: cog.ticks >= target, timeout=10, what=f"{n} reminder ticks")  # type: ignore[union-attr]


async def test_a_quiz_answered_right_and_wrong_explains_links_the_topic_and_offers_another(
    standin: DiscordStandin, world: World, start_bot: BotFactory, quiz_answerer: Answerer
) -> None:
    alice, bob = world.alice.id, world.bob.id
    async with start_bot(answerer=quiz_answerer) as bot:
        quiz = await run(standin, world, alice, "quiz", topic="regularization")
        question = quiz.final
        assert quiz.ephemeral and question is not None and question.ephemeral
        assert question.embeds[0]["title"] == "Quiz · Regularization" and "**A.** " in question.text()
        assert "".join(answer_buttons(question)) == LETTERS[: len(answer_buttons(question))]

        right, wrong = right_and_wrong(bot, question)
        with pytest.raises(PermissionError):  # ephemeral: Bob's client never shows it
            await standin.click(question, right, bob)
        forged = await standin.click(question, right, bob, force=True)
        assert (await forged.wait_final()).content == NOT_YOURS and forged.ephemeral
        assert await bot.store.quiz_history(world.guild.id, bob) == {}

        click = await standin.click(question, right, alice)
        assert (await click.wait_response()).type == CallbackType.DEFERRED_UPDATE_MESSAGE
        await standin.wait_for(lambda: question.embeds[0]["title"].startswith("✅ Right"), what="the answer shown")
        shown = question.text()
        assert "**Why " in shown and "**Why not " in shown and "Next review of **Regularization**" in shown
        assert "Study Regularization" in shown and "/topic Regularization" in shown
        assert all(b.get("disabled") for b in answer_buttons(question).values())
        assert {b["style"] for b in answer_buttons(question).values()} == {2, 3}  # grey and green, no red

        topic = await standin.click(question, button(question, "Regularization"), alice)
        assert (await topic.wait_final()).embeds[0]["title"] == "Regularization" and topic.ephemeral

        more = await standin.click(question, button(question, "Another question"), alice)
        second = await more.wait_final(timeout=30)
        assert more.ephemeral and second.embeds[0]["title"] == "Quiz · Regularization"
        assert key_of(second) != key_of(question)  # not again in this session
        _, wrong = right_and_wrong(bot, second)
        missed = await standin.click(second, wrong, alice)
        await missed.wait_response()
        await standin.wait_for(lambda: second.embeds[0]["title"].startswith("❌ Not quite"), what="the miss shown")
        assert "comes back for review" in second.text()
        assert {b["style"] for b in answer_buttons(second).values()} >= {3, 4}  # the right one green, hers red

        history = await bot.store.quiz_history(world.guild.id, alice)
        assert sorted((h.answered, h.right) for h in history.values()) == [(1, 0), (1, 1)]
        stats = await run(standin, world, world.admin.id, "admin", subcommand="stats")
        assert "Regularization · 2 answers · 50% right" in stats.final.text()  # type: ignore[union-attr]
    standin.assert_clean()


async def test_reviews_come_due_as_the_clock_moves_and_the_reminder_goes_out_once_a_day(
    standin: DiscordStandin, world: World, start_bot: BotFactory, quiz_answerer: Answerer
) -> None:
    alice = world.alice.id
    clock = SimClock(MONDAY)
    async with start_bot(answerer=quiz_answerer, clock=clock, clock_tick=TICK) as bot:
        await run(standin, world, alice, "done", topic="regularization")
        on = await run(standin, world, alice, "review", remind="on", hour=9, timezone="europe/berlin")
        assert "a DM at 09:00 (Europe/Berlin)" in on.final.content  # type: ignore[union-attr]
        listed = (await run(standin, world, alice, "review")).final
        assert listed is not None and "Nothing is due right now" in listed.text()
        assert timestamps(listed.text()) == [int((MONDAY + timedelta(days=2)).timestamp())]
        assert button(listed, "Practise now")

        clock.advance(days=1, hours=3)  # Tuesday 10:00 in Berlin: the hour has passed, nothing due yet
        await reminder_ticks(standin, bot)
        assert standin.dms_to(alice) == []

        clock.advance(days=1)  # Wednesday 10:00 in Berlin: due since 07:00
        await standin.wait_for(lambda: standin.dms_to(alice), timeout=10, what="the reminder DM")
        await reminder_ticks(standin, bot, 10)
        [dm] = standin.dms_to(alice)
        assert dm.embeds[0]["title"] == "Time to review" and "**Regularization**" in dm.text()
        assert "in **AI Learners**" in dm.text()

        due = (await run(standin, world, alice, "review")).final
        assert due is not None and "1 due now" in due.text() and "🔁 **Regularization**" in due.text()
        start = await standin.click(due, button(due, "Start review"), alice)
        question = await start.wait_final(timeout=30)
        assert "is due for review" in question.text() and question.embeds[0]["title"] == "Quiz · Regularization"

        clock.advance(hours=12)  # Wednesday 22:00: the day's reminder is spent
        await reminder_ticks(standin, bot)
        clock.advance(hours=10)  # Thursday 08:00: before the hour
        await reminder_ticks(standin, bot)
        assert len(standin.dms_to(alice)) == 1
        clock.advance(hours=1)  # Thursday 09:00, still due: the next day's one
        await standin.wait_for(lambda: len(standin.dms_to(alice)) == 2, timeout=10, what="Thursday's reminder")
        await reminder_ticks(standin, bot, 10)
        assert len(standin.dms_to(alice)) == 2
    standin.assert_clean()


async def test_closed_dms_are_told_once_in_the_server_and_not_tried_again(
    standin: DiscordStandin, world: World, start_bot: BotFactory, quiz_answerer: Answerer
) -> None:
    alice = world.alice.id
    clock = SimClock(MONDAY)
    standin.close_dms(alice)
    async with start_bot(answerer=quiz_answerer, clock=clock, clock_tick=TICK) as bot:
        await run(standin, world, alice, "done", topic="regularization")
        await run(standin, world, alice, "review", remind="on", hour=7, timezone="UTC")
        clock.advance(days=3, hours=2)  # Thursday 08:00: due since Wednesday, past the hour

        def told() -> list[Message]:
            return [m for m in standin.messages if m.channel_id == world.channel.id and m.kind == "channel"]

        await standin.wait_for(told, timeout=10, what="the note in the server")
        [note] = told()
        assert note.content.startswith(f"<@{alice}> I couldn't send your review reminder")
        assert note.allowed_mentions == {"parse": [], "users": [alice]}  # pings Alice, nobody else
        refused = [r for r in standin.rejections if r.code == 50007]
        assert len(refused) == 1
        for _ in range(4):  # the following days: no DM tried, nothing more said
            clock.advance(days=1)
            await reminder_ticks(standin, bot)
        assert len(told()) == 1 and len([r for r in standin.rejections if r.code == 50007]) == 1
        paused = (await run(standin, world, alice, "review")).final
        assert paused is not None and "Paused: I couldn't DM you" in paused.text()

        standin.open_dms(alice)
        await run(standin, world, alice, "review", remind="on")  # the same hour and zone as before
        clock.advance(days=1)
        await standin.wait_for(lambda: standin.dms_to(alice), timeout=10, what="a reminder once DMs are open")
    assert [r.code for r in standin.rejections] == [50007]


async def test_a_restart_mid_schedule_keeps_reviews_buttons_and_the_days_reminder(
    standin: DiscordStandin, world: World, start_bot: BotFactory, quiz_answerer: Answerer
) -> None:
    alice = world.alice.id
    clock = SimClock(MONDAY)
    async with start_bot(answerer=quiz_answerer, clock=clock, clock_tick=TICK) as bot:
        await run(standin, world, alice, "done", topic="evaluation-metrics")
        await run(standin, world, alice, "review", remind="on", hour=8, timezone="UTC")
        question = (await run(standin, world, alice, "quiz", topic="activation-functions")).final
        assert question is not None
        clock.advance(days=2, hours=3)  # Wednesday 09:00: metrics due since 06:00, today's reminder goes out
        await standin.wait_for(lambda: standin.dms_to(alice), timeout=10, what="Wednesday's reminder")
    assert len(standin.dms_to(alice)) == 1

    clock.advance(hours=2)  # restarted the same day: no second reminder
    async with start_bot(answerer=quiz_answerer, clock=clock, clock_tick=TICK) as bot:
        await reminder_ticks(standin, bot, 5)
        assert len(standin.dms_to(alice)) == 1
        right, _ = right_and_wrong(bot, question)
        click = await standin.click(question, right, alice)  # a question shown before the restart
        await click.wait_response()
        await standin.wait_for(lambda: question.embeds[0]["title"].startswith("✅ Right"), what="the answer")
        pick = await bot.tutor.quiz(Member(world.guild.id, alice))
        assert (pick.topic.topic.id, pick.why) == ("evaluation-metrics", "due")  # the schedule survived
        clock.advance(days=1)  # Thursday 11:00: still due, one more
        await standin.wait_for(lambda: len(standin.dms_to(alice)) == 2, timeout=10, what="Thursday's reminder")
    standin.assert_clean()


async def test_the_progress_card_is_an_attached_png_beside_the_text(
    standin: DiscordStandin, world: World, start_bot: BotFactory, quiz_answerer: Answerer
) -> None:
    alice = world.alice.id
    clock = SimClock(MONDAY)
    async with start_bot(answerer=quiz_answerer, clock=clock):
        await run(standin, world, alice, "done", topic="regularization")
        await run(standin, world, alice, "done", topic="keras")
        clock.advance(days=3)
        progress = await run(standin, world, alice, "progress")
        shown = progress.final
        assert progress.ephemeral and shown is not None
        [card] = shown.attachments
        assert card.filename == "progress.png" and card.data.startswith(b"\x89PNG\r\n\x1a\n")
        assert 1000 < card.size < standin.attachment_size_limit
        embed = shown.embeds[0]
        assert embed["image"]["url"] == "attachment://progress.png"
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields["Topics done"] == "2 of 21" and fields["Reviews due"] == "2"
        assert "🔁 Regularization · due for review <t:" in fields["Step 1: Deepen Your Knowledge of Machine Learning"]
        text_only = (await run(standin, world, alice, "progress", card=False)).final
        assert text_only is not None and text_only.attachments == [] and "image" not in text_only.embeds[0]
    standin.assert_clean()


async def test_forget_leaves_nothing_of_quizzes_reviews_or_reminders(
    standin: DiscordStandin, world: World, start_bot: BotFactory, quiz_answerer: Answerer, tmp_path: Any
) -> None:
    alice = world.alice.id
    clock = SimClock(MONDAY)
    async with start_bot(answerer=quiz_answerer, clock=clock, clock_tick=TICK) as bot:
        await run(standin, world, alice, "done", topic="regularization")
        question = (await run(standin, world, alice, "quiz", topic="regularization")).final
        assert question is not None
        right, _ = right_and_wrong(bot, question)
        await (await standin.click(question, right, alice)).wait_response()
        await run(standin, world, alice, "review", remind="on", hour=9, timezone="UTC")
        await run(standin, world, world.bob.id, "done", topic="keras")

        prompt = (await run(standin, world, alice, "privacy", subcommand="forget")).final
        assert prompt is not None and "quiz answers, your review schedule" in prompt.content
        confirm = await standin.click(prompt, button(prompt, "Delete my data"), alice)
        await confirm.wait_response()

        with sqlite3.connect(bot.settings.database_path) as db:
            tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            member_tables = [t for t in tables if "user_id" in [c[1] for c in db.execute(f"PRAGMA table_info({t})")]]
            left = {
                t: db.execute(f"SELECT COUNT(*) FROM {t} WHERE user_id = ?", (alice,)).fetchone()[0]
                for t in member_tables
            }
            bobs = db.execute("SELECT COUNT(*) FROM review_cards WHERE user_id = ?", (world.bob.id,)).fetchone()[0]
        assert {"review_cards", "quiz_attempts", "review_reminders"} <= set(member_tables)
        assert left == dict.fromkeys(member_tables, 0) and bobs == 1

        clock.advance(days=3)  # her review would have been due: no reminder for someone forgotten
        await reminder_ticks(standin, bot)
        assert standin.dms_to(alice) == []
        again = (await run(standin, world, alice, "quiz", topic="regularization")).final
        assert again is not None and again.embeds[0]["title"] == "Quiz · Regularization"  # a fresh session
        exported = (await run(standin, world, alice, "privacy", subcommand="export")).final
        assert exported is not None
        assert b'"review_schedule": []' in exported.attachments[0].data
    standin.assert_clean()
