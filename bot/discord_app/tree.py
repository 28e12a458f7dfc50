"""One error path for every slash command: friendly ephemeral messages, full logs for the unexpected."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.quiz import QuizUnavailable
from bot.storage.errors import StorageError
from bot.tutor import UnknownRoadmapChoice, UnknownTopic
from bot.weekly.service import InvalidSchedule

log = logging.getLogger(__name__)


class Refused(app_commands.CheckFailure):
    """A check said no; its message is shown to the member as it is."""


def slow_down(retry_after: float) -> str:
    """What a member over the question cooldown is told: how long to wait, in whole seconds (at least one)."""
    return f"Slow down a little: you can ask again in {max(1, round(retry_after))} s."


class TutorTree(app_commands.CommandTree):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        original = getattr(error, "original", error)
        if isinstance(error, app_commands.CommandOnCooldown):
            message = slow_down(error.retry_after)
        elif isinstance(error, Refused):
            message = str(error)
        elif isinstance(error, app_commands.CheckFailure):
            message = "You can't use this command here."
        elif isinstance(error, app_commands.TransformerError):
            message = f"I couldn't understand “{str(error.value)[:80]}” for that option."
        elif isinstance(original, (UnknownTopic, UnknownRoadmapChoice, InvalidSchedule, QuizUnavailable)):
            message = str(original)
        elif isinstance(original, StorageError):
            log.warning("storage problem in /%s: %s", interaction.command and interaction.command.name, original)
            message = original.user_message
        else:
            log.error(
                "/%s failed for user %s in guild %s",
                interaction.command and interaction.command.qualified_name,
                interaction.user.id,
                interaction.guild_id,
                exc_info=original,
            )
            message = "Something went wrong on my side. The admins can find the details in the bot's log."
        await send_ephemeral(interaction, message)


async def send_ephemeral(interaction: discord.Interaction, message: str) -> None:
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.HTTPException as exc:  # the interaction expired; nothing more can be said
        log.warning("could not tell user %s about an error: %s", interaction.user.id, exc)
