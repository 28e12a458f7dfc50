"""The weekly prompt's scheduler, without Discord: which posts are due, and claim → post → record or release.

The Discord layer asks `due_posts()` on every tick, sends each planned post, then calls `posted()` or
`failed()`. `due_posts()` claims a week in the store before it returns it, and the store's claim is
atomic, so a week is posted at most once across restarts; a claim that was never recorded (the process
died mid-post) also counts as posted, because posting twice is worse than missing a week.

A post that fails (the channel was deleted, the bot lost its permissions) releases its claim and is
remembered, in memory and in the store: the guild is not tried again for `retry_after` (an hour) unless
an admin changes or re-saves its settings, so a broken channel costs one request an hour instead of one
a tick, also across restarts (`restore()`). Admins see the problem in `/admin weekly show` and
`/admin stats`.

While the database fails, `due_posts()` returns nothing and warns once per outage (not once a tick);
it keeps trying every tick and logs when the database is back.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache
from zoneinfo import available_timezones

from bot.storage.base import Store, WeeklyPost, WeeklyProblem, WeeklySettings
from bot.storage.errors import StorageError
from bot.weekly.readiness import Readiness, prompt_readiness
from bot.weekly.rotation import choose_prompt
from bot.weekly.schedule import WeeklySlot, deadline_for, due_post, next_slot_after
from knowledge.loader import KnowledgeBase
from knowledge.schema import WeeklyPrompt

__all__ = [
    "RETRY_AFTER_FAILURE",
    "CurrentProject",
    "InvalidSchedule",
    "PlannedPost",
    "WeeklyService",
    "WeeklyStatus",
    "find_time_zones",
    "parse_schedule",
]

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE = timedelta(hours=1)
"""How long a guild whose post failed waits before the next attempt (unless its settings change)."""

_RECENT_WEEKS = 4  # ledger entries read per tick: the current week's is all `due_post` needs
_TIME = re.compile(r"^\s*(\d{1,2})[:.h](\d{2})\s*$")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class InvalidSchedule(ValueError):
    """An admin typed a time or a time zone the schedule cannot use; the message says how to fix it."""


@dataclass(frozen=True)
class PlannedPost:
    """A claimed week, ready to send: where, which prompt, the topics it practises and its deadline."""

    guild_id: int
    channel_id: int
    week_key: str
    prompt: WeeklyPrompt
    topic_titles: tuple[str, ...]
    prerequisite_titles: tuple[str, ...]
    deadline: datetime


@dataclass(frozen=True)
class WeeklyStatus:
    """What `/admin weekly show` tells an admin."""

    settings: WeeklySettings | None
    slot: WeeklySlot | None
    next_post_at: datetime | None
    current: WeeklyPost | None
    current_title: str | None
    problem: WeeklyProblem | None
    # The roadmap whose prompts are posted (None: every loaded roadmap's prompts take turns).
    roadmap_title: str | None = None


@dataclass(frozen=True)
class CurrentProject:
    """The guild's newest posted prompt, with its deadline and one member's readiness."""

    prompt: WeeklyPrompt
    post: WeeklyPost
    deadline: datetime | None
    topic_titles: tuple[str, ...]
    missing_titles: tuple[str, ...]
    readiness: Readiness


def parse_schedule(
    channel_id: int, weekday: int, time_text: str, timezone: str, enabled: bool, roadmap_id: str | None = None
) -> WeeklySettings:
    """Settings from what an admin typed: "9:30" or "09:30", and a time zone in any letter case."""
    match = _TIME.match(time_text)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise InvalidSchedule(f"“{time_text[:20]}” is not a time: use HH:MM on a 24-hour clock, e.g. 09:00 or 18:30.")
    zone = canonical_time_zone(timezone)
    return WeeklySettings(channel_id, weekday, f"{int(match[1]):02d}:{match[2]}", zone, enabled, roadmap_id)


def canonical_time_zone(name: str) -> str:
    """The IANA spelling of `name` ("europe/berlin" → "Europe/Berlin"), or InvalidSchedule."""
    wanted = name.strip()
    zones = _time_zones()
    if wanted in zones:
        return wanted
    by_lower = {zone.lower(): zone for zone in zones}
    if wanted.lower() in by_lower:
        return by_lower[wanted.lower()]
    raise InvalidSchedule(
        f"“{wanted[:60]}” is not a time zone I know: use an IANA name such as Europe/Berlin, America/New_York "
        "or UTC (start typing to search)."
    )


def find_time_zones(typed: str, limit: int = 25) -> list[str]:
    """Time zones for autocomplete, from memory: names containing what was typed, shortest match first."""
    words = typed.strip().lower().replace(" ", "_")
    zones = _time_zones()
    if not words:
        common = ["UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Kolkata"]
        return [z for z in common if z in zones][:limit]
    found = [z for z in zones if words in z.lower()]
    found.sort(key=lambda z: (not z.lower().startswith(words) and f"/{words}" not in z.lower(), len(z), z))
    return found[:limit]


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zone for zone in available_timezones() if not zone.startswith(("posix/", "right/")))


def slot_of(settings: WeeklySettings) -> WeeklySlot:
    hours, minutes = (int(part) for part in settings.time.split(":"))
    return WeeklySlot(settings.weekday, time(hours, minutes), settings.timezone)


class WeeklyService:
    def __init__(
        self,
        store: Store,
        kb: Callable[[], KnowledgeBase],
        clock: Callable[[], datetime],
        retry_after: timedelta = RETRY_AFTER_FAILURE,
    ) -> None:
        self.store = store
        self._kb = kb
        self.clock = clock
        self.retry_after = retry_after
        # Why a guild's last post failed; save() drops it, as a settings change deserves a fresh try.
        self._problems: dict[int, WeeklyProblem] = {}
        self._storage_outage: StorageError | None = None  # set while the database fails, to log once

    async def restore(self) -> None:
        """Take up the problems recorded before a restart: a failed post still waits out its hour."""
        try:
            self._problems = {**await self.store.weekly_problems(), **self._problems}
        except StorageError as exc:
            log.warning("could not read earlier weekly post problems (a failed post may be retried now): %s", exc)

    async def _record(self, guild_id: int, problem: WeeklyProblem | None) -> None:
        """Keep the guild's problem (or its absence) in the store; memory stays right if the store fails."""
        try:
            if problem is None:
                await self.store.clear_weekly_problem(guild_id)
            else:
                await self.store.save_weekly_problem(guild_id, problem)
        except StorageError as exc:
            log.warning("could not record the weekly post problem of guild %s (kept in memory): %s", guild_id, exc)

    # Scheduling -----------------------------------------------------------------------------------

    async def due_posts(self, owns: Callable[[int], bool] = lambda guild_id: True) -> list[PlannedPost]:
        """Claim and return the post due now of every guild `owns` accepts (this process's shards); the caller
        must `posted` or `failed` each. The claim, not `owns`, is what makes a week posted once."""
        kb = self._kb()
        if not kb.prompts:
            return []
        now = self.clock()
        plans = []
        try:
            for guild_id, settings in await self.store.guilds_with_weekly_enabled():
                if not owns(guild_id) or self._waiting(guild_id, now):
                    continue
                plan = await self._claim(guild_id, settings, kb, now)
                if plan is not None:
                    plans.append(plan)
        except StorageError as exc:
            # The database is shared by every guild: stop this tick, keep what was claimed, retry next tick.
            self._storage_failed(exc)
        else:
            self._storage_back()
        return plans

    def _storage_failed(self, exc: StorageError) -> None:
        """Warn once per outage (the scheduler ticks every 30 s; a warning a tick would bury the log)."""
        if self._storage_outage is None:
            log.warning("weekly prompts paused, the database is unavailable (retrying every tick): %s", exc)
        else:
            log.debug("weekly prompts still paused: %s", exc)
        self._storage_outage = exc

    def _storage_back(self) -> None:
        if self._storage_outage is not None:
            log.info("weekly prompts resumed, the database is available again")
            self._storage_outage = None

    async def _claim(
        self, guild_id: int, settings: WeeklySettings, kb: KnowledgeBase, now: datetime
    ) -> PlannedPost | None:
        assert settings.channel_id is not None  # guilds_with_weekly_enabled only returns guilds with a channel
        # The guild's roadmap's prompts; if that roadmap is no longer loaded, every roadmap's rather than none.
        chosen = settings.roadmap_id if kb.roadmap(settings.roadmap_id) is not None else None
        prompt_ids = [prompt.id for prompt in kb.roadmap_prompts(chosen)]
        if not prompt_ids:
            return None
        slot = slot_of(settings)
        claimed = {post.week_key for post in await self.store.last_weekly_posts(guild_id, _RECENT_WEEKS)}
        week = due_post(slot, now, claimed)
        if week is None:
            return None
        prompt_id = choose_prompt(prompt_ids, await self.store.used_prompt_ids(guild_id), guild_id)
        if not await self.store.claim_weekly_post(guild_id, week, prompt_id, now):
            return None  # claimed meanwhile (cannot happen with one writer, but the store decides)
        prompt = kb.prompt(prompt_id)
        assert prompt is not None
        return PlannedPost(
            guild_id=guild_id,
            channel_id=settings.channel_id,
            week_key=week,
            prompt=prompt,
            topic_titles=_titles(kb, prompt.topics),
            prerequisite_titles=_titles(kb, prompt.prerequisites),
            deadline=deadline_for(slot, week),
        )

    async def posted(
        self, plan: PlannedPost, message_id: int, thread_id: int | None, thread_problem: str | None = None
    ) -> None:
        """The message is out: record where, so the week is never posted again."""
        try:
            await self.store.record_weekly_message(plan.guild_id, plan.week_key, plan.channel_id, message_id, thread_id)
        except StorageError as exc:  # the claim stays, and a claim counts as posted: never posted twice
            log.warning(
                "weekly prompt posted to guild %s but not recorded (week %s): %s", plan.guild_id, plan.week_key, exc
            )
            return
        log.info("posted weekly prompt %s to guild %s (week %s)", plan.prompt.id, plan.guild_id, plan.week_key)
        if thread_problem is None:
            if self._problems.pop(plan.guild_id, None) is not None:
                await self._record(plan.guild_id, None)
        else:
            self._problems[plan.guild_id] = WeeklyProblem(thread_problem, self.clock(), None)
            log.warning("weekly prompt in guild %s posted without a thread: %s", plan.guild_id, thread_problem)
            await self._record(plan.guild_id, self._problems[plan.guild_id])

    async def failed(self, plan: PlannedPost, reason: str, retry_after: timedelta | None = None) -> None:
        """Sending failed: give the week back and wait before trying this guild again."""
        try:
            await self.store.release_weekly_post(plan.guild_id, plan.week_key)
        except StorageError as exc:  # the claim stays, so this week is skipped rather than retried
            log.error("could not release the weekly claim of guild %s: %s", plan.guild_id, exc)
        now = self.clock()
        previous = self._problems.get(plan.guild_id)
        self._problems[plan.guild_id] = WeeklyProblem(reason, now, now + (retry_after or self.retry_after))
        if previous is None or previous.reason != reason:
            log.warning("weekly prompt for guild %s not posted: %s", plan.guild_id, reason)
        else:
            log.info("weekly prompt for guild %s still not posted: %s", plan.guild_id, reason)
        await self._record(plan.guild_id, self._problems[plan.guild_id])

    def _waiting(self, guild_id: int, now: datetime) -> bool:
        problem = self._problems.get(guild_id)
        return problem is not None and problem.retry_at is not None and now < problem.retry_at

    # Settings -------------------------------------------------------------------------------------

    async def save(self, guild_id: int, settings: WeeklySettings) -> WeeklySettings:
        await self.store.save_weekly_settings(guild_id, settings)
        self._problems.pop(guild_id, None)  # whatever failed before, the admin wants a fresh try
        await self._record(guild_id, None)
        return settings

    async def set_enabled(self, guild_id: int, enabled: bool) -> WeeklySettings | None:
        """Turn posting on or off; None when the guild has never chosen a channel."""
        current = await self.store.get_weekly_settings(guild_id)
        if current is None or current.channel_id is None:
            return None
        return await self.save(guild_id, dataclasses.replace(current, enabled=enabled))

    def problem(self, guild_id: int) -> WeeklyProblem | None:
        return self._problems.get(guild_id)

    # Reading --------------------------------------------------------------------------------------

    async def status(self, guild_id: int) -> WeeklyStatus:
        settings = await self.store.get_weekly_settings(guild_id)
        slot = slot_of(settings) if settings is not None else None
        current = await self.store.current_weekly_post(guild_id)
        prompt = self._kb().prompt(current.prompt_id) if current is not None else None
        next_at = next_slot_after(slot, self.clock()) if slot is not None and settings and settings.enabled else None
        roadmap = self._kb().roadmap(settings.roadmap_id) if settings is not None else None
        return WeeklyStatus(
            settings=settings,
            slot=slot,
            next_post_at=next_at,
            current=current,
            current_title=prompt.title if prompt else (current.prompt_id if current else None),
            problem=self._problems.get(guild_id),
            roadmap_title=roadmap.title if roadmap is not None else None,
        )

    async def current(self, guild_id: int, completed: set[str]) -> CurrentProject | None:
        """The newest posted prompt and how ready a member with `completed` topics is for it."""
        post = await self.store.current_weekly_post(guild_id)
        if post is None:
            return None
        kb = self._kb()
        prompt = kb.prompt(post.prompt_id)
        if prompt is None:  # removed from the knowledge files since it was posted
            return None
        settings = await self.store.get_weekly_settings(guild_id)
        deadline = deadline_for(slot_of(settings), post.week_key) if settings is not None else None
        readiness = prompt_readiness(prompt, completed)
        return CurrentProject(
            prompt=prompt,
            post=post,
            deadline=deadline,
            topic_titles=_titles(kb, prompt.topics),
            missing_titles=_titles(kb, readiness.missing),
            readiness=readiness,
        )


def _titles(kb: KnowledgeBase, topic_ids: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(kb.topics[t].topic.title if t in kb.topics else t for t in topic_ids)
