"""Questions: /ask, and free text when mentioned, in DMs, or in the ask channels admins choose; free text that
replies to an answer, is in a thread on one or that the tutor opened, or comes in a DM soon after one, is read
as a follow-up of that answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.answering import Answer
from bot.answering.followup import AnswerContext
from bot.config import Settings
from bot.discord_app import render
from bot.discord_app.context import DM_GUILD_ID, bot_of, member_of
from bot.discord_app.markup import without_markup
from bot.discord_app.tree import slow_down
from bot.discord_app.views import answer_view
from bot.storage.errors import StorageError
from bot.tutor import Member

if TYPE_CHECKING:
    from bot.discord_app.client import TutorBot

log = logging.getLogger(__name__)
QUESTION_MAX = 1000
SendMessage = Callable[..., Awaitable[discord.Message]]


def question_cooldowns(settings: Settings) -> commands.CooldownMapping[Member]:
    """Each member's allowance of questions (`discord.ask_cooldown`), one bucket per member and server, shared by
    /ask and free text so that asking both ways does not double it."""
    cooldown = settings.discord.ask_cooldown
    return commands.CooldownMapping.from_cooldown(cooldown.rate, cooldown.per_seconds, lambda member: member)


def _ask_cooldown(interaction: discord.Interaction) -> app_commands.Cooldown | None:
    """The asker's bucket in the bot's `question_cooldowns`, the one their free-text questions use too. discord.py
    keeps the bucket this returns per member (`key`) until its window has passed; being the same object as the
    mapping's, both ways of asking draw on one allowance."""
    return bot_of(interaction).question_cooldowns.get_bucket(member_of(interaction), interaction.created_at.timestamp())


class Asking(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @app_commands.command(name="ask", description="Ask the tutor a question about the roadmap")
    @app_commands.describe(question="What you want to know, in your own words")
    # Over the limit, the tree's error handler tells the member how long to wait (CommandOnCooldown).
    @app_commands.checks.dynamic_cooldown(_ask_cooldown, key=member_of)
    async def ask(self, interaction: discord.Interaction, question: app_commands.Range[str, 1, QUESTION_MAX]) -> None:
        member = member_of(interaction)
        await interaction.response.defer(thinking=True)
        answer = await self.bot.tutor.ask(member, without_markup(question))
        await self._send_answer(
            answer,
            member,
            interaction.channel,
            interaction.followup.send,
            content=render.quote(question) or None,
            wait=True,  # for the sent message's id
        )

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.bot.user is None:
            return
        question = await self._question_in(message)
        if question is None:
            return
        member = Member(message.guild.id if message.guild else DM_GUILD_ID, message.author.id)
        wait = self.bot.question_cooldowns.update_rate_limit(member, message.created_at.timestamp())
        if wait is not None:
            await message.reply(slow_down(wait), mention_author=False)
            return
        answer = await self.bot.tutor.ask(member, question, self._followed_up(message))
        # A reply, so the answer points at the question it answers; it pings nobody.
        await self._send_answer(answer, member, message.channel, message.reply, mention_author=False)

    async def _send_answer(
        self, answer: Answer, member: Member, channel: object, send: SendMessage, **message: Any
    ) -> None:
        """Send an answer as an embed with its buttons, through `send` (the followup of /ask, or a reply to the
        question's message) with `message`'s other arguments, and remember it for follow-ups."""
        answered_at = self.bot.clock()
        view = answer_view(answer, member.user_id)
        if view is not None:
            message["view"] = view
        sent = await send(embed=render.answer_embed(answer), **message)
        self._remember(answer, sent.id, channel, member, answered_at)

    def _followed_up(self, message: discord.Message) -> AnswerContext | None:
        """The answer a message follows up: the one it replies to, the latest in its thread, or in a DM the
        latest to its author within `discord.follow_up_minutes`."""
        return self.bot.tutor.recent.following(
            reply_to=message.reference.message_id if message.reference else None,
            thread_id=message.channel.id if isinstance(message.channel, discord.Thread) else None,
            dm_user_id=message.author.id if message.guild is None else None,
        )

    def _remember(self, answer: Answer, message_id: int, channel: object, member: Member, at: datetime) -> None:
        """Keep what a follow-up of this answer leans on, by the answer's message, thread and DM member; `at`:
        when it was answered (the DM window counts from there, not from when Discord took the message)."""
        if answer.context is None:
            return
        self.bot.tutor.recent.answered(
            answer.context,
            message_id=message_id,
            thread_id=channel.id if isinstance(channel, discord.Thread) else None,
            dm_user_id=member.user_id if member.guild_id == DM_GUILD_ID else None,
            asker=(member.guild_id, member.user_id),
            at=at,
        )

    def _on_an_answer(self, message: discord.Message) -> bool:
        """Whether a message replies to one of the tutor's answers or is in a thread started on one: talk to
        the tutor, even unmentioned."""
        recent = self.bot.tutor.recent
        replied = message.reference.message_id if message.reference else None
        in_thread = isinstance(message.channel, discord.Thread) and recent.is_answer(message.channel.id)
        return in_thread or (replied is not None and recent.is_answer(replied))

    async def _question_in(self, message: discord.Message) -> str | None:
        """The question a message asks the bot, or None when the bot should stay quiet."""
        assert self.bot.user is not None
        mentioned = self.bot.user in message.mentions
        if message.guild is None or mentioned:
            return without_markup(message.content)[:QUESTION_MAX]
        if self._on_an_answer(message) and message.content.strip():  # content arrives with the intent only
            return without_markup(message.content)[:QUESTION_MAX]
        if not self.bot.settings.discord.message_content:
            return None
        try:
            channels = await self.bot.ask_channels(message.guild.id)
        except StorageError as exc:  # every message in the server comes here: a warning, not a traceback each
            log.warning("cannot read the ask channels of guild %s: %s", message.guild.id, exc)
            return None
        if message.channel.id in channels and message.content.strip():
            return without_markup(message.content)[:QUESTION_MAX]
        return None
