"""What the store keeps for quizzes and reviews: review cards, answers, statistics, reminders claimed once a day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.storage import SqlStore
from bot.storage.base import QuestionHistory, QuizAttempt, ReminderSettings, ReviewCard, TopicQuizStats
from tests.store_backends import StoreBackend

T0 = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
GUILD, OTHER_GUILD = 1001, 2002
ALICE, BOB = 11, 22


def card(topic_id: str, due: datetime, stability: float = 2.3, reviews: int = 1) -> ReviewCard:
    return ReviewCard(topic_id, 2, None, stability, 5.0, due, T0, reviews=reviews, lapses=0)


def answer(topic_id: str, key: str, correct: bool, at: datetime = T0) -> QuizAttempt:
    return QuizAttempt(topic_id, key, 0 if correct else 1, correct, at)


async def test_a_first_review_is_scheduled_once_and_cards_come_soonest_due_first(store: SqlStore) -> None:
    assert await store.schedule_review(GUILD, ALICE, card("metrics", T0 + timedelta(days=3)))
    assert not await store.schedule_review(GUILD, ALICE, card("metrics", T0 + timedelta(days=9)))
    await store.schedule_review(GUILD, ALICE, card("tuning", T0 + timedelta(days=1)))
    await store.schedule_review(GUILD, BOB, card("keras", T0))
    assert [(c.topic_id, c.due) for c in await store.review_cards(GUILD, ALICE)] == [
        ("tuning", T0 + timedelta(days=1)),
        ("metrics", T0 + timedelta(days=3)),
    ]
    assert await store.review_card(GUILD, ALICE, "metrics") == card("metrics", T0 + timedelta(days=3))
    assert await store.review_card(OTHER_GUILD, ALICE, "metrics") is None
    assert await store.delete_review_card(GUILD, ALICE, "metrics")
    assert not await store.delete_review_card(GUILD, ALICE, "metrics")


async def test_an_answer_and_its_new_card_are_kept_together(store: SqlStore, store_backend: StoreBackend) -> None:
    await store.record_quiz_answer(GUILD, ALICE, answer("metrics", "aaaaaaaaaaaa", True), card("metrics", T0))
    later = card("metrics", T0 + timedelta(days=8), stability=8.0, reviews=2)
    await store.record_quiz_answer(GUILD, ALICE, answer("metrics", "bbbbbbbbbbbb", False), later)
    await store.record_quiz_answer(GUILD, ALICE, answer("metrics", "aaaaaaaaaaaa", False), None)  # practice
    assert await store.review_card(GUILD, ALICE, "metrics") == later
    assert await store.quiz_history(GUILD, ALICE) == {
        "aaaaaaaaaaaa": QuestionHistory(answered=2, right=1),
        "bbbbbbbbbbbb": QuestionHistory(answered=1, right=0),
    }
    assert await store.has_quiz_answers(GUILD, ALICE, "metrics")
    assert not await store.has_quiz_answers(GUILD, BOB, "metrics")
    # A card the database refuses takes its answer with it.
    broken = ReviewCard("metrics", 2, None, 1.0, 5.0, T0, None)
    object.__setattr__(broken, "due", "not a time")
    with pytest.raises((ValueError, AttributeError)):
        await store.record_quiz_answer(GUILD, BOB, answer("metrics", "cccccccccccc", True), broken)
    assert await store_backend.count_rows("quiz_attempts", f"WHERE user_id = {BOB}") == 0


async def test_quiz_stats_count_answers_per_topic_in_the_guild_since_a_time(store: SqlStore) -> None:
    for correct in (True, False, False):
        await store.record_quiz_answer(GUILD, ALICE, answer("metrics", "aaaaaaaaaaaa", correct), None)
    await store.record_quiz_answer(GUILD, BOB, answer("tuning", "bbbbbbbbbbbb", True), None)
    await store.record_quiz_answer(GUILD, BOB, answer("tuning", "bbbbbbbbbbbb", True, T0 - timedelta(days=40)), None)
    await store.record_quiz_answer(OTHER_GUILD, BOB, answer("tuning", "bbbbbbbbbbbb", False), None)
    assert await store.quiz_stats(GUILD, T0 - timedelta(days=30)) == [
        TopicQuizStats("metrics", 3, 1),
        TopicQuizStats("tuning", 1, 1),
    ]
    assert await store.purge_quiz_answers(T0 - timedelta(days=30)) == 1
    assert await store.quiz_stats(GUILD, T0 - timedelta(days=365)) == [
        TopicQuizStats("metrics", 3, 1),
        TopicQuizStats("tuning", 1, 1),
    ]


async def test_a_reminder_day_is_claimed_once_released_on_failure_and_paused_on_closed_dms(
    store: SqlStore,
) -> None:
    day = date(2024, 5, 6)
    await store.save_reminder(GUILD, ALICE, 18, "Europe/Berlin", 77)
    await store.save_reminder(GUILD, BOB, 7, "UTC", None)
    assert await store.get_reminder(GUILD, ALICE) == ReminderSettings(18, "Europe/Berlin", 77)
    assert await store.claim_reminder_day(GUILD, ALICE, day)
    assert not await store.claim_reminder_day(GUILD, ALICE, day)
    assert not await store.claim_reminder_day(GUILD, ALICE, day - timedelta(days=1))  # never an older day
    assert await store.release_reminder_day(GUILD, ALICE, day)
    assert await store.claim_reminder_day(GUILD, ALICE, day)
    assert await store.claim_reminder_day(GUILD, ALICE, day + timedelta(days=1))

    await store.pause_reminders(GUILD, ALICE, T0)
    assert [(g, u) for g, u, _ in await store.active_reminders()] == [(GUILD, BOB)]
    assert not await store.claim_reminder_day(GUILD, ALICE, day + timedelta(days=2))
    paused = await store.get_reminder(GUILD, ALICE)
    assert paused is not None and paused.paused_at == T0 and not paused.enabled

    # Turning it on again ends the pause, but a day already decided stays decided: never two DMs a day.
    await store.save_reminder(GUILD, ALICE, 9, "UTC", 88)
    again = await store.get_reminder(GUILD, ALICE)
    assert again == ReminderSettings(9, "UTC", 88, last_day=day + timedelta(days=1))
    assert not await store.claim_reminder_day(GUILD, ALICE, day + timedelta(days=1))
    assert await store.delete_reminder(GUILD, ALICE)
    assert await store.get_reminder(GUILD, ALICE) is None


async def test_a_reminder_hour_outside_the_day_is_refused_before_the_database(store: SqlStore) -> None:
    with pytest.raises(ValueError, match="hour must be 0 to 23"):
        await store.save_reminder(GUILD, ALICE, 24, "UTC", None)


async def test_a_database_of_version_three_gains_the_quiz_tables_and_keeps_its_progress(
    store_backend: StoreBackend,
) -> None:
    async with store_backend.store(migrations=store_backend.migrations()[:3]) as old:
        await old.mark_done(GUILD, ALICE, "metrics", T0)
    async with store_backend.store() as store:
        assert await store.completed_topics(GUILD, ALICE) == {"metrics": T0}
        assert await store.schedule_review(GUILD, ALICE, card("metrics", T0))
        assert await store.review_cards(GUILD, ALICE) == [card("metrics", T0)]
