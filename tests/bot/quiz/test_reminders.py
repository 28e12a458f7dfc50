"""Review reminders: at the member's hour in their zone, once a local day, only when something is due."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest_asyncio

from bot.quiz.reminders import ReminderService, reminder_day
from bot.quiz.schedule import first_review
from bot.storage import Store
from bot.storage.base import ReminderSettings
from knowledge.loader import load_knowledge
from tests.store_backends import StoreBackend

GUILD, ALICE, BOB = 1, 11, 22
# Monday 2025-06-02, 05:00 UTC = 07:00 in Berlin (summer time).
T0 = datetime(2025, 6, 2, 5, 0, tzinfo=UTC)
KB = load_knowledge()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest_asyncio.fixture
async def store(store_backend: StoreBackend) -> AsyncIterator[Store]:
    """Once on SQLite, once on PostgreSQL."""
    async with store_backend.store() as opened:
        yield opened


def test_the_day_comes_at_the_members_hour_in_their_zone_and_once() -> None:
    berlin = ReminderSettings(9, "Europe/Berlin", None)
    assert reminder_day(berlin, T0 + timedelta(hours=1, minutes=59)) is None  # 08:59 in Berlin
    assert reminder_day(berlin, T0 + timedelta(hours=2)) == date(2025, 6, 2)  # 09:00 in Berlin
    assert reminder_day(berlin, T0 + timedelta(hours=16, minutes=59)) == date(2025, 6, 2)  # 23:59: still today
    decided = ReminderSettings(9, "Europe/Berlin", None, last_day=date(2025, 6, 2))
    assert reminder_day(decided, T0 + timedelta(hours=3)) is None
    assert reminder_day(decided, T0 + timedelta(days=1, hours=2)) == date(2025, 6, 3)
    # 23:00 UTC on Monday is already Tuesday 08:00 in Tokyo: before a 9 o'clock reminder there.
    tokyo = ReminderSettings(9, "Asia/Tokyo", None, last_day=date(2025, 6, 2))
    assert reminder_day(tokyo, datetime(2025, 6, 2, 23, 0, tzinfo=UTC)) is None
    assert reminder_day(tokyo, datetime(2025, 6, 3, 0, 0, tzinfo=UTC)) == date(2025, 6, 3)
    paused = ReminderSettings(9, "UTC", None, paused_at=T0)
    assert reminder_day(paused, T0 + timedelta(hours=5)) is None


async def test_a_reminder_goes_out_once_a_day_and_only_with_something_due(store: Store) -> None:
    clock = Clock(T0)
    service = ReminderService(store, lambda: KB, clock)
    await store.save_reminder(GUILD, ALICE, 9, "Europe/Berlin", 77)
    await store.schedule_review(GUILD, ALICE, first_review("regularization", T0))  # due Wednesday 05:00 UTC
    assert await service.due_reminders() == []  # 07:00 in Berlin: not yet
    clock.now = T0 + timedelta(hours=2)  # Monday 09:00: nothing due, so the day passes without a DM
    assert await service.due_reminders() == []
    clock.now = T0 + timedelta(days=2, hours=1)  # Wednesday 08:00 in Berlin: due, but before the hour
    assert await service.due_reminders() == []
    clock.now = T0 + timedelta(days=2, hours=2, minutes=1)
    [plan] = await service.due_reminders()
    assert (plan.guild_id, plan.user_id, plan.day, plan.channel_id) == (GUILD, ALICE, date(2025, 6, 4), 77)
    assert [(topic.topic.id, due) for topic, due in plan.due] == [("regularization", T0 + timedelta(days=2))]
    for minutes in (1, 60, 600):  # the rest of the day: nothing more
        clock.now = T0 + timedelta(days=2, hours=2, minutes=1 + minutes)
        assert await service.due_reminders() == []
    clock.now = T0 + timedelta(days=3, hours=2)  # Thursday: still due, one more
    assert len(await service.due_reminders()) == 1


async def test_a_failed_dm_is_tried_again_and_closed_dms_pause_the_reminders(store: Store) -> None:
    clock = Clock(T0 + timedelta(days=3))
    service = ReminderService(store, lambda: KB, clock)
    for member in (ALICE, BOB):
        await store.save_reminder(GUILD, member, 0, "UTC", 77)
        await store.schedule_review(GUILD, member, first_review("regularization", T0))
    alice, bob = sorted(await service.due_reminders(), key=lambda plan: plan.user_id)
    await service.failed(alice)  # a 5xx: Alice's day is given back
    await service.dms_closed(bob)  # a 403: Bob is paused
    assert [plan.user_id for plan in await service.due_reminders()] == [ALICE]
    clock.now += timedelta(days=1)
    assert [plan.user_id for plan in await service.due_reminders()] == [ALICE]  # Bob is not tried again
    paused = await store.get_reminder(GUILD, BOB)
    assert paused is not None and paused.paused_at == T0 + timedelta(days=3)
