"""Embeds for answers, progress, the roadmap and topic cards, always within Discord's limits."""

from __future__ import annotations

import unicodedata

import discord

from bot.answering import Answer
from bot.discord_app.markup import timestamp
from bot.progress import ProgressReport, Recommendation
from bot.quiz import TopicKnowledge
from bot.tutor import TopicCard, TopicStatus

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
MAX_FIELDS = 25
MESSAGE_LIMIT = 2000

COLOUR = discord.Colour.from_rgb(88, 101, 242)
UNKNOWN_COLOUR = discord.Colour.light_grey()


def clip(text: str, limit: int) -> str:
    """Cut at a word boundary near the limit and mark the cut with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…"


def quote(text: str, limit: int = 300) -> str:
    """A member's words quoted back on one line and inert: Markdown escaped, invisible and direction-changing
    characters dropped, so they cannot restyle, reverse or hide anything in the bot's message."""
    visible = "".join(c for c in text if unicodedata.category(c) not in {"Cc", "Cf"})
    flat = " ".join(visible.split())
    return "> " + clip(discord.utils.escape_markdown(flat), limit - 2) if flat else ""


def inline_quote(text: str, limit: int = 150) -> str:
    """A member's words inside the bot's own line, inert: one line, no Markdown, no mention syntax, clipped."""
    flat = " ".join(text.split())
    flat = discord.utils.escape_mentions(discord.utils.escape_markdown(flat))
    return "“" + clip(flat, limit) + "”"


def fit(embed: discord.Embed) -> discord.Embed:
    """Clip every part to its limit, then shorten the description, then drop trailing fields until the whole
    embed fits; fields that had to go are counted in a last field rather than dropped silently."""
    if embed.title:
        embed.title = clip(embed.title, TITLE_LIMIT)
    if embed.description:
        embed.description = clip(embed.description, DESCRIPTION_LIMIT)
    fields = embed.fields
    embed.clear_fields()
    for field in fields:
        embed.add_field(
            name=clip(field.name or "\u200b", FIELD_NAME_LIMIT) or "\u200b",
            value=clip(field.value or "\u200b", FIELD_VALUE_LIMIT) or "\u200b",
            inline=bool(field.inline),
        )
    if embed.footer.text is not None:
        footer = clip(embed.footer.text, FOOTER_LIMIT)
        if footer:
            embed.set_footer(text=footer, icon_url=embed.footer.icon_url)
        else:
            embed.remove_footer()
    hidden = 0
    while True:
        # Room for the "N more not shown" field whenever something is hidden.
        note = len(HIDDEN_NAME) + len(_hidden_note(hidden)) if hidden else 0
        if len(embed.fields) > MAX_FIELDS - (1 if hidden else 0):
            embed.remove_field(len(embed.fields) - 1)
            hidden += 1
            continue
        excess = len(embed) + note - EMBED_TOTAL_LIMIT
        if excess <= 0:
            break
        if embed.description and len(embed.description) > excess + 1:
            embed.description = clip(embed.description, len(embed.description) - excess - 1)
        elif embed.fields:
            embed.remove_field(len(embed.fields) - 1)
            hidden += 1
        else:  # pragma: no cover - title and footer alone are under the total
            break
    if hidden:
        embed.add_field(name=HIDDEN_NAME, value=_hidden_note(hidden), inline=False)
    return embed


HIDDEN_NAME = "…"


def _hidden_note(hidden: int) -> str:
    return f"{hidden} more not shown"


def _bullets(items: list[str]) -> str:
    lines, used = [], 0
    for item in items:
        line = f"• {item}"
        if used + len(line) + 1 > FIELD_VALUE_LIMIT:
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def answer_embed(answer: Answer) -> discord.Embed:
    if answer.abstained:
        embed = discord.Embed(
            title=answer.headline,
            description=answer.explanation or "",
            colour=UNKNOWN_COLOUR,
        )
        if answer.closest:
            embed.add_field(
                name="The closest topics I do know",
                value=_bullets([f"{t.title} (step {t.step})" for t in answer.closest]),
                inline=False,
            )
            embed.set_footer(text="Try /topic with one of these, or ask an admin to add a note about it.")
        return fit(embed)
    parts = []
    if answer.notice:
        parts.append(f"*{answer.notice}*")
    if answer.location:
        parts.append(f"📍 {answer.location}")
    for number, section in enumerate(answer.sections):
        parts.append(section.text if number == 0 else f"**{section.title}**\n{section.text}")
    embed = discord.Embed(title=answer.headline, description="\n\n".join(parts), colour=COLOUR)
    if answer.key_points:
        embed.add_field(name="Key points", value=_bullets(answer.key_points), inline=False)
    if answer.resources:
        embed.add_field(
            name="Study with", value=_bullets([f"[{r.title}]({r.url})" for r in answer.resources]), inline=False
        )
    if answer.next_topics:
        embed.add_field(
            name="Then", value=", ".join(f"{t.title} (step {t.step})" for t in answer.next_topics), inline=False
        )
    return fit(embed)


def next_embed(picks: list[Recommendation], finished_title: str | None = None) -> discord.Embed:
    if not picks:
        embed = discord.Embed(
            title="You've finished every topic 🎉",
            description=f"Next: {finished_title}." if finished_title else "Nothing is left on this roadmap.",
            colour=COLOUR,
        )
        return fit(embed)
    embed = discord.Embed(title="Your next step", colour=COLOUR)
    for pick in picks:
        topic = pick.entry.topic
        embed.add_field(
            name=f"Step {pick.entry.step.number}: {topic.title} (~{topic.hours:g} h)",
            value=f"{topic.summary}\n*Why:* {pick.reason}.",
            inline=False,
        )
    embed.set_footer(text="Mark a topic finished with /done.")
    return fit(embed)


STATE_MARKS = {"mastered": "🏆", "due": "🔁", "done": "✅", "learning": "📝", "new": "▫️"}


def _knowledge_line(known: TopicKnowledge) -> str:
    title = known.topic.topic.title
    if known.state == "due" and known.due is not None:
        return f"🔁 {title} · due for review {timestamp(known.due, 'R')}"
    if known.state == "mastered":
        return f"🏆 {title} · mastered"
    if known.state in ("done", "learning") and known.due is not None:
        what = "done" if known.state == "done" else "learning"
        return f"{STATE_MARKS[known.state]} {title} · {what}, review {timestamp(known.due, 'R')}"
    return f"{STATE_MARKS[known.state]} {title}" + (" · done" if known.state == "done" else "")


def progress_embed(
    report: ProgressReport, whose: str, knowledge: dict[str, TopicKnowledge] | None = None
) -> discord.Embed:
    lines = [f"`{s.bar}` {s.done}/{s.total} · Step {s.number}: {s.title}" for s in report.steps]
    embed = discord.Embed(title=f"Progress of {whose}", description="\n".join(lines), colour=COLOUR)
    if report.roadmap_title:
        embed.set_author(name=report.roadmap_title)
    embed.add_field(name="Topics done", value=f"{report.done} of {report.total}")
    embed.add_field(
        name="Current step",
        value=f"{report.current_step.number}. {report.current_step.title}" if report.current_step else "All done",
    )
    embed.add_field(name="Streak", value=f"{report.streak_days} active day(s) in a row")
    if knowledge:
        states = [k.state for k in knowledge.values()]
        embed.add_field(name="Reviews due", value=str(states.count("due")))
        embed.add_field(name="Mastered", value=str(states.count("mastered")))
        steps: dict[tuple[str, int], list[TopicKnowledge]] = {}
        for known in knowledge.values():
            steps.setdefault((known.topic.roadmap.id, known.topic.step.number), []).append(known)
        for topics in steps.values():
            step = topics[0].topic.step
            embed.add_field(
                name=f"Step {step.number}: {step.title}",
                value="\n".join(_knowledge_line(k) for k in topics),
                inline=False,
            )
        embed.set_footer(text="🏆 mastered · 🔁 due for review · ✅ done · 📝 learning (quizzed) · ▫️ not started")
    return fit(embed)


def roadmap_embed(title: str, view: list[tuple[int, str, list[TopicStatus]]]) -> discord.Embed:
    embed = discord.Embed(title=title, colour=COLOUR)
    for number, step_title, statuses in view:
        lines = [f"{'✅' if s.done else ('➡️' if s.available else '🔒')} {s.entry.topic.title}" for s in statuses]
        embed.add_field(name=f"Step {number}: {step_title}", value="\n".join(lines), inline=False)
    embed.set_footer(text="✅ done · ➡️ ready to start · 🔒 needs earlier topics")
    return fit(embed)


def topic_embed(card: TopicCard, resources: list[tuple[str, str]]) -> discord.Embed:
    entry = card.entry
    topic = entry.topic
    embed = discord.Embed(
        title=topic.title,
        description=f"📍 {entry.roadmap.title} › Step {entry.step.number}: {entry.step.title}\n\n{topic.explanation}",
        colour=COLOUR,
    )
    embed.add_field(name="Key points", value=_bullets(list(topic.key_points)), inline=False)
    if topic.concepts:
        embed.add_field(name="Concepts", value=", ".join(c.title for c in topic.concepts), inline=False)
    if card.prerequisites:
        embed.add_field(name="Needs", value=", ".join(e.topic.title for e in card.prerequisites))
    if card.unlocks:
        embed.add_field(name="Unlocks", value=", ".join(e.topic.title for e in card.unlocks))
    if resources:
        embed.add_field(name="Study with", value=_bullets([f"[{t}]({u})" for t, u in resources]), inline=False)
    embed.set_footer(text=f"About {topic.hours:g} hours · /done {topic.id} when finished")
    return fit(embed)
