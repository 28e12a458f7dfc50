"""Review reminders by DM, without Discord: whose reminder is due now, claimed so it goes out once a day.

Rules, in one place:

- A member who turns reminders on picks an hour (0-23) and an IANA time zone. Each local day, at the first
  tick at or after that hour, the day is decided once: if a topic is due, one DM lists what is due;
  if nothing is due, nothing is sent that day. A bot that was down at the hour decides when it is back, the
  same local day; a day that has ended is skipped.
- The day is claimed in the store before the DM is sent, so a restart never sends it twice; a send that
  failed for a passing reason (Discord's 5xx, the network) gives the claim back and is tried on the next tick.
- A member whose DMs are closed (403) is told once in the server, in the channel where they turned
  reminders on, and their reminders are paused: no DM is tried again until they turn reminders on again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.quiz.schedule import is_due
from bot.storage.base import ReminderSettings, Store
from bot.storage.errors import StorageError
from knowledge.loader import KnowledgeBase, TopicEntry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedReminder:
    """A claimed reminder day with what is due: ready to send."""

    guild_id: int
    user_id: int
    day: date
    due: tuple[tuple[TopicEntry, datetime], ...]  # most overdue first
    channel_id: int | None


def reminder_day(settings: ReminderSettings, now: datetime) -> date | None:
    """The member's local date when their reminder hour has come today and today is not decided yet."""
    if not settings.enabled:
        return None
    local = now.astimezone(ZoneInfo(settings.timezone))
    if local.hour < settings.hour or settings.last_day == local.date():
        return None
    return local.date()


class ReminderService:
    def __init__(self, store: Store, kb: Callable[[], KnowledgeBase], clock: Callable[[], datetime]) -> None:
        self.store = store
        self._kb = kb
        self._clock = clock
        self._store_down = False

    async def due_reminders(self, owns: Callable[[int], bool] = lambda guild_id: True) -> list[PlannedReminder]:
        """Claims each member's day whose hour has come and returns those with something due, in the guilds
        `owns` accepts (this process's shards)."""
        now = self._clock()
        planned: list[PlannedReminder] = []
        try:
            for guild_id, user_id, settings in await self.store.active_reminders():
                if not owns(guild_id):
                    continue
                day = reminder_day(settings, now)
                if day is None or not await self.store.claim_reminder_day(guild_id, user_id, day):
                    continue
                kb = self._kb()
                cards = await self.store.review_cards(guild_id, user_id)
                due = sorted((c for c in cards if c.topic_id in kb.topics and is_due(c, now)), key=lambda c: c.due)
                if due:
                    topics = tuple((kb.topics[c.topic_id], c.due) for c in due)
                    planned.append(PlannedReminder(guild_id, user_id, day, topics, settings.channel_id))
        except StorageError as exc:
            if not self._store_down:
                log.warning("review reminders wait for the database: %s", exc)
            self._store_down = True
            return planned
        if self._store_down:
            log.info("review reminders: the database is back")
            self._store_down = False
        return planned

    async def failed(self, plan: PlannedReminder) -> None:
        """The DM failed for a passing reason: give the day back, to try again on the next tick."""
        await self.store.release_reminder_day(plan.guild_id, plan.user_id, plan.day)

    async def dms_closed(self, plan: PlannedReminder) -> None:
        """The member's DMs are closed: pause their reminders until they turn them on again."""
        await self.store.pause_reminders(plan.guild_id, plan.user_id, self._clock())
