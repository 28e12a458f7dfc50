"""Review scheduling: FSRS through the fsrs package, a quiz answer as the rating, and what a member knows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fsrs import Rating, State

from bot.quiz.schedule import (
    MASTERED_STABILITY_DAYS,
    counts_as_review,
    first_review,
    is_mastered,
    rating_for,
    review,
    topic_state,
)

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def test_marking_a_topic_done_schedules_its_first_review_a_few_days_out() -> None:
    card = first_review("regularization", T0)
    assert card.topic_id == "regularization" and card.state == State.Review
    assert card.due == T0 + timedelta(days=2)  # FSRS-6's first stability after Good, 2.3 days, rounded
    assert card.last_review == T0 and card.reviews == 1 and card.lapses == 0


def test_a_right_answer_is_good_and_a_wrong_one_is_again() -> None:
    assert rating_for(True) == Rating.Good and rating_for(False) == Rating.Again
    start = first_review("metrics", T0)
    due = start.due
    right = review(start, "metrics", rating_for(True), due)
    wrong = review(start, "metrics", rating_for(False), due)
    assert right.due - due > due - T0  # each right answer on time spaces the next review further out
    assert wrong.due == due + timedelta(days=1) and wrong.lapses == 1 and wrong.reviews == 2
    assert (wrong.stability or 0) < (start.stability or 0) < (right.stability or 0)


def test_a_wrong_answer_always_counts_and_a_right_one_only_when_due() -> None:
    card = first_review("metrics", T0)
    assert counts_as_review(None, True, T0) and counts_as_review(None, False, T0)
    assert not counts_as_review(card, True, T0 + timedelta(days=1))  # early and right: practice
    assert counts_as_review(card, False, T0 + timedelta(days=1))
    assert counts_as_review(card, True, card.due)


def test_reviews_answered_right_when_due_lead_to_mastery() -> None:
    card = first_review("metrics", T0)
    rounds = 0
    while not is_mastered(card, card.due - timedelta(seconds=1)):
        card = review(card, "metrics", Rating.Good, card.due)
        rounds += 1
    assert 2 <= rounds <= 5 and (card.stability or 0) >= MASTERED_STABILITY_DAYS
    assert not is_mastered(card, card.due)  # mastered or not, a topic that has come due is due


def test_what_a_member_knows_of_a_topic() -> None:
    card = first_review("metrics", T0)
    assert topic_state(False, None, T0) == "new"
    assert topic_state(True, None, T0) == "done"
    assert topic_state(True, card, T0) == "done"
    assert topic_state(False, card, T0) == "learning"
    assert topic_state(True, card, card.due) == "due"
    strong = review(
        review(review(card, "metrics", Rating.Good, card.due), "metrics", Rating.Good, T0 + timedelta(9)),
        "metrics",
        Rating.Good,
        T0 + timedelta(40),
    )
    assert (strong.stability or 0) >= MASTERED_STABILITY_DAYS
    assert topic_state(True, strong, T0 + timedelta(41)) == "mastered"
