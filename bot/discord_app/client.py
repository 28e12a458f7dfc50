"""The Discord bot: its collaborators (tutor, store, weekly service) are built first, in `main`, and passed in."""

from __future__ import annotations

import asyncio
import logging

import discord
from discord.ext import commands

from bot.config import Settings
from bot.discord_app.admin import Admin
from bot.discord_app.asking import Asking, question_cooldowns
from bot.discord_app.feedback import FEEDBACK_BUTTONS, Feedback
from bot.discord_app.learning import Learning
from bot.discord_app.privacy import Privacy
from bot.discord_app.quiz import QUIZ_BUTTONS, Quizzes
from bot.discord_app.teaching import TEACHING_BUTTONS, FeedbackQuestions
from bot.discord_app.tree import TutorTree
from bot.discord_app.views import DoneButton, NextButton
from bot.discord_app.weekly import Weekly
from bot.storage.base import Store
from bot.tutor import Tutor
from bot.weekly.service import WeeklyService

log = logging.getLogger(__name__)


def intents_for(settings: Settings) -> discord.Intents:
    intents = discord.Intents.default()
    intents.message_content = settings.discord.message_content
    return intents


class TutorBot(commands.Bot):
    def __init__(
        self,
        settings: Settings,
        store: Store,
        tutor: Tutor,
        weekly: WeeklyService,
        clock_tick_seconds: float = 30.0,
        **options: object,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents_for(settings),
            tree_cls=TutorTree,
            # Nothing the bot posts may ping anyone: user text is quoted back in answers.
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            **options,  # type: ignore[arg-type]
        )
        self.settings = settings
        self.store = store
        self.tutor = tutor
        self.weekly = weekly
        self.clock = tutor.clock
        self.question_cooldowns = question_cooldowns(settings)
        self._ask_channels: dict[int, set[int]] = {}
        # How often the loops that follow the clock look at it: weekly posts due, the daily question purge.
        self.clock_tick_seconds = clock_tick_seconds
        # One /admin reindex at a time in this process (indexer.build's file lock covers other processes).
        self.reindex_lock = asyncio.Lock()
        self.commands_synced = asyncio.Event()
        self.feedback_questions = FeedbackQuestions()  # what /admin teach offers, per server, from memory

    async def setup_hook(self) -> None:
        await self.add_cog(Asking(self))
        await self.add_cog(Feedback(self))
        await self.add_cog(Learning(self))
        # The weekly scheduler, the review reminders and the question purge are loops owned by their cogs:
        # Bot.close() removes the cogs, and their cog_unload cancels the loops.
        await self.add_cog(Quizzes(self))
        await self.add_cog(Admin(self))
        await self.add_cog(Weekly(self))  # after Admin: it adds /admin weekly to the /admin group
        await self.add_cog(Privacy(self))
        self.add_dynamic_items(DoneButton, NextButton, *QUIZ_BUTTONS, *FEEDBACK_BUTTONS, *TEACHING_BUTTONS)
        await self.sync_commands()

    async def sync_commands(self) -> None:
        if self.settings.discord.guild_ids:
            for guild_id in self.settings.discord.guild_ids:
                guild = discord.Object(guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                log.info("synced %d commands to guild %s", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d global commands (Discord may take a while to show them)", len(synced))
        self.commands_synced.set()

    async def on_message(self, message: discord.Message) -> None:
        """Prefix commands are off: messages are questions, handled by the Asking cog."""

    async def ask_channels(self, guild_id: int) -> set[int]:
        if guild_id not in self._ask_channels:
            self._ask_channels[guild_id] = await self.store.get_ask_channels(guild_id)
        return self._ask_channels[guild_id]

    async def set_ask_channel(self, guild_id: int, channel_id: int, enabled: bool) -> None:
        await self.store.set_ask_channel(guild_id, channel_id, enabled)
        self._ask_channels.pop(guild_id, None)

    async def on_ready(self) -> None:
        log.info("connected as %s to %d server(s)", self.user, len(self.guilds))
