"""`/privacy export` and `/privacy forget` for members, and the daily purge of old questions (docs/PRIVACY.md)."""

from __future__ import annotations

import io
import json
import logging
from datetime import date
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.admin import purge_old_questions, purge_old_quiz_answers
from bot.discord_app.context import member_of
from bot.storage.errors import StorageError
from bot.tutor import Member, Tutor

if TYPE_CHECKING:
    from bot.discord_app.client import TutorBot

log = logging.getLogger(__name__)

PURGE_JOB = "retention purge"  # its claim in job_claims, one a UTC day


class ForgetView(discord.ui.View):
    """Confirm or cancel deleting a member's data; only that member may press the buttons."""

    def __init__(self, tutor: Tutor, member: Member, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.tutor = tutor
        self.member = member
        self.origin: discord.Interaction | None = None  # the /privacy forget interaction, to edit on timeout

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.member.user_id:
            await interaction.response.send_message("Only the member who asked can confirm this.", ephemeral=True)
            return False
        return True

    @discord.ui.button(label="Delete my data", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button[ForgetView]) -> None:
        deleted = await self.tutor.forget(self.member)
        self.stop()
        await interaction.response.edit_message(
            content=f"Done: I deleted everything I stored about you in this server ({deleted} record(s)).", view=None
        )

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button[ForgetView]) -> None:
        self.stop()
        await interaction.response.edit_message(content="Cancelled: nothing was deleted.", view=None)

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        if self.origin is not None:
            try:
                await self.origin.edit_original_response(
                    content="This request expired: nothing was deleted. Run /privacy forget again if you want to.",
                    view=self,
                )
            except discord.HTTPException as exc:  # the message was dismissed, or the token expired
                log.debug("could not disable the forget buttons: %s", exc)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[ForgetView]
    ) -> None:
        if isinstance(error, StorageError):
            log.warning("forget failed for user %s: %s", interaction.user.id, error)
            message = error.user_message + " Nothing was deleted."
        else:
            log.error("forget failed for user %s", interaction.user.id, exc_info=error)
            message = "Something went wrong on my side; nothing was deleted."
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)


class Privacy(commands.GroupCog, group_name="privacy", group_description="Your data: download it or delete it"):
    confirm_timeout = 120.0  # seconds the forget buttons stay usable

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        self.purges = 0  # completed purge runs, for tests and logs
        self.purged_days: list[date] = []  # the days this process won the claim and purged
        self._purged_on: date | None = None  # the bot clock's UTC day of the last purge run
        self.purge.change_interval(seconds=bot.clock_tick_seconds)

    async def cog_load(self) -> None:
        self.purge.start()

    async def cog_unload(self) -> None:
        self.purge.cancel()

    @tasks.loop(seconds=30)
    async def purge(self) -> None:
        """Delete questions older than `privacy.question_log_days` and quiz answers older than
        `privacy.quiz_answer_days`: at start, then once each (UTC) day.

        The loop looks at the bot's clock every tick rather than sleeping 24 hours, so a day is counted
        by the clock (a suspended machine or a test clock moves on) and a failed run is retried next day.
        """
        now = self.bot.clock()
        if self._purged_on == now.date():
            return
        self._purged_on = now.date()
        privacy = self.bot.settings.privacy
        try:
            # Every process sharing the database finds the day's purge due; the claim lets one of them run it.
            if not await self.bot.store.claim_daily_job(PURGE_JOB, now.date(), now):
                log.debug("today's purge was claimed by another process")
                return
            await purge_old_questions(self.bot.store, now, privacy.question_log_days)
            await purge_old_quiz_answers(self.bot.store, now, privacy.quiz_answer_days)
            self.purged_days.append(now.date())
        except StorageError as exc:
            log.warning("could not purge old questions and quiz answers (will try again tomorrow): %s", exc)
        finally:
            self.purges += 1

    @app_commands.command(name="export", description="Download what I store about you here, as a JSON file")
    async def export(self, interaction: discord.Interaction) -> None:
        member = member_of(interaction)
        data = await self.bot.store.export_member(member.guild_id, member.user_id)
        payload = json.dumps(data, indent=2, ensure_ascii=False).encode()
        where = f"server-{member.guild_id}" if member.guild_id else "direct-messages"
        await interaction.response.send_message(
            "Everything I store about you here: topics you finished, the days you were active, your questions "
            "(with your feedback on their answers), "
            "your quiz answers, your review schedule and your reminder setting. See /privacy forget to delete it.",
            file=discord.File(io.BytesIO(payload), filename=f"roadmap-tutor-{where}.json"),
            ephemeral=True,
        )

    @app_commands.command(name="forget", description="Delete everything I store about you here (asks to confirm)")
    async def forget(self, interaction: discord.Interaction) -> None:
        view = ForgetView(self.bot.tutor, member_of(interaction), self.confirm_timeout)
        await interaction.response.send_message(
            "This deletes your progress, your active days, your questions and your feedback on their answers, "
            "your quiz answers, your review schedule "
            "and your reminder setting in this server, for good. "
            "Other servers are not affected. Are you sure?",
            view=view,
            ephemeral=True,
        )
        view.origin = interaction
