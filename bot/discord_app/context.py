"""Small glue between discord.py objects and the tutor: who is acting, the bot's collaborators, and the
autocompletes several commands share (from memory, never the database)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.admin import is_admin
from bot.discord_app.tree import Refused
from bot.tutor import Member
from bot.weekly.service import find_time_zones

if TYPE_CHECKING:
    from bot.discord_app.client import TutorBot

DM_GUILD_ID = 0  # progress made in direct messages is kept apart from every server's


def member_of(interaction: discord.Interaction) -> Member:
    return Member(interaction.guild_id or DM_GUILD_ID, interaction.user.id)


def bot_of(interaction: discord.Interaction) -> TutorBot:
    return interaction.client  # type: ignore[return-value]


async def roadmap_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """The loaded roadmaps matching what was typed."""
    return [app_commands.Choice(name=c.name, value=c.value) for c in bot_of(interaction).tutor.roadmap_choices(current)]


async def time_zone_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """IANA time zones matching what was typed."""
    return [app_commands.Choice(name=zone, value=zone) for zone in find_time_zones(current)]


def member_is_admin(interaction: discord.Interaction, admin_role_ids: list[int]) -> bool:
    """Whether the member may use /admin: Manage Server, or a role listed in `discord.admin_role_ids`."""
    user = interaction.user
    if interaction.guild is None or not isinstance(user, discord.Member):
        return False
    permissions = interaction.permissions
    manage = permissions.manage_guild or permissions.administrator or user.guild_permissions.manage_guild
    return is_admin(manage, [role.id for role in user.roles], admin_role_ids)


def require_admin(interaction: discord.Interaction) -> bool:
    """Every /admin command's check: true for an admin, else `Refused` with what the member is told."""
    if not member_is_admin(interaction, bot_of(interaction).settings.discord.admin_role_ids):
        raise Refused("Only server admins (Manage Server, or an admin role set in my config) can use /admin.")
    return True
