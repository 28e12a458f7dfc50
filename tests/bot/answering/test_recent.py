"""Recent answers: which answer a reply, a thread message or a DM follows up, bounded and expiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.answering.followup import AnswerContext
from bot.answering.recent import RecentAnswers

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def context(question: str) -> AnswerContext:
    return AnswerContext(question=question, document=question.replace(" ", "-"), confidence=0.9, answered=True)


def test_a_reply_follows_the_answer_it_replies_to_and_nothing_else() -> None:
    recent = RecentAnswers(Clock())
    recent.answered(context("what is lasso"), message_id=10)
    recent.answered(context("what is relu"), message_id=11)
    assert recent.following(reply_to=10) == context("what is lasso")
    assert recent.following(reply_to=11) == context("what is relu")
    assert recent.following(reply_to=12) is None
    assert recent.is_answer(10) and not recent.is_answer(12)


def test_a_thread_follows_its_latest_answer_or_the_answer_it_was_started_on() -> None:
    recent = RecentAnswers(Clock())
    recent.answered(context("what is lasso"), message_id=20)
    assert recent.following(thread_id=20) == context("what is lasso")  # a thread started on the answer
    recent.answered(context("and ridge?"), message_id=21, thread_id=20)
    assert recent.following(thread_id=20) == context("and ridge?")
    recent.opened_thread(30, AnswerContext.shown("Movie review sentiment", "sentiment-project"))
    assert recent.following(thread_id=30) == AnswerContext("Movie review sentiment", "sentiment-project", 1.0, True)
    assert recent.following(thread_id=31) is None


def test_a_dm_follows_the_last_answer_to_its_member_only_within_the_window() -> None:
    clock = Clock()
    recent = RecentAnswers(clock, dm_window=timedelta(minutes=5))
    recent.answered(context("what is lasso"), message_id=40, dm_user_id=7)
    clock.now = T0 + timedelta(minutes=5)
    assert recent.following(dm_user_id=7) == context("what is lasso")
    assert recent.following(dm_user_id=8) is None
    clock.now = T0 + timedelta(minutes=5, seconds=1)
    assert recent.following(dm_user_id=7) is None
    # A reply to the same answer is explicit: it follows it long after the DM window.
    assert recent.following(reply_to=40) == context("what is lasso")
    # The window counts from when the answer was given, however late it is remembered.
    recent.answered(context("what is relu"), dm_user_id=7, at=T0)
    assert recent.following(dm_user_id=7) is None


def test_no_dm_follows_up_with_a_window_of_zero() -> None:
    recent = RecentAnswers(Clock(), dm_window=timedelta(0))
    recent.answered(context("what is lasso"), dm_user_id=7)
    assert recent.following(dm_user_id=7) is None


def test_answers_are_forgotten_after_a_day_and_beyond_the_capacity_least_recent_first() -> None:
    clock = Clock()
    recent = RecentAnswers(clock, capacity=3)
    for message_id in (1, 2, 3):
        recent.answered(context(f"question {message_id}"), message_id=message_id)
    assert recent.following(reply_to=1) is not None  # used: now the most recent
    recent.answered(context("question 4"), message_id=4)
    assert len(recent) == 3 and recent.following(reply_to=2) is None
    assert recent.following(reply_to=1) is not None
    clock.now = T0 + timedelta(hours=24, seconds=1)
    assert recent.following(reply_to=4) is None


def test_forgetting_a_member_drops_the_answers_to_them_only() -> None:
    recent = RecentAnswers(Clock())
    recent.answered(context("mine"), message_id=1, dm_user_id=5, asker=(0, 5))
    recent.answered(context("theirs"), message_id=2, asker=(9, 6))
    recent.forget_member(0, 5)
    assert recent.following(reply_to=1) is None and recent.following(dm_user_id=5) is None
    assert recent.following(reply_to=2) == context("theirs")
