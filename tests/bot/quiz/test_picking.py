"""Which question comes next: a topic asked for, else the most overdue review, else the current topic; never a
question already shown in the session."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.quiz.picking import NothingToAsk, Pick, pick_question
from bot.quiz.schedule import first_review
from bot.storage.base import QuestionHistory
from knowledge.loader import KnowledgeBase, load_knowledge
from tests.fakes import with_test_quizzes

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return with_test_quizzes(load_knowledge())


def pick(kb: KnowledgeBase, **given: object) -> Pick | NothingToAsk:
    options: dict[str, object] = {
        "topic_id": None,
        "cards": {},
        "current": [],
        "history": {},
        "shown": (),
        "now": T0,
        "rng": random.Random(1),
    }
    return pick_question(kb, **{**options, **given})  # type: ignore[arg-type]


def test_the_most_overdue_review_comes_first_then_the_current_topic(kb: KnowledgeBase) -> None:
    metrics = first_review("evaluation-metrics", T0 - timedelta(days=10))  # due 8 days ago
    regularization = first_review("regularization", T0 - timedelta(days=3))  # due a day ago
    cards = {c.topic_id: c for c in (regularization, metrics)}
    chosen = pick(kb, cards=cards, current=["activation-functions"])
    assert isinstance(chosen, Pick)
    assert (chosen.topic.topic.id, chosen.why, chosen.due) == ("evaluation-metrics", "due", metrics.due)
    nothing_due = {c.topic_id: first_review(c.topic_id, T0) for c in cards.values()}
    chosen = pick(kb, cards=nothing_due, current=["activation-functions"])
    assert isinstance(chosen, Pick) and (chosen.topic.topic.id, chosen.why) == ("activation-functions", "current")


def test_a_current_topic_without_questions_gives_way_to_the_next_one_and_then_to_later_reviews(
    kb: KnowledgeBase,
) -> None:
    chosen = pick(kb, current=["hyperparameter-tuning", "regularization"])  # tuning has no test questions
    assert isinstance(chosen, Pick) and chosen.topic.topic.id == "regularization"
    later = {"activation-functions": first_review("activation-functions", T0)}
    chosen = pick(kb, cards=later, current=["hyperparameter-tuning"])
    assert isinstance(chosen, Pick) and (chosen.topic.topic.id, chosen.why) == ("activation-functions", "scheduled")


def test_no_question_comes_back_within_a_session(kb: KnowledgeBase) -> None:
    shown: list[str] = []
    for _ in range(3):
        chosen = pick(kb, topic_id="regularization", shown=shown)
        assert isinstance(chosen, Pick) and chosen.why == "asked" and chosen.entry.key not in shown
        shown.append(chosen.entry.key)
    assert set(shown) == {q.key for q in kb.quizzes["regularization"]}
    nothing = pick(kb, topic_id="regularization", shown=shown)
    assert nothing == NothingToAsk("all_shown", kb.topics["regularization"], 3)
    # Without a topic, a topic whose questions were all shown gives way to the next candidate.
    chosen = pick(kb, current=["regularization", "evaluation-metrics"], shown=shown)
    assert isinstance(chosen, Pick) and chosen.topic.topic.id == "evaluation-metrics"


def test_questions_got_right_least_come_first(kb: KnowledgeBase) -> None:
    first, second = kb.quizzes["evaluation-metrics"]
    history = {first.key: QuestionHistory(answered=3, right=2), second.key: QuestionHistory(answered=5, right=0)}
    for seed in range(5):
        chosen = pick(kb, topic_id="evaluation-metrics", history=history, rng=random.Random(seed))
        assert isinstance(chosen, Pick) and chosen.entry is second


def test_a_topic_without_questions_is_said_so(kb: KnowledgeBase) -> None:
    assert pick(kb, topic_id="keras") == NothingToAsk("no_questions", kb.topics["keras"])
    assert pick(kb, current=["keras"]) == NothingToAsk("no_questions", None)
