"""Follow-up questions end to end: replies to an answer, threads on an answer or opened by the tutor, and DMs
soon after an answer, read in the context of the answer they follow (issue 16)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.tutor import Member
from standin import DiscordStandin, Message
from tests.bot.discord_app.conftest import BotFactory, SimClock, World
from tests.bot.discord_app.test_weekly_e2e import TICK, admin_weekly_set, prompt_of, wait_posts

pytestmark = [pytest.mark.model]

DONT_KNOW = "I don't know that one"
ROOMY = {"rate": 30, "per_seconds": 60}  # the per-member question limit out of the way


def title(message: Message) -> str:
    return message.embeds[0]["title"]


async def answer_to(standin: DiscordStandin, question: Message) -> Message:
    """The tutor's reply to a member's message."""
    return await standin.wait_for_message(lambda m: m.reply_to == question.id, timeout=30)


async def unanswered(standin: DiscordStandin, question: Message) -> bool:
    await asyncio.sleep(0.5)
    return not [m for m in standin.messages if m.reply_to == question.id]


async def test_replies_to_an_answer_are_answered_in_its_context_unless_they_have_a_subject_of_their_own(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    c, alice = world.channel.id, world.alice.id
    async with start_bot(ask_cooldown=ROOMY):
        asked = await standin.user_message(c, alice, "what is dropout", mentions_bot=True)
        answer = await answer_to(standin, asked)
        assert title(answer) == "Regularization"

        why = await standin.user_message(c, alice, "why is that?", reply_to=answer)  # a pinging reply
        assert title(await answer_to(standin, why)) == "Regularization"
        alone = await standin.user_message(c, alice, "why is that?", mentions_bot=True)  # no reply: read alone
        assert title(await answer_to(standin, alone)) == DONT_KNOW

        new_subject = await standin.user_message(c, alice, "ok thanks. what is xgboost?", reply_to=answer)
        assert title(await answer_to(standin, new_subject)) == "XGBoost"
        beyond = await standin.user_message(c, alice, "and GANs?", reply_to=answer)
        assert title(await answer_to(standin, beyond)) == "That's beyond this roadmap"
        unrelated = await standin.user_message(c, alice, "how do i make sourdough bread?", reply_to=answer)
        assert title(await answer_to(standin, unrelated)) == DONT_KNOW

        # /ask's answers are followed up by replies too.
        run = await standin.slash(world.guild.id, c, world.bob.id, "ask", {"question": "what is f1 score"})
        f1 = await run.wait_final(timeout=30)
        example = await standin.user_message(c, world.bob.id, "example please", reply_to=f1)
        assert title(await answer_to(standin, example)) == "F1-Score"

        # Without a ping and without the Message Content intent the reply arrives blank: nothing to answer.
        quiet = await standin.user_message(c, alice, "and in pytorch?", reply_to=answer, ping_reply=False)
        assert await unanswered(standin, quiet)
        assert not standin.rejections


async def test_a_thread_on_an_answer_and_an_unpinged_reply_are_followed_up_with_the_message_content_intent(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    c, alice, bob = world.channel.id, world.alice.id, world.bob.id
    async with start_bot(message_content=True, ask_cooldown=ROOMY):
        asked = await standin.user_message(c, alice, "what is dropout", mentions_bot=True)
        answer = await answer_to(standin, asked)
        quiet = await standin.user_message(c, alice, "example in pytorch?", reply_to=answer, ping_reply=False)
        assert title(await answer_to(standin, quiet)) == "Regularization"  # alone, PyTorch

        thread = await standin.user_thread(answer, bob, "dropout questions")
        why = await standin.user_message(thread.id, bob, "why is that?")  # unmentioned, in the thread
        in_thread = await answer_to(standin, why)
        assert in_thread.channel_id == thread.id and title(in_thread) == "Regularization"
        gans = await standin.user_message(thread.id, bob, "and GANs?")
        assert title(await answer_to(standin, gans)) == "That's beyond this roadmap"
        # Elsewhere in the channel, plain messages are still not questions.
        assert await unanswered(standin, await standin.user_message(c, bob, "why is that?"))
        assert not standin.rejections


async def test_a_question_in_the_weekly_projects_thread_follows_up_the_project(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    clock = SimClock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))  # Monday; the post is due at 10:00 in Berlin
    async with start_bot(clock=clock, clock_tick=TICK) as bot:
        await admin_weekly_set(standin, world, world.channel.id, 0, "10:00", "Europe/Berlin")
        clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
        [post] = await wait_posts(standin, world.channel.id, 1)
        [thread] = await standin.wait_for(lambda: standin.threads, what="the submissions thread")
        prompt = prompt_of(bot, post)
        kb = bot.tutor.kb
        about = {prompt.title} | {kb.topics[t].topic.title for t in prompt.topics}
        about |= {e.concept.title for e in kb.concepts.values() if e.topic.topic.id in prompt.topics}

        tips = await standin.user_message(thread.id, world.alice.id, "any tips for this project?", mentions_bot=True)
        assert title(await answer_to(standin, tips)) in about
        elsewhere = await standin.user_message(
            world.channel.id, world.alice.id, "any tips for this project?", mentions_bot=True
        )
        # Outside the thread the same words are read alone: they reach what they reach with no context (the
        # week's prompt is drawn by the guild's id, so now and then that is the project itself).
        alone = await bot.tutor.ask(Member(world.guild.id, world.alice.id), "any tips for this project?")
        assert title(await answer_to(standin, elsewhere)) == alone.headline


async def test_a_dm_follows_up_the_last_answer_within_the_window_and_not_after(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    clock = SimClock(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    dm = standin.dm_channel(world.alice)
    async with start_bot(clock=clock, follow_up_minutes=5, ask_cooldown=ROOMY):
        asked = await standin.user_message(dm.id, world.alice.id, "what is dropout")
        assert title(await answer_to(standin, asked)) == "Regularization"
        clock.advance(minutes=4)
        within = await standin.user_message(dm.id, world.alice.id, "why is that?")
        assert title(await answer_to(standin, within)) == "Regularization"
        clock.advance(minutes=5, seconds=1)  # five minutes and a second after the last answer
        after = await standin.user_message(dm.id, world.alice.id, "why is that?")
        assert title(await answer_to(standin, after)) == DONT_KNOW
        # Another member's DMs follow their own answers only.
        clock.advance(seconds=30)
        other = await standin.user_message(standin.dm_channel(world.bob).id, world.bob.id, "why is that?")
        assert title(await answer_to(standin, other)) == DONT_KNOW
