"""The weekly project prompt in Discord: the loop that posts due prompts, /project, `/admin weekly` (where and
when to post) and their embeds.

When and what to post is decided by `bot.weekly.service.WeeklyService`; this module only sends. A
post that Discord refuses (deleted channel, missing permissions) is handed back to the service, which
releases the week and waits an hour, or until an admin changes the settings, before trying again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.answering.followup import AnswerContext
from bot.discord_app import render
from bot.discord_app.context import member_of, require_admin, roadmap_autocomplete, time_zone_autocomplete
from bot.discord_app.markup import timestamp
from bot.discord_app.tree import Refused
from bot.storage.base import WeeklyProblem
from bot.weekly.service import WEEKDAYS, CurrentProject, PlannedPost, WeeklyStatus, parse_schedule

if TYPE_CHECKING:
    from bot.discord_app.client import TutorBot

log = logging.getLogger(__name__)

TRANSIENT_RETRY = timedelta(minutes=5)  # Discord itself failed (5xx, network): worth trying again sooner
THREAD_ARCHIVE_MINUTES = 10080  # a week, like the project
THREAD_NAME_LIMIT = 100


class Weekly(commands.Cog):
    """The scheduler loop and /project; `/admin weekly` (`WeeklySettings`) joins the Admin cog's /admin group, so
    the Admin cog is added first."""

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        self.ticks = 0  # completed scheduler ticks, for tests and logs
        self.tick.change_interval(seconds=bot.clock_tick_seconds)
        self.settings_group = WeeklySettings(bot)

    async def cog_load(self) -> None:
        admin = self.bot.tree.get_command("admin")
        if not isinstance(admin, app_commands.Group):
            raise RuntimeError("add the Admin cog before the Weekly cog: /admin weekly is a subgroup of /admin")
        admin.add_command(self.settings_group)
        await self.bot.weekly.restore()  # problems from before a restart: a failed post still waits its hour
        self.tick.start()

    async def cog_unload(self) -> None:
        self.tick.cancel()
        admin = self.bot.tree.get_command("admin")
        if isinstance(admin, app_commands.Group):
            admin.remove_command(self.settings_group.name)

    # The scheduler --------------------------------------------------------------------------------

    @tasks.loop(seconds=30)
    async def tick(self) -> None:
        try:
            for plan in await self.bot.weekly.due_posts(self.bot.owns_guild):
                await self.post(plan)
        except Exception:  # one bad tick must not end the loop (tasks.loop stops on an exception)
            log.exception("weekly prompt tick failed")
        finally:
            self.ticks += 1

    @tick.before_loop
    async def _until_ready(self) -> None:
        await self.bot.wait_until_ready()

    async def post(self, plan: PlannedPost) -> None:
        service = self.bot.weekly
        where = f"<#{plan.channel_id}>"
        try:
            channel = self.bot.get_channel(plan.channel_id) or await self.bot.fetch_channel(plan.channel_id)
            if not isinstance(channel, discord.TextChannel):
                await service.failed(plan, f"{where} is not a text or announcement channel. Choose another one.")
                return
            message = await channel.send(embed=post_embed(plan))
        except discord.NotFound:
            await service.failed(plan, f"the channel {where} no longer exists. Choose another with /admin weekly set.")
            return
        except discord.Forbidden as exc:
            await service.failed(
                plan,
                f"Discord refused my post in {where} ({exc.status}, code {exc.code}: {exc.text or 'no access'}). "
                "I need View Channel, Send Messages, Embed Links and Create Public Threads there.",
            )
            return
        except discord.HTTPException as exc:
            await service.failed(plan, f"Discord failed while I posted in {where} ({exc.status}).", TRANSIENT_RETRY)
            return
        thread_id, thread_problem = None, None
        try:
            thread = await message.create_thread(
                name=render.clip(f"Submissions: {plan.prompt.title}", THREAD_NAME_LIMIT),
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
            thread_id = thread.id
            # Questions asked in the submissions thread are read as follow-ups of the project.
            self.bot.tutor.recent.opened_thread(thread.id, AnswerContext.shown(plan.prompt.title, plan.prompt.id))
        except discord.HTTPException as exc:
            thread_problem = (
                f"the prompt is posted in {where}, but I couldn't open its submissions thread "
                f"({exc.status}, code {exc.code}); I need Create Public Threads there."
            )
        await service.posted(plan, message.id, thread_id, thread_problem)

    # /project -------------------------------------------------------------------------------------

    @app_commands.command(name="project", description="This week's project and whether you're ready for it")
    @app_commands.guild_only()
    async def project(self, interaction: discord.Interaction) -> None:
        member = member_of(interaction)
        completed = await self.bot.tutor.completed(member)
        current = await self.bot.weekly.current(member.guild_id, completed)
        if current is None:
            raise Refused("No weekly project has been posted in this server yet (admins: /admin weekly set).")
        await interaction.response.send_message(embed=project_embed(current, member.guild_id), ephemeral=True)


class WeeklySettings(app_commands.Group):
    """`/admin weekly`: where and when the prompt is posted. Its commands are bound to this group, not to the Admin
    cog, so the group checks the member itself, with the same rule as the rest of /admin."""

    def __init__(self, bot: TutorBot) -> None:
        super().__init__(name="weekly", description="The weekly project prompt: where and when it is posted")
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return require_admin(interaction)

    @app_commands.command(name="set", description="Where and when to post the weekly project prompt; turns it on")
    @app_commands.describe(
        channel="The channel to post in (I open a thread on each post for submissions)",
        weekday="The day to post on",
        time="Time of day on a 24-hour clock, HH:MM, e.g. 09:00",
        timezone="IANA time zone the time is in, e.g. Europe/Berlin (start typing to search)",
        roadmap="Post only this roadmap's prompts (default: every roadmap's prompts take turns)",
    )
    @app_commands.choices(weekday=[app_commands.Choice(name=day, value=n) for n, day in enumerate(WEEKDAYS)])
    @app_commands.autocomplete(timezone=time_zone_autocomplete, roadmap=roadmap_autocomplete)
    async def weekly_set(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        weekday: app_commands.Choice[int],
        time: app_commands.Range[str, 1, 10],
        timezone: app_commands.Range[str, 1, 64],
        roadmap: app_commands.Range[str, 1, 120] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        roadmap_id = self.bot.tutor.find_roadmap(roadmap).id if roadmap is not None else None
        settings = parse_schedule(channel.id, weekday.value, time, timezone, enabled=True, roadmap_id=roadmap_id)
        await self.bot.weekly.save(interaction.guild_id, settings)
        status = await self.bot.weekly.status(interaction.guild_id)
        notes = ["Saved. Weekly prompts are on."]
        missing = _missing_post_permissions(channel)
        if missing:
            notes.append(
                f"⚠️ I'm missing {', '.join(missing)} in {channel.mention}; "
                "I need it to post the prompt and open its submissions thread."
            )
        await interaction.response.send_message(
            "\n".join(notes), embed=status_embed(status, interaction.guild_id), ephemeral=True
        )

    @app_commands.command(name="on", description="Resume posting the weekly project prompt")
    async def weekly_on(self, interaction: discord.Interaction) -> None:
        await self._switch(interaction, True)

    @app_commands.command(name="off", description="Pause the weekly project prompt (settings are kept)")
    async def weekly_off(self, interaction: discord.Interaction) -> None:
        await self._switch(interaction, False)

    async def _switch(self, interaction: discord.Interaction, enabled: bool) -> None:
        assert interaction.guild_id is not None
        saved = await self.bot.weekly.set_enabled(interaction.guild_id, enabled)
        if saved is None:
            raise Refused("Weekly prompts aren't set up yet: choose a channel and time with /admin weekly set.")
        status = await self.bot.weekly.status(interaction.guild_id)
        await interaction.response.send_message(
            f"Weekly prompts are {'on' if enabled else 'off'}.",
            embed=status_embed(status, interaction.guild_id),
            ephemeral=True,
        )

    @app_commands.command(name="show", description="The weekly prompt settings, the next post and any problem")
    async def weekly_show(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        status = await self.bot.weekly.status(interaction.guild_id)
        await interaction.response.send_message(embed=status_embed(status, interaction.guild_id), ephemeral=True)


def _missing_post_permissions(channel: discord.TextChannel) -> list[str]:
    granted = channel.permissions_for(channel.guild.me)
    needed = {
        "View Channel": granted.view_channel,
        "Send Messages": granted.send_messages,
        "Embed Links": granted.embed_links,
        "Create Public Threads": granted.create_public_threads,
    }
    return [name for name, ok in needed.items() if not ok]


# Embeds ---------------------------------------------------------------------------------------------


def post_embed(plan: PlannedPost) -> discord.Embed:
    prompt = plan.prompt
    milestones = "\n".join(f"• {m}" for m in prompt.milestones)
    embed = discord.Embed(
        title=f"Weekly project: {prompt.title}",
        description=f"{prompt.brief}\n\n**Milestones through the week**\n{milestones}",
        colour=render.COLOUR,
    )
    add_list_fields(embed, "Dataset ideas", prompt.datasets)
    add_list_fields(embed, "Stretch goals", prompt.stretch_goals)
    embed.add_field(name="Practises", value=", ".join(plan.topic_titles), inline=False)
    if plan.prerequisite_titles:
        embed.add_field(name="Finish first", value=", ".join(plan.prerequisite_titles), inline=False)
    embed.add_field(name="Difficulty", value=prompt.difficulty.capitalize())
    embed.add_field(name="Deadline", value=_when(plan.deadline))
    embed.set_footer(text="Share your work in the thread on this post · /project tells you if you're ready")
    return render.fit(embed)


def project_embed(current: CurrentProject, guild_id: int) -> discord.Embed:
    prompt, post = current.prompt, current.post
    embed = discord.Embed(title=prompt.title, description=prompt.brief, colour=render.COLOUR)
    embed.add_field(name="Practises", value=", ".join(current.topic_titles), inline=False)
    if current.readiness.ready:
        ready = "✅ You've finished every topic it builds on."
    else:
        ready = "Finish these first: " + ", ".join(current.missing_titles) + " (see /topic)."
    embed.add_field(name="Are you ready?", value=ready, inline=False)
    if current.deadline is not None:
        embed.add_field(name="Deadline", value=_when(current.deadline))
    if post.thread_id is not None:
        embed.add_field(name="Submissions", value=f"<#{post.thread_id}>")
    elif post.channel_id is not None and post.message_id is not None:
        link = f"https://discord.com/channels/{guild_id}/{post.channel_id}/{post.message_id}"
        embed.add_field(name="The post", value=f"[Open]({link})")
    return render.fit(embed)


def status_embed(status: WeeklyStatus, guild_id: int) -> discord.Embed:
    settings = status.settings
    embed = discord.Embed(title="Weekly project prompts", colour=render.COLOUR)
    if settings is None or settings.channel_id is None or status.slot is None:
        embed.description = "Not set up yet. Use /admin weekly set to choose a channel, weekday, time and time zone."
        return render.fit(embed)
    embed.add_field(name="Status", value="On" if settings.enabled else "Off (/admin weekly on to resume)")
    embed.add_field(name="Channel", value=f"<#{settings.channel_id}>")
    embed.add_field(name="When", value=status.slot.describe())
    if status.roadmap_title is not None:
        embed.add_field(name="Prompts from", value=status.roadmap_title)
    if status.next_post_at is not None:
        embed.add_field(name="Next post", value=_when(status.next_post_at), inline=False)
    if status.current is not None:
        post = status.current
        link = f"https://discord.com/channels/{guild_id}/{post.channel_id}/{post.message_id}"
        embed.add_field(name="Latest post", value=f"[{status.current_title}]({link}) ({post.week_key})", inline=False)
    if status.problem is not None:
        embed.add_field(name="⚠️ Last problem", value=problem_text(status.problem), inline=False)
        embed.colour = discord.Colour.orange()
    return render.fit(embed)


def problem_text(problem: WeeklyProblem) -> str:
    text = f"{timestamp(problem.at, 'R')}: {problem.reason}"
    if problem.retry_at is not None:
        text += f"\nI'll try again {timestamp(problem.retry_at, 'R')}, or as soon as you change the settings."
    return text


def add_list_fields(embed: discord.Embed, name: str, items: list[str]) -> None:
    """Bullets in as many fields as they need (1024 characters each), so no item is dropped."""
    chunk: list[str] = []
    title = name
    for item in items:
        line = render.clip(f"• {item}", render.FIELD_VALUE_LIMIT)
        if chunk and len("\n".join([*chunk, line])) > render.FIELD_VALUE_LIMIT:
            embed.add_field(name=title, value="\n".join(chunk), inline=False)
            title, chunk = f"{name} (more)", []
        chunk.append(line)
    if chunk:
        embed.add_field(name=title, value="\n".join(chunk), inline=False)


def _when(moment: datetime) -> str:
    return f"{timestamp(moment, 'F')} ({timestamp(moment, 'R')})"
