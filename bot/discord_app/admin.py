"""`/admin`: reindexing, server stats, unanswered questions, ask channels, and teaching the tutor from members'
feedback (`/admin feedback`, `/admin teach`, `/admin untaught`). `/admin weekly` is the weekly cog's
(`bot.discord_app.weekly`), a subgroup it adds here.

Discord hides these commands from members without Manage Server (`default_permissions`), but a
server can change that and a forged request skips it, so `interaction_check` decides again on every
command: Manage Server, or a role listed in `discord.admin_role_ids` (`context.require_admin`). (Members
with an admin role but without Manage Server see the commands once the server allows that role under
Server Settings → Integrations.)
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.admin import GuildStats, UnansweredGroup, group_unanswered, guild_stats
from bot.discord_app import render
from bot.discord_app.context import require_admin
from bot.discord_app.markup import timestamp, without_markup
from bot.discord_app.render import inline_quote as quote
from bot.discord_app.teaching import (
    entry_autocomplete,
    feedback_page,
    feedback_question_autocomplete,
    resolve_question,
    taught_autocomplete,
    taught_file_problem,
    taught_list_embed,
    taught_message,
)
from bot.discord_app.tree import Refused
from bot.discord_app.weekly import problem_text
from bot.storage.errors import StorageError
from bot.teaching import TaughtFileError, TeachingError
from indexer.build import BuildInProgress
from knowledge.loader import KnowledgeError

if TYPE_CHECKING:
    from bot.discord_app.client import TutorBot

log = logging.getLogger(__name__)

REINDEX_LOCK = "reindex"  # the database lock the process that rebuilds holds
ANOTHER_PROCESS_REINDEXES = (
    "Another bot process is rebuilding the index right now; every process switches to the new one when it "
    "finishes. I keep answering from the current index meanwhile."
)
QUIZ_TOPICS_SHOWN = 12
GROUPS_SHOWN = 10
MESSAGE_CONTENT_OFF = (
    "⚠️ `discord.message_content` is off in my config, so Discord sends me plain messages without their text "
    "and I can't answer in ask channels yet. Members can still mention me or use /ask. To turn it on, enable "
    "the Message Content intent in the Developer Portal (Bot → Privileged Gateway Intents), set "
    "`discord.message_content: true` and restart me (see the README)."
)


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Admin(commands.GroupCog, group_name="admin", group_description="Server admin: weekly prompts, index, stats"):
    ask_channels = app_commands.Group(name="ask-channels", description="Channels where I answer plain messages")

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return require_admin(interaction)

    # /admin reindex -------------------------------------------------------------------------------

    @app_commands.command(name="reindex", description="Reload the knowledge files and notes and rebuild the index")
    async def reindex(self, interaction: discord.Interaction) -> None:
        lock = self.bot.reindex_lock
        if lock.locked():
            raise Refused("A reindex is already running. I keep answering from the current index until it's done.")
        async with lock:  # taken before the first await, so a second /admin reindex sees it
            await interaction.response.defer(thinking=True, ephemeral=True)
            log.info("reindex requested by %s in guild %s", interaction.user.id, interaction.guild_id)
            try:
                # Processes sharing a database rebuild once: whoever holds the lock, while the others keep serving.
                async with self.bot.store.exclusive(REINDEX_LOCK) as held:
                    if not held:
                        await interaction.followup.send(ANOTHER_PROCESS_REINDEXES, ephemeral=True)
                        return
                    report = await self.bot.rebuild_index()
            except KnowledgeError as exc:
                log.warning("reindex failed: %s", exc)
                await interaction.followup.send(embed=knowledge_error_embed(exc), ephemeral=True)
                return
            except BuildInProgress:
                await interaction.followup.send(
                    "Another process is rebuilding this index right now (`roadmap-tutor index build`?). "
                    "I kept the current index; try again when it has finished.",
                    ephemeral=True,
                )
                return
            except StorageError as exc:
                log.warning("reindex refused: the database that coordinates processes failed: %s", exc)
                await interaction.followup.send(
                    "I couldn't reach the database that keeps bot processes from rebuilding at once, so I kept the "
                    "current index. Try again in a moment.",
                    ephemeral=True,
                )
                return
            except Exception as exc:
                log.exception("reindex failed")
                await interaction.followup.send(
                    render.clip(f"The reindex failed ({type(exc).__name__}: {exc}). I kept the current index.", 1900),
                    ephemeral=True,
                )
                return
        await self.bot.announce("reindex")  # the other processes load the new index too
        what = "Nothing had changed, so I kept the index" if report.reused else "Rebuilt the index"
        await interaction.followup.send(
            f"✅ {what}: {report.documents} documents in {report.seconds:.1f} s. New questions use it now.",
            ephemeral=True,
        )

    # /admin stats and /admin unanswered -----------------------------------------------------------

    @app_commands.command(name="stats", description="Active members, topics completed, most asked topics")
    @app_commands.describe(days="How many days back to count (default 30)")
    async def stats(self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 365] = 30) -> None:
        assert interaction.guild_id is not None
        since = self.bot.clock() - timedelta(days=days)
        numbers = await guild_stats(self.bot.store, self.bot.tutor.kb, interaction.guild_id, since)
        status = await self.bot.weekly.status(interaction.guild_id)
        embed = stats_embed(numbers, days)
        settings = status.settings
        weekly = (
            "Not set up"
            if settings is None or status.slot is None
            else (f"{'On' if settings.enabled else 'Off'} · {status.slot.describe()} in <#{settings.channel_id}>")
        )
        if status.problem is not None:
            weekly += "\n⚠️ " + problem_text(status.problem)
        embed.add_field(name="Weekly prompts", value=weekly, inline=False)
        await interaction.response.send_message(embed=render.fit(embed), ephemeral=True)

    @app_commands.command(name="unanswered", description="Recent questions I couldn't answer, by closest topic")
    @app_commands.describe(days="How many days back to look (default 30)", limit="At most this many questions")
    async def unanswered(
        self,
        interaction: discord.Interaction,
        days: app_commands.Range[int, 1, 365] = 30,
        limit: app_commands.Range[int, 1, 100] = 50,
    ) -> None:
        assert interaction.guild_id is not None
        since = self.bot.clock() - timedelta(days=days)
        questions = await self.bot.store.unanswered_questions(interaction.guild_id, limit, since)
        groups = group_unanswered(questions, self.bot.tutor.kb)
        await interaction.response.send_message(embed=unanswered_embed(groups, days), ephemeral=True)

    # /admin feedback, teach and untaught -----------------------------------------------------------

    @app_commands.command(name="feedback", description="Answers members found unhelpful and questions I declined")
    @app_commands.describe(days="How many days back to look (default 30)")
    async def feedback(self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 365] = 30) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        embed, view = await feedback_page(self.bot, interaction.guild_id, interaction.user.id, days, 0)
        kwargs = {"view": view} if view is not None else {}
        await interaction.followup.send(embed=embed, ephemeral=True, **kwargs)

    @app_commands.command(name="teach", description="Teach me to answer a question with an entry, in this server")
    @app_commands.describe(
        question="The question as members ask it (pick one from /admin feedback as you type, or write it)",
        entry="The step, topic, concept, resource, weekly prompt or note that answers it (type to search)",
    )
    @app_commands.autocomplete(question=feedback_question_autocomplete, entry=entry_autocomplete)
    async def teach(
        self,
        interaction: discord.Interaction,
        question: app_commands.Range[str, 1, 1000],
        entry: app_commands.Range[str, 1, 100],
    ) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await resolve_question(self.bot, interaction.guild_id, question)
        if text is None:
            await interaction.followup.send(
                "That question is no longer in the feedback list: type it instead.", ephemeral=True
            )
            return
        try:
            taught = await self.bot.tutor.teach(interaction.guild_id, without_markup(text), entry)
        except TeachingError as exc:
            await interaction.followup.send(str(exc), ephemeral=True)
            return
        except TaughtFileError as exc:
            log.warning("teach refused: %s", exc)
            await interaction.followup.send(taught_file_problem(exc), ephemeral=True)
            return
        log.info("question taught in guild %s by %s: %s", interaction.guild_id, interaction.user.id, taught.entry.id)
        await interaction.followup.send(taught_message(taught), ephemeral=True)

    @app_commands.command(name="untaught", description="The questions taught in this server; remove one")
    @app_commands.describe(question="The taught question to remove: pick it as you type, or its number in the list")
    @app_commands.autocomplete(question=taught_autocomplete)
    async def untaught(
        self, interaction: discord.Interaction, question: app_commands.Range[str, 1, 1000] | None = None
    ) -> None:
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            if question is None:
                listed = await self.bot.tutor.taught(interaction.guild_id)
                await interaction.followup.send(embed=taught_list_embed(listed), ephemeral=True)
                return
            removed = await self.bot.tutor.untaught(interaction.guild_id, question)
        except TeachingError as exc:
            await interaction.followup.send(str(exc), ephemeral=True)
            return
        except TaughtFileError as exc:
            log.warning("untaught refused: %s", exc)
            await interaction.followup.send(taught_file_problem(exc), ephemeral=True)
            return
        log.info("taught question removed in guild %s by %s", interaction.guild_id, interaction.user.id)
        await interaction.followup.send(
            f"Removed: {quote(removed.question.q, 300)} is answered as before from now on.", ephemeral=True
        )

    # /admin ask-channels --------------------------------------------------------------------------

    @ask_channels.command(name="add", description="Answer every plain message in a channel")
    @app_commands.describe(channel="The channel where members ask questions")
    async def ask_add(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        assert interaction.guild_id is not None
        await self.bot.set_ask_channel(interaction.guild_id, channel.id, True)
        await self._say_ask_channels(interaction, f"I'll answer plain messages in {channel.mention}.")

    @ask_channels.command(name="remove", description="Stop answering plain messages in a channel")
    @app_commands.describe(channel="The channel to stop answering in")
    async def ask_remove(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        assert interaction.guild_id is not None
        await self.bot.set_ask_channel(interaction.guild_id, channel.id, False)
        await self._say_ask_channels(interaction, f"I no longer answer plain messages in {channel.mention}.")

    @ask_channels.command(name="list", description="The channels where I answer plain messages")
    async def ask_list(self, interaction: discord.Interaction) -> None:
        await self._say_ask_channels(interaction, None)

    async def _say_ask_channels(self, interaction: discord.Interaction, done: str | None) -> None:
        assert interaction.guild_id is not None
        channels = sorted(await self.bot.ask_channels(interaction.guild_id))
        listed = ", ".join(f"<#{c}>" for c in channels) or "none (members can still mention me or use /ask)"
        lines = [done] if done else []
        lines.append(f"Ask channels: {listed}")
        if not self.bot.settings.discord.message_content:
            lines.append(MESSAGE_CONTENT_OFF)
        await interaction.response.send_message(render.clip("\n".join(lines), render.MESSAGE_LIMIT), ephemeral=True)


def knowledge_error_embed(error: KnowledgeError) -> discord.Embed:
    embed = discord.Embed(
        title="Reindex failed: a knowledge file is broken",
        description="I kept the current index, so answers are unchanged. Fix the file and run /admin reindex again.",
        colour=discord.Colour.red(),
    )
    embed.add_field(name="File", value=f"`{render.clip(str(error.path), 1000)}`", inline=False)
    field = f"`{render.clip(error.field_path, 1000)}`" if error.field_path else "(the whole file)"
    embed.add_field(name="Field", value=field)
    embed.add_field(name="Reason", value=render.clip(error.reason, 1000), inline=False)
    return render.fit(embed)


def stats_embed(stats: GuildStats, days: int) -> discord.Embed:
    embed = discord.Embed(title=f"Server stats · last {days} day{'s' if days != 1 else ''}", colour=render.COLOUR)
    embed.add_field(name="Active members", value=str(stats.active_members))
    embed.add_field(name="Topics completed", value=str(stats.topics_completed))
    embed.add_field(name="Questions asked", value=str(stats.questions_asked))
    embed.add_field(
        name="Couldn't answer",
        value=f"{stats.unanswered} (see /admin unanswered)" if stats.unanswered else "0",
    )
    if stats.top_topics:
        lines = [f"{n}. {title} · {count}" for n, (title, count) in enumerate(stats.top_topics, start=1)]
        embed.add_field(name="Most asked topics", value="\n".join(lines), inline=False)
    if stats.quiz_topics:
        lines = [
            f"{t.title} · {t.attempts} answer{'s' if t.attempts != 1 else ''} · {t.share_right:.0%} right"
            for t in stats.quiz_topics[:QUIZ_TOPICS_SHOWN]
        ]
        if len(stats.quiz_topics) > QUIZ_TOPICS_SHOWN:
            lines.append(f"…and {len(stats.quiz_topics) - QUIZ_TOPICS_SHOWN} more topics")
        embed.add_field(name="Quiz answers by topic, hardest first", value="\n".join(lines), inline=False)
    else:
        embed.add_field(name="Quiz answers by topic", value="None yet (members quiz with /quiz)", inline=False)
    embed.set_footer(
        text="Counts come from the question log and quiz answers, kept for a limited time (see docs/PRIVACY.md)."
    )
    return embed


def unanswered_embed(groups: list[UnansweredGroup], days: int) -> discord.Embed:
    total = sum(len(g.questions) for g in groups)
    embed = discord.Embed(title=f"Questions I couldn't answer · last {days} days", colour=render.COLOUR)
    if not groups:
        embed.description = "None: every question found an answer."
        return render.fit(embed)
    embed.description = (
        f"{total} question(s), grouped by the closest topic I know. A Markdown note about a group "
        "(in a `knowledge.dirs` folder) and /admin reindex will teach me to answer them."
    )
    # Budget the fields so the whole embed stays under Discord's 6000 characters without dropping a group.
    budget = render.EMBED_TOTAL_LIMIT - len(embed.title or "") - len(embed.description) - 100
    shown = 0
    for group in groups[:GROUPS_SHOWN]:
        name = render.clip(f"{group.title} ({len(group.questions)})", render.FIELD_NAME_LIMIT)
        room = min(render.FIELD_VALUE_LIMIT, budget - len(name))
        lines, used = [], 0
        for question in group.questions:
            line = f"• {quote(question.question)} {timestamp(question.at, 'R')}"
            if used + len(line) + 1 > room:
                break
            lines.append(line)
            used += len(line) + 1
        if not lines:
            break
        embed.add_field(name=name, value="\n".join(lines), inline=False)
        budget -= len(name) + used
        shown += 1
    if len(groups) > shown:
        embed.set_footer(text=f"…and {len(groups) - shown} more group(s). Narrow it down with days or limit.")
    return render.fit(embed)
