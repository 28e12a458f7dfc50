"""The backend-neutral storage contract: the records the store returns and the `Store` protocol.

The tutor and the Discord layer depend on this module only; `SqliteStore` and `PostgresStore`
implement it (with the same queries, `bot.storage.sql_store`). Records are plain frozen dataclasses
so no driver row type escapes a backend.
Times going in and out are timezone-aware UTC datetimes supplied by the caller, which lets
tests inject a clock.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, NamedTuple, Protocol, Self, runtime_checkable

__all__ = [
    "FEEDBACK_TEXT_MAX",
    "FeedbackSummary",
    "GuildActivity",
    "LoggedQuestion",
    "QuestionFeedback",
    "QuestionHistory",
    "QuestionStats",
    "QuizAttempt",
    "ReminderSettings",
    "ReviewCard",
    "Store",
    "TopicQuizStats",
    "WeeklyPost",
    "WeeklyProblem",
    "WeeklySettings",
]

_HH_MM = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True, slots=True)
class WeeklySettings:
    """When and where a guild's weekly prompt is posted."""

    channel_id: int | None
    weekday: int  # 0 = Monday, as datetime.weekday()
    time: str  # "HH:MM", 24-hour, in `timezone`
    timezone: str  # IANA name, e.g. "Europe/Berlin"; validated by the settings layer
    enabled: bool
    roadmap_id: str | None = None  # whose prompts are posted; None: every loaded roadmap's take turns

    def __post_init__(self) -> None:
        # Checked here so a bad value fails at the caller, not as a constraint error in the store.
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {self.weekday!r}")
        if not _HH_MM.match(self.time):
            raise ValueError(f"time must be HH:MM (24-hour), got {self.time!r}")
        if not self.timezone:
            raise ValueError("timezone must be an IANA name such as 'UTC' or 'Europe/Berlin'")


@dataclass(frozen=True, slots=True)
class WeeklyProblem:
    """Why a guild's last weekly post failed, and when to try again (None: only a detail failed)."""

    reason: str
    at: datetime
    retry_at: datetime | None


@dataclass(frozen=True, slots=True)
class WeeklyPost:
    """One entry of the weekly ledger: a claimed week and, once posted, where the message is."""

    guild_id: int
    week_key: str
    prompt_id: str
    claimed_at: datetime
    channel_id: int | None = None
    message_id: int | None = None
    thread_id: int | None = None

    @property
    def posted(self) -> bool:
        """Whether the message was actually sent (a claim alone may be an interrupted post)."""
        return self.message_id is not None


@dataclass(frozen=True, slots=True)
class LoggedQuestion:
    """A question from the log, as shown to admins (no author: they see topics, not people)."""

    question: str
    top_topic_id: str | None
    at: datetime


# What a member says they were looking for, when an answer did not help: at most this many characters.
FEEDBACK_TEXT_MAX = 200


@dataclass(frozen=True, slots=True)
class QuestionFeedback:
    """A logged question as admins see it for teaching the tutor (no author): where its answer led, whether the
    tutor declined it, and the member's feedback on the answer."""

    question: str
    top_result_id: str | None  # the entry the answer led with (None for questions logged before it was kept)
    top_topic_id: str | None
    declined: bool
    helpful: bool | None  # None: no feedback
    looking_for: str | None  # what the member was looking for, when it did not help
    asked_at: datetime
    answer_key: str | None


@dataclass(frozen=True, slots=True)
class FeedbackSummary:
    """A guild's feedback over a period: counts, and the questions to teach from (declined or marked unhelpful),
    newest first."""

    helpful: int
    unhelpful: int
    declined: int
    questions: list[QuestionFeedback]


@dataclass(frozen=True, slots=True)
class QuestionStats:
    """Question counts for a guild over a period."""

    asked: int
    unanswered: int
    top_topics: list[tuple[str, int]]  # (topic_id, answered questions), most asked first, ≤10


@dataclass(frozen=True, slots=True)
class ReviewCard:
    """A member's review schedule for one topic: an FSRS card (`fsrs.Card`) and how often it was reviewed."""

    topic_id: str
    state: int  # fsrs.State: 1 learning, 2 review, 3 relearning
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    reviews: int = 0
    lapses: int = 0  # reviews rated Again (a wrong answer)


@dataclass(frozen=True, slots=True)
class QuizAttempt:
    """One answer to one quiz question."""

    topic_id: str
    question_key: str
    choice: int
    correct: bool
    at: datetime


class QuestionHistory(NamedTuple):
    """How often a member answered one quiz question, and how often right."""

    answered: int
    right: int


class TopicQuizStats(NamedTuple):
    """Quiz answers on one topic in a guild over a period."""

    topic_id: str
    attempts: int
    right: int


@dataclass(frozen=True, slots=True)
class ReminderSettings:
    """A member's review reminder: a DM at `hour` in `timezone` on days something is due."""

    hour: int
    timezone: str  # IANA name, validated by the caller
    channel_id: int | None  # where they turned it on: told there if their DMs are closed
    last_day: date | None = None  # the member's local day last decided (claimed)
    paused_at: datetime | None = None  # DMs were refused: paused until turned on again

    def __post_init__(self) -> None:
        if not 0 <= self.hour <= 23:
            raise ValueError(f"hour must be 0 to 23, got {self.hour!r}")

    @property
    def enabled(self) -> bool:
        return self.paused_at is None


class GuildActivity(NamedTuple):
    """How much a guild did over a period."""

    active_members: int
    topics_completed: int


@runtime_checkable
class Store(Protocol):
    """Async persistence for progress, the question log, quizzes and reviews, guild settings and the weekly ledger.

    Every method is scoped by ``guild_id`` (the console uses guild 0, user 0) and never returns
    another guild's data. Failures raise `bot.storage.errors.StorageError` subclasses.
    """

    # Lifecycle
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    # Progress
    async def mark_done(self, guild_id: int, user_id: int, topic_id: str, at: datetime) -> bool: ...
    async def unmark_done(self, guild_id: int, user_id: int, topic_id: str) -> bool: ...
    async def completed_topics(self, guild_id: int, user_id: int) -> dict[str, datetime]: ...
    async def record_activity(self, guild_id: int, user_id: int, day: date) -> None: ...
    async def active_days(self, guild_id: int, user_id: int) -> list[date]: ...
    async def followed_roadmap(self, guild_id: int, user_id: int) -> str | None: ...
    async def follow_roadmap(self, guild_id: int, user_id: int, roadmap_id: str, at: datetime) -> None: ...

    # Question log
    async def log_question(
        self,
        guild_id: int,
        user_id: int,
        question: str,
        top_topic_id: str | None,
        abstained: bool,
        at: datetime,
        *,
        top_result_id: str | None = None,
        answer_key: str | None = None,
    ) -> None: ...
    async def record_feedback(
        self, guild_id: int, user_id: int, answer_key: str, helpful: bool, looking_for: str | None, at: datetime
    ) -> bool: ...
    async def feedback_summary(self, guild_id: int, since: datetime, limit: int) -> FeedbackSummary: ...
    async def question_stats(self, guild_id: int, since: datetime) -> QuestionStats: ...
    async def unanswered_questions(
        self, guild_id: int, limit: int, since: datetime | None = None
    ) -> list[LoggedQuestion]: ...
    async def purge_questions(self, older_than: datetime) -> int: ...
    async def guild_activity(self, guild_id: int, since: datetime) -> GuildActivity: ...

    # Guild settings
    async def get_ask_channels(self, guild_id: int) -> set[int]: ...
    async def set_ask_channel(self, guild_id: int, channel_id: int, enabled: bool) -> None: ...
    async def get_weekly_settings(self, guild_id: int) -> WeeklySettings | None: ...
    async def save_weekly_settings(self, guild_id: int, settings: WeeklySettings) -> None: ...
    async def guilds_with_weekly_enabled(self) -> list[tuple[int, WeeklySettings]]: ...

    # Weekly ledger
    async def claim_weekly_post(self, guild_id: int, week_key: str, prompt_id: str, at: datetime) -> bool: ...
    async def record_weekly_message(
        self,
        guild_id: int,
        week_key: str,
        channel_id: int,
        message_id: int,
        thread_id: int | None,
    ) -> bool: ...
    async def release_weekly_post(self, guild_id: int, week_key: str) -> bool: ...
    async def last_weekly_posts(self, guild_id: int, limit: int) -> list[WeeklyPost]: ...
    async def used_prompt_ids(self, guild_id: int) -> list[str]: ...
    async def current_weekly_post(self, guild_id: int) -> WeeklyPost | None: ...
    async def save_weekly_problem(self, guild_id: int, problem: WeeklyProblem) -> None: ...
    async def clear_weekly_problem(self, guild_id: int) -> None: ...
    async def weekly_problems(self) -> dict[int, WeeklyProblem]: ...

    # Quizzes and reviews
    async def review_cards(self, guild_id: int, user_id: int) -> list[ReviewCard]: ...
    async def review_card(self, guild_id: int, user_id: int, topic_id: str) -> ReviewCard | None: ...
    async def schedule_review(self, guild_id: int, user_id: int, card: ReviewCard) -> bool: ...
    async def delete_review_card(self, guild_id: int, user_id: int, topic_id: str) -> bool: ...
    async def record_quiz_answer(
        self, guild_id: int, user_id: int, attempt: QuizAttempt, card: ReviewCard | None
    ) -> None: ...
    async def quiz_history(self, guild_id: int, user_id: int) -> dict[str, QuestionHistory]: ...
    async def has_quiz_answers(self, guild_id: int, user_id: int, topic_id: str) -> bool: ...
    async def quiz_stats(self, guild_id: int, since: datetime) -> list[TopicQuizStats]: ...
    async def purge_quiz_answers(self, older_than: datetime) -> int: ...

    # Review reminders
    async def get_reminder(self, guild_id: int, user_id: int) -> ReminderSettings | None: ...
    async def save_reminder(
        self, guild_id: int, user_id: int, hour: int, timezone: str, channel_id: int | None
    ) -> None: ...
    async def delete_reminder(self, guild_id: int, user_id: int) -> bool: ...
    async def active_reminders(self) -> list[tuple[int, int, ReminderSettings]]: ...
    async def claim_reminder_day(self, guild_id: int, user_id: int, day: date) -> bool: ...
    async def release_reminder_day(self, guild_id: int, user_id: int, day: date) -> bool: ...
    async def pause_reminders(self, guild_id: int, user_id: int, at: datetime) -> None: ...

    # Several processes on one database
    async def claim_daily_job(self, job: str, day: date, at: datetime) -> bool: ...
    def exclusive(self, name: str) -> contextlib.AbstractAsyncContextManager[bool]: ...
    async def announce(self, kind: str, **fields: int | str | None) -> None: ...
    async def listen(self, handler: Callable[[str, dict[str, Any]], Awaitable[None]]) -> None: ...
    async def stop_listening(self) -> None: ...

    # Privacy
    async def export_member(self, guild_id: int, user_id: int) -> dict[str, Any]: ...
    async def forget_member(self, guild_id: int, user_id: int) -> int: ...
