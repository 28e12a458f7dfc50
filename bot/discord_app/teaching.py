"""What `/admin feedback`, `/admin teach` and `/admin untaught` show, their page buttons and their autocompletes.

The commands themselves are in the `/admin` group (`bot.discord_app.admin`); what they do is the tutor's
(`bot.teaching`). Autocomplete answers from memory: the entries of the knowledge, the taught questions as last
read, and each server's feedback list read from the database at most once a minute.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from rapidfuzz import fuzz, utils

from bot.discord_app import render
from bot.discord_app.context import bot_of, member_is_admin
from bot.discord_app.render import inline_quote
from bot.storage.errors import StorageError
from bot.teaching import FeedbackGroup, FeedbackQuestion, Listed, Taught, TaughtFileError, group_feedback

if TYPE_CHECKING:
    from bot.discord_app.client import TutorBot

log = logging.getLogger(__name__)

FEEDBACK_READ = 500  # the newest questions /admin feedback reads, declined or unhelpful
GROUPS_PER_PAGE = 6
QUESTIONS_PER_GROUP = 8
LOOKING_FOR_SHOWN = 2
CACHE_SECONDS = 60.0  # how long the teach autocomplete's feedback list is used before it is read again
LOGGED = "log:"  # an autocomplete value naming a logged question too long for the value's 100 characters
NOT_ADMIN = "Only server admins (Manage Server, or an admin role set in my config) can use /admin."


# /admin feedback: pages -------------------------------------------------------------------------------


def _question_line(question: FeedbackQuestion, declined_group: bool) -> str:
    line = f"• {inline_quote(question.text, 150)}"
    if question.count > 1:
        line += f" ×{question.count}"
    if question.unhelpful and not declined_group:
        line += f" · 👎 {question.unhelpful}"
    for wanted in question.looking_for[:LOOKING_FOR_SHOWN]:
        line += f"\n  ↳ looking for {inline_quote(wanted, 120)}"
    return line


def _group_field(group: FeedbackGroup) -> tuple[str, str]:
    """A group as one embed field: its entry and count, and its questions, as many as fit a field."""
    name = render.clip(f"{group.title} · {group.count}", render.FIELD_NAME_LIMIT)
    lines: list[str] = []
    shown = group.questions[:QUESTIONS_PER_GROUP]
    for number, question in enumerate(shown):
        line = _question_line(question, group.declined)
        rest = len(group.questions) - number
        more = f"\n…and {rest - 1} more" if rest > 1 else ""
        if len("\n".join([*lines, line])) + len(more) > render.FIELD_VALUE_LIMIT:
            lines.append(f"…and {rest} more")
            break
        lines.append(line)
    else:
        if len(group.questions) > len(shown):
            lines.append(f"…and {len(group.questions) - len(shown)} more")
    return name, "\n".join(lines)


def feedback_pages(
    groups: list[FeedbackGroup], helpful: int, unhelpful: int, declined: int, days: int
) -> list[discord.Embed]:
    """The groups on as many embeds as they need, each within Discord's limits (fields, 6,000 characters)."""
    title = f"Feedback to teach from · last {days} day{'s' if days != 1 else ''}"
    description = f"👍 {helpful} helpful · 👎 {unhelpful} not helpful · 🤷 {declined} declined"
    if groups:
        description += (
            "\nGrouped by the entry each answer led with. Teach me a question with /admin teach: pick it, then the "
            "entry that answers it."
        )
    else:
        description += "\nNothing to teach from: no answer was marked unhelpful and I declined no question."
    footer = "Questions are kept for a limited time (docs/PRIVACY.md); who asked is not shown."
    footer_room = len(footer) + len("Page 9999 of 9999 · ")
    budget = render.EMBED_TOTAL_LIMIT - len(title) - len(description) - footer_room
    pages: list[list[tuple[str, str]]] = [[]]
    used = 0
    for name, value in map(_group_field, groups):
        size = len(name) + len(value)
        if pages[-1] and (len(pages[-1]) >= GROUPS_PER_PAGE or used + size > budget):
            pages.append([])
            used = 0
        pages[-1].append((name, value))
        used += size
    embeds = []
    for number, fields in enumerate(pages, start=1):
        embed = discord.Embed(title=title, description=description, colour=render.COLOUR)
        for name, value in fields:
            embed.add_field(name=name, value=value, inline=False)
        embed.set_footer(text=f"Page {number} of {len(pages)} · {footer}" if len(pages) > 1 else footer)
        embeds.append(render.fit(embed))
    return embeds


class FeedbackPageButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"tutor:fbpage:(?P<user>\d{1,20}):(?P<days>\d{1,3}):(?P<page>\d{1,4})",
):
    """Turns the /admin feedback list to page `page` (read again), for the admin who ran it."""

    def __init__(self, user_id: int, days: int, page: int, label: str, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                disabled=disabled,
                custom_id=f"tutor:fbpage:{user_id}:{days}:{page}",
            )
        )
        self.user_id, self.days, self.page = user_id, days, page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> FeedbackPageButton:
        return cls(int(match["user"]), int(match["days"]), int(match["page"]), item.label or "")

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        bot = bot_of(interaction)
        if interaction.user.id != self.user_id or not member_is_admin(interaction, bot.settings.discord.admin_role_ids):
            await interaction.response.send_message(NOT_ADMIN, ephemeral=True)
            return False
        return True

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()  # the page is read again from the database, then shown in place
        assert interaction.guild_id is not None
        try:
            embed, view = await feedback_page(
                bot_of(interaction), interaction.guild_id, self.user_id, self.days, self.page
            )
        except StorageError as exc:
            log.warning("storage problem turning a feedback page: %s", exc)
            await interaction.followup.send(exc.user_message, ephemeral=True)
            return
        await interaction.edit_original_response(embed=embed, view=view)


async def feedback_page(
    bot: TutorBot, guild_id: int, user_id: int, days: int, page: int
) -> tuple[discord.Embed, discord.ui.View | None]:
    """Page `page` (from 0; the last one if there are fewer) of a server's feedback, with buttons to turn it."""
    summary = await bot.store.feedback_summary(guild_id, bot.clock() - timedelta(days=days), FEEDBACK_READ)
    groups = group_feedback(summary.questions, bot.tutor.entries())
    bot.feedback_questions.put(guild_id, groups)
    pages = feedback_pages(groups, summary.helpful, summary.unhelpful, summary.declined, days)
    page = min(page, len(pages) - 1)
    if len(pages) == 1:
        return pages[0], None
    view = discord.ui.View(timeout=None)
    view.add_item(FeedbackPageButton(user_id, days, max(0, page - 1), "◀ Previous", disabled=page == 0))
    view.add_item(FeedbackPageButton(user_id, days, page + 1, "Next ▶", disabled=page == len(pages) - 1))
    return pages[page], view


# /admin teach and /admin untaught ----------------------------------------------------------------------


@dataclass
class _Cached:
    at: float
    questions: list[FeedbackQuestion]


class FeedbackQuestions:
    """Each server's questions to teach from (declined or marked unhelpful), as /admin feedback last read them or
    read again when older than `CACHE_SECONDS`: what the teach autocomplete offers, without a database read per
    key press."""

    def __init__(self) -> None:
        self._by_guild: dict[int, _Cached] = {}

    def put(self, guild_id: int, groups: list[FeedbackGroup]) -> None:
        questions = [q for group in groups for q in group.questions]
        self._by_guild[guild_id] = _Cached(time.monotonic(), questions)

    async def of(self, bot: TutorBot, guild_id: int, days: int = 30) -> list[FeedbackQuestion]:
        cached = self._by_guild.get(guild_id)
        if cached is None or time.monotonic() - cached.at > CACHE_SECONDS:
            summary = await bot.store.feedback_summary(guild_id, bot.clock() - timedelta(days=days), FEEDBACK_READ)
            self.put(guild_id, group_feedback(summary.questions, bot.tutor.entries()))
        return self._by_guild[guild_id].questions

    def forget(self, guild_id: int) -> None:
        self._by_guild.pop(guild_id, None)


def _matching(typed: str, texts: list[str], limit: int = 25) -> list[int]:
    """Positions of the texts matching what was typed, best first (all, in order, when nothing is typed)."""
    if not typed.strip():
        return list(range(min(limit, len(texts))))
    scored = [(fuzz.partial_ratio(typed, t, processor=utils.default_process), i) for i, t in enumerate(texts)]
    return [i for score, i in sorted(scored, key=lambda s: (-s[0], s[1])) if score >= 60][:limit]


async def feedback_question_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """The server's declined and unhelpful questions matching what was typed."""
    bot = bot_of(interaction)
    if interaction.guild_id is None or not member_is_admin(interaction, bot.settings.discord.admin_role_ids):
        return []
    try:
        questions = await bot.feedback_questions.of(bot, interaction.guild_id)
    except StorageError as exc:
        log.warning("no feedback questions for autocomplete: %s", exc)
        return []
    choices = []
    for i in _matching(current, [q.text for q in questions]):
        question = questions[i]
        flat = " ".join(question.text.split())
        name = render.clip(flat + (f" (×{question.count})" if question.count > 1 else ""), 100) or "…"
        if len(flat) <= 100:
            value = flat
        elif question.answer_key:
            value = LOGGED + question.answer_key
        else:
            continue
        choices.append(app_commands.Choice(name=name, value=value))
    return choices


async def entry_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Steps, topics, concepts, resources, weekly prompts and notes matching what was typed (id or title)."""
    teacher = bot_of(interaction).tutor.teacher
    if teacher is None:
        return []
    return [app_commands.Choice(name=c.name, value=c.value) for c in teacher.finder.choices(current)]


async def taught_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """The questions taught in this server (those it may remove), matching what was typed."""
    bot = bot_of(interaction)
    teacher = bot.tutor.teacher
    if teacher is None or interaction.guild_id is None:
        return []
    own = [item for item in teacher.listed_in_memory(interaction.guild_id) if item.removable]
    labels = [f"{item.number}. {item.question.q} → {item.question.answer}" for item in own]
    return [
        app_commands.Choice(name=render.clip(" ".join(labels[i].split()), 100) or "…", value=own[i].key)
        for i in _matching(current, labels)
    ]


async def resolve_question(bot: TutorBot, guild_id: int, typed: str) -> str | None:
    """The question an autocomplete value or typed text stands for: a logged question's full text for a `LOGGED`
    value (None if it is no longer in the feedback list), else the text as typed."""
    if not typed.startswith(LOGGED):
        return typed
    key = typed.removeprefix(LOGGED)
    for question in await bot.feedback_questions.of(bot, guild_id):
        if question.answer_key == key:
            return question.text
    return None


def taught_message(taught: Taught) -> str:
    entry = f"**{discord.utils.escape_markdown(taught.entry.title)}** (`{taught.entry.id}`)"
    asked = inline_quote(taught.question.q, 300)
    if taught.unchanged:
        return f"Already taught: {asked} is answered with {entry} in this server."
    before = (
        f" It was answered with **{discord.utils.escape_markdown(taught.previous.title)}** before."
        if taught.previous is not None
        else ""
    )
    return (
        f"✅ Taught: when a member here asks {asked} (or something close to it), I answer with {entry}, from now "
        f"on.{before} Other servers are not affected. Undo it with /admin untaught."
    )


def taught_file_problem(error: TaughtFileError) -> str:
    return render.clip(
        f"I changed nothing: the taught questions' file is broken, and I won't write over it. {error}. Fix or "
        "remove that part of the file by hand (or ask the bot's operator to), then try again.",
        render.MESSAGE_LIMIT,
    )


def taught_list_embed(listed: list[Listed]) -> discord.Embed:
    """The questions taught in a server, numbered, with the entry each answers with."""
    embed = discord.Embed(title="Questions taught in this server", colour=render.COLOUR)
    if not listed:
        embed.description = "None yet. Teach me one with /admin teach (see /admin feedback for what to teach)."
        return render.fit(embed)
    lines, used = [], 0
    for item in listed:
        entry = item.entry.title if item.entry is not None else f"{item.question.answer} (no longer in the knowledge)"
        where = "" if item.removable else " · every server (taught by the operator)"
        line = f"{item.number}. {inline_quote(item.question.q, 150)} → {discord.utils.escape_markdown(entry)}{where}"
        if used + len(line) + 1 > render.DESCRIPTION_LIMIT - 80:
            lines.append(f"…and {len(listed) - len(lines)} more")
            break
        lines.append(line)
        used += len(line) + 1
    embed.description = "\n".join(lines)
    embed.set_footer(text="Remove one with /admin untaught question: (its number, or pick it as you type).")
    return render.fit(embed)


TEACHING_BUTTONS = (FeedbackPageButton,)
