"""When a topic comes back for review: FSRS through the maintained `fsrs` package, one card per member and topic.

Rules, in one place:

- Marking a topic done schedules its first review (rated Good on the day it is marked), unless the topic
  already has a card from a quiz.
- A quiz answer is the rating: right is Good, wrong is Again.
- A wrong answer always counts: the topic comes back soon. A right answer counts when the topic is due, or
  has no card yet; answered early it is practice (kept for the statistics, schedule unchanged), so that
  drilling one topic in a sitting does not push its review out for months.
- Intervals are whole days (no same-day learning steps: a topic is not a flashcard) and are not fuzzed, so
  a member's reviews fall on the days the algorithm computes.
- A topic is due from its due time on; it is mastered while it is not due and its stability (the days
  until recall would fall to 90 %) is at least `MASTERED_STABILITY_DAYS`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fsrs import Card, Rating, Scheduler, State

from bot.storage.base import ReviewCard

__all__ = [
    "MASTERED_STABILITY_DAYS",
    "SCHEDULER",
    "TopicState",
    "counts_as_review",
    "first_review",
    "is_due",
    "is_mastered",
    "rating_for",
    "review",
    "topic_state",
]

TopicState = Literal["new", "learning", "done", "due", "mastered"]

SCHEDULER = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
MASTERED_STABILITY_DAYS = 21.0


def rating_for(correct: bool) -> Rating:
    """The FSRS rating of a quiz answer."""
    return Rating.Good if correct else Rating.Again


def counts_as_review(card: ReviewCard | None, correct: bool, now: datetime) -> bool:
    """Whether a quiz answer reschedules the topic (see the module's rules)."""
    return card is None or not correct or is_due(card, now)


def first_review(topic_id: str, now: datetime) -> ReviewCard:
    """The card of a topic just marked done: reviewed Good now, so it comes back in a few days."""
    return review(None, topic_id, Rating.Good, now)


def review(card: ReviewCard | None, topic_id: str, rating: Rating, now: datetime) -> ReviewCard:
    """The card after one review with `rating` at `now` (a new card when `card` is None)."""
    # card_id is set: fsrs would otherwise read the clock and sleep a millisecond to keep ids apart.
    before = Card(card_id=0, state=State.Learning, due=_utc(now)) if card is None else _fsrs_card(card)
    after, _ = SCHEDULER.review_card(before, rating, _utc(now))
    lapses = (card.lapses if card else 0) + (rating == Rating.Again)
    return ReviewCard(
        topic_id=topic_id,
        state=int(after.state),
        step=after.step,
        stability=after.stability,
        difficulty=after.difficulty,
        due=after.due,
        last_review=after.last_review,
        reviews=(card.reviews if card else 0) + 1,
        lapses=lapses,
    )


def is_due(card: ReviewCard, now: datetime) -> bool:
    return card.due <= now


def is_mastered(card: ReviewCard, now: datetime) -> bool:
    return not is_due(card, now) and (card.stability or 0.0) >= MASTERED_STABILITY_DAYS


def topic_state(done: bool, card: ReviewCard | None, now: datetime) -> TopicState:
    """What a member knows of a topic: due (for review), mastered, done, learning (quizzed, not marked done)
    or new."""
    if card is not None and is_due(card, now):
        return "due"
    if card is not None and is_mastered(card, now):
        return "mastered"
    if done:
        return "done"
    return "learning" if card is not None else "new"


def _fsrs_card(card: ReviewCard) -> Card:
    return Card(
        card_id=0,
        state=State(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=_utc(card.due),
        last_review=_utc(card.last_review) if card.last_review else None,
    )


def _utc(moment: datetime) -> datetime:
    # fsrs accepts only datetime.UTC itself as the time zone, not another zone at offset zero.
    return moment.astimezone(UTC)
