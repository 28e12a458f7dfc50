"""Quizzes and spaced review in Discord: /quiz, /review with its DM reminders, their buttons and embeds.

What to ask, whether an answer is right and when a topic comes back are the tutor's (`bot.quiz`); this module
only shows them. Every button is a `DynamicItem` whose custom id names the member it belongs to and the
question: a click works after a restart, needs no view kept in memory, and anyone else's click is refused
(`interaction_check`), even though an ephemeral message is only shown to its member.
"""

from __future__ import annotations

import io
import logging
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.discord_app import render
from bot.discord_app.context import bot_of, member_of, time_zone_autocomplete
from bot.discord_app.markup import timestamp
from bot.discord_app.tree import Refused
from bot.quiz.picking import Pick
from bot.quiz.reminders import PlannedReminder
from bot.quiz.results import QuizResult, QuizUnavailable, ReviewSchedule
from bot.storage.base import ReminderSettings
from bot.storage.errors import StorageError

if TYPE_CHECKING:
    from bot.discord_app.client import TutorBot

log = logging.getLogger(__name__)

LETTERS = "ABCDE"
NOT_YOURS = "These buttons belong to someone else's quiz. Run /quiz for your own."
DUE_SHOWN = 15
UPCOMING_SHOWN = 10
RETRY_AFTER_FAILURE = timedelta(minutes=5)  # a reminder DM that failed for a passing reason


async def only_the_member(interaction: discord.Interaction, user_id: int) -> bool:
    """True for the member a quiz button belongs to; anyone else is told so, privately."""
    if interaction.user.id == user_id:
        return True
    await interaction.response.send_message(NOT_YOURS, ephemeral=True)
    return False


async def send_question(interaction: discord.Interaction, topic: str | None) -> None:
    """Pick the member's next question (on `topic`, or the tutor's choice) and send it; the interaction is
    already deferred ephemerally."""
    member = member_of(interaction)
    try:
        pick = await bot_of(interaction).tutor.quiz(member, topic)
    except QuizUnavailable as exc:
        await interaction.followup.send(str(exc), ephemeral=True)
        return
    await interaction.followup.send(
        embed=question_embed(pick), view=question_view(member.user_id, pick, topic is not None), ephemeral=True
    )


class QuizChoice(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"quiz:a:(?P<user>\d{1,20}):(?P<key>[0-9a-f]{12}):(?P<choice>[0-4]):(?P<mode>[ta])",
):
    """One answer button: A, B, C... Clicking it checks the answer and turns the question into its explanation."""

    def __init__(
        self,
        user_id: int,
        key: str,
        choice: int,
        same_topic: bool,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        disabled: bool = False,
    ) -> None:
        mode = "t" if same_topic else "a"
        super().__init__(
            discord.ui.Button(
                label=LETTERS[choice],
                style=style,
                disabled=disabled,
                custom_id=f"quiz:a:{user_id}:{key}:{choice}:{mode}",
            )
        )
        self.user_id, self.key, self.choice, self.same_topic = user_id, key, choice, same_topic

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> QuizChoice:
        return cls(int(match["user"]), match["key"], int(match["choice"]), match["mode"] == "t")

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await only_the_member(interaction, self.user_id)

    async def callback(self, interaction: discord.Interaction) -> None:
        # Acknowledge at once (the question message will be edited into its answer): recording the answer
        # waits on the database, which may be slower than Discord's 3 s.
        await interaction.response.defer()
        try:
            result = await bot_of(interaction).tutor.answer_quiz(member_of(interaction), self.key, self.choice)
        except QuizUnavailable as exc:
            await interaction.followup.send(str(exc), ephemeral=True)
            return
        except StorageError as exc:  # a button's errors do not reach the command tree's error handler
            log.warning("storage problem on a quiz answer: %s", exc)
            await interaction.followup.send(exc.user_message, ephemeral=True)
            return
        await interaction.edit_original_response(
            embed=result_embed(result), view=result_view(self.user_id, result, self.same_topic)
        )


class AnotherQuestion(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"quiz:more:(?P<user>\d{1,20}):(?P<key>[0-9a-f]{12}):(?P<mode>[ta])",
):
    """The next question after the one answered (`key`): on its topic when the member asked for a topic
    (`same_topic`), else the tutor's choice."""

    def __init__(self, user_id: int, key: str, same_topic: bool) -> None:
        super().__init__(
            discord.ui.Button(
                label="Another question",
                style=discord.ButtonStyle.primary,
                custom_id=f"quiz:more:{user_id}:{key}:{'t' if same_topic else 'a'}",
            )
        )
        self.user_id, self.key, self.same_topic = user_id, key, same_topic

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> AnotherQuestion:
        return cls(int(match["user"]), match["key"], match["mode"] == "t")

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await only_the_member(interaction, self.user_id)

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        answered = bot_of(interaction).tutor.kb.quiz_question(self.key)
        # A question reworded or removed since (an /admin reindex): carry on with the tutor's choice.
        topic = answered.topic_id if self.same_topic and answered is not None else None
        try:
            await send_question(interaction, topic)
        except StorageError as exc:
            log.warning("storage problem on another question: %s", exc)
            await interaction.followup.send(exc.user_message, ephemeral=True)


class TopicCardButton(discord.ui.DynamicItem[discord.ui.Button], template=r"quiz:topic:(?P<topic>[a-z0-9-]{1,80})"):
    """Opens the topic's card (what /topic shows): the explanation, key points and what to study."""

    def __init__(self, topic_id: str, title: str = "The topic") -> None:
        super().__init__(
            discord.ui.Button(
                label=render.clip(f"📖 {title}", 80),
                style=discord.ButtonStyle.secondary,
                custom_id=f"quiz:topic:{topic_id}",
            )
        )
        self.topic_id = topic_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> TopicCardButton:
        return cls(match["topic"])

    async def callback(self, interaction: discord.Interaction) -> None:
        tutor = bot_of(interaction).tutor
        if self.topic_id not in tutor.kb.topics:
            await interaction.response.send_message("That topic is no longer in the roadmap.", ephemeral=True)
            return
        card = tutor.topic_card(self.topic_id)
        studied = [tutor.kb.resources[r].resource for r in card.entry.topic.resources]
        resources = [(resource.title, str(resource.url)) for resource in studied]
        await interaction.response.send_message(embed=render.topic_embed(card, resources), ephemeral=True)


class StartReview(discord.ui.DynamicItem[discord.ui.Button], template=r"quiz:start:(?P<user>\d{1,20})"):
    """Under /review: the first question, on the most overdue topic."""

    def __init__(self, user_id: int, label: str = "Start review") -> None:
        super().__init__(
            discord.ui.Button(label=label, style=discord.ButtonStyle.success, custom_id=f"quiz:start:{user_id}")
        )
        self.user_id = user_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> StartReview:
        return cls(int(match["user"]))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await only_the_member(interaction, self.user_id)

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            await send_question(interaction, None)
        except StorageError as exc:
            log.warning("storage problem on start review: %s", exc)
            await interaction.followup.send(exc.user_message, ephemeral=True)


QUIZ_BUTTONS = (QuizChoice, AnotherQuestion, TopicCardButton, StartReview)


class Quizzes(commands.Cog):
    """/quiz and /review, and the loop that sends review reminders."""

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        self.ticks = 0  # completed reminder ticks, for tests and logs
        self._retry_at: dict[tuple[int, int], datetime] = {}
        self.remind.change_interval(seconds=bot.clock_tick_seconds)

    async def cog_load(self) -> None:
        self.remind.start()

    async def cog_unload(self) -> None:
        self.remind.cancel()

    async def _topic_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=c.name, value=c.value) for c in self.bot.tutor.topic_choices(current)]

    @app_commands.command(name="quiz", description="A question to check your understanding, answered with buttons")
    @app_commands.describe(topic="The topic (default: your most overdue review, else your current topic)")
    @app_commands.autocomplete(topic=_topic_autocomplete)
    async def quiz(
        self, interaction: discord.Interaction, topic: app_commands.Range[str, 1, 100] | None = None
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await send_question(interaction, topic)

    @app_commands.command(name="review", description="Topics due for review, and daily reminders by DM")
    @app_commands.describe(
        remind="Turn a daily DM on or off (sent only on days something is due)",
        hour="For remind on: the hour to send it, 0-23, in your time zone",
        timezone="For remind on: your IANA time zone, e.g. Europe/Berlin (start typing to search)",
    )
    @app_commands.autocomplete(timezone=time_zone_autocomplete)
    async def review(
        self,
        interaction: discord.Interaction,
        remind: Literal["on", "off"] | None = None,
        hour: app_commands.Range[int, 0, 23] | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
    ) -> None:
        member = member_of(interaction)
        tutor = self.bot.tutor
        await interaction.response.defer(ephemeral=True, thinking=True)  # reads, and maybe writes, the database
        if remind == "off":
            await tutor.reminders_off(member)
            await interaction.followup.send("Review reminders are off. I won't DM you about reviews.", ephemeral=True)
            return
        if remind == "on":
            channel_id = interaction.channel_id if interaction.guild_id else None
            settings = await tutor.reminders_on(member, hour, timezone, channel_id)
            note = (
                f"Review reminders are on: a DM at {settings.hour:02d}:00 ({settings.timezone}) on days when "
                "something is due, at most one a day. If your DMs are closed to me, I'll say so here once."
            )
            await interaction.followup.send(note, embed=review_embed(await tutor.reviews(member)), ephemeral=True)
            return
        if hour is not None or timezone is not None:
            raise Refused("hour and timezone go with remind:on, e.g. /review remind:on hour:18 timezone:Europe/Berlin")
        schedule = await tutor.reviews(member)
        await interaction.followup.send(
            embed=review_embed(schedule), view=review_view(member.user_id, schedule), ephemeral=True
        )

    # Reminders ------------------------------------------------------------------------------------

    @tasks.loop(seconds=30)
    async def remind(self) -> None:
        try:
            for plan in await self.bot.tutor.reminder_service.due_reminders(self.bot.owns_guild):
                await self.send_reminder(plan)
        except Exception:  # one bad tick must not end the loop (tasks.loop stops on an exception)
            log.exception("review reminder tick failed")
        finally:
            self.ticks += 1

    @remind.before_loop
    async def _until_ready(self) -> None:
        await self.bot.wait_until_ready()

    async def send_reminder(self, plan: PlannedReminder) -> None:
        service = self.bot.tutor.reminder_service
        member = (plan.guild_id, plan.user_id)
        if (retry := self._retry_at.get(member)) is not None and self.bot.clock() < retry:
            await service.failed(plan)  # not yet: give the day back and wait
            return
        guild = self.bot.get_guild(plan.guild_id)
        try:
            user = self.bot.get_user(plan.user_id) or await self.bot.fetch_user(plan.user_id)
            await user.send(embed=reminder_embed(plan, guild.name if guild else None))
        except discord.Forbidden as exc:
            log.info("review reminder: user %s has closed DMs (%s); pausing their reminders", plan.user_id, exc.code)
            await service.dms_closed(plan)
            await self._tell_in_server(plan)
            return
        except discord.HTTPException as exc:
            log.warning("review reminder to user %s failed (%s); trying again later", plan.user_id, exc.status)
            self._retry_at[member] = self.bot.clock() + RETRY_AFTER_FAILURE
            await service.failed(plan)
            return
        self._retry_at.pop(member, None)

    async def _tell_in_server(self, plan: PlannedReminder) -> None:
        """Once, where the member turned reminders on: their DMs are closed, so reminders are paused."""
        if plan.channel_id is None:
            return
        channel = self.bot.get_channel(plan.channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            log.info("review reminder: channel %s is gone; user %s is not told", plan.channel_id, plan.user_id)
            return
        try:
            await channel.send(
                f"<@{plan.user_id}> I couldn't send your review reminder: your DMs are closed to me. I've paused "
                "your reminders. To get them again, allow direct messages from this server's members and run "
                "/review remind:on.",
                allowed_mentions=discord.AllowedMentions(users=[discord.Object(plan.user_id)]),
            )
        except discord.HTTPException as exc:
            log.info("review reminder: could not tell user %s in channel %s: %s", plan.user_id, plan.channel_id, exc)


# Embeds and views -----------------------------------------------------------------------------------


def _why_line(pick: Pick) -> str:
    title = pick.topic.topic.title
    if pick.why == "due" and pick.due is not None:
        return f"🔁 **{title}** is due for review ({timestamp(pick.due, 'R')})."
    if pick.why == "current":
        return f"📍 **{title}** is your current topic."
    if pick.why == "scheduled" and pick.due is not None:
        return f"⏩ Nothing is due; **{title}** comes back next ({timestamp(pick.due, 'R')})."
    return f"📚 **{title}**"


def _choices(pick_choices: list[str], marks: list[str] | None = None) -> str:
    return "\n".join(
        f"{marks[i] + ' ' if marks else ''}**{LETTERS[i]}.** {choice}" for i, choice in enumerate(pick_choices)
    )


def question_embed(pick: Pick) -> discord.Embed:
    item = pick.entry.item
    embed = discord.Embed(
        title=f"Quiz · {pick.topic.topic.title}",
        description=f"{_why_line(pick)}\n\n**{item.question}**\n\n{_choices(item.choices)}",
        colour=render.COLOUR,
    )
    embed.set_footer(text=f"Step {pick.topic.step.number}: {pick.topic.step.title} · pick a letter below")
    return render.fit(embed)


def question_view(user_id: int, pick: Pick, same_topic: bool) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for choice in range(len(pick.entry.item.choices)):
        view.add_item(QuizChoice(user_id, pick.entry.key, choice, same_topic))
    return view


def _schedule_line(result: QuizResult) -> str:
    title = result.topic.topic.title
    if result.repeated:
        return "You already answered this one in this session; it counted the first time."
    if result.card is None:
        return ""
    when = f"{timestamp(result.card.due, 'R')} ({timestamp(result.card.due, 'D')})"
    if not result.counted:
        return f"Practice: your next review of **{title}** stays {when}."
    if result.correct:
        return f"Next review of **{title}**: {when}."
    return f"**{title}** comes back for review {when}."


def result_embed(result: QuizResult) -> discord.Embed:
    item = result.entry.item
    marks = ["✅" if i == item.answer else ("❌" if i == result.choice else "▫️") for i in range(len(item.choices))]
    answer, tempting = LETTERS[item.answer], LETTERS[item.tempting]
    parts = [
        f"**{item.question}**",
        _choices(item.choices, marks),
        f"**Why {answer}:** {item.why}",
        f"**Why not {tempting}:** {item.why_not}",
    ]
    if line := _schedule_line(result):
        parts.append(line)
    embed = discord.Embed(
        title=f"{'✅ Right' if result.correct else '❌ Not quite'} · {result.topic.topic.title}",
        description="\n\n".join(parts),
        colour=discord.Colour.green() if result.correct else discord.Colour.orange(),
    )
    topic = result.topic
    study = [f"/topic {topic.topic.title}"]
    # The answer links the topic: its card (the button), and what the roadmap recommends to study for it.
    study += [f"[{r.title}]({r.url})" for r in topic.step.resources if r.id in topic.topic.resources][:2]
    embed.add_field(name=f"Study {topic.topic.title}", value=" · ".join(study), inline=False)
    embed.set_footer(text=f"Step {topic.step.number}: {topic.step.title}")
    return render.fit(embed)


def result_view(user_id: int, result: QuizResult, same_topic: bool) -> discord.ui.View:
    item = result.entry.item
    view = discord.ui.View(timeout=None)
    for choice in range(len(item.choices)):
        style = discord.ButtonStyle.secondary
        if choice == item.answer:
            style = discord.ButtonStyle.success
        elif choice == result.choice:
            style = discord.ButtonStyle.danger
        view.add_item(QuizChoice(user_id, result.entry.key, choice, same_topic, style=style, disabled=True))
    topic = result.topic.topic
    more = AnotherQuestion(user_id, result.entry.key, same_topic)
    more.item.row = 1
    card = TopicCardButton(topic.id, topic.title)
    card.item.row = 1
    view.add_item(more)
    view.add_item(card)
    return view


def reminder_text(reminder: ReminderSettings | None) -> str:
    if reminder is None:
        return "Off. /review remind:on hour:18 timezone:Europe/Berlin sends a DM on days something is due."
    if reminder.paused_at is not None:
        return (
            "⚠️ Paused: I couldn't DM you (your DMs are closed to me). Allow DMs from this server's members "
            "and run /review remind:on."
        )
    return f"On: a DM at {reminder.hour:02d}:00 ({reminder.timezone}) on days something is due."


def review_embed(schedule: ReviewSchedule) -> discord.Embed:
    embed = discord.Embed(title="Your reviews", colour=render.COLOUR)
    if schedule.due:
        lines = [f"🔁 **{s.topic.topic.title}** · due {timestamp(s.card.due, 'R')}" for s in schedule.due[:DUE_SHOWN]]
        if len(schedule.due) > DUE_SHOWN:
            lines.append(f"…and {len(schedule.due) - DUE_SHOWN} more")
        embed.description = f"**{len(schedule.due)} due now**, most overdue first:\n" + "\n".join(lines)
    elif schedule.upcoming:
        embed.description = "Nothing is due right now. 🎉"
    else:
        embed.description = (
            "Nothing is scheduled yet: a topic comes back for review once you mark it done (/done) or take a /quiz."
        )
    if schedule.upcoming:
        lines = [
            f"**{s.topic.topic.title}** · {timestamp(s.card.due, 'R')} ({timestamp(s.card.due, 'd')})"
            for s in schedule.upcoming[:UPCOMING_SHOWN]
        ]
        embed.add_field(name="Coming up", value="\n".join(lines), inline=False)
    embed.add_field(name="Reminders", value=reminder_text(schedule.reminder), inline=False)
    embed.set_footer(text="Each answer reschedules its topic (FSRS): right pushes it out, wrong brings it back soon.")
    return render.fit(embed)


def review_view(user_id: int, schedule: ReviewSchedule) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(StartReview(user_id, "Start review" if schedule.due else "Practise now"))
    return view


def reminder_embed(plan: PlannedReminder, guild_name: str | None) -> discord.Embed:
    where = f"in **{discord.utils.escape_markdown(guild_name)}**" if guild_name else "here"
    count = len(plan.due)
    lines = [f"• **{topic.topic.title}** · due {timestamp(due, 'R')}" for topic, due in plan.due[:DUE_SHOWN]]
    if count > DUE_SHOWN:
        lines.append(f"…and {count - DUE_SHOWN} more")
    embed = discord.Embed(
        title="Time to review",
        description=(
            f"{count} topic{'s are' if count != 1 else ' is'} due for review {where}:\n"
            + "\n".join(lines)
            + f"\n\nRun /review or /quiz {where} to start. /review remind:off stops these messages."
        ),
        colour=render.COLOUR,
    )
    return render.fit(embed)


def progress_file(png: bytes) -> discord.File:
    return discord.File(io.BytesIO(png), filename="progress.png", description="Progress card")
