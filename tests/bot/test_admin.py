"""Admin logic without Discord: who is an admin, and unanswered questions grouped by closest topic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.admin import group_unanswered, is_admin
from bot.storage.base import LoggedQuestion
from knowledge.loader import KnowledgeBase

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
