"""The tutor: answering, next steps, progress, topic cards, quizzes and reviews for one member, without any Discord
code.

The console and the Discord layer both drive this class. Model and FAISS work runs in the tutor's answering thread;
storage is async. A storage failure never stops the tutor from answering.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from bot.answering import Answer, Answerer
from bot.answering.followup import AnswerContext
from bot.answering.recent import DM_WINDOW, RecentAnswers
from bot.progress import ProgressReport, Recommendation, TopicFinder, progress_report, recommend_next
from bot.progress.finder import Choice, resolve_roadmap, roadmap_choices
from bot.quiz import (
    NothingToAsk,
    Pick,
    QuizResult,
    QuizUnavailable,
    ReminderService,
    ReviewSchedule,
    ScheduledTopic,
    Sessions,
    TopicKnowledge,
    counts_as_review,
    first_review,
    is_due,
    pick_question,
    rating_for,
    review,
    topic_state,
)
from bot.storage.base import FEEDBACK_TEXT_MAX, QuizAttempt, ReminderSettings, ReviewCard, Store
from bot.storage.errors import StorageError
from bot.teaching.teacher import Listed, Taught, Teacher
from bot.weekly.service import InvalidSchedule, canonical_time_zone
from knowledge.loader import Entry, KnowledgeBase, TopicEntry
from knowledge.schema import Roadmap

log = logging.getLogger(__name__)
T = TypeVar("T")

# Answering (embedding, FAISS, BM25, ranking) runs in one thread of its own, a question at a time. The
# model's inference spreads over the cores by itself; more Python threads would only take turns at the GIL
# with the event loop, and the loop would wait for them (loop lag max at 200 simultaneous /ask on 2 cores:
# 145 ms with asyncio's default pool, under 40 ms with one thread; `python -m benchmarks --only discord_load`).
ANSWERING_THREADS = 1

# How long an answer waits for its bookkeeping (question log, active day) before going out anyway.
BOOKKEEPING_WAIT_SECONDS = 0.5


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Member:
    """Who is asking: progress is kept per guild and member (guild 0 is the console)."""

    guild_id: int
    user_id: int


class UnknownTopic(LookupError):
    """The member named a topic the roadmap does not have."""

    def __init__(self, typed: str) -> None:
        super().__init__(f"I couldn't find a topic called “{typed[:80]}”. Pick one from the list as you type.")


class UnknownRoadmapChoice(LookupError):
    """The member named a roadmap that is not loaded."""

    def __init__(self, typed: str, loaded: list[Roadmap]) -> None:
        names = ", ".join(r.title for r in loaded)
        super().__init__(f"I couldn't find a roadmap called “{typed[:80]}”. The roadmaps here: {names}.")


@dataclass(frozen=True)
class DoneResult:
    entry: TopicEntry
    changed: bool
    next_steps: list[Recommendation]


@dataclass(frozen=True)
class TopicStatus:
    entry: TopicEntry
    done: bool
    available: bool  # every prerequisite done


@dataclass(frozen=True)
class TopicCard:
    entry: TopicEntry
    prerequisites: list[TopicEntry]
    unlocks: list[TopicEntry]


class Tutor:
    def __init__(
        self,
        answerer: Answerer,
        store: Store,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
        teacher: Teacher | None = None,
        follow_up_window: timedelta = DM_WINDOW,
    ) -> None:
        """`teacher`: the questions admins taught, served by `answerer` (`bot.serving.open_teacher`); None: no
        teaching (the console before it, tests)."""
        self.answerer = answerer
        self.store = store
        self.teacher = teacher
        self.clock = clock
        # Recent answers, so a member's next message can be read as a follow-up of one (in memory only).
        self.recent = RecentAnswers(clock, dm_window=follow_up_window)
        self._rng = rng or random.Random()
        self._quiz_sessions = Sessions()
        self.reminder_service = ReminderService(store, lambda: self.kb, clock)
        self._finder = TopicFinder(answerer.kb)
        self._finder_kb = answerer.kb
        self._background: set[asyncio.Future[None]] = set()  # referenced until done, or they may be collected
        # Completed topics per member, kept in memory so autocomplete never waits for the database.
        self._completed: dict[Member, set[str]] = {}
        # The roadmap each member chose to follow (None: never chose), read from the store once.
        self._chosen: dict[Member, str | None] = {}
        self._answering = ThreadPoolExecutor(ANSWERING_THREADS, thread_name_prefix="answering")

    def close(self) -> None:
        """Let the answering thread go once the questions it holds are answered."""
        self._answering.shutdown(wait=False)

    @property
    def kb(self) -> KnowledgeBase:
        return self.answerer.kb

    @property
    def finder(self) -> TopicFinder:
        if self._finder_kb is not self.answerer.kb:  # the knowledge was rebuilt
            self._finder, self._finder_kb = TopicFinder(self.answerer.kb), self.answerer.kb
        return self._finder

    # Answering ------------------------------------------------------------------------------------

    async def ask(self, member: Member, question: str, context: AnswerContext | None = None) -> Answer:
        """Answer a member's question; where loaded roadmaps overlap, from the roadmap the member follows.
        `context`: the answer it may follow up (see `bot.answering.followup`)."""
        roadmap = None
        if len(self.kb.roadmaps) > 1:
            try:
                roadmap = await self.followed_roadmap(member)
            except StorageError as exc:  # answered as a member of no roadmap in particular, rather than not at all
                log.warning("could not read which roadmap a member follows: %s", exc)
        answer = await self._in_answering_thread(
            self._answer, question, roadmap.id if roadmap else None, member.guild_id, context
        )
        if answer.reason != "empty":
            # The key the answer's feedback buttons name this question by (`feedback`).
            answer.log_key = secrets.token_hex(6)
            top = answer.results[0] if answer.results else None
            log_it = self.store.log_question(
                member.guild_id,
                member.user_id,
                question,
                top.topic_id if top else None,
                answer.abstained,
                self.clock(),
                top_result_id=top.id if top else None,
                answer_key=answer.log_key,
            )
            await self._without_holding_up_the_answer(self._quietly(log_it), self._touch(member))
        return answer

    def _answer(self, question: str, roadmap: str | None, guild: int, context: AnswerContext | None) -> Answer:
        if self.teacher is not None:  # taught questions changed on disk (the CLI, a hand edit): served from now on
            self.teacher.refresh_if_changed()
        return self.answerer.answer(question, None, roadmap, guild, context)

    async def _in_answering_thread(self, work: Callable[..., T], *args: object) -> T:
        """Model and FAISS work, and changes to what answering serves, one at a time in the answering thread."""
        return await asyncio.get_running_loop().run_in_executor(self._answering, work, *args)

    # Feedback and teaching ------------------------------------------------------------------------

    async def feedback(self, member: Member, answer_key: str, helpful: bool, looking_for: str | None = None) -> bool:
        """Keep a member's feedback on the answer to their question (`Answer.log_key`) with that question in the
        log; what they were looking for is cut to `FEEDBACK_TEXT_MAX` characters. False when the log has no such
        question of theirs (never logged, purged or forgotten)."""
        text = " ".join((looking_for or "").split())[:FEEDBACK_TEXT_MAX] or None
        return await self.store.record_feedback(
            member.guild_id, member.user_id, answer_key, helpful, text, self.clock()
        )

    def _teacher(self) -> Teacher:
        if self.teacher is None:
            raise RuntimeError("this tutor was started without taught questions (no Teacher)")
        return self.teacher

    async def teach(self, guild_id: int | None, question: str, entry: str) -> Taught:
        """Teach that `question`, asked in `guild_id` (None: anywhere), is answered with `entry`; answered so from
        the next question on (`Teacher.teach`)."""
        taught = await self._in_answering_thread(self._teacher().teach, question, entry, guild_id, self.clock())
        await self._quietly(self.store.announce("taught"))  # the other processes serve it too
        return taught

    async def untaught(self, guild_id: int | None, which: str) -> Listed:
        """Remove a question taught in `guild_id` (`Teacher.remove`); answered as before from the next question on."""
        removed = await self._in_answering_thread(self._teacher().remove, which, guild_id)
        await self._quietly(self.store.announce("taught"))
        return removed

    async def taught(self, guild_id: int | None) -> list[Listed]:
        """The taught questions that apply in `guild_id` (`Teacher.listed`)."""
        return await self._in_answering_thread(self._teacher().listed, guild_id)

    def entries(self) -> dict[str, Entry]:
        """Every entry a question can be answered with, by id (from memory)."""
        return self.teacher.finder.entries if self.teacher is not None else self.kb.entries()

    async def reload_taught(self) -> None:
        """Serve the taught questions again against the current knowledge (after a reindex)."""
        if self.teacher is not None:
            await self._in_answering_thread(self.teacher.load)

    async def _without_holding_up_the_answer(self, *bookkeeping: Awaitable[None]) -> None:
        """Run bookkeeping in order; wait for it briefly, and let it finish in the background if it is slow.

        A healthy database records in milliseconds, so the answer follows the record as before; a locked
        one (up to its busy timeout per write) no longer makes the member wait for an answer.
        """

        async def in_order() -> None:
            for step in bookkeeping:
                await step

        task = asyncio.ensure_future(in_order())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        try:
            await asyncio.wait_for(asyncio.shield(task), BOOKKEEPING_WAIT_SECONDS)
        except TimeoutError:
            log.info("recording a question is slow (database busy); answering without waiting for it")

    # Progress -------------------------------------------------------------------------------------

    async def completed(self, member: Member) -> set[str]:
        if member not in self._completed:
            stored = await self.store.completed_topics(member.guild_id, member.user_id)
            self._completed[member] = {t for t in stored if t in self.kb.topics}
        return self._completed[member]

    def cached_completed(self, member: Member) -> set[str] | None:
        return self._completed.get(member)

    def resolve(self, typed: str, prefer: str | None = None) -> TopicEntry:
        """The topic `typed` names; where two roadmaps share a name, roadmap `prefer`'s."""
        entry = self.finder.resolve(typed, prefer)
        if entry is None:
            raise UnknownTopic(typed)
        return entry

    async def _resolve_for(self, member: Member, typed: str) -> TopicEntry:
        followed = await self.followed_roadmap(member)
        return self.resolve(typed, followed.id if followed is not None else None)

    async def mark_done(self, member: Member, typed: str) -> DoneResult:
        """Mark a topic finished and schedule its first review (unless a quiz already scheduled it)."""
        entry = await self._resolve_for(member, typed)
        now = self.clock()
        changed = await self.store.mark_done(member.guild_id, member.user_id, entry.topic.id, now)
        completed = await self.completed(member)
        completed.add(entry.topic.id)
        await self.store.schedule_review(member.guild_id, member.user_id, first_review(entry.topic.id, now))
        await self._touch(member)
        if changed:
            await self._member_changed(member)
        return DoneResult(entry, changed, recommend_next(self.kb, completed))

    async def undo(self, member: Member, typed: str) -> DoneResult:
        """Unmark a topic; its review goes too, unless the member has been quizzed on it."""
        entry = await self._resolve_for(member, typed)
        changed = await self.store.unmark_done(member.guild_id, member.user_id, entry.topic.id)
        completed = await self.completed(member)
        completed.discard(entry.topic.id)
        if not await self.store.has_quiz_answers(member.guild_id, member.user_id, entry.topic.id):
            await self.store.delete_review_card(member.guild_id, member.user_id, entry.topic.id)
        if changed:
            await self._member_changed(member)
        return DoneResult(entry, changed, recommend_next(self.kb, completed))

    async def forget(self, member: Member) -> int:
        """Delete everything stored about the member (in their guild) and what is cached; return rows deleted."""
        deleted = await self.store.forget_member(member.guild_id, member.user_id)
        self._completed.pop(member, None)
        self._chosen.pop(member, None)
        self._quiz_sessions.end(member)
        self.recent.forget_member(member.guild_id, member.user_id)
        await self._member_changed(member)
        return deleted

    def forget_cached(self, member: Member | None = None) -> None:
        """Drop what memory holds of `member`'s progress (None: everyone's), so the next call reads the store:
        another process sharing the database changed it."""
        if member is None:
            self._completed.clear()
            self._chosen.clear()
        else:
            self._completed.pop(member, None)
            self._chosen.pop(member, None)

    async def _member_changed(self, member: Member) -> None:
        # Other processes sharing the database may cache this member (a DM on shard 0 about a guild's progress).
        await self._quietly(self.store.announce("member", guild=member.guild_id, user=member.user_id))

    # Roadmaps -------------------------------------------------------------------------------------

    async def follow(self, member: Member, typed: str) -> Roadmap:
        """Make the roadmap `typed` names the one the member follows: /next, /progress, /roadmap, topic
        names and answers are theirs from now on."""
        roadmap = resolve_roadmap(self.kb, typed)
        if roadmap is None:
            raise UnknownRoadmapChoice(typed, self.kb.roadmaps)
        await self.store.follow_roadmap(member.guild_id, member.user_id, roadmap.id, self.clock())
        self._chosen[member] = roadmap.id
        await self._member_changed(member)
        return roadmap

    def roadmap_choices(self, typed: str) -> list[Choice]:
        return roadmap_choices(self.kb, typed)

    def find_roadmap(self, typed: str) -> Roadmap:
        roadmap = resolve_roadmap(self.kb, typed)
        if roadmap is None:
            raise UnknownRoadmapChoice(typed, self.kb.roadmaps)
        return roadmap

    async def followed_roadmap(self, member: Member) -> Roadmap | None:
        """The roadmap a member follows: the one they chose; else the one most of their finished topics
        belong to; else the first."""
        if member not in self._chosen:
            self._chosen[member] = await self.store.followed_roadmap(member.guild_id, member.user_id)
        await self.completed(member)
        found = self.cached_roadmap_id(member)
        return self.kb.roadmap(found) if found is not None else (self.kb.roadmaps[0] if self.kb.roadmaps else None)

    async def next_steps(self, member: Member, limit: int = 3) -> list[Recommendation]:
        """The next topics of the roadmap the member follows."""
        completed = await self.completed(member)
        roadmap = await self.followed_roadmap(member)
        others = {t for t, e in self.kb.topics.items() if roadmap is not None and e.roadmap.id != roadmap.id}
        return recommend_next(self.kb, completed | others, limit)

    async def after_roadmap(self, member: Member) -> str | None:
        """What comes after the roadmap the member follows, as its knowledge says (None when it says nothing)."""
        roadmap = await self.followed_roadmap(member)
        return roadmap.next_roadmap.title if roadmap is not None and roadmap.next_roadmap else None

    async def progress(self, member: Member, roadmap: Roadmap | None = None) -> ProgressReport:
        """The member's progress through `roadmap`, by default the one they follow."""
        completed = await self.completed(member)
        days = await self.store.active_days(member.guild_id, member.user_id)
        roadmap = roadmap or await self.followed_roadmap(member)
        return progress_report([roadmap] if roadmap is not None else [], completed, days, self.today())

    async def roadmap(
        self, member: Member, step: int | None = None, roadmap: Roadmap | None = None
    ) -> list[tuple[int, str, list[TopicStatus]]]:
        """Steps (all, or one) of `roadmap`, by default the one the member follows, with their status on
        each topic."""
        completed = await self.completed(member)
        view = []
        roadmap = roadmap or await self.followed_roadmap(member)
        for shown in [roadmap] if roadmap is not None else []:
            for s in shown.steps:
                if step is not None and s.number != step:
                    continue
                statuses = [
                    TopicStatus(self.kb.topics[t.id], t.id in completed, all(p in completed for p in t.prerequisites))
                    for t in s.topics
                ]
                view.append((s.number, s.title, statuses))
        return view

    # Quizzes and reviews -------------------------------------------------------------------------

    async def quiz(self, member: Member, typed: str | None = None) -> Pick:
        """The member's next question: on the topic they typed, else their most overdue review, else their
        current topic (what /next recommends first), never one already shown in this session."""
        topic_id = (await self._resolve_for(member, typed)).topic.id if typed else None
        cards = {c.topic_id: c for c in await self.review_cards(member)}
        current = [] if topic_id else [p.entry.topic.id for p in await self.next_steps(member, len(self.kb.topics))]
        history = await self.store.quiz_history(member.guild_id, member.user_id)
        now = self.clock()
        session = self._quiz_sessions.of(member, now)
        pick = pick_question(
            self.kb,
            topic_id=topic_id,
            cards=cards,
            current=current,
            history=history,
            shown=session.shown,
            now=now,
            rng=self._rng,
        )
        if isinstance(pick, NothingToAsk):
            raise QuizUnavailable(_nothing_to_ask(pick))
        session.show(pick.entry.key, now)
        return pick

    async def answer_quiz(self, member: Member, key: str, choice: int) -> QuizResult:
        """Check an answer, record it and reschedule its topic (rules in `bot.quiz.schedule`). An answer to a
        question already answered in this session is shown again, not recorded again."""
        entry = self.kb.quiz_question(key)
        if entry is None:
            raise QuizUnavailable("That question is no longer in the quiz (the knowledge changed). Try /quiz again.")
        item = entry.item
        if not 0 <= choice < len(item.choices):
            raise QuizUnavailable("That is not one of the choices.")
        topic = self.kb.topics[entry.topic_id]
        now = self.clock()
        session = self._quiz_sessions.of(member, now)
        if key in session.answered:  # checked and set before any await: a double click records once
            previous = session.answered[key]
            card = await self.store.review_card(member.guild_id, member.user_id, entry.topic_id)
            return QuizResult(entry, topic, previous, previous == item.answer, card, counted=False, repeated=True)
        session.answer(key, choice, now)
        correct = choice == item.answer
        try:
            card = await self.store.review_card(member.guild_id, member.user_id, entry.topic_id)
            counted = counts_as_review(card, correct, now)
            after = review(card, entry.topic_id, rating_for(correct), now) if counted else None
            attempt = QuizAttempt(entry.topic_id, key, choice, correct, now)
            await self.store.record_quiz_answer(member.guild_id, member.user_id, attempt, after)
        except BaseException:
            session.answered.pop(key, None)  # not recorded: the member may answer again
            raise
        await self._touch(member)
        return QuizResult(entry, topic, choice, correct, after or card, counted)

    async def review_cards(self, member: Member) -> list[ReviewCard]:
        """The member's review cards, soonest due first. Topics marked done before reviews existed get their
        first review as of the day they were marked done."""
        cards = await self.store.review_cards(member.guild_id, member.user_id)
        scheduled = {c.topic_id for c in cards}
        done = await self.store.completed_topics(member.guild_id, member.user_id)
        missing = [(t, at) for t, at in done.items() if t not in scheduled and t in self.kb.topics]
        if not missing:
            return cards
        for topic_id, at in missing:
            await self.store.schedule_review(member.guild_id, member.user_id, first_review(topic_id, at))
        return await self.store.review_cards(member.guild_id, member.user_id)

    async def reviews(self, member: Member) -> ReviewSchedule:
        """What is due (most overdue first), what comes next (soonest first), and the reminder setting."""
        now = self.clock()
        scheduled = [
            ScheduledTopic(self.kb.topics[c.topic_id], c)
            for c in await self.review_cards(member)
            if c.topic_id in self.kb.topics
        ]
        reminder = await self.store.get_reminder(member.guild_id, member.user_id)
        return ReviewSchedule(
            due=[s for s in scheduled if is_due(s.card, now)],
            upcoming=[s for s in scheduled if not is_due(s.card, now)],
            reminder=reminder,
        )

    async def knowledge(self, member: Member, roadmap: Roadmap | None = None) -> dict[str, TopicKnowledge]:
        """For every topic of `roadmap` (by default the one the member follows), in roadmap order: what the
        member knows of it (new, learning, done, due, mastered)."""
        roadmap = roadmap or await self.followed_roadmap(member)
        completed = await self.completed(member)
        cards = {c.topic_id: c for c in await self.review_cards(member)}
        now = self.clock()
        return {
            topic_id: TopicKnowledge(
                entry,
                topic_state(topic_id in completed, cards.get(topic_id), now),
                cards[topic_id].due if topic_id in cards else None,
            )
            for topic_id, entry in self.kb.topics.items()
            if roadmap is None or entry.roadmap.id == roadmap.id
        }

    async def progress_card(self, member: Member, name: str, roadmap: Roadmap | None = None) -> bytes:
        """The member's progress card for `roadmap` (by default the one they follow) as PNG bytes, drawn in a
        worker thread (Pillow is CPU work)."""
        from bot.progress.card import CardStep, ProgressCard, render_card  # Pillow: loaded when first drawn

        followed = roadmap or await self.followed_roadmap(member)
        report = await self.progress(member, followed)
        known = await self.knowledge(member, followed)
        steps = tuple(
            CardStep(step.number, step.title, tuple(known[t.id].state for t in step.topics))
            for roadmap in ([followed] if followed is not None else [])
            for step in roadmap.steps
        )
        due = [k for k in known.values() if k.state == "due"]
        due.sort(key=lambda k: k.due or self.clock())
        card = ProgressCard(
            name=name,
            roadmap=followed.title if followed is not None else "Roadmap",
            steps=steps,
            done=report.done,
            total=report.total,
            streak_days=report.streak_days,
            mastered=sum(k.state == "mastered" for k in known.values()),
            due=tuple(k.topic.topic.title for k in due),
        )
        return await asyncio.to_thread(render_card, card)

    async def reminders_on(
        self, member: Member, hour: int | None, timezone: str | None, channel_id: int | None
    ) -> ReminderSettings:
        """Turn the member's review reminder on (a pause for closed DMs ends); hour and zone default to the
        ones they chose before."""
        current = await self.store.get_reminder(member.guild_id, member.user_id)
        hour = hour if hour is not None else (current.hour if current else None)
        zone = timezone if timezone is not None else (current.timezone if current else None)
        if hour is None or zone is None:
            raise InvalidSchedule(
                "To turn reminders on, say when: the hour (0-23) and your time zone, "
                "e.g. /review remind:on hour:18 timezone:Europe/Berlin"
            )
        if not 0 <= hour <= 23:
            raise InvalidSchedule(f"The hour is 0 to 23 on a 24-hour clock, not {hour}.")
        zone = canonical_time_zone(zone)
        await self.store.save_reminder(member.guild_id, member.user_id, hour, zone, channel_id)
        saved = await self.store.get_reminder(member.guild_id, member.user_id)
        assert saved is not None
        return saved

    async def reminders_off(self, member: Member) -> bool:
        return await self.store.delete_reminder(member.guild_id, member.user_id)

    def topic_card(self, typed: str, member: Member | None = None) -> TopicCard:
        """A topic's card; where two roadmaps share a name, the one of the roadmap the member follows."""
        entry = self.resolve(typed, self.cached_roadmap_id(member))
        return TopicCard(
            entry,
            [self.kb.topics[p] for p in entry.topic.prerequisites],
            [e for e in self.kb.topics.values() if entry.topic.id in e.topic.prerequisites],
        )

    def topic_choices(self, typed: str, member: Member | None = None, only_completed: bool = False) -> list[Choice]:
        """Autocomplete from memory only: the member's roadmap first if already known; for /undo, the member's
        finished topics if already known."""
        among = None
        if only_completed and member is not None:
            among = self.cached_completed(member)
        return self.finder.choices(typed, among, prefer=self.cached_roadmap_id(member))

    def cached_roadmap_id(self, member: Member | None) -> str | None:
        """The roadmap the member follows as far as memory knows, without asking the database: their choice,
        else where most of their finished topics are (None when neither is in memory yet)."""
        if member is None:
            return None
        chosen = self.kb.roadmap(self._chosen.get(member))
        if chosen is not None:  # a chosen roadmap since removed from the knowledge falls back to finished topics
            return chosen.id
        completed = self._completed.get(member)
        counts = Counter(self.kb.topics[t].roadmap.id for t in completed or () if t in self.kb.topics)
        return counts.most_common(1)[0][0] if counts else None

    # Helpers --------------------------------------------------------------------------------------

    def today(self) -> date:
        return self.clock().date()

    async def _touch(self, member: Member) -> None:
        await self._quietly(self.store.record_activity(member.guild_id, member.user_id, self.today()))

    async def _quietly(self, operation) -> None:  # type: ignore[no-untyped-def]
        """Bookkeeping that must never cost the member an answer."""
        try:
            await operation
        except StorageError as exc:
            log.warning("could not record activity: %s", exc)


def _nothing_to_ask(nothing: NothingToAsk) -> str:
    title = nothing.topic.topic.title if nothing.topic is not None else None
    if nothing.reason == "no_questions":
        if title:
            return f"There are no quiz questions on {title} yet. Try another topic, or /quiz without one."
        return "There are no quiz questions for your topics yet."
    if title:
        return (
            f"You've had all {nothing.shown} questions on {title} in this session. "
            "Try another topic, or come back in a while."
        )
    return "You've seen every question I have for your topics in this session. Come back in a while for more."
