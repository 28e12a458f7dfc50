"""The SQLite implementation of `Store`: one aiosqlite connection, one writer process per file.

Design notes:

- One connection serves the whole bot and every call takes ``self._lock``, so the statements of
  one call never interleave with another's (aiosqlite runs statements one at a time but would
  happily run a second coroutine's statement inside the first one's transaction).
- The connection is in autocommit mode; multi-statement writes use ``BEGIN IMMEDIATE`` so they
  take the write lock up front instead of failing half-way with SQLITE_BUSY.
- A process-wide advisory lock (``flock`` on ``<db>.lock``) keeps a second bot process off the
  same file: two writers would not corrupt SQLite, but they would each post the weekly prompt
  schedule and fight over the busy timeout. ``flock`` belongs to the open file description, so
  two `SqliteStore` objects in one process also exclude each other, and the kernel drops the
  lock when a process dies, so a crash leaves no stale lock behind.
- sqlite3 errors are translated into `bot.storage.errors` classes at the one place every call
  goes through (`_connection`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiosqlite

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
from bot.storage.errors import (
    StorageBusy,
    StorageError,
    StorageUnavailable,
    StoreLockedError,
)
from bot.storage.migrations import Migration, migrate, shipped_migrations

__all__ = ["MEMORY", "SqliteStore", "translate_sqlite_error"]

log = logging.getLogger(__name__)

MEMORY = ":memory:"
"""Path for a throw-away in-memory database (tests, console experiments); no lock file."""

_TOP_TOPICS = 10

# Primary result codes (the low byte of an extended code) and what they mean to an operator.
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_UNAVAILABLE_REASONS = {
    sqlite3.SQLITE_READONLY: "is read-only (check file and directory permissions)",
    sqlite3.SQLITE_CORRUPT: "is corrupt; restore a backup or move the file aside",
    sqlite3.SQLITE_NOTADB: "is not a SQLite database (corrupt?); restore a backup or move it aside",
    sqlite3.SQLITE_FULL: "cannot grow: the disk is full",
    sqlite3.SQLITE_IOERR: "could not be read or written (I/O error)",
    sqlite3.SQLITE_CANTOPEN: "cannot be opened (missing directory or no permission)",
    sqlite3.SQLITE_PERM: "is not accessible (permission denied)",
}


def translate_sqlite_error(exc: sqlite3.Error, path: str) -> StorageError:
    """Map a sqlite3 exception to the backend-neutral error the bot knows how to handle."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in _BUSY_CODES:
        return StorageBusy(f"database {path} stayed locked by another connection: {exc}")
    reason = _UNAVAILABLE_REASONS.get(primary) if primary is not None else None
    if reason is not None:
        return StorageUnavailable(f"database {path} {reason} ({exc})")
    return StorageError(f"database error on {path}: {exc}")


def _to_db_time(at: datetime) -> str:
    # Fixed-width UTC text sorts in time order, so range queries can compare strings.
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got naive {at!r}")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _from_db_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


class _WriterLock:
    """An exclusive, non-blocking ``flock`` on ``<database>.lock``."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = database.with_name(database.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise StorageUnavailable(f"cannot create lock file {self.path}: {exc}") from exc
            # A read-only deployment may still have a lock file; flock works on a read-only fd.
            try:
                fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                raise StorageUnavailable(f"cannot create lock file {self.path}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._read_holder(fd)
            os.close(fd)
            raise StoreLockedError(
                f"another Roadmap Tutor process is using {self.database}{holder}; stop it, or "
                "give this process its own database"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise StorageUnavailable(f"cannot lock {self.path}: {exc}") from exc
        self._fd = fd
        # The pid is only a hint for the "already in use" message; a read-only fd cannot hold it.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        # The file stays: unlinking it would let a third process lock a fresh inode while a
        # second one still waits on the old one.
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    @staticmethod
    def _read_holder(fd: int) -> str:
        with contextlib.suppress(OSError, ValueError):
            pid = int(os.pread(fd, 32, 0).decode().strip())
            return f" (pid {pid})"
        return ""


class SqliteStore:
    """`Store` on a SQLite file or `MEMORY`; open with ``await store.open()`` or ``async with``."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 5.0,
        migrations: Sequence[Migration] | None = None,
    ) -> None:
        """`busy_timeout` is how long, in seconds, a write waits for another connection's lock
        before raising `StorageBusy`. `migrations` replaces the shipped ones (tests only)."""
        self._path = None if os.fspath(path) == MEMORY else Path(path)
        self._display = MEMORY if self._path is None else str(self._path)
        self._busy_timeout_ms = max(0, int(busy_timeout * 1000))
        self._migrations = tuple(shipped_migrations() if migrations is None else migrations)
        self._db: aiosqlite.Connection | None = None
        self._writer_lock: _WriterLock | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        state = "open" if self._db is not None else "closed"
        return f"<SqliteStore {self._display} {state}>"

    @property
    def path(self) -> str:
        """The database location as given (for logs and admin commands)."""
        return self._display

    # Lifecycle

    async def open(self) -> None:
        """Lock the file, connect, configure, and migrate; raises `StorageError` subclasses."""
        async with self._lock:
            if self._db is None:
                await self._open()

    async def _open(self) -> None:
        writer_lock = None
        if self._path is not None:
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageUnavailable(f"cannot create the directory for database {self._path}: {exc}") from exc
            writer_lock = _WriterLock(self._path.resolve())
            writer_lock.acquire()
        db: aiosqlite.Connection | None = None
        try:
            db = await aiosqlite.connect(self._display, isolation_level=None)
            await self._configure(db)
            await self._check_integrity(db)
            version = await migrate(db, self._migrations, path=self._display)
        except BaseException as exc:
            if db is not None:
                with contextlib.suppress(Exception):
                    await db.close()
            if writer_lock is not None:
                writer_lock.release()
            if isinstance(exc, sqlite3.Error):
                raise translate_sqlite_error(exc, self._display) from exc
            raise
        self._db = db
        self._writer_lock = writer_lock
        log.info("Opened store %s at schema version %d", self._display, version)

    async def _configure(self, db: aiosqlite.Connection) -> None:
        await db.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        await db.execute("PRAGMA foreign_keys = ON")
        try:
            # WAL lets readers (a backup, the sqlite3 shell) work while the bot writes.
            await db.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_READONLY:
                raise
            # A read-only file can still serve reads; writes will raise StorageUnavailable.
            log.warning("Database %s is read-only; progress cannot be saved", self._display)
        # NORMAL is durable across application crashes in WAL mode and avoids an fsync per write.
        await db.execute("PRAGMA synchronous = NORMAL")

    async def _check_integrity(self, db: aiosqlite.Connection) -> None:
        # Fail at start-up with a clear message rather than on some later command. quick_check
        # reads every page once, which is milliseconds for a bot-sized database.
        rows = list(await db.execute_fetchall("PRAGMA quick_check(1)"))
        result = rows[0][0] if rows else "no result"
        if result != "ok":
            raise StorageUnavailable(
                f"database {self._display} is corrupt ({result}); restore a backup or move the file aside"
            )

    async def close(self) -> None:
        """Finish the call in progress, close the connection and release the file lock."""
        async with self._lock:
            db, self._db = self._db, None
            try:
                if db is not None:
                    await db.close()
            except sqlite3.Error:
                log.warning("Error while closing store %s", self._display, exc_info=True)
            finally:
                if self._writer_lock is not None:
                    self._writer_lock.release()
                    self._writer_lock = None
        if db is not None:
            log.info("Closed store %s", self._display)

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

    async def ping(self) -> None:
        """Raise a `StorageError` unless the database answers; reads the header, not a table."""
        await self._fetchall("PRAGMA user_version")

    # Plumbing every call goes through

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            if self._db is None:
                raise StorageUnavailable(f"store {self._display} is not open")
            try:
                yield self._db
            except sqlite3.Error as exc:
                error = translate_sqlite_error(exc, self._display)
                # Callers decide how loud a failure is (an apology, a once-per-outage warning); here it is detail.
                log.debug("storage call failed: %s", error)
                raise error from exc

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._connection() as db:
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        async with self._connection() as db:
            return list(await db.execute_fetchall(sql, params))

    async def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement (atomic on its own in autocommit mode); return rows changed."""
        async with self._connection() as db, db.execute(sql, params) as cursor:
            return cursor.rowcount

    # Progress

    async def mark_done(self, guild_id: int, user_id: int, topic_id: str, at: datetime) -> bool:
        """Record that the member finished `topic_id`; False if it was already recorded."""
        changed = await self._execute(
            "INSERT OR IGNORE INTO progress (guild_id, user_id, topic_id, completed_at) VALUES (?, ?, ?, ?)",
            (guild_id, user_id, topic_id, _to_db_time(at)),
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
        return {topic_id: _from_db_time(at) for topic_id, at in rows}

    async def record_activity(self, guild_id: int, user_id: int, day: date) -> None:
        """Note that the member was active on `day` (idempotent)."""
        await self._execute(
            "INSERT OR IGNORE INTO activity_days (guild_id, user_id, day) VALUES (?, ?, ?)",
            (guild_id, user_id, day.isoformat()),
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
            (guild_id, user_id, roadmap_id, _to_db_time(at)),
        )

    async def active_days(self, guild_id: int, user_id: int) -> list[date]:
        """The member's active days, oldest first."""
        rows = await self._fetchall(
            "SELECT day FROM activity_days WHERE guild_id = ? AND user_id = ? ORDER BY day",
            (guild_id, user_id),
        )
        return [date.fromisoformat(day) for (day,) in rows]

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
            (guild_id, user_id, question, top_topic_id, int(abstained), _to_db_time(at), top_result_id, answer_key),
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
            "feedback_text = CASE WHEN ? THEN NULL ELSE COALESCE(?, feedback_text) END "
            "WHERE guild_id = ? AND user_id = ? AND answer_key = ?",
            (
                "helpful" if helpful else "unhelpful",
                _to_db_time(at),
                int(helpful),
                text,
                guild_id,
                user_id,
                answer_key,
            ),
        )
        return changed == 1

    async def feedback_summary(self, guild_id: int, since: datetime, limit: int) -> FeedbackSummary:
        """Since `since`: how many answers were marked helpful and unhelpful and how many questions declined, and
        the newest `limit` questions that were declined or marked unhelpful."""
        since_text = _to_db_time(since)
        async with self._connection() as db:
            counts = await db.execute_fetchall(
                "SELECT COALESCE(SUM(feedback = 'helpful'), 0), COALESCE(SUM(feedback = 'unhelpful'), 0), "
                "COALESCE(SUM(abstained), 0) FROM questions WHERE guild_id = ? AND asked_at >= ?",
                (guild_id, since_text),
            )
            rows = await db.execute_fetchall(
                "SELECT question, top_result_id, top_topic_id, abstained, feedback, feedback_text, asked_at, "
                "answer_key FROM questions WHERE guild_id = ? AND asked_at >= ? "
                "AND (abstained = 1 OR feedback = 'unhelpful') ORDER BY asked_at DESC, id DESC LIMIT ?",
                (guild_id, since_text, limit),
            )
        ((helpful, unhelpful, declined),) = counts
        return FeedbackSummary(
            helpful=helpful,
            unhelpful=unhelpful,
            declined=declined,
            questions=[
                QuestionFeedback(
                    question=question,
                    top_result_id=result_id,
                    top_topic_id=topic_id,
                    declined=bool(abstained),
                    helpful=None if feedback is None else feedback == "helpful",
                    looking_for=text,
                    asked_at=_from_db_time(at),
                    answer_key=key,
                )
                for question, result_id, topic_id, abstained, feedback, text, at, key in rows
            ],
        )

    async def question_stats(self, guild_id: int, since: datetime) -> QuestionStats:
        """Questions asked since `since`; top topics count answered questions only, because an
        abstained question's closest topic is by definition not what it was about."""
        async with self._connection() as db:
            totals = await db.execute_fetchall(
                "SELECT COUNT(*), COALESCE(SUM(abstained), 0) FROM questions WHERE guild_id = ? AND asked_at >= ?",
                (guild_id, _to_db_time(since)),
            )
            top = await db.execute_fetchall(
                "SELECT top_topic_id, COUNT(*) AS n FROM questions "
                "WHERE guild_id = ? AND asked_at >= ? AND abstained = 0 "
                "AND top_topic_id IS NOT NULL "
                "GROUP BY top_topic_id ORDER BY n DESC, top_topic_id LIMIT ?",
                (guild_id, _to_db_time(since), _TOP_TOPICS),
            )
        ((asked, unanswered),) = totals
        return QuestionStats(
            asked=asked,
            unanswered=unanswered,
            top_topics=[(topic_id, count) for topic_id, count in top],
        )

    async def unanswered_questions(
        self, guild_id: int, limit: int, since: datetime | None = None
    ) -> list[LoggedQuestion]:
        """The newest questions the tutor abstained on, newest first."""
        since_text = _to_db_time(since) if since is not None else ""
        rows = await self._fetchall(
            "SELECT question, top_topic_id, asked_at FROM questions "
            "WHERE guild_id = ? AND abstained = 1 AND asked_at >= ? "
            "ORDER BY asked_at DESC, id DESC LIMIT ?",
            (guild_id, since_text, limit),
        )
        return [LoggedQuestion(q, topic, _from_db_time(at)) for q, topic, at in rows]

    async def purge_questions(self, older_than: datetime) -> int:
        """Delete questions asked before `older_than` in every guild; return how many."""
        deleted = await self._execute("DELETE FROM questions WHERE asked_at < ?", (_to_db_time(older_than),))
        if deleted:
            log.info("Purged %d logged questions older than %s", deleted, older_than)
        return deleted

    async def guild_activity(self, guild_id: int, since: datetime) -> GuildActivity:
        """Members who were active, asked or completed a topic since `since`, and how many
        topics were completed. Activity days count from the UTC date of `since`."""
        since_text = _to_db_time(since)
        async with self._connection() as db:
            members = await db.execute_fetchall(
                "SELECT COUNT(*) FROM ("
                " SELECT user_id FROM activity_days WHERE guild_id = ? AND day >= ?"
                " UNION SELECT user_id FROM progress WHERE guild_id = ? AND completed_at >= ?"
                " UNION SELECT user_id FROM questions WHERE guild_id = ? AND asked_at >= ?)",
                (
                    guild_id,
                    since.astimezone(UTC).date().isoformat(),
                    guild_id,
                    since_text,
                    guild_id,
                    since_text,
                ),
            )
            completed = await db.execute_fetchall(
                "SELECT COUNT(*) FROM progress WHERE guild_id = ? AND completed_at >= ?",
                (guild_id, since_text),
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
            sql = "INSERT OR IGNORE INTO ask_channels (guild_id, channel_id) VALUES (?, ?)"
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
            "INSERT OR IGNORE INTO weekly_posts (guild_id, week_key, prompt_id, claimed_at) VALUES (?, ?, ?, ?)",
            (guild_id, week_key, prompt_id, _to_db_time(at)),
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
        retry_at = _to_db_time(problem.retry_at) if problem.retry_at is not None else None
        await self._execute(
            "INSERT INTO weekly_problems (guild_id, reason, at, retry_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET reason = excluded.reason, at = excluded.at, "
            "retry_at = excluded.retry_at",
            (guild_id, problem.reason, _to_db_time(problem.at), retry_at),
        )

    async def clear_weekly_problem(self, guild_id: int) -> None:
        await self._execute("DELETE FROM weekly_problems WHERE guild_id = ?", (guild_id,))

    async def weekly_problems(self) -> dict[int, WeeklyProblem]:
        """Every guild's weekly post problem."""
        rows = await self._fetchall("SELECT guild_id, reason, at, retry_at FROM weekly_problems")
        return {
            guild_id: WeeklyProblem(reason, _from_db_time(at), _from_db_time(retry_at) if retry_at else None)
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
            f"INSERT OR IGNORE INTO review_cards (guild_id, user_id, {_CARD_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO quiz_attempts (guild_id, user_id, topic_id, question_key, choice, correct, answered_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    guild_id,
                    user_id,
                    attempt.topic_id,
                    attempt.question_key,
                    attempt.choice,
                    int(attempt.correct),
                    _to_db_time(attempt.at),
                ),
            )
            if card is not None:
                await db.execute(
                    f"INSERT OR REPLACE INTO review_cards (guild_id, user_id, {_CARD_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (guild_id, user_id, *_card_values(card)),
                )

    async def quiz_history(self, guild_id: int, user_id: int) -> dict[str, QuestionHistory]:
        """Question key → how often the member answered it, and how often right."""
        rows = await self._fetchall(
            "SELECT question_key, COUNT(*), SUM(correct) FROM quiz_attempts WHERE guild_id = ? AND user_id = ? "
            "GROUP BY question_key",
            (guild_id, user_id),
        )
        return {key: QuestionHistory(answered, right) for key, answered, right in rows}

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
            (guild_id, _to_db_time(since)),
        )
        return [TopicQuizStats(topic_id, attempts, right) for topic_id, attempts, right in rows]

    async def purge_quiz_answers(self, older_than: datetime) -> int:
        """Delete quiz answers given before `older_than` in every guild; return how many."""
        deleted = await self._execute("DELETE FROM quiz_attempts WHERE answered_at < ?", (_to_db_time(older_than),))
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
            (day.isoformat(), guild_id, user_id, day.isoformat()),
        )
        return changed == 1

    async def release_reminder_day(self, guild_id: int, user_id: int, day: date) -> bool:
        """Undo a claim (the DM failed for a passing reason), so the day can be claimed again."""
        changed = await self._execute(
            "UPDATE review_reminders SET last_day = NULL WHERE guild_id = ? AND user_id = ? AND last_day = ?",
            (guild_id, user_id, day.isoformat()),
        )
        return changed == 1

    async def pause_reminders(self, guild_id: int, user_id: int, at: datetime) -> None:
        await self._execute(
            "UPDATE review_reminders SET paused_at = ? WHERE guild_id = ? AND user_id = ?",
            (_to_db_time(at), guild_id, user_id),
        )

    # Privacy

    async def export_member(self, guild_id: int, user_id: int) -> dict[str, Any]:
        """Everything stored about one member in one guild, as JSON-ready data."""
        member = (guild_id, user_id)
        async with self._connection() as db:
            progress = await db.execute_fetchall(
                "SELECT topic_id, completed_at FROM progress WHERE guild_id = ? AND user_id = ? "
                "ORDER BY completed_at, topic_id",
                member,
            )
            days = await db.execute_fetchall(
                "SELECT day FROM activity_days WHERE guild_id = ? AND user_id = ? ORDER BY day",
                member,
            )
            questions = await db.execute_fetchall(
                "SELECT question, top_topic_id, abstained, asked_at, top_result_id, feedback, feedback_text, "
                "feedback_at FROM questions WHERE guild_id = ? AND user_id = ? ORDER BY asked_at, id",
                member,
            )
            followed = await db.execute_fetchall(
                "SELECT roadmap_id, chosen_at FROM followed_roadmaps WHERE guild_id = ? AND user_id = ?", member
            )
            cards = await db.execute_fetchall(
                f"SELECT {_CARD_COLUMNS} FROM review_cards WHERE guild_id = ? AND user_id = ? ORDER BY due, topic_id",
                member,
            )
            answers = await db.execute_fetchall(
                "SELECT topic_id, question_key, choice, correct, answered_at FROM quiz_attempts "
                "WHERE guild_id = ? AND user_id = ? ORDER BY answered_at, id",
                member,
            )
            reminder = await db.execute_fetchall(
                f"SELECT {_REMINDER_COLUMNS} FROM review_reminders WHERE guild_id = ? AND user_id = ?", member
            )
        return {
            "guild_id": guild_id,
            "user_id": user_id,
            "progress": [
                {"topic_id": topic_id, "completed_at": _from_db_time(at).isoformat()} for topic_id, at in progress
            ],
            "activity_days": [day for (day,) in days],
            "questions": [
                {
                    "question": question,
                    "top_topic_id": topic_id,
                    "top_result_id": result_id,
                    "answered": not abstained,
                    "asked_at": _from_db_time(at).isoformat(),
                    "feedback": (
                        {
                            "helpful": feedback == "helpful",
                            "looking_for": text,
                            "at": _from_db_time(feedback_at).isoformat(),
                        }
                        if feedback
                        else None
                    ),
                }
                for question, topic_id, abstained, at, result_id, feedback, text, feedback_at in questions
            ],
            "followed_roadmap": (
                {"roadmap_id": followed[0][0], "chosen_at": _from_db_time(followed[0][1]).isoformat()}
                if followed
                else None
            ),
            "review_schedule": [_card_json(_review_card(row)) for row in cards],
            "quiz_answers": [
                {
                    "topic_id": topic_id,
                    "question_key": key,
                    "choice": choice,
                    "correct": bool(correct),
                    "answered_at": _from_db_time(at).isoformat(),
                }
                for topic_id, key, choice, correct, at in answers
            ],
            "review_reminder": _reminder_json(_reminder(reminder[0])) if reminder else None,
        }

    async def forget_member(self, guild_id: int, user_id: int) -> int:
        """Delete everything about one member in one guild; return the number of rows deleted."""
        deleted = 0
        async with self._transaction() as db:
            for table in _MEMBER_TABLES:
                async with db.execute(
                    f"DELETE FROM {table} WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
                ) as cursor:
                    deleted += cursor.rowcount
        log.info("Forgot member %d in guild %d (%d rows)", user_id, guild_id, deleted)
        return deleted


# Tables holding per-member data. forget_member deletes from each; a new table belongs here
# and in export_member.
_MEMBER_TABLES = (
    "progress",
    "activity_days",
    "questions",
    "followed_roadmaps",
    "review_cards",
    "quiz_attempts",
    "review_reminders",
)

_CARD_COLUMNS = "topic_id, state, step, stability, difficulty, due, last_review, reviews, lapses"
_REMINDER_COLUMNS = "hour, timezone, channel_id, last_day, paused_at"


def _card_values(card: ReviewCard) -> tuple[Any, ...]:
    return (
        card.topic_id,
        card.state,
        card.step,
        card.stability,
        card.difficulty,
        _to_db_time(card.due),
        _to_db_time(card.last_review) if card.last_review else None,
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
        due=_from_db_time(due),
        last_review=_from_db_time(last_review) if last_review else None,
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
        last_day=date.fromisoformat(last_day) if last_day else None,
        paused_at=_from_db_time(paused_at) if paused_at else None,
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
        claimed_at=_from_db_time(claimed_at),
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
