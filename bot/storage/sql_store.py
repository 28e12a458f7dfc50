"""The `Store` methods written once in SQL that SQLite and PostgreSQL both run; each backend supplies connections.

The statements use ``?`` placeholders and the SQL both databases accept (``INSERT ... ON CONFLICT``,
``COUNT``/``SUM``/``GROUP BY``, ``LIMIT ?``). Values go in as Python values (aware UTC datetimes,
dates, ints, strings); each backend's `Session` encodes them for its driver (SQLite: fixed-width
ISO-8601 text, PostgreSQL: ``timestamptz`` and ``date``) and rows come back as plain tuples, which
the decoders below turn into the records of `bot.storage.base` whichever backend produced them.

A backend implements four things: `_session` (one connection, each statement atomic on its own),
`_transaction` (one connection inside a transaction), `_snapshot` (a consistent read of several
tables) and the copying hooks `db copy` uses (`_table_names`, `_column_names`, `_insert_rows`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, ClassVar, Protocol, Self

from bot.storage.base import (
    FEEDBACK_TEXT_MAX,
    FeedbackSummary,
    GuildActivity,
    LoggedQuestion,
    QuestionFeedback,
    QuestionHistory,
    QuestionStats,
    QuizAttempt,
    ReminderSettings,
    ReviewCard,
    TopicQuizStats,
    WeeklyPost,
    WeeklyProblem,
    WeeklySettings,
)
from bot.storage.migrations import MigrationResult

__all__ = ["MEMBER_TABLES", "Session", "SqlStore", "count_rows", "quote_identifier", "utc"]

log = logging.getLogger(__name__)

_TOP_TOPICS = 10


class Session(Protocol):
    """One connection as the shared SQL sees it: ``?`` placeholders in, tuples out."""

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        ...

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...


def utc(at: datetime) -> datetime:
    """`at` in UTC; refuses a naive datetime, whose zone the store would have to guess."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got naive {at!r}")
    return at.astimezone(UTC)


def _time(value: datetime | str) -> datetime:
    # PostgreSQL hands back datetimes; SQLite the ISO text its session wrote.
    return value.astimezone(UTC) if isinstance(value, datetime) else datetime.fromisoformat(value)


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def quote_identifier(name: str) -> str:
    """A table or column name quoted the way both SQLite and PostgreSQL read it."""
    return '"' + name.replace('"', '""') + '"'


class SqlStore:
    """`Store` in SQL; subclasses connect it to a database. Open with ``await store.open()`` or ``async with``."""

    migration: MigrationResult | None = None
    """What the last `open` did to the schema (`roadmap-tutor db migrate` reports it)."""

    retry_open_while_unreachable: ClassVar[bool] = False
    """Whether an `open` that failed is worth trying again later: a database server may come back by
    itself (restarted, created, reachable again); a damaged or missing SQLite file will not."""

    @property
    def display(self) -> str:
        """Where the data is, for messages and logs: a path, or a URL without its password."""
        raise NotImplementedError

    # Lifecycle: the backends implement these.

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # Plumbing: the backends implement these.

    def _session(self) -> contextlib.AbstractAsyncContextManager[Session]:
        raise NotImplementedError

    def _transaction(self) -> contextlib.AbstractAsyncContextManager[Session]:
        raise NotImplementedError

    def _snapshot(self) -> contextlib.AbstractAsyncContextManager[Session]:
        """A session whose reads all see the same moment (for exports and copies)."""
        raise NotImplementedError

    async def _table_names(self) -> list[str]:
        """The tables that hold data, by name, without the backend's schema bookkeeping."""
        raise NotImplementedError

    async def _column_names(self, session: Session, table: str) -> list[str]:
        raise NotImplementedError

    async def _insert_rows(
        self, session: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert rows as they came from any backend, keeping their ids."""
        raise NotImplementedError

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self._session() as session:
            return await session.fetch(sql, params)

    async def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement (atomic on its own); return rows changed."""
        async with self._session() as session:
            return await session.execute(sql, params)

    # Progress

    async def mark_done(self, guild_id: int, user_id: int, topic_id: str, at: datetime) -> bool:
        """Record that the member finished `topic_id`; False if it was already recorded."""
        # The primary key and ON CONFLICT make this idempotent under concurrency: one row, one True.
        changed = await self._execute(
            "INSERT INTO progress (guild_id, user_id, topic_id, completed_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (guild_id, user_id, topic_id, utc(at)),
        )
        return changed == 1

    async def unmark_done(self, guild_id: int, user_id: int, topic_id: str) -> bool:
        """Forget that the member finished `topic_id`; False if it was not recorded."""
        changed = await self._execute(
            "DELETE FROM progress WHERE guild_id = ? AND user_id = ? AND topic_id = ?",
            (guild_id, user_id, topic_id),
        )
        return changed == 1

    async def completed_topics(self, guild_id: int, user_id: int) -> dict[str, datetime]:
        """Topic id → when the member marked it done."""
        rows = await self._fetchall(
            "SELECT topic_id, completed_at FROM progress WHERE guild_id = ? AND user_id = ? "
            "ORDER BY completed_at, topic_id",
            (guild_id, user_id),
        )
        return {topic_id: _time(at) for topic_id, at in rows}

    async def record_activity(self, guild_id: int, user_id: int, day: date) -> None:
        """Note that the member was active on `day` (idempotent)."""
        await self._execute(
            "INSERT INTO activity_days (guild_id, user_id, day) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (guild_id, user_id, day),
        )

    async def followed_roadmap(self, guild_id: int, user_id: int) -> str | None:
        """The roadmap id the member chose to follow, or None if they never chose."""
        rows = await self._fetchall(
            "SELECT roadmap_id FROM followed_roadmaps WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
        )
        return rows[0][0] if rows else None

    async def follow_roadmap(self, guild_id: int, user_id: int, roadmap_id: str, at: datetime) -> None:
        """Record the roadmap the member follows from now on (replacing an earlier choice)."""
        await self._execute(
            "INSERT INTO followed_roadmaps (guild_id, user_id, roadmap_id, chosen_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (guild_id, user_id) DO UPDATE SET roadmap_id = excluded.roadmap_id, "
            "chosen_at = excluded.chosen_at",
            (guild_id, user_id, roadmap_id, utc(at)),
        )

    async def active_days(self, guild_id: int, user_id: int) -> list[date]:
        """The member's active days, oldest first."""
        rows = await self._fetchall(
            "SELECT day FROM activity_days WHERE guild_id = ? AND user_id = ? ORDER BY day",
            (guild_id, user_id),
        )
        return [_day(day) for (day,) in rows]

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
    ) -> None:
        """Keep a question for stats; `abstained` means the tutor found no good answer. `top_result_id` is the
        entry the answer led with; `answer_key` the key its feedback buttons name it by (`record_feedback`)."""
        await self._execute(
            "INSERT INTO questions (guild_id, user_id, question, top_topic_id, abstained, asked_at, top_result_id, "
            "answer_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (guild_id, user_id, question, top_topic_id, int(abstained), utc(at), top_result_id, answer_key),
        )

    async def record_feedback(
        self, guild_id: int, user_id: int, answer_key: str, helpful: bool, looking_for: str | None, at: datetime
    ) -> bool:
        """Keep a member's feedback on the answer to their question `answer_key`, replacing any before; what they
        were looking for is kept with an unhelpful mark (None keeps what they wrote before) and dropped with a
        helpful one. False when that member asked no such question in that guild (or it was purged)."""
        text = looking_for[:FEEDBACK_TEXT_MAX] if looking_for else None
        changed = await self._execute(
            "UPDATE questions SET feedback = ?, feedback_at = ?, "
            "feedback_text = CASE WHEN ? = 1 THEN NULL ELSE COALESCE(?, feedback_text) END "
            "WHERE guild_id = ? AND user_id = ? AND answer_key = ?",
            ("helpful" if helpful else "unhelpful", utc(at), int(helpful), text, guild_id, user_id, answer_key),
        )
        return changed == 1

    async def feedback_summary(self, guild_id: int, since: datetime, limit: int) -> FeedbackSummary:
        """Since `since`: how many answers were marked helpful and unhelpful and how many questions declined, and
        the newest `limit` questions that were declined or marked unhelpful."""
        async with self._session() as session:
            counts = await session.fetch(
                "SELECT COALESCE(SUM(CASE WHEN feedback = 'helpful' THEN 1 ELSE 0 END), 0), "
                "COALESCE(SUM(CASE WHEN feedback = 'unhelpful' THEN 1 ELSE 0 END), 0), "
                "COALESCE(SUM(abstained), 0) FROM questions WHERE guild_id = ? AND asked_at >= ?",
                (guild_id, utc(since)),
            )
            rows = await session.fetch(
                "SELECT question, top_result_id, top_topic_id, abstained, feedback, feedback_text, asked_at, "
                "answer_key FROM questions WHERE guild_id = ? AND asked_at >= ? "
                "AND (abstained = 1 OR feedback = 'unhelpful') ORDER BY asked_at DESC, id DESC LIMIT ?",
                (guild_id, utc(since), limit),
            )
        ((helpful, unhelpful, declined),) = counts
        return FeedbackSummary(
            helpful=int(helpful),
            unhelpful=int(unhelpful),
            declined=int(declined),
            questions=[
                QuestionFeedback(
                    question=question,
                    top_result_id=result_id,
                    top_topic_id=topic_id,
                    declined=bool(abstained),
                    helpful=None if feedback is None else feedback == "helpful",
                    looking_for=text,
                    asked_at=_time(at),
                    answer_key=key,
                )
                for question, result_id, topic_id, abstained, feedback, text, at, key in rows
            ],
        )

    async def question_stats(self, guild_id: int, since: datetime) -> QuestionStats:
        """Questions asked since `since`; top topics count answered questions only, because an
        abstained question's closest topic is by definition not what it was about."""
        async with self._session() as session:
            totals = await session.fetch(
                "SELECT COUNT(*), COALESCE(SUM(abstained), 0) FROM questions WHERE guild_id = ? AND asked_at >= ?",
                (guild_id, utc(since)),
            )
            top = await session.fetch(
                "SELECT top_topic_id, COUNT(*) AS n FROM questions "
                "WHERE guild_id = ? AND asked_at >= ? AND abstained = 0 "
                "AND top_topic_id IS NOT NULL "
                "GROUP BY top_topic_id ORDER BY n DESC, top_topic_id LIMIT ?",
                (guild_id, utc(since), _TOP_TOPICS),
            )
        ((asked, unanswered),) = totals
        return QuestionStats(
            asked=int(asked),
            unanswered=int(unanswered),
            top_topics=[(topic_id, int(count)) for topic_id, count in top],
        )

    async def unanswered_questions(
        self, guild_id: int, limit: int, since: datetime | None = None
    ) -> list[LoggedQuestion]:
        """The newest questions the tutor abstained on, newest first."""
        window, params = ("", ()) if since is None else (" AND asked_at >= ?", (utc(since),))
        rows = await self._fetchall(
            f"SELECT question, top_topic_id, asked_at FROM questions WHERE guild_id = ? AND abstained = 1{window} "
            "ORDER BY asked_at DESC, id DESC LIMIT ?",
            (guild_id, *params, limit),
        )
        return [LoggedQuestion(q, topic, _time(at)) for q, topic, at in rows]

    async def purge_questions(self, older_than: datetime) -> int:
        """Delete questions asked before `older_than` in every guild; return how many."""
        deleted = await self._execute("DELETE FROM questions WHERE asked_at < ?", (utc(older_than),))
        if deleted:
            log.info("Purged %d logged questions older than %s", deleted, older_than)
        return deleted

    async def guild_activity(self, guild_id: int, since: datetime) -> GuildActivity:
        """Members who were active, asked or completed a topic since `since`, and how many
        topics were completed. Activity days count from the UTC date of `since`."""
        since = utc(since)
        async with self._session() as session:
            members = await session.fetch(
                "SELECT COUNT(*) FROM ("
                " SELECT user_id FROM activity_days WHERE guild_id = ? AND day >= ?"
                " UNION SELECT user_id FROM progress WHERE guild_id = ? AND completed_at >= ?"
                " UNION SELECT user_id FROM questions WHERE guild_id = ? AND asked_at >= ?) AS members",
                (guild_id, since.date(), guild_id, since, guild_id, since),
            )
            completed = await session.fetch(
                "SELECT COUNT(*) FROM progress WHERE guild_id = ? AND completed_at >= ?",
                (guild_id, since),
            )
        return GuildActivity(active_members=_scalar(members), topics_completed=_scalar(completed))

    # Guild settings

    async def get_ask_channels(self, guild_id: int) -> set[int]:
        """Channels where the tutor answers without being mentioned."""
        rows = await self._fetchall("SELECT channel_id FROM ask_channels WHERE guild_id = ?", (guild_id,))
        return {channel_id for (channel_id,) in rows}

    async def set_ask_channel(self, guild_id: int, channel_id: int, enabled: bool) -> None:
        """Turn answering in `channel_id` on or off (idempotent)."""
        if enabled:
            sql = "INSERT INTO ask_channels (guild_id, channel_id) VALUES (?, ?) ON CONFLICT DO NOTHING"
        else:
            sql = "DELETE FROM ask_channels WHERE guild_id = ? AND channel_id = ?"
        await self._execute(sql, (guild_id, channel_id))

    async def get_weekly_settings(self, guild_id: int) -> WeeklySettings | None:
        """The guild's weekly prompt settings, or None if never saved."""
        rows = await self._fetchall(
            "SELECT channel_id, weekday, post_time, timezone, enabled, roadmap_id FROM weekly_settings "
            "WHERE guild_id = ?",
            (guild_id,),
        )
        return _weekly_settings(rows[0]) if rows else None

    async def save_weekly_settings(self, guild_id: int, settings: WeeklySettings) -> None:
        """Create or replace the guild's weekly prompt settings."""
        await self._execute(
            "INSERT INTO weekly_settings (guild_id, channel_id, weekday, post_time, timezone, "
            "enabled, roadmap_id) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET channel_id = excluded.channel_id, "
            "weekday = excluded.weekday, post_time = excluded.post_time, "
            "timezone = excluded.timezone, enabled = excluded.enabled, roadmap_id = excluded.roadmap_id",
            (
                guild_id,
                settings.channel_id,
                settings.weekday,
                settings.time,
                settings.timezone,
                int(settings.enabled),
                settings.roadmap_id,
            ),
        )

    async def guilds_with_weekly_enabled(self) -> list[tuple[int, WeeklySettings]]:
        """Every guild whose weekly prompt is on and has a channel, by guild id."""
        rows = await self._fetchall(
            "SELECT guild_id, channel_id, weekday, post_time, timezone, enabled, roadmap_id "
            "FROM weekly_settings WHERE enabled = 1 AND channel_id IS NOT NULL "
            "ORDER BY guild_id"
        )
        return [(row[0], _weekly_settings(row[1:])) for row in rows]

    # Weekly ledger

    async def claim_weekly_post(self, guild_id: int, week_key: str, prompt_id: str, at: datetime) -> bool:
        """Claim the right to post week `week_key`; True only for the first claim.

        Claim before sending, record after sending, release if sending failed. A process that
        dies between claim and send leaves a claim without a message (see `WeeklyPost.posted`),
        which errs on the side of not posting twice.
        """
        changed = await self._execute(
            "INSERT INTO weekly_posts (guild_id, week_key, prompt_id, claimed_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (guild_id, week_key, prompt_id, utc(at)),
        )
        return changed == 1

    async def record_weekly_message(
        self,
        guild_id: int,
        week_key: str,
        channel_id: int,
        message_id: int,
        thread_id: int | None,
    ) -> bool:
        """Attach the sent message to a claim; False if there was no claim for that week."""
        changed = await self._execute(
            "UPDATE weekly_posts SET channel_id = ?, message_id = ?, thread_id = ? WHERE guild_id = ? AND week_key = ?",
            (channel_id, message_id, thread_id, guild_id, week_key),
        )
        if not changed:
            log.warning("No weekly claim for guild %d week %s to record", guild_id, week_key)
        return changed == 1

    async def release_weekly_post(self, guild_id: int, week_key: str) -> bool:
        """Undo a claim (posting failed) so the week can be claimed again."""
        changed = await self._execute(
            "DELETE FROM weekly_posts WHERE guild_id = ? AND week_key = ?", (guild_id, week_key)
        )
        return changed == 1

    async def save_weekly_problem(self, guild_id: int, problem: WeeklyProblem) -> None:
        """Create or replace the guild's weekly post problem."""
        retry_at = utc(problem.retry_at) if problem.retry_at is not None else None
        await self._execute(
            "INSERT INTO weekly_problems (guild_id, reason, at, retry_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET reason = excluded.reason, at = excluded.at, "
            "retry_at = excluded.retry_at",
            (guild_id, problem.reason, utc(problem.at), retry_at),
        )

    async def clear_weekly_problem(self, guild_id: int) -> None:
        await self._execute("DELETE FROM weekly_problems WHERE guild_id = ?", (guild_id,))

    async def weekly_problems(self) -> dict[int, WeeklyProblem]:
        """Every guild's weekly post problem."""
        rows = await self._fetchall("SELECT guild_id, reason, at, retry_at FROM weekly_problems")
        return {
            guild_id: WeeklyProblem(reason, _time(at), _time(retry_at) if retry_at else None)
            for guild_id, reason, at, retry_at in rows
        }

    async def last_weekly_posts(self, guild_id: int, limit: int) -> list[WeeklyPost]:
        """The newest claims, newest first, including ones not (yet) posted."""
        rows = await self._fetchall(
            f"SELECT {_POST_COLUMNS} FROM weekly_posts WHERE guild_id = ? "
            "ORDER BY claimed_at DESC, week_key DESC LIMIT ?",
            (guild_id, limit),
        )
        return [_weekly_post(row) for row in rows]

    async def used_prompt_ids(self, guild_id: int) -> list[str]:
        """Prompt ids already claimed in this guild, oldest first, each once."""
        rows = await self._fetchall(
            "SELECT prompt_id FROM weekly_posts WHERE guild_id = ? "
            "GROUP BY prompt_id ORDER BY MIN(claimed_at), prompt_id",
            (guild_id,),
        )
        return [prompt_id for (prompt_id,) in rows]

    async def current_weekly_post(self, guild_id: int) -> WeeklyPost | None:
        """The newest post that actually reached the channel, or None."""
        rows = await self._fetchall(
            f"SELECT {_POST_COLUMNS} FROM weekly_posts "
            "WHERE guild_id = ? AND message_id IS NOT NULL "
            "ORDER BY claimed_at DESC, week_key DESC LIMIT 1",
            (guild_id,),
        )
        return _weekly_post(rows[0]) if rows else None

    # Quizzes and reviews

    async def review_cards(self, guild_id: int, user_id: int) -> list[ReviewCard]:
        """The member's review cards, soonest due first."""
        rows = await self._fetchall(
            f"SELECT {_CARD_COLUMNS} FROM review_cards WHERE guild_id = ? AND user_id = ? ORDER BY due, topic_id",
            (guild_id, user_id),
        )
        return [_review_card(row) for row in rows]

    async def review_card(self, guild_id: int, user_id: int, topic_id: str) -> ReviewCard | None:
        rows = await self._fetchall(
            f"SELECT {_CARD_COLUMNS} FROM review_cards WHERE guild_id = ? AND user_id = ? AND topic_id = ?",
            (guild_id, user_id, topic_id),
        )
        return _review_card(rows[0]) if rows else None

    async def schedule_review(self, guild_id: int, user_id: int, card: ReviewCard) -> bool:
        """Give a topic its first review card; False (and nothing changed) if it already has one."""
        changed = await self._execute(
            f"INSERT INTO review_cards (guild_id, user_id, {_CARD_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (guild_id, user_id, *_card_values(card)),
        )
        return changed == 1

    async def delete_review_card(self, guild_id: int, user_id: int, topic_id: str) -> bool:
        changed = await self._execute(
            "DELETE FROM review_cards WHERE guild_id = ? AND user_id = ? AND topic_id = ?",
            (guild_id, user_id, topic_id),
        )
        return changed == 1

    async def record_quiz_answer(
        self, guild_id: int, user_id: int, attempt: QuizAttempt, card: ReviewCard | None
    ) -> None:
        """Keep an answer and, when it rescheduled its topic, the topic's new card: both or neither."""
        async with self._transaction() as session:
            await session.execute(
                "INSERT INTO quiz_attempts (guild_id, user_id, topic_id, question_key, choice, correct, answered_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    guild_id,
                    user_id,
                    attempt.topic_id,
                    attempt.question_key,
                    attempt.choice,
                    int(attempt.correct),
                    utc(attempt.at),
                ),
            )
            if card is not None:
                await session.execute(
                    f"INSERT INTO review_cards (guild_id, user_id, {_CARD_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    f"ON CONFLICT (guild_id, user_id, topic_id) DO UPDATE SET {_CARD_UPDATES}",
                    (guild_id, user_id, *_card_values(card)),
                )

    async def quiz_history(self, guild_id: int, user_id: int) -> dict[str, QuestionHistory]:
        """Question key → how often the member answered it, and how often right."""
        rows = await self._fetchall(
            "SELECT question_key, COUNT(*), SUM(correct) FROM quiz_attempts WHERE guild_id = ? AND user_id = ? "
            "GROUP BY question_key",
            (guild_id, user_id),
        )
        return {key: QuestionHistory(int(answered), int(right)) for key, answered, right in rows}

    async def has_quiz_answers(self, guild_id: int, user_id: int, topic_id: str) -> bool:
        rows = await self._fetchall(
            "SELECT 1 FROM quiz_attempts WHERE guild_id = ? AND user_id = ? AND topic_id = ? LIMIT 1",
            (guild_id, user_id, topic_id),
        )
        return bool(rows)

    async def quiz_stats(self, guild_id: int, since: datetime) -> list[TopicQuizStats]:
        """Answers per topic since `since`, the most answered first."""
        rows = await self._fetchall(
            "SELECT topic_id, COUNT(*) AS n, SUM(correct) FROM quiz_attempts WHERE guild_id = ? AND answered_at >= ? "
            "GROUP BY topic_id ORDER BY n DESC, topic_id",
            (guild_id, utc(since)),
        )
        return [TopicQuizStats(topic_id, int(attempts), int(right)) for topic_id, attempts, right in rows]

    async def purge_quiz_answers(self, older_than: datetime) -> int:
        """Delete quiz answers given before `older_than` in every guild; return how many."""
        deleted = await self._execute("DELETE FROM quiz_attempts WHERE answered_at < ?", (utc(older_than),))
        if deleted:
            log.info("Purged %d quiz answers older than %s", deleted, older_than)
        return deleted

    # Review reminders

    async def get_reminder(self, guild_id: int, user_id: int) -> ReminderSettings | None:
        rows = await self._fetchall(
            f"SELECT {_REMINDER_COLUMNS} FROM review_reminders WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
        return _reminder(rows[0]) if rows else None

    async def save_reminder(
        self, guild_id: int, user_id: int, hour: int, timezone: str, channel_id: int | None
    ) -> None:
        """Turn the member's reminder on (again): a pause ends; the day already decided stays decided."""
        ReminderSettings(hour, timezone, channel_id)  # checks the hour before the database does
        await self._execute(
            "INSERT INTO review_reminders (guild_id, user_id, hour, timezone, channel_id) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id, user_id) DO UPDATE SET hour = excluded.hour, timezone = excluded.timezone, "
            "channel_id = excluded.channel_id, paused_at = NULL",
            (guild_id, user_id, hour, timezone, channel_id),
        )

    async def delete_reminder(self, guild_id: int, user_id: int) -> bool:
        changed = await self._execute(
            "DELETE FROM review_reminders WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
        )
        return changed == 1

    async def active_reminders(self) -> list[tuple[int, int, ReminderSettings]]:
        """Every reminder that is on and not paused, in every guild."""
        rows = await self._fetchall(
            f"SELECT guild_id, user_id, {_REMINDER_COLUMNS} FROM review_reminders WHERE paused_at IS NULL "
            "ORDER BY guild_id, user_id"
        )
        return [(row[0], row[1], _reminder(row[2:])) for row in rows]

    async def claim_reminder_day(self, guild_id: int, user_id: int, day: date) -> bool:
        """Decide the member's local `day` once: True only for the first claim of a day later than the last."""
        changed = await self._execute(
            "UPDATE review_reminders SET last_day = ? WHERE guild_id = ? AND user_id = ? AND paused_at IS NULL "
            "AND (last_day IS NULL OR last_day < ?)",
            (day, guild_id, user_id, day),
        )
        return changed == 1

    async def release_reminder_day(self, guild_id: int, user_id: int, day: date) -> bool:
        """Undo a claim (the DM failed for a passing reason), so the day can be claimed again."""
        changed = await self._execute(
            "UPDATE review_reminders SET last_day = NULL WHERE guild_id = ? AND user_id = ? AND last_day = ?",
            (guild_id, user_id, day),
        )
        return changed == 1

    async def pause_reminders(self, guild_id: int, user_id: int, at: datetime) -> None:
        await self._execute(
            "UPDATE review_reminders SET paused_at = ? WHERE guild_id = ? AND user_id = ?",
            (utc(at), guild_id, user_id),
        )

    # Several processes on one database: work done once, and news for the others' caches

    async def claim_daily_job(self, job: str, day: date, at: datetime) -> bool:
        """Claim `job` for `day`: True only for the first claim, by this process or any other sharing the database."""
        changed = await self._execute(
            "INSERT INTO job_claims (job, day, claimed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (job, day, utc(at))
        )
        return changed == 1

    @contextlib.asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[bool]:
        """Hold the database-wide lock `name` for the block if no one else holds it; yields whether it did.

        One process only may use a SQLite file (the writer lock), so there it is always held; PostgreSQL
        takes an advisory lock."""
        yield True

    async def announce(self, kind: str, **fields: int | str | None) -> None:
        """Tell the other processes sharing the database that something they may cache changed (see `listen`).
        Nothing to do on SQLite: one process only."""

    async def listen(self, handler: Callable[[str, dict[str, Any]], Awaitable[None]]) -> None:
        """Call `handler(kind, fields)` for each `announce` by another process (kind ``"resync"`` when some may
        have been missed: drop every cache). Nothing on SQLite: no other process writes."""

    async def stop_listening(self) -> None:
        """Stop calling the `listen` handler."""

    # Privacy

    async def export_member(self, guild_id: int, user_id: int) -> dict[str, Any]:
        """Everything stored about one member in one guild, as JSON-ready data."""
        member = (guild_id, user_id)
        async with self._snapshot() as session:
            progress = await session.fetch(
                "SELECT topic_id, completed_at FROM progress WHERE guild_id = ? AND user_id = ? "
                "ORDER BY completed_at, topic_id",
                member,
            )
            days = await session.fetch(
                "SELECT day FROM activity_days WHERE guild_id = ? AND user_id = ? ORDER BY day",
                member,
            )
            questions = await session.fetch(
                "SELECT question, top_topic_id, abstained, asked_at, top_result_id, feedback, feedback_text, "
                "feedback_at FROM questions WHERE guild_id = ? AND user_id = ? ORDER BY asked_at, id",
                member,
            )
            followed = await session.fetch(
                "SELECT roadmap_id, chosen_at FROM followed_roadmaps WHERE guild_id = ? AND user_id = ?", member
            )
            cards = await session.fetch(
                f"SELECT {_CARD_COLUMNS} FROM review_cards WHERE guild_id = ? AND user_id = ? ORDER BY due, topic_id",
                member,
            )
            answers = await session.fetch(
                "SELECT topic_id, question_key, choice, correct, answered_at FROM quiz_attempts "
                "WHERE guild_id = ? AND user_id = ? ORDER BY answered_at, id",
                member,
            )
            reminder = await session.fetch(
                f"SELECT {_REMINDER_COLUMNS} FROM review_reminders WHERE guild_id = ? AND user_id = ?", member
            )
        return {
            "guild_id": guild_id,
            "user_id": user_id,
            "progress": [{"topic_id": topic_id, "completed_at": _time(at).isoformat()} for topic_id, at in progress],
            "activity_days": [_day(day).isoformat() for (day,) in days],
            "questions": [
                {
                    "question": question,
                    "top_topic_id": topic_id,
                    "answered": not abstained,
                    "asked_at": _time(at).isoformat(),
                    "top_result_id": result_id,
                    "feedback": (
                        {"helpful": feedback == "helpful", "looking_for": text, "at": _time(feedback_at).isoformat()}
                        if feedback
                        else None
                    ),
                }
                for question, topic_id, abstained, at, result_id, feedback, text, feedback_at in questions
            ],
            "followed_roadmap": (
                {"roadmap_id": followed[0][0], "chosen_at": _time(followed[0][1]).isoformat()} if followed else None
            ),
            "review_schedule": [_card_json(_review_card(row)) for row in cards],
            "quiz_answers": [
                {
                    "topic_id": topic_id,
                    "question_key": key,
                    "choice": choice,
                    "correct": bool(correct),
                    "answered_at": _time(at).isoformat(),
                }
                for topic_id, key, choice, correct, at in answers
            ],
            "review_reminder": _reminder_json(_reminder(reminder[0])) if reminder else None,
        }

    async def forget_member(self, guild_id: int, user_id: int) -> int:
        """Delete everything about one member in one guild; return the number of rows deleted."""
        deleted = 0
        async with self._transaction() as session:
            for table in MEMBER_TABLES:
                deleted += await session.execute(
                    f"DELETE FROM {table} WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
                )
        log.info("Forgot member %d in guild %d (%d rows)", user_id, guild_id, deleted)
        return deleted


# Tables holding per-member data. forget_member deletes from each; a new table belongs here
# and in export_member.
MEMBER_TABLES = (
    "progress",
    "activity_days",
    "questions",
    "followed_roadmaps",
    "review_cards",
    "quiz_attempts",
    "review_reminders",
)

_CARD_COLUMNS = "topic_id, state, step, stability, difficulty, due, last_review, reviews, lapses"
_CARD_UPDATES = ", ".join(f"{column} = excluded.{column}" for column in _CARD_COLUMNS.split(", ")[1:])
_REMINDER_COLUMNS = "hour, timezone, channel_id, last_day, paused_at"


def _card_values(card: ReviewCard) -> tuple[Any, ...]:
    return (
        card.topic_id,
        card.state,
        card.step,
        card.stability,
        card.difficulty,
        utc(card.due),
        utc(card.last_review) if card.last_review else None,
        card.reviews,
        card.lapses,
    )


def _review_card(row: Sequence[Any]) -> ReviewCard:
    topic_id, state, step, stability, difficulty, due, last_review, reviews, lapses = row
    return ReviewCard(
        topic_id=topic_id,
        state=state,
        step=step,
        stability=stability,
        difficulty=difficulty,
        due=_time(due),
        last_review=_time(last_review) if last_review else None,
        reviews=reviews,
        lapses=lapses,
    )


def _card_json(card: ReviewCard) -> dict[str, Any]:
    return {
        "topic_id": card.topic_id,
        "due": card.due.isoformat(),
        "last_review": card.last_review.isoformat() if card.last_review else None,
        "stability_days": card.stability,
        "difficulty": card.difficulty,
        "fsrs_state": card.state,
        "reviews": card.reviews,
        "lapses": card.lapses,
    }


def _reminder(row: Sequence[Any]) -> ReminderSettings:
    hour, timezone, channel_id, last_day, paused_at = row
    return ReminderSettings(
        hour=hour,
        timezone=timezone,
        channel_id=channel_id,
        last_day=_day(last_day) if last_day else None,
        paused_at=_time(paused_at) if paused_at else None,
    )


def _reminder_json(reminder: ReminderSettings) -> dict[str, Any]:
    return {
        "hour": reminder.hour,
        "timezone": reminder.timezone,
        "channel_id": reminder.channel_id,
        "last_day": reminder.last_day.isoformat() if reminder.last_day else None,
        "paused_at": reminder.paused_at.isoformat() if reminder.paused_at else None,
    }


_POST_COLUMNS = "guild_id, week_key, prompt_id, claimed_at, channel_id, message_id, thread_id"


def _weekly_post(row: Sequence[Any]) -> WeeklyPost:
    guild_id, week_key, prompt_id, claimed_at, channel_id, message_id, thread_id = row
    return WeeklyPost(
        guild_id=guild_id,
        week_key=week_key,
        prompt_id=prompt_id,
        claimed_at=_time(claimed_at),
        channel_id=channel_id,
        message_id=message_id,
        thread_id=thread_id,
    )


def _weekly_settings(row: Sequence[Any]) -> WeeklySettings:
    channel_id, weekday, post_time, timezone, enabled, roadmap_id = row
    return WeeklySettings(
        channel_id=channel_id,
        weekday=weekday,
        time=post_time,
        timezone=timezone,
        enabled=bool(enabled),
        roadmap_id=roadmap_id,
    )


def _scalar(rows: Iterable[Sequence[Any]]) -> int:
    ((value,),) = rows
    return int(value)


async def count_rows(session: Session, table: str) -> int:
    """How many rows `table` holds, as `session` sees it."""
    return _scalar(await session.fetch(f"SELECT COUNT(*) FROM {quote_identifier(table)}"))
