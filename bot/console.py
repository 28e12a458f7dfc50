"""`roadmap-tutor chat`: the same tutor in a terminal, for one local member, without Discord."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from bot.answering.followup import AnswerContext
from bot.config import Settings
from bot.quiz import Pick, QuizResult, QuizUnavailable, ReviewSchedule
from bot.storage import StorageError, open_store
from bot.tutor import Member, Tutor, UnknownRoadmapChoice, UnknownTopic
from bot.weekly.service import InvalidSchedule

LOCAL_MEMBER = Member(guild_id=0, user_id=0)

HELP = """Type a question to ask it, or one of:
  next               what to study next
  done TOPIC         mark a topic as finished      undo TOPIC   take that back
  progress           your progress by step
  roadmap [STEP]     the roadmap with your status on each topic
  topic NAME         a topic's card
  roadmaps           the loaded roadmaps          follow NAME  follow one of them
  quiz [TOPIC]       a question (default: most overdue review, else current topic); answer A, B... or 1, 2...
  review             topics due for review, and when the others come back
  help               this list                     quit         leave (Ctrl-D works too)"""

LETTERS = "ABCDE"


@dataclass
class ConsoleState:
    """What the console remembers between lines: the quiz question waiting for its answer, and the last answer,
    which the next question may follow up ("and L2?", "any book on it?")."""

    pending: Pick | None = None
    last_answer: AnswerContext | None = None


def choice_typed(line: str) -> int | None:
    """The choice a line picks: its letter or its number ("b", "B)", "2"), else None (a command or question)."""
    mark = line.strip().rstrip(").").upper()
    if len(mark) != 1:
        return None
    if mark in LETTERS:
        return LETTERS.index(mark)
    if mark.isdigit() and 1 <= int(mark) <= len(LETTERS):
        return int(mark) - 1
    return None


def render_question(pick: Pick) -> str:
    item = pick.entry.item
    lines = [f"Quiz · {pick.topic.topic.title} ({_why(pick)})", item.question]
    lines += [f"  {LETTERS[i]}) {choice}" for i, choice in enumerate(item.choices)]
    lines.append("Answer with a letter (or its number).")
    return "\n".join(lines)


def _why(pick: Pick) -> str:
    if pick.why == "due":
        return "due for review"
    if pick.why == "current":
        return "your current topic"
    if pick.why == "scheduled":
        return "nothing is due; it comes back next"
    return "as asked"


def when(moment: datetime, now: datetime) -> str:
    """A time as a person says it: "in 3 days", "2 hours ago", "now"."""
    seconds = (moment - now).total_seconds()
    size = abs(seconds)
    for unit, length in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if size >= length - 60:  # a minute's slack: "in 2 days" right after scheduling 2 days out
            count = round(size / length)
            if count == 0:
                break
            text = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {text}" if seconds > 0 else f"{text} ago"
    return "now"


def render_result(result: QuizResult, now: datetime) -> str:
    item = result.entry.item
    answer, tempting = LETTERS[item.answer], LETTERS[item.tempting]
    title = result.topic.topic.title
    if result.repeated:
        head = f"You already answered this one ({LETTERS[result.choice]})."
    elif result.correct:
        head = f"✔ Right: {answer}."
    else:
        head = f"✘ Not quite: the answer is {answer}, not {LETTERS[result.choice]}."
    lines = [head, f"Why {answer}: {item.why}", f"Why not {tempting}: {item.why_not}"]
    if result.card is not None and not result.repeated:
        due = f"{when(result.card.due, now)} ({result.card.due:%Y-%m-%d})"
        if not result.counted:
            lines.append(f"Practice: your next review of {title} stays {due}.")
        else:
            lines.append(f"Next review of {title}: {due}.")
    lines.append(f"More on it: topic {result.topic.topic.id} · another question: quiz")
    return "\n".join(lines)


def render_reviews(schedule: ReviewSchedule, now: datetime) -> str:
    if not schedule.due and not schedule.upcoming:
        return "Nothing is scheduled yet: a topic comes back for review once you mark it done or take a quiz."
    lines = [f"{len(schedule.due)} due for review" + (", most overdue first:" if schedule.due else ".")]
    lines += [f"  ↻ {s.topic.topic.title} (due {when(s.card.due, now)})" for s in schedule.due]
    if schedule.upcoming:
        lines.append("Coming up:")
        lines += [
            f"  · {s.topic.topic.title} ({when(s.card.due, now)}, {s.card.due:%Y-%m-%d})" for s in schedule.upcoming
        ]
    if schedule.due:
        lines.append("Type quiz to start.")
    return "\n".join(lines)


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


async def handle_line(
    tutor: Tutor, line: str, member: Member = LOCAL_MEMBER, state: ConsoleState | None = None
) -> str | None:
    """One console command or question; returns the text to print, or None to quit. With `state`, a quiz
    question waits there for its answer: a letter on the next line."""
    line = line.strip()
    if not line:
        return ""
    word, _, rest = line.partition(" ")
    command, rest = word.lower(), rest.strip()
    pending, state_pending = (state.pending if state else None), None
    if state is not None:
        state.pending = None  # a question is answered by the very next line, or left
    try:
        choice = choice_typed(line) if pending is not None else None
        if pending is not None and choice is not None:
            if choice >= len(pending.entry.item.choices):
                state_pending = pending
                return f"Pick one of {LETTERS[: len(pending.entry.item.choices)]}."
            return render_result(await tutor.answer_quiz(member, pending.entry.key, choice), tutor.clock())
        if command == "quiz":
            pick = await tutor.quiz(member, rest or None)
            state_pending = pick
            return render_question(pick)
        if command == "review":
            return render_reviews(await tutor.reviews(member), tutor.clock())
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
        answer = await tutor.ask(member, question, state.last_answer if state else None)
        if state is not None:
            state.last_answer = answer.context
        return answer.text
    except (UnknownTopic, UnknownRoadmapChoice, QuizUnavailable, InvalidSchedule) as exc:
        return str(exc)
    except StorageError as exc:
        return exc.user_message
    finally:
        if state is not None and state_pending is not None:
            state.pending = state_pending


async def chat(settings: Settings, read: Callable[[str], str] = input, out: TextIO = sys.stdout) -> int:
    from bot.serving import open_answerer, open_teacher

    print("Loading the tutor…", file=out, flush=True)
    answerer = await asyncio.to_thread(open_answerer, settings)
    teacher = await asyncio.to_thread(open_teacher, settings, answerer)  # questions taught for every server
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    async with open_store(settings.store_url, pool_size=settings.storage.pool_size) as store:
        tutor = Tutor(answerer, store, teacher=teacher)
        state = ConsoleState()
        print("Roadmap Tutor. Ask a question, or type help.", file=out, flush=True)
        try:
            while True:
                try:
                    line = await asyncio.to_thread(read, "> ")
                except EOFError:
                    break
                reply = await handle_line(tutor, line, state=state)
                if reply is None:
                    break
                if reply:
                    print(reply, file=out, flush=True)
        finally:
            tutor.close()
    return 0


def run_console(settings: Settings) -> int:
    return asyncio.run(chat(settings))


__all__ = ["ConsoleState", "chat", "handle_line", "run_console"]
