"""What the tutor hands back for quizzes and reviews: plain values the console and Discord both render."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.quiz.schedule import TopicState
from bot.storage.base import ReminderSettings, ReviewCard
from knowledge.loader import QuizEntry, TopicEntry


@dataclass(frozen=True)
class QuizResult:
    """A member's answer to one question, checked, and what it did to the topic's review."""

    entry: QuizEntry
    topic: TopicEntry
    choice: int
    correct: bool
    card: ReviewCard | None  # the topic's review card after the answer (None only if it has none)
    counted: bool  # the answer rescheduled the topic (see bot.quiz.schedule)
    repeated: bool = False  # already answered in this session: shown again, not recorded again


@dataclass(frozen=True)
class ScheduledTopic:
    topic: TopicEntry
    card: ReviewCard


@dataclass(frozen=True)
class ReviewSchedule:
    """A member's reviews: what is due (most overdue first), what comes next (soonest first), reminders."""

    due: list[ScheduledTopic]
    upcoming: list[ScheduledTopic]
    reminder: ReminderSettings | None


@dataclass(frozen=True)
class TopicKnowledge:
    """What a member knows of one topic: done, due, mastered... and when it comes back."""

    topic: TopicEntry
    state: TopicState
    due: datetime | None


class QuizUnavailable(LookupError):
    """There is no question to ask; the message says why, for the member."""
