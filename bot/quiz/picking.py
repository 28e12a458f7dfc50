"""Which question to ask next: the topic (asked for, most overdue, current) and, in it, a question not yet shown.

Without a topic the order is: topics due for review, most overdue first; then the member's current topics
(what `/next` recommends); then topics scheduled later, soonest first. In a topic, a question not shown in
this session, preferring those the member has got right least often, then answered least often.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.quiz.schedule import is_due
from bot.storage.base import QuestionHistory, ReviewCard
from knowledge.loader import KnowledgeBase, QuizEntry, TopicEntry

Why = Literal["asked", "due", "current", "scheduled"]


@dataclass(frozen=True)
class Pick:
    """The question to ask, its topic, and why that topic."""

    entry: QuizEntry
    topic: TopicEntry
    why: Why
    due: datetime | None  # the topic's review time, when it has one


@dataclass(frozen=True)
class NothingToAsk:
    """No question to ask: the topic has none (`no_questions`), or all were shown in this session."""

    reason: Literal["no_questions", "all_shown"]
    topic: TopicEntry | None = None
    shown: int = 0


def pick_question(
    kb: KnowledgeBase,
    *,
    topic_id: str | None,
    cards: Mapping[str, ReviewCard],
    current: Sequence[str],
    history: Mapping[str, QuestionHistory],
    shown: Collection[str],
    now: datetime,
    rng: random.Random | None = None,
) -> Pick | NothingToAsk:
    rng = rng or random.Random()
    if topic_id is not None:
        candidates: list[tuple[str, Why]] = [(topic_id, "asked")]
    else:
        candidates = _candidates(kb, cards, current, now)
    asked_any = False
    for candidate, why in candidates:
        questions = kb.quizzes.get(candidate, ())
        asked_any = asked_any or bool(questions)
        fresh = [q for q in questions if q.key not in shown]
        if not fresh:
            continue
        best = min(fresh, key=lambda q: (*_record(history, q.key), rng.random()))
        card = cards.get(candidate)
        return Pick(best, kb.topics[candidate], why, card.due if card else None)
    topic = kb.topics.get(topic_id) if topic_id is not None else None
    if not asked_any:
        return NothingToAsk("no_questions", topic)
    shown_here = len(kb.quizzes.get(topic_id, ())) if topic_id is not None else len(shown)
    return NothingToAsk("all_shown", topic, shown_here)


def _candidates(
    kb: KnowledgeBase, cards: Mapping[str, ReviewCard], current: Sequence[str], now: datetime
) -> list[tuple[str, Why]]:
    scheduled = sorted((c for c in cards.values() if c.topic_id in kb.topics), key=lambda c: (c.due, c.topic_id))
    ordered: list[tuple[str, Why]] = [(c.topic_id, "due") for c in scheduled if is_due(c, now)]
    ordered += [(t, "current") for t in current if t in kb.topics]
    ordered += [(c.topic_id, "scheduled") for c in scheduled if not is_due(c, now)]
    first: dict[str, Why] = {}
    for topic_id, why in ordered:
        first.setdefault(topic_id, why)  # a due topic is also current: it is asked for as due
    return list(first.items())


def _record(history: Mapping[str, QuestionHistory], key: str) -> tuple[int, int]:
    past = history.get(key)
    return (past.right, past.answered) if past else (0, 0)
