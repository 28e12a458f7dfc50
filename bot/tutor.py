"""The tutor: answering, next steps, progress and topic cards for one member, without any Discord code.

The console and the Discord layer both drive this class. Model and FAISS work runs in the tutor's answering thread;
storage is async. A storage failure never stops the tutor from answering.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime

from bot.answering import Answer, Answerer
from bot.progress import ProgressReport, Recommendation, TopicFinder, progress_report, recommend_next
from bot.progress.finder import Choice, resolve_roadmap, roadmap_choices
from bot.storage.base import Store
from bot.storage.errors import StorageError
from knowledge.loader import KnowledgeBase, TopicEntry
from knowledge.schema import Roadmap

log = logging.getLogger(__name__)

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
    def __init__(self, answerer: Answerer, store: Store, clock: Callable[[], datetime] = utc_now) -> None:
        self.answerer = answerer
        self.store = store
        self.clock = clock
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

    async def ask(self, member: Member, question: str) -> Answer:
        """Answer a member's question; where loaded roadmaps overlap, from the roadmap the member follows."""
        roadmap = None
        if len(self.kb.roadmaps) > 1:
            try:
                roadmap = await self.followed_roadmap(member)
            except StorageError as exc:  # answered as a member of no roadmap in particular, rather than not at all
                log.warning("could not read which roadmap a member follows: %s", exc)
        answer = await asyncio.get_running_loop().run_in_executor(
            self._answering, self.answerer.answer, question, None, roadmap.id if roadmap else None
        )
        if answer.reason != "empty":
            top = answer.results[0].topic_id if answer.results else None
            log_it = self.store.log_question(
                member.guild_id, member.user_id, question, top, answer.abstained, self.clock()
            )
            await self._without_holding_up_the_answer(self._quietly(log_it), self._touch(member))
        return answer

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
        entry = await self._resolve_for(member, typed)
        changed = await self.store.mark_done(member.guild_id, member.user_id, entry.topic.id, self.clock())
        completed = await self.completed(member)
        completed.add(entry.topic.id)
        await self._touch(member)
        return DoneResult(entry, changed, recommend_next(self.kb, completed))

    async def undo(self, member: Member, typed: str) -> DoneResult:
        entry = await self._resolve_for(member, typed)
        changed = await self.store.unmark_done(member.guild_id, member.user_id, entry.topic.id)
        completed = await self.completed(member)
        completed.discard(entry.topic.id)
        return DoneResult(entry, changed, recommend_next(self.kb, completed))

    async def forget(self, member: Member) -> int:
        """Delete everything stored about the member (in their guild) and what is cached; return rows deleted."""
        deleted = await self.store.forget_member(member.guild_id, member.user_id)
        self._completed.pop(member, None)
        self._chosen.pop(member, None)
        return deleted

    # Roadmaps -------------------------------------------------------------------------------------

    async def follow(self, member: Member, typed: str) -> Roadmap:
        """Make the roadmap `typed` names the one the member follows: /next, /progress, /roadmap, topic
        names and answers are theirs from now on."""
        roadmap = resolve_roadmap(self.kb, typed)
        if roadmap is None:
            raise UnknownRoadmapChoice(typed, self.kb.roadmaps)
        await self.store.follow_roadmap(member.guild_id, member.user_id, roadmap.id, self.clock())
        self._chosen[member] = roadmap.id
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
