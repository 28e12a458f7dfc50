"""Questions: /ask, and free text when mentioned, in DMs, or in the ask channels admins choose."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app import render
from bot.discord_app.context import DM_GUILD_ID, member_of
from bot.discord_app.tree import Refused
from bot.discord_app.views import answer_view
from bot.storage.errors import StorageError
from bot.tutor import Member

if TYPE_CHECKING:
    from bot.discord_app.client import TutorBot

log = logging.getLogger(__name__)
QUESTION_MAX = 1000


class Asking(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    def _check_cooldown(self, member: Member) -> None:
        wait = self.bot.question_cooldown.hit((member.guild_id, member.user_id))
        if wait:
            raise Refused(f"Slow down a little: you can ask again in {max(1, round(wait))} s.")

    @app_commands.command(name="ask", description="Ask the tutor a question about the roadmap")
    @app_commands.describe(question="What you want to know, in your own words")
    async def ask(self, interaction: discord.Interaction, question: app_commands.Range[str, 1, QUESTION_MAX]) -> None:
        member = member_of(interaction)
        self._check_cooldown(member)
        await interaction.response.defer(thinking=True)
        answer = await self.bot.tutor.ask(member, question)
        view = answer_view(answer, member.user_id)
        kwargs = {"view": view} if view else {}
        await interaction.followup.send(
            content=render.quote(question) or None, embed=render.answer_embed(answer), **kwargs
        )

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.bot.user is None:
            return
        question = await self._question_in(message)
        if question is None:
            return
        member = Member(message.guild.id if message.guild else DM_GUILD_ID, message.author.id)
        wait = self.bot.question_cooldown.hit((member.guild_id, member.user_id))
        if wait:
            await message.reply(
                f"Slow down a little: you can ask again in {max(1, round(wait))} s.", mention_author=False
            )
            return
        answer = await self.bot.tutor.ask(member, question)
        view = answer_view(answer, member.user_id)
        kwargs = {"view": view} if view else {}
        # A reply, so the answer points at the question it answers; it pings nobody.
        await message.reply(embed=render.answer_embed(answer), mention_author=False, **kwargs)

    async def _question_in(self, message: discord.Message) -> str | None:
        """The question a message asks the bot, or None when the bot should stay quiet."""
        assert self.bot.user is not None
        mentioned = self.bot.user in message.mentions
        if message.guild is None or mentioned:
            text = message.content
            for mention in (f"<@{self.bot.user.id}>", f"<@!{self.bot.user.id}>"):
                text = text.replace(mention, " ")
            return text.strip()[:QUESTION_MAX]
        if not self.bot.settings.discord.message_content:
            return None
        try:
            channels = await self.bot.ask_channels(message.guild.id)
        except StorageError as exc:  # every message in the server comes here: a warning, not a traceback each
            log.warning("cannot read the ask channels of guild %s: %s", message.guild.id, exc)
            return None
        if message.channel.id in channels and message.content.strip():
            return message.content.strip()[:QUESTION_MAX]
        return None
