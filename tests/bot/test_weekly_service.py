"""The weekly scheduler's decisions without Discord: claims, failures and retries, settings, /project."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from bot.storage import Store
from bot.storage.base import WeeklySettings
from bot.weekly.service import InvalidSchedule, WeeklyService, find_time_zones, parse_schedule
from knowledge.loader import KnowledgeBase
from tests.store_backends import StoreBackend

GUILD, CHANNEL = 111, 222
MONDAY_9_UTC = WeeklySettings(CHANNEL, 0, "09:00", "UTC", True)


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


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))  # Monday 09:00 UTC


@pytest.fixture
def service(store: Store, shipped_kb: KnowledgeBase, clock: Clock) -> WeeklyService:
    return WeeklyService(store, lambda: shipped_kb, clock)


async def test_a_due_week_is_claimed_once_with_its_deadline_and_topic_titles(
    service: WeeklyService, store: Store, shipped_kb: KnowledgeBase
) -> None:
    await service.save(GUILD, MONDAY_9_UTC)
    [plan] = await service.due_posts()
    assert (plan.guild_id, plan.channel_id, plan.week_key) == (GUILD, CHANNEL, "2026-W48")
    assert plan.deadline == datetime(2026, 11, 30, 8, 59, tzinfo=UTC)
    assert plan.topic_titles == tuple(shipped_kb.topics[t].topic.title for t in plan.prompt.topics)
    assert await service.due_posts() == []  # claimed: not planned again, even before it is recorded
    await service.posted(plan, 9, 10)
    post = await store.current_weekly_post(GUILD)
    assert post is not None and (post.prompt_id, post.message_id, post.thread_id) == (plan.prompt.id, 9, 10)


async def test_a_claim_left_by_a_crash_is_not_posted_again_after_a_restart(
    service: WeeklyService, store: Store, shipped_kb: KnowledgeBase, clock: Clock
) -> None:
    await service.save(GUILD, MONDAY_9_UTC)
    assert len(await service.due_posts()) == 1  # ...and the process dies before sending
    restarted = WeeklyService(store, lambda: shipped_kb, clock)
    assert await restarted.due_posts() == []


async def test_nothing_is_due_before_the_slot_after_its_day_or_when_switched_off(
    service: WeeklyService, clock: Clock
) -> None:
    await service.save(GUILD, MONDAY_9_UTC)
    clock.now = datetime(2026, 11, 23, 8, 59, tzinfo=UTC)
    assert await service.due_posts() == []
    clock.now = datetime(2026, 11, 24, 0, 1, tzinfo=UTC)
    assert await service.due_posts() == []
    clock.now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    await service.set_enabled(GUILD, False)
    assert await service.due_posts() == []
    await service.set_enabled(GUILD, True)
    assert len(await service.due_posts()) == 1


async def test_a_failed_post_releases_the_week_and_waits_an_hour_unless_the_settings_change(
    service: WeeklyService, store: Store, clock: Clock
) -> None:
    await service.save(GUILD, MONDAY_9_UTC)
    [plan] = await service.due_posts()
    await service.failed(plan, "missing permissions")
    assert await store.last_weekly_posts(GUILD, 5) == []  # released
    problem = service.problem(GUILD)
    assert problem is not None and problem.reason == "missing permissions"
    assert problem.retry_at == clock.now + timedelta(hours=1)

    clock.now += timedelta(minutes=59)
    assert await service.due_posts() == []
    clock.now += timedelta(minutes=1)
    [retry] = await service.due_posts()
    assert retry.prompt.id == plan.prompt.id  # the released prompt is still next in the rotation
    await service.failed(retry, "missing permissions")

    await service.save(GUILD, WeeklySettings(333, 0, "09:00", "UTC", True))  # the admin picks another channel
    assert service.problem(GUILD) is None
    [fixed] = await service.due_posts()
    assert fixed.channel_id == 333
    await service.posted(fixed, 1, None, "no thread: missing Create Public Threads")
    assert service.problem(GUILD) is not None and service.problem(GUILD).retry_at is None  # type: ignore[union-attr]


async def test_a_failed_post_still_waits_its_hour_and_shows_its_reason_after_a_restart(
    service: WeeklyService, store: Store, shipped_kb: KnowledgeBase, clock: Clock
) -> None:
    await service.save(GUILD, MONDAY_9_UTC)
    [plan] = await service.due_posts()
    await service.failed(plan, "the channel was deleted")
    clock.now += timedelta(minutes=10)
    restarted = WeeklyService(store, lambda: shipped_kb, clock)
    await restarted.restore()
    problem = restarted.problem(GUILD)
    assert problem is not None and problem.reason == "the channel was deleted"
    assert problem.retry_at == clock.now + timedelta(minutes=50)
    assert await restarted.due_posts() == []  # no extra attempt because the process restarted
    clock.now += timedelta(minutes=50)
    [retry] = await restarted.due_posts()
    await restarted.posted(retry, 1, 2)
    again = WeeklyService(store, lambda: shipped_kb, clock)
    await again.restore()
    assert again.problem(GUILD) is None  # the successful post cleared it for good


async def test_rotation_runs_through_every_prompt_before_repeating(
    service: WeeklyService, shipped_kb: KnowledgeBase, clock: Clock
) -> None:
    await service.save(GUILD, MONDAY_9_UTC)
    chosen = []
    for week in range(len(shipped_kb.prompts)):
        clock.now = datetime(2026, 1, 5, 9, tzinfo=UTC) + timedelta(weeks=week)
        [plan] = await service.due_posts()
        await service.posted(plan, week + 1, None)
        chosen.append(plan.prompt.id)
    assert sorted(chosen) == sorted(p.id for p in shipped_kb.prompts)


async def test_current_project_reports_missing_prerequisites_by_title(
    service: WeeklyService, store: Store, shipped_kb: KnowledgeBase
) -> None:
    assert await service.current(GUILD, set()) is None
    await service.save(GUILD, MONDAY_9_UTC)
    await store.claim_weekly_post(GUILD, "2026-W48", "first-tensorflow-network", datetime(2026, 11, 23, 9, tzinfo=UTC))
    await store.record_weekly_message(GUILD, "2026-W48", CHANNEL, 5, None)
    current = await service.current(GUILD, {"feedforward-networks"})
    assert current is not None and not current.readiness.ready
    assert current.missing_titles == ("Loss Functions",)
    assert current.deadline == datetime(2026, 11, 30, 8, 59, tzinfo=UTC)
    ready = await service.current(GUILD, {"feedforward-networks", "loss-functions"})
    assert ready is not None and ready.readiness.ready


def test_schedule_input_is_normalised_or_refused_with_a_clear_message() -> None:
    settings = parse_schedule(CHANNEL, 2, " 7:05 ", "europe/berlin", True)
    assert (settings.time, settings.timezone) == ("07:05", "Europe/Berlin")
    for bad in ("24:00", "9", "09:60", "nine"):
        with pytest.raises(InvalidSchedule, match="HH:MM"):
            parse_schedule(CHANNEL, 0, bad, "UTC", True)
    with pytest.raises(InvalidSchedule, match="IANA"):
        parse_schedule(CHANNEL, 0, "09:00", "Mars/Olympus", True)


def test_time_zone_autocomplete_finds_cities_and_stays_within_25() -> None:
    assert find_time_zones("berl")[0] == "Europe/Berlin"
    assert find_time_zones("new york")[0] == "America/New_York"
    assert 1 <= len(find_time_zones("a")) <= 25
    assert "UTC" in find_time_zones("")
