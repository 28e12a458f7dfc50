"""`roadmap-tutor chat`: the same tutor in a terminal, for one local member, without Discord."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import TextIO

from bot.config import Settings
from bot.storage import StorageError, open_store
from bot.tutor import Member, Tutor, UnknownRoadmapChoice, UnknownTopic

LOCAL_MEMBER = Member(guild_id=0, user_id=0)

HELP = """Type a question to ask it, or one of:
  next               what to study next
  done TOPIC         mark a topic as finished      undo TOPIC   take that back
  progress           your progress by step
  roadmap [STEP]     the roadmap with your status on each topic
  topic NAME         a topic's card
  roadmaps           the loaded roadmaps          follow NAME  follow one of them
  help               this list                     quit         leave (Ctrl-D works too)"""


def render_progress(report) -> str:  # type: ignore[no-untyped-def]
    lines = [f"{report.roadmap_title}: " if report.roadmap_title else ""]
    lines[0] += f"{report.done}/{report.total} topics done · streak: {report.streak_days} day(s)"
    for step in report.steps:
        lines.append(f"Step {step.number} {step.bar} {step.done}/{step.total}  {step.title}")
    if report.current_step:
        lines.append(f"Current step: {report.current_step.number}. {report.current_step.title}")
    else:
        lines.append("Every step is complete.")
    return "\n".join(lines)


async def handle_line(tutor: Tutor, line: str, member: Member = LOCAL_MEMBER) -> str | None:
    """One console command or question; returns the text to print, or None to quit."""
    line = line.strip()
    if not line:
        return ""
    word, _, rest = line.partition(" ")
    command, rest = word.lower(), rest.strip()
    try:
        if command in {"quit", "exit", ":q"}:
            return None
        if command in {"help", "?"}:
            return HELP
        if command == "next":
            picks = await tutor.next_steps(member)
            if not picks:
                after = await tutor.after_roadmap(member)
                return "You have finished every topic." + (f" Next: the {after}." if after else "")
            return "\n".join(f"→ {p.entry.topic.title} (step {p.entry.step.number}): {p.reason}" for p in picks)
        if command in {"done", "undo"} and rest:
            result = await (tutor.mark_done if command == "done" else tutor.undo)(member, rest)
            title = result.entry.topic.title
            if command == "done":
                status = f"Marked {title} as done." if result.changed else f"{title} was already done."
            else:
                status = f"Unmarked {title}." if result.changed else f"{title} was not marked done."
            picks = ", ".join(p.entry.topic.title for p in result.next_steps) or "nothing left"
            return f"{status} Next up: {picks}"
        if command == "progress":
            return render_progress(await tutor.progress(member))
        if command == "roadmap":
            step = int(rest) if rest.isdigit() else None
            lines = []
            for number, title, statuses in await tutor.roadmap(member, step):
                lines.append(f"Step {number}: {title}")
                for s in statuses:
                    mark = "✔" if s.done else ("→" if s.available else "·")
                    lines.append(f"  {mark} {s.entry.topic.title}")
            return "\n".join(lines) or f"There is no step {rest}."
        if command == "roadmaps":
            followed = await tutor.followed_roadmap(member)
            return "\n".join(
                f"{'→' if followed is not None and r.id == followed.id else ' '} {r.title} ({r.id})"
                for r in tutor.kb.roadmaps
            )
        if command == "follow" and rest:
            chosen = await tutor.follow(member, rest)
            picks = ", ".join(p.entry.topic.title for p in await tutor.next_steps(member)) or "nothing left"
            return f"You now follow {chosen.title}. Next up: {picks}"
        if command == "topic" and rest:
            card = tutor.topic_card(rest, member)
            topic = card.entry.topic
            lines = [f"{topic.title} — step {card.entry.step.number}: {card.entry.step.title}", topic.explanation, ""]
            lines += [f"• {p}" for p in topic.key_points]
            if card.prerequisites:
                lines.append("Needs: " + ", ".join(e.topic.title for e in card.prerequisites))
            if card.unlocks:
                lines.append("Unlocks: " + ", ".join(e.topic.title for e in card.unlocks))
            for resource_id in topic.resources:
                resource = tutor.kb.resources[resource_id].resource
                lines.append(f"Study: {resource.title} — {resource.url}")
            return "\n".join(lines)
        question = rest if command == "ask" else line
        return (await tutor.ask(member, question)).text
    except (UnknownTopic, UnknownRoadmapChoice) as exc:
        return str(exc)
    except StorageError as exc:
        return exc.user_message


async def chat(settings: Settings, read: Callable[[str], str] = input, out: TextIO = sys.stdout) -> int:
    from bot.serving import open_answerer

    print("Loading the tutor…", file=out, flush=True)
    answerer = await asyncio.to_thread(open_answerer, settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    async with open_store(str(settings.database_path)) as store:
        tutor = Tutor(answerer, store)
        print("Roadmap Tutor. Ask a question, or type help.", file=out, flush=True)
        try:
            while True:
                try:
                    line = await asyncio.to_thread(read, "> ")
                except EOFError:
                    break
                reply = await handle_line(tutor, line)
                if reply is None:
                    break
                if reply:
                    print(reply, file=out, flush=True)
        finally:
            tutor.close()
    return 0


def run_console(settings: Settings) -> int:
    return asyncio.run(chat(settings))


__all__ = ["chat", "handle_line", "run_console"]
