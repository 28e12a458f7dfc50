"""Small glue between discord.py objects and the tutor: who is acting, and the bot's collaborators."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.tutor import Member

if TYPE_CHECKING:
    from bot.discord_app.client import TutorBot

DM_GUILD_ID = 0  # progress made in direct messages is kept apart from every server's


def member_of(interaction: discord.Interaction) -> Member:
    return Member(interaction.guild_id or DM_GUILD_ID, interaction.user.id)


def bot_of(interaction: discord.Interaction) -> TutorBot:
    return interaction.client  # type: ignore[return-value]
