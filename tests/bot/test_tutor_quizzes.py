"""The tutor's quizzes and reviews, without Discord: what it asks, what an answer does, what is due."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from bot.quiz import Pick, QuizUnavailable
from bot.storage import Store
from bot.tutor import Member, Tutor
from bot.weekly.service import InvalidSchedule
from knowledge.loader import KnowledgeBase, load_knowledge
from tests.fakes import with_test_quizzes
from tests.store_backends import StoreBackend

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
ALICE = Member(guild_id=1, user_id=11)


class KnowledgeOnly:
    """An answerer that only carries knowledge: quizzes and reviews never search the index."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def quiz_kb() -> KnowledgeBase:
    return with_test_quizzes(load_knowledge())


@pytest_asyncio.fixture
async def store(store_backend: StoreBackend) -> AsyncIterator[Store]:
    """Once on SQLite, once on PostgreSQL."""
    async with store_backend.store() as opened:
        yield opened


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tutor(quiz_kb: KnowledgeBase, store: Store, clock: Clock) -> Tutor:
    return Tutor(KnowledgeOnly(quiz_kb), store, clock, rng=random.Random(7))  # type: ignore[arg-type]


def wrong(pick: Pick) -> int:
    return next(i for i in range(len(pick.entry.item.choices)) if i != pick.entry.item.answer)


async def test_without_reviews_the_quiz_is_on_the_current_topic(tutor: Tutor) -> None:
    pick = await tutor.quiz(ALICE)
    assert (pick.topic.topic.id, pick.why) == ("regularization", "current")  # where the roadmap starts
    await tutor.mark_done(ALICE, "regularization")
    await tutor.mark_done(ALICE, "hyperparameter-tuning")
    pick = await tutor.quiz(ALICE)  # the next current topic with questions
    assert (pick.topic.topic.id, pick.why) == ("evaluation-metrics", "current")


async def test_a_right_answer_spaces_the_review_and_a_wrong_one_brings_it_back_soon(
    tutor: Tutor, store: Store, clock: Clock
) -> None:
    await tutor.mark_done(ALICE, "evaluation-metrics")
    first = await store.review_card(1, 11, "evaluation-metrics")
    assert first is not None and first.due == T0 + timedelta(days=2)  # marking done scheduled it

    clock.now = first.due + timedelta(hours=1)
    pick = await tutor.quiz(ALICE)
    assert (pick.topic.topic.id, pick.why, pick.due) == ("evaluation-metrics", "due", first.due)
    right = await tutor.answer_quiz(ALICE, pick.entry.key, pick.entry.item.answer)
    assert right.correct and right.counted and right.card is not None
    assert right.card.due > clock.now + timedelta(days=3)

    spaced = right.card.due - clock.now
    clock.now = right.card.due
    pick = await tutor.quiz(ALICE)
    missed = await tutor.answer_quiz(ALICE, pick.entry.key, wrong(pick))
    assert not missed.correct and missed.counted and missed.card is not None
    assert missed.card.due - clock.now <= timedelta(days=2) < spaced and missed.card.lapses == 1
    assert await store.quiz_history(1, 11) == {
        e.key: (1, int(e.key == right.entry.key)) for e in (right.entry, missed.entry)
    }


async def test_an_answer_before_the_review_is_practice_unless_wrong(tutor: Tutor, store: Store) -> None:
    await tutor.mark_done(ALICE, "regularization")
    scheduled = await store.review_card(1, 11, "regularization")
    pick = await tutor.quiz(ALICE, "regularization")
    practice = await tutor.answer_quiz(ALICE, pick.entry.key, pick.entry.item.answer)
    assert practice.correct and not practice.counted and practice.card == scheduled
    pick = await tutor.quiz(ALICE, "regularization")
    missed = await tutor.answer_quiz(ALICE, pick.entry.key, wrong(pick))
    assert missed.counted and missed.card is not None and missed.card.due == T0 + timedelta(days=1)


async def test_a_question_is_answered_once_a_session_and_not_asked_again(tutor: Tutor, store: Store) -> None:
    keys = []
    for _ in range(3):
        pick = await tutor.quiz(ALICE, "Regularisation")  # typed loosely, as members do
        keys.append(pick.entry.key)
        result = await tutor.answer_quiz(ALICE, pick.entry.key, pick.entry.item.answer)
        again = await tutor.answer_quiz(ALICE, pick.entry.key, wrong(pick))  # a second click
        assert again.repeated and again.choice == result.choice and again.correct
    assert len(set(keys)) == 3
    assert sum(h.answered for h in (await store.quiz_history(1, 11)).values()) == 3
    with pytest.raises(QuizUnavailable, match="all 3 questions on Regularization in this session"):
        await tutor.quiz(ALICE, "regularization")
    with pytest.raises(QuizUnavailable, match="no quiz questions on Keras yet"):
        await tutor.quiz(ALICE, "keras")


async def test_two_clicks_at_once_record_one_answer(tutor: Tutor, store: Store) -> None:
    pick = await tutor.quiz(ALICE, "regularization")
    results = await asyncio.gather(*(tutor.answer_quiz(ALICE, pick.entry.key, c) for c in (0, 1, 2)))
    assert sum(not r.repeated for r in results) == 1
    assert sum(h.answered for h in (await store.quiz_history(1, 11)).values()) == 1


async def test_an_unknown_question_or_choice_is_refused_plainly(tutor: Tutor) -> None:
    with pytest.raises(QuizUnavailable, match="no longer in the quiz"):
        await tutor.answer_quiz(ALICE, "0" * 12, 0)
    pick = await tutor.quiz(ALICE)
    with pytest.raises(QuizUnavailable, match="not one of the choices"):
        await tutor.answer_quiz(ALICE, pick.entry.key, 4)


async def test_undo_drops_the_review_unless_the_member_was_quizzed(tutor: Tutor, store: Store) -> None:
    await tutor.mark_done(ALICE, "keras")
    await tutor.undo(ALICE, "keras")
    assert await store.review_card(1, 11, "keras") is None
    await tutor.mark_done(ALICE, "regularization")
    pick = await tutor.quiz(ALICE, "regularization")
    await tutor.answer_quiz(ALICE, pick.entry.key, pick.entry.item.answer)
    await tutor.undo(ALICE, "regularization")
    assert await store.review_card(1, 11, "regularization") is not None


async def test_topics_done_before_reviews_existed_are_scheduled_from_the_day_they_were_done(
    tutor: Tutor, store: Store, clock: Clock
) -> None:
    await store.mark_done(1, 11, "keras", T0 - timedelta(days=30))  # as an older version left it: no card
    clock.now = T0
    schedule = await tutor.reviews(ALICE)
    assert [(s.topic.topic.id, s.card.due) for s in schedule.due] == [("keras", T0 - timedelta(days=28))]
    assert schedule.upcoming == [] and schedule.reminder is None


async def test_reviews_list_what_is_due_most_overdue_first_and_what_comes_next(tutor: Tutor, clock: Clock) -> None:
    for days_ago, topic in ((1, "keras"), (5, "pytorch"), (0, "tensorflow")):
        clock.now = T0 - timedelta(days=days_ago)
        await tutor.mark_done(ALICE, topic)
    clock.now = T0 + timedelta(days=1, hours=12)
    schedule = await tutor.reviews(ALICE)
    assert [s.topic.topic.id for s in schedule.due] == ["pytorch", "keras"]
    assert [s.topic.topic.id for s in schedule.upcoming] == ["tensorflow"]
    known = await tutor.knowledge(ALICE)
    assert (known["pytorch"].state, known["tensorflow"].state, known["regularization"].state) == ("due", "done", "new")


async def test_reminders_need_an_hour_and_a_zone_the_first_time(tutor: Tutor) -> None:
    with pytest.raises(InvalidSchedule, match=r"the hour \(0-23\) and your time zone"):
        await tutor.reminders_on(ALICE, 18, None, 5)
    with pytest.raises(InvalidSchedule, match="not a time zone I know"):
        await tutor.reminders_on(ALICE, 18, "Mars/Olympus", 5)
    saved = await tutor.reminders_on(ALICE, 18, "europe/berlin", 5)
    assert (saved.hour, saved.timezone, saved.channel_id) == (18, "Europe/Berlin", 5)
    moved = await tutor.reminders_on(ALICE, 7, None, 6)
    assert (moved.hour, moved.timezone, moved.channel_id) == (7, "Europe/Berlin", 6)
    assert await tutor.reminders_off(ALICE)
    assert (await tutor.reviews(ALICE)).reminder is None


async def test_the_progress_card_is_a_png_drawn_off_the_event_loop(
    tutor: Tutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.progress import card as card_module

    drawn_in: list[str] = []
    draw = card_module.render_card

    def recording(card: Any) -> bytes:
        drawn_in.append(threading.current_thread().name)
        assert card.steps[0].topics == ("done", "new", "new", "new")
        return draw(card)

    monkeypatch.setattr(card_module, "render_card", recording)
    await tutor.mark_done(ALICE, "regularization")
    png = await tutor.progress_card(ALICE, "Alice")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) < 100_000
    assert drawn_in and drawn_in[0] != threading.main_thread().name


async def test_forget_ends_the_session_and_removes_reviews_and_answers(tutor: Tutor, store: Store) -> None:
    await tutor.mark_done(ALICE, "regularization")
    pick = await tutor.quiz(ALICE, "regularization")
    await tutor.answer_quiz(ALICE, pick.entry.key, 0)
    await tutor.reminders_on(ALICE, 9, "UTC", None)
    assert await tutor.forget(ALICE) >= 4
    exported = await store.export_member(1, 11)
    assert exported["review_schedule"] == exported["quiz_answers"] == [] and exported["review_reminder"] is None
    for _ in range(3):  # a new session: every question of the topic can be asked again
        await tutor.quiz(ALICE, "regularization")
