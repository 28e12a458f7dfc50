"""Admin logic without Discord: who is an admin, unanswered questions grouped by closest topic, quiz results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.admin import group_unanswered, guild_stats, is_admin
from bot.storage.base import LoggedQuestion, QuizAttempt
from knowledge.loader import KnowledgeBase
from tests.store_backends import StoreBackend

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def test_manage_server_or_a_configured_role_makes_an_admin() -> None:
    assert is_admin(True, [], [])
    assert is_admin(False, [5, 7], [7])
    assert not is_admin(False, [5], [7])
    assert not is_admin(False, [], [])


def test_unanswered_questions_are_grouped_biggest_first_and_newest_first_within(shipped_kb: KnowledgeBase) -> None:
    questions = [
        LoggedQuestion("a", "regularization", NOW - timedelta(hours=1)),
        LoggedQuestion("b", None, NOW),
        LoggedQuestion("c", "regularization", NOW - timedelta(hours=2)),
        LoggedQuestion("d", "gone-topic", NOW - timedelta(hours=3)),
    ]
    groups = group_unanswered(questions, shipped_kb)
    assert [(g.title, [q.question for q in g.questions]) for g in groups] == [
        ("Regularization", ["a", "c"]),
        ("No close topic", ["b"]),
        ("gone-topic", ["d"]),
    ]


async def test_quiz_results_by_topic_put_the_hardest_topic_first(
    shipped_kb: KnowledgeBase, store_backend: StoreBackend
) -> None:
    async with store_backend.store() as store:
        for topic, right, wrong in (("regularization", 4, 1), ("keras", 1, 3), ("pytorch", 0, 1), ("tensorflow", 2, 2)):
            for correct in [True] * right + [False] * wrong:
                attempt = QuizAttempt(topic, "0123456789ab", 0, correct, NOW - timedelta(days=1))
                await store.record_quiz_answer(1, 7, attempt, None)
        await store.record_quiz_answer(1, 7, QuizAttempt("keras", "ab", 0, True, NOW - timedelta(days=60)), None)
        stats = await guild_stats(store, shipped_kb, 1, NOW - timedelta(days=30))
    assert [(t.title, t.attempts, round(t.share_right, 2)) for t in stats.quiz_topics] == [
        ("PyTorch", 1, 0.0),
        ("Keras", 4, 0.25),
        ("TensorFlow", 4, 0.5),
        ("Regularization", 5, 0.8),
    ]
