"""A member's quiz session: the questions shown and answered since they started, so none comes back in it.

A session is kept in memory and ends after `SESSION_IDLE` without a quiz, or when the bot restarts; the
answers themselves are stored (`Store.record_quiz_answer`), the session only remembers what was shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

SESSION_IDLE = timedelta(minutes=30)


@dataclass
class QuizSession:
    started: datetime
    last_active: datetime
    shown: list[str] = field(default_factory=list)  # question keys, in the order shown
    answered: dict[str, int] = field(default_factory=dict)  # question key → the choice the member picked

    def expired(self, now: datetime) -> bool:
        return now - self.last_active > SESSION_IDLE

    def show(self, key: str, now: datetime) -> None:
        if key not in self.shown:
            self.shown.append(key)
        self.last_active = now

    def answer(self, key: str, choice: int, now: datetime) -> None:
        self.answered[key] = choice
        self.show(key, now)


class Sessions:
    """Each member's current session; an idle one is replaced by a fresh one."""

    def __init__(self) -> None:
        self._sessions: dict[object, QuizSession] = {}

    def of(self, member: object, now: datetime) -> QuizSession:
        session = self._sessions.get(member)
        if session is None or session.expired(now):
            session = self._sessions[member] = QuizSession(started=now, last_active=now)
            self._prune(now)
        return session

    def end(self, member: object) -> None:
        self._sessions.pop(member, None)

    def _prune(self, now: datetime) -> None:
        for member in [m for m, s in self._sessions.items() if s.expired(now)]:
            del self._sessions[member]
