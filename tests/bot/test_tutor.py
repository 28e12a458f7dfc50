"""The tutor answers off the event loop, one question at a time in a thread of its own."""

from __future__ import annotations

import asyncio
import threading
import time

from bot.answering import Answer, Answerer
from bot.answering.followup import AnswerContext
from bot.storage import MEMORY, SqliteStore
from bot.tutor import Member, Tutor
from knowledge.loader import load_knowledge


class RecordingAnswerer:
    """The fake answerer, slowed down, noting which threads answer and how many at once."""

    def __init__(self, inner: Answerer) -> None:
        self.inner = inner
        self.kb = inner.kb
        self.threads: set[str] = set()
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def answer(
        self,
        question: str,
        k: int | None = None,
        roadmap: str | None = None,
        guild: int | None = None,
        context: AnswerContext | None = None,
    ) -> Answer:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.threads.add(threading.current_thread().name)
        time.sleep(0.02)  # CPU work would hold the GIL; sleeping shows the overlap without burning the cores
        try:
            return self.inner.answer(question, k, roadmap, guild, context)
        finally:
            with self._lock:
                self.running -= 1


async def test_questions_are_answered_one_at_a_time_off_the_event_loop(fake_answerer: Answerer) -> None:
    answerer = RecordingAnswerer(fake_answerer)
    async with SqliteStore(MEMORY) as store:
        tutor = Tutor(answerer, store)  # type: ignore[arg-type]
        try:
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.005)
                    ticks += 1

            beat = asyncio.create_task(ticker())
            answers = await asyncio.gather(*(tutor.ask(Member(1, user), "what is dropout") for user in range(8)))
            beat.cancel()
        finally:
            tutor.close()
    assert all(a.results and a.results[0].topic_id == "regularization" for a in answers)
    assert answerer.most_at_once == 1, "questions were answered in parallel threads that contend with the loop"
    assert len(answerer.threads) == 1 and next(iter(answerer.threads)).startswith("answering")
    assert ticks >= 10, "the event loop did not run while the questions were answered"


async def test_a_member_follows_the_roadmap_of_their_finished_topics(fake_answerer: Answerer, tmp_path) -> None:
    """With two roadmaps loaded, /next and what comes after stay within the roadmap the member works on."""
    from bot.answering import Answerer as RealAnswerer
    from tests.fakes import FakeEncoder, mini_roadmap, write_mini_roadmap

    folder = tmp_path / "second"
    folder.mkdir()
    write_mini_roadmap(folder, mini_roadmap("second", "s-"), "second.yaml")
    kb = load_knowledge([folder], include_shipped=True)
    answerer = RealAnswerer(kb, fake_answerer.index, FakeEncoder())
    async with SqliteStore(MEMORY) as store:
        tutor = Tutor(answerer, store)
        member = Member(1, 2)
        assert (await tutor.followed_roadmap(member)).id == kb.roadmaps[0].id
        second = next(r for r in kb.roadmaps if r.id == "second")
        first_topic = second.steps[0].topics[0]
        await tutor.mark_done(member, first_topic.id)
        assert (await tutor.followed_roadmap(member)).id == "second"
        picks = await tutor.next_steps(member)
        assert picks and all(p.entry.roadmap.id == "second" for p in picks)
        assert await tutor.after_roadmap(member) == (second.next_roadmap.title if second.next_roadmap else None)
