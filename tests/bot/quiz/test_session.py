"""A quiz session remembers what was shown until the member is idle for a while."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.quiz.session import SESSION_IDLE, Sessions

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def test_a_session_lasts_while_the_member_keeps_going_and_ends_when_idle() -> None:
    sessions = Sessions()
    session = sessions.of("alice", T0)
    session.show("q1", T0)
    session.answer("q1", 2, T0 + timedelta(minutes=20))
    later = T0 + timedelta(minutes=20) + SESSION_IDLE
    assert sessions.of("alice", later) is session and session.answered == {"q1": 2}
    assert sessions.of("bob", later).shown == []
    fresh = sessions.of("alice", later + SESSION_IDLE + timedelta(seconds=1))
    assert fresh is not session and fresh.shown == [] and fresh.answered == {}
    sessions.end("alice")
    assert sessions.of("alice", later).shown == []
