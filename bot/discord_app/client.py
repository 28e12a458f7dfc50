"""The Discord bot: its collaborators (tutor, store, weekly service) are built first, in `main`, and passed in."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

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
from bot.serving import RebuildReport, rebuild
from bot.storage.base import Store
from bot.storage.errors import StorageError
from bot.tutor import Member, Tutor
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
        self.announcements_heard = 0  # from other processes, for tests and logs
        self.reindexes_followed = 0

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
        # Other processes sharing a PostgreSQL database tell this one what they changed (nothing on SQLite).
        await self.store.listen(self.on_announcement)
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
        await self.announce("ask_channels", guild=guild_id)

    # Other processes sharing the database --------------------------------------------------------

    async def announce(self, kind: str, **fields: int | str | None) -> None:
        """Tell the other processes on the database what changed; a failure costs them a stale cache, not an answer."""
        try:
            await self.store.announce(kind, **fields)
        except StorageError as exc:
            log.warning("could not tell the other processes about %s: %s", kind, exc)

    async def on_announcement(self, kind: str, fields: dict[str, Any]) -> None:
        """Another process changed something this one may hold in memory."""
        if kind == "member":
            self.tutor.forget_cached(Member(int(fields["guild"]), int(fields["user"])))
        elif kind == "ask_channels":
            self._ask_channels.pop(int(fields["guild"]), None)
        elif kind == "taught":
            await self.tutor.reload_taught()
        elif kind == "reindex":
            await self.follow_reindex()
        elif kind == "resync":  # some announcements may have been missed
            self._ask_channels.clear()
            self.tutor.forget_cached()
            await self.tutor.reload_taught()
        else:
            log.debug("ignored announcement %r", kind)
        self.announcements_heard += 1

    async def rebuild_index(self) -> RebuildReport:
        """Reload the knowledge, rebuild the index (or load the current build) in a worker thread and swap it in,
        then serve the taught questions again against the new knowledge. On any error the old index and the
        taught questions keep serving and the error is raised. The caller holds `reindex_lock`."""
        report = await asyncio.to_thread(rebuild, self.settings, self.tutor.answerer)
        await self.tutor.reload_taught()
        return report

    async def follow_reindex(self) -> None:
        """Another process rebuilt the index: load it here too and swap it in, as /admin reindex does.

        With a shared data directory the build is found current and only loaded; with a directory of its own
        this process builds it (the content hash decides)."""
        async with self.reindex_lock:
            try:
                report = await self.rebuild_index()
            except Exception:
                log.exception("could not load the index another process rebuilt; still answering from this one")
                return
            self.reindexes_followed += 1
        log.info("switched to the index another process rebuilt (%d documents)", report.documents)

    def owns_guild(self, guild_id: int | None) -> bool:
        """Whether this process serves `guild_id`: Discord sends a guild's events to the shard
        `(guild_id >> 22) % shard_count` only, so that shard's process posts its weekly prompt, sends its
        reminders and keeps its caches. None or 0 (direct messages) belong to shard 0."""
        count = self.shard_count
        if count is None:  # not sharded: one process serves everything
            return True
        shard = 0 if not guild_id else (guild_id >> 22) % count
        own = getattr(self, "shard_ids", None)
        return own is None or shard in own

    async def close(self) -> None:
        await self.store.stop_listening()  # the tutor and the store are main's to close
        await super().close()

    async def on_ready(self) -> None:
        log.info("connected as %s to %d server(s)", self.user, len(self.guilds))


class ShardedTutorBot(TutorBot, commands.AutoShardedBot):
    """The tutor over the shards `discord.shard_count` / `discord.shard_ids` name, one gateway session each.

    Several processes, each with its own shard ids, share one PostgreSQL database: what must happen once
    (a weekly post, the daily purge, a reindex) is decided there, and each process serves its own guilds."""


def sharded(bot_class: type[TutorBot]) -> type[TutorBot]:
    """`bot_class` running as an AutoShardedBot (a subclass in tests or benchmarks, or TutorBot itself)."""
    if bot_class is TutorBot:
        return ShardedTutorBot
    return type(f"Sharded{bot_class.__name__}", (bot_class, commands.AutoShardedBot), {})


def shard_options(settings: Settings) -> dict[str, object]:
    """The AutoShardedBot arguments the settings ask for; empty when not sharded."""
    if not settings.discord.sharded:
        return {}
    # shard_count None: discord.py asks Discord (GET /gateway/bot) how many shards to run, and runs them all.
    return {"shard_count": settings.discord.shard_count, "shard_ids": settings.discord.own_shard_ids}


def build_bot(
    settings: Settings,
    store: Store,
    tutor: Tutor,
    weekly: WeeklyService,
    bot_class: type[TutorBot] = TutorBot,
    **options: object,
) -> TutorBot:
    """The bot the settings describe: `bot_class`, as an AutoShardedBot when discord.shard_count/shard_ids are set."""
    extra = shard_options(settings)
    if extra:
        bot_class = sharded(bot_class)
    return bot_class(settings, store, tutor, weekly, **extra, **options)
