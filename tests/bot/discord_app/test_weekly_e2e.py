"""The weekly project prompt end to end: the real bot on a simulated clock, posting to the Discord stand-in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.discord_app.client import TutorBot
from bot.weekly.rotation import choose_prompt
from standin import DiscordStandin, Message
from tests.bot.discord_app.conftest import BotFactory, SimClock, World

pytestmark = [pytest.mark.model]

TICK = 0.02


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    unix = int(moment.timestamp())
    return f"<t:{unix}:F> (<t:{unix}:R>)"


async def ticks(standin: DiscordStandin, bot: TutorBot, n: int = 3) -> None:
    """Wait until the scheduler has run `n` more times (so at least one tick saw the latest clock)."""
    cog = bot.get_cog("Weekly")
    target = cog.ticks + n  # type: ignore[union-attr]
    await standin.wait_for(lambda: cog.ticks >= target, timeout=10, what=f"{n} weekly ticks")  # type: ignore[union-attr]


def posts(standin: DiscordStandin, channel_id: int) -> list[Message]:
    return [m for m in standin.messages if m.channel_id == channel_id and m.kind == "channel" and not m.deleted]


async def wait_posts(standin: DiscordStandin, channel_id: int, count: int) -> list[Message]:
    return await standin.wait_for(
        lambda: (found := posts(standin, channel_id)) and len(found) >= count and found,
        timeout=10,
        what=f"{count} weekly post(s)",
    )


async def admin_weekly_set(
    standin: DiscordStandin, world: World, channel_id: int, weekday: int, time: str, timezone: str
) -> Message:
    run = await standin.slash(
        world.guild.id,
        world.channel.id,
        world.admin.id,
        "admin",
        {"channel": channel_id, "weekday": weekday, "time": time, "timezone": timezone},
        subcommand="weekly set",
    )
    reply = await run.wait_final()
    assert run.ephemeral
    return reply


async def admin_text(standin: DiscordStandin, world: World, subcommand: str) -> str:
    run = await standin.slash(world.guild.id, world.channel.id, world.admin.id, "admin", subcommand=subcommand)
    reply = await run.wait_final()
    assert run.ephemeral
    return reply.text()


def prompt_of(bot: TutorBot, post: Message):  # type: ignore[no-untyped-def]
    title = post.embeds[0]["title"].removeprefix("Weekly project: ")
    return next(p for p in bot.tutor.kb.prompts if p.title == title)


async def test_prompt_is_posted_once_at_its_slot_with_an_embed_and_a_thread_even_across_a_restart(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, channel = world.guild.id, world.channel.id
    clock = SimClock(utc(2026, 11, 23, 8, 0))  # Monday; Berlin is UTC+1 in November
    async with start_bot(clock=clock, clock_tick=TICK) as bot:
        saved = await admin_weekly_set(standin, world, channel, 0, "10:00", "Europe/Berlin")
        assert "Monday 10:00 (Europe/Berlin)" in saved.text()
        assert stamp(utc(2026, 11, 23, 9, 0)) in saved.text()  # the next post, in every reader's own zone

        clock.set(utc(2026, 11, 23, 8, 59, 59))
        await ticks(standin, bot)
        assert not posts(standin, channel)

        clock.set(utc(2026, 11, 23, 9, 0))
        [post] = await wait_posts(standin, channel, 1)
        kb = bot.tutor.kb
        prompt = kb.prompt(choose_prompt([p.id for p in kb.prompts], [], g))
        assert prompt is not None
        embed = post.embeds[0]
        assert embed["title"] == f"Weekly project: {prompt.title}"
        assert prompt.brief[:60] in embed["description"]
        assert all(m[:60] in embed["description"] for m in prompt.milestones)
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert all(d[:60] in fields["Dataset ideas"] for d in prompt.datasets)
        assert all(s[:60] in fields["Stretch goals"] for s in prompt.stretch_goals)
        assert fields["Practises"] == ", ".join(kb.topics[t].topic.title for t in prompt.topics)
        # One minute before next week's slot: Monday 30 November, 09:59 in Berlin.
        assert fields["Deadline"] == stamp(utc(2026, 11, 30, 8, 59))
        [thread] = await standin.wait_for(lambda: standin.threads, what="the submissions thread")
        await ticks(standin, bot, 1)  # the tick that posted has finished: the message is recorded
        assert thread.id == post.id and thread.parent_id == channel and prompt.title[:40] in (thread.name or "")
        recorded = await bot.store.current_weekly_post(g)
        assert recorded is not None and (recorded.message_id, recorded.thread_id) == (post.id, thread.id)
        assert recorded.week_key == "2026-W48"
        assert not standin.pings(post)

        project = await standin.slash(g, channel, world.alice.id, "project")
        shown = await project.wait_final()
        assert project.ephemeral and prompt.title in shown.text() and f"<#{thread.id}>" in shown.text()

        clock.set(utc(2026, 11, 23, 9, 30))
        await ticks(standin, bot, 5)
        assert len(posts(standin, channel)) == 1
        loop = bot.get_cog("Weekly").tick  # type: ignore[union-attr]
    assert not loop.is_running()  # closing the bot cancelled the scheduler

    clock.set(utc(2026, 11, 23, 11, 0))  # restarted later that day: the week is already posted
    async with start_bot(clock=clock, clock_tick=TICK) as bot:
        await ticks(standin, bot, 5)
        assert len(posts(standin, channel)) == 1

        clock.set(utc(2026, 11, 30, 9, 0))
        first, second = await wait_posts(standin, channel, 2)
        assert second.embeds[0]["title"] != first.embeds[0]["title"]
        await standin.wait_for(lambda: len(standin.threads) == 2, what="the second week's thread")
    assert not standin.rejections and not standin.internal_errors


async def test_a_missed_slot_is_posted_when_the_bot_returns_that_day_and_skipped_once_the_day_is_over(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    channel = world.channel.id
    clock = SimClock(utc(2026, 11, 23, 8, 0))
    async with start_bot(clock=clock, clock_tick=TICK) as bot:
        await admin_weekly_set(standin, world, channel, 0, "10:00", "Europe/Berlin")
        await ticks(standin, bot)
    assert not posts(standin, channel)

    clock.set(utc(2026, 11, 23, 22, 30))  # the bot was down at 10:00; it is 23:30 in Berlin, same day
    async with start_bot(clock=clock, clock_tick=TICK) as bot:
        await wait_posts(standin, channel, 1)
        await ticks(standin, bot, 5)
    assert len(posts(standin, channel)) == 1

    clock.set(utc(2026, 11, 30, 23, 30))  # still Monday in UTC, but already Tuesday 00:30 in Berlin
    async with start_bot(clock=clock, clock_tick=TICK) as bot:
        await ticks(standin, bot, 5)
        assert len(posts(standin, channel)) == 1  # that week is skipped, not posted a day late

        clock.set(utc(2026, 12, 7, 9, 0))  # the week after comes as usual
        await wait_posts(standin, channel, 2)
        await ticks(standin, bot, 3)
    assert len(posts(standin, channel)) == 2
    assert not standin.rejections


async def test_the_slot_follows_the_wall_clock_through_daylight_saving_changes(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    channel = world.channel.id
    clock = SimClock(utc(2026, 3, 28, 12, 0))
    async with start_bot(clock=clock, clock_tick=TICK) as bot:
        # Sunday 02:30 in Berlin: on 29 March that time does not exist (02:00 → 03:00), on 25 October it
        # happens twice (03:00 → 02:00). Either way the prompt goes out once.
        await admin_weekly_set(standin, world, channel, 6, "02:30", "Europe/Berlin")

        clock.set(utc(2026, 3, 29, 1, 29))  # 03:29 summer time: the skipped 02:30 moves to 03:30
        await ticks(standin, bot)
        assert not posts(standin, channel)
        clock.set(utc(2026, 3, 29, 1, 30))
        [spring] = await wait_posts(standin, channel, 1)
        fields = {f["name"]: f["value"] for f in spring.embeds[0]["fields"]}
        assert fields["Deadline"] == stamp(utc(2026, 4, 5, 0, 29))  # next Sunday 02:29 summer time

        clock.set(utc(2026, 10, 25, 0, 29))  # 02:29 summer time, the first of two 02:29s
        await ticks(standin, bot)
        assert len(posts(standin, channel)) == 1
        clock.set(utc(2026, 10, 25, 0, 30))  # the first 02:30
        _, autumn = await wait_posts(standin, channel, 2)
        fields = {f["name"]: f["value"] for f in autumn.embeds[0]["fields"]}
        assert fields["Deadline"] == stamp(utc(2026, 11, 1, 1, 29))  # next Sunday 02:29 winter time

        clock.set(utc(2026, 10, 25, 1, 30))  # the second 02:30, an hour later
        await ticks(standin, bot, 5)
        assert len(posts(standin, channel)) == 2
    assert not standin.rejections


async def test_rotation_uses_every_prompt_before_repeating_one(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    channel = world.channel.id
    clock = SimClock(utc(2026, 1, 5, 8, 0))  # a Monday
    async with start_bot(clock=clock, clock_tick=TICK) as bot:
        await admin_weekly_set(standin, world, channel, 0, "09:00", "UTC")
        prompts = {p.id for p in bot.tutor.kb.prompts}
        posted: list[str] = []
        for week in range(len(prompts) + 1):
            clock.set(utc(2026, 1, 5, 9, 0) + week * (utc(2026, 1, 12) - utc(2026, 1, 5)))
            found = await wait_posts(standin, channel, week + 1)
            posted.append(prompt_of(bot, found[-1]).id)
    assert set(posted[: len(prompts)]) == prompts  # every prompt once in the first cycle
    assert posted[len(prompts)] != posted[len(prompts) - 1]  # and the new cycle doesn't open with a repeat
    assert not standin.rejections


async def test_project_shows_the_current_prompt_and_what_the_member_must_finish_first(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, c, alice = world.guild.id, world.channel.id, world.alice.id
    clock = SimClock(utc(2026, 11, 24, 12, 0))  # Tuesday: this week's Monday slot has passed
    async with start_bot(clock=clock, clock_tick=TICK) as bot:
        none_yet = await standin.slash(g, c, alice, "project")
        assert "No weekly project" in (await none_yet.wait_final()).content and none_yet.ephemeral

        await admin_weekly_set(standin, world, c, 0, "10:00", "Europe/Berlin")
        # As if this week's prompt had been posted on Monday (the posting itself is tested above).
        assert await bot.store.claim_weekly_post(g, "2026-W48", "cnn-image-classifier", utc(2026, 11, 23, 9))
        await bot.store.record_weekly_message(g, "2026-W48", c, 1234, 1234)

        first = await standin.slash(g, c, alice, "project")
        text = (await first.wait_final()).text()
        assert "Project: image classification with CNNs" in text
        needed = ["Feedforward Neural Networks", "Loss Functions", "Optimization Techniques"]
        assert "Finish these first" in text and all(title in text for title in needed)
        assert stamp(utc(2026, 11, 30, 8, 59)) in text

        for topic in ("feedforward-networks", "loss-functions", "optimization-algorithms"):
            await (await standin.slash(g, c, alice, "done", {"topic": topic})).wait_final()
        ready = await standin.slash(g, c, alice, "project")
        text = (await ready.wait_final()).text()
        assert "You've finished every topic it builds on" in text and "Finish these first" not in text
    assert not standin.rejections


async def test_missing_permissions_are_shown_to_admins_and_retried_hourly_not_every_tick(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    channel = world.channel.id
    route = f"/channels/{channel}/messages"
    clock = SimClock(utc(2026, 11, 23, 8, 0))
    async with start_bot(clock=clock, clock_tick=TICK) as bot:
        await admin_weekly_set(standin, world, channel, 0, "09:00", "UTC")
        standin.deny_bot(channel)

        def attempts() -> int:
            return sum(1 for r in standin.requests if r.method == "POST" and r.path == route)

        clock.set(utc(2026, 11, 23, 9, 0))
        await standin.wait_for(lambda: attempts() == 1, timeout=10, what="the first post attempt")
        await ticks(standin, bot, 20)
        assert attempts() == 1  # refused once, not once a tick

        shown = await admin_text(standin, world, "weekly show")
        assert "Last problem" in shown and "50013" in shown and "Send Messages" in shown
        assert "try again" in shown
        stats = await admin_text(standin, world, "stats")
        assert "50013" in stats

        clock.set(utc(2026, 11, 23, 9, 59))
        await ticks(standin, bot, 5)
        assert attempts() == 1
        clock.set(utc(2026, 11, 23, 10, 1))  # an hour on: one more try, refused again
        await standin.wait_for(lambda: attempts() == 2, timeout=10, what="the hourly retry")
        await ticks(standin, bot, 10)
        assert attempts() == 2

        standin.allow_bot(channel)
        await admin_text(standin, world, "weekly on")  # an admin touching the settings retries at once
        [post] = await wait_posts(standin, channel, 1)
        assert post.embeds and attempts() == 3
        await ticks(standin, bot, 3)
        assert "Last problem" not in await admin_text(standin, world, "weekly show")
        assert bot.get_cog("Weekly").tick.is_running()  # type: ignore[union-attr]
    assert {(r.status, r.code) for r in standin.rejections} == {(403, 50013)}
    assert len(standin.rejections) == 2 and not standin.internal_errors


async def test_a_deleted_channel_is_shown_to_admins_and_a_new_channel_fixes_it(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    projects = standin.add_channel(world.guild.id, "projects")
    clock = SimClock(utc(2026, 11, 23, 8, 0))
    async with start_bot(clock=clock, clock_tick=TICK) as bot:
        await admin_weekly_set(standin, world, projects.id, 0, "09:00", "UTC")
        standin.delete_channel(projects.id)
        await standin.wait_for(lambda: bot.get_channel(projects.id) is None, what="the bot to see the deletion")

        def attempts() -> int:
            return sum(1 for r in standin.requests if f"/channels/{projects.id}" in r.path)

        clock.set(utc(2026, 11, 23, 9, 0))
        await standin.wait_for(lambda: attempts() == 1, timeout=10, what="one look for the channel")
        await ticks(standin, bot, 20)
        assert attempts() == 1

        shown = await admin_text(standin, world, "weekly show")
        assert "no longer exists" in shown and f"<#{projects.id}>" in shown

        await admin_weekly_set(standin, world, world.channel.id, 0, "09:00", "UTC")
        [post] = await wait_posts(standin, world.channel.id, 1)
        assert post.embeds and attempts() == 1
    assert [(r.status, r.code) for r in standin.rejections] == [(404, 10003)]


async def test_weekly_set_rejects_a_bad_time_or_time_zone_with_a_clear_message(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    async with start_bot(clock_tick=TICK) as bot:
        bad_time = await admin_weekly_set(standin, world, world.channel.id, 0, "25:00", "UTC")
        assert "not a time" in bad_time.content and "HH:MM" in bad_time.content
        bad_zone = await admin_weekly_set(standin, world, world.channel.id, 0, "09:00", "Mars/Olympus")
        assert "not a time zone" in bad_zone.content and "Europe/Berlin" in bad_zone.content
        assert await bot.store.get_weekly_settings(world.guild.id) is None

        typed = await admin_weekly_set(standin, world, world.channel.id, 4, "7:05", "america/new_york")
        assert "Friday 07:05 (America/New_York)" in typed.text()

        zones = await standin.autocomplete(
            world.guild.id,
            world.channel.id,
            world.admin.id,
            "admin",
            "timezone",
            "berl",
            {"channel": world.channel.id, "weekday": 0, "time": "09:00"},
            subcommand="weekly set",
        )
        await zones.wait_response()
        assert zones.choices and zones.choices[0]["value"] == "Europe/Berlin"

        off = await admin_text(standin, world, "weekly off")
        assert "off" in off
        assert await bot.store.guilds_with_weekly_enabled() == []
    assert not standin.rejections
