"""Feedback on answers end to end: the helpful and not-helpful buttons under /ask, mention and DM answers, the form
asking what the member was looking for (a modal), only for the member who asked, kept with the question; and
/admin feedback, paged within Discord's limits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot.discord_app.client import TutorBot
from bot.storage.base import FeedbackSummary
from standin import CallbackType, DiscordStandin, Message
from tests.bot.discord_app.conftest import BotFactory, World

pytestmark = [pytest.mark.model]

QUESTION = "what is dropout"


def feedback_ids(message: Message) -> dict[str, str]:
    """The answer's feedback buttons by verdict ("up", "down") → custom id."""
    return {c.split(":")[2]: c for c in message.custom_ids() if c.startswith("tutor:fb:")}


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait until `check` holds (saving follows the reply it does not hold up)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the condition never held")
        await asyncio.sleep(0.02)


async def summary(bot: TutorBot, guild_id: int) -> FeedbackSummary:
    return await bot.store.feedback_summary(guild_id, bot.clock() - timedelta(days=1), 100)


async def test_helpful_and_not_helpful_are_kept_with_the_question_and_refused_to_anyone_else(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, c, alice, bob = world.guild.id, world.channel.id, world.alice.id, world.bob.id
    async with start_bot() as bot:
        ask = await standin.slash(g, c, alice, "ask", {"question": QUESTION})
        answer = await ask.wait_final(timeout=30)
        buttons = feedback_ids(answer)
        assert set(buttons) == {"up", "down"} and all(f":{alice}:" in b for b in buttons.values())

        for verdict in ("up", "down"):  # Bob sees the public answer, but it is not his to rate
            refused = await standin.click(answer, buttons[verdict], bob)
            reply = await refused.wait_final()
            assert refused.ephemeral and "Only the member who asked" in reply.content
        assert (await summary(bot, g)).helpful == 0 and (await summary(bot, g)).unhelpful == 0

        helpful = await standin.click(answer, buttons["up"], alice)
        assert "glad it helped" in (await helpful.wait_final()).content and helpful.ephemeral
        assert (await summary(bot, g)).helpful == 1

        unhelpful = await standin.click(answer, buttons["down"], alice)
        await unhelpful.wait_response()
        assert unhelpful.response_type == CallbackType.MODAL  # the form is the response to the click
        form = unhelpful.modal
        assert form is not None and form["title"] == "What were you looking for?"
        await eventually(lambda: _counts(bot, g, helpful=0, unhelpful=1))  # the mark counts before any text

        wanted = "@everyone a **code** example <@&123> please"
        forged = await standin.submit_modal(unhelpful, {"looking_for": "not alice"}, user_id=bob)
        assert "Only the member who asked" in (await forged.wait_final()).content
        submitted = await standin.submit_modal(unhelpful, {"looking_for": wanted})
        assert "noted it" in (await submitted.wait_final()).content and submitted.ephemeral
        (kept,) = (await summary(bot, g)).questions
        assert (kept.question, kept.helpful, kept.looking_for) == (QUESTION, False, wanted)
        assert bot.tutor.entries()[kept.top_result_id].title == answer.embeds[0]["title"]  # the entry it led with

        # Alice's export holds it; the admins see it inert: no pings, Markdown shown as typed.
        export = await standin.slash(g, c, alice, "privacy", subcommand="export")
        [file] = (await export.wait_final()).attachments
        [logged] = json.loads(file.data)["questions"]
        assert logged["feedback"]["helpful"] is False and logged["feedback"]["looking_for"] == wanted
        listing = await standin.slash(g, c, world.admin.id, "admin", subcommand="feedback")
        shown = await listing.wait_final()
        assert listing.ephemeral and not standin.pings(shown)
        text = shown.text()
        assert QUESTION in text and "looking for" in text and "\\*\\*code\\*\\*" in text
        assert "👎 1 not helpful" in text
    assert not standin.rejections


async def _counts(bot: TutorBot, guild_id: int, helpful: int, unhelpful: int) -> bool:
    found = await summary(bot, guild_id)
    return (found.helpful, found.unhelpful) == (helpful, unhelpful)


async def test_answers_to_mentions_and_dms_carry_feedback_buttons_for_their_asker(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, c, alice, bob = world.guild.id, world.channel.id, world.alice.id, world.bob.id
    async with start_bot() as bot:
        asked = await standin.user_message(c, alice, QUESTION, mentions_bot=True)
        reply = await standin.wait_for_message(lambda m: m.reply_to == asked.id, timeout=30)
        buttons = feedback_ids(reply)
        refused = await standin.click(reply, buttons["up"], bob)
        assert "Only the member who asked" in (await refused.wait_final()).content
        rated = await standin.click(reply, buttons["up"], alice)
        assert "glad it helped" in (await rated.wait_final()).content
        assert (await summary(bot, g)).helpful == 1

        dm = standin.dm_channel(bob)
        asked_dm = await standin.user_message(dm.id, bob, "who painted the Mona Lisa?")
        declined = await standin.wait_for_message(lambda m: m.reply_to == asked_dm.id, timeout=30)
        assert "don't know" in declined.embeds[0]["title"]
        down = await standin.click(declined, feedback_ids(declined)["down"], bob)
        await down.wait_response()
        submitted = await standin.submit_modal(down, {"looking_for": "art history"})
        assert "noted it" in (await submitted.wait_final()).content
        dm_summary = await summary(bot, 0)  # direct messages are kept apart from every server
        assert (dm_summary.unhelpful, dm_summary.declined) == (1, 1)
        assert dm_summary.questions[0].looking_for == "art history"
    assert not standin.rejections


async def test_buttons_and_the_form_still_work_after_a_restart(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, c, alice = world.guild.id, world.channel.id, world.alice.id
    async with start_bot():
        answer = await (await standin.slash(g, c, alice, "ask", {"question": QUESTION})).wait_final(timeout=30)
        down = await standin.click(answer, feedback_ids(answer)["down"], alice)
        await down.wait_response()
    async with start_bot() as restarted:  # a new process over the same data directory
        submitted = await standin.submit_modal(down, {"looking_for": "what dropout rate to pick"})
        assert "noted it" in (await submitted.wait_final()).content
        (kept,) = (await summary(restarted, g)).questions
        assert kept.looking_for == "what dropout rate to pick"
        up = await standin.click(answer, feedback_ids(answer)["up"], alice)
        assert "glad it helped" in (await up.wait_final()).content
        assert (await summary(restarted, g)).helpful == 1
    assert not standin.rejections


async def test_admin_feedback_groups_by_entry_and_pages_within_discords_limits(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, c, admin = world.guild.id, world.channel.id, world.admin.id
    async with start_bot() as bot:
        now = bot.clock()
        store = bot.store
        entries = list(bot.tutor.entries())[:30]
        for number, entry in enumerate(entries):  # 30 entries reached by unhelpful answers, long questions
            for repeat in range(1 + number % 3):
                key = f"{number:06x}{repeat:06x}"
                text = f"question {number} about {entry} " + "and more words " * 40
                await store.log_question(
                    g, world.bob.id, text, None, False, now - timedelta(hours=1), top_result_id=entry, answer_key=key
                )
                await store.record_feedback(g, world.bob.id, key, False, "x" * 200, now)
        for number in range(5):
            await store.log_question(g, world.alice.id, f"declined {number}", None, True, now - timedelta(hours=2))
        await store.log_question(g, world.alice.id, "too old to show", None, True, now - timedelta(days=40))
        await store.log_question(world.other_guild.id, world.stranger.id, "another server's", None, True, now)

        first = await standin.slash(g, c, admin, "admin", {"days": 30}, subcommand="feedback")
        page = await first.wait_final()
        assert first.ephemeral
        text = page.text()
        assert "🤷 5 declined" in text and "👎 60 not helpful" in text
        assert "too old" not in text and "another server" not in text
        assert "Page 1 of" in text
        pages = int(text.split("Page 1 of ")[1].split()[0])
        assert pages >= 5
        seen = {f["name"] for f in page.embeds[0]["fields"]}
        previous, following = page.custom_ids()
        assert previous.endswith(":0") and following.endswith(":1")

        refused = await standin.click(page, following, world.alice.id, force=True)
        assert "Only server admins" in (await refused.wait_final()).content

        for number in range(2, pages + 1):
            turned = await standin.click(page, page.custom_ids()[1], admin)
            await turned.wait_response()
            await standin.wait_for(lambda n=number: f"Page {n} of {pages}" in page.text())
            names = {f["name"] for f in page.embeds[0]["fields"]}
            assert not names & seen  # each group on one page only
            seen |= names
        assert len([n for n in seen if not n.startswith("…")]) == 31  # 30 entries and the declined questions
        assert "Declined: no answer given · 5" in seen
        last = {c: comp for row in page.components for comp in row["components"] for c in [comp["custom_id"]]}
        assert last[page.custom_ids()[1]].get("disabled") is True
    assert not standin.rejections
