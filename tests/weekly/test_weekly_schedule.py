"""When the weekly prompt is due: week keys, slot instants, missed slots, DST, deadlines."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.weekly.schedule import (
    WeeklySlot,
    deadline_for,
    due_post,
    next_slot_after,
    slot_datetime_for_week,
    week_key,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
MONDAY_9_BERLIN = WeeklySlot(weekday=0, time=time(9, 0), timezone="Europe/Berlin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=zone, fold=fold).astimezone(UTC)


# --- the slot ----------------------------------------------------------------------------------


def test_unknown_time_zone_is_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        WeeklySlot(weekday=0, time=time(9), timezone="Mars/Olympus")


@pytest.mark.parametrize("name", ["", "Europe", "../etc/passwd", "/etc/localtime", "Europe/Berlin "])
def test_malformed_time_zone_names_are_value_errors(name: str) -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        WeeklySlot(weekday=0, time=time(9), timezone=name)


@pytest.mark.parametrize("weekday", [-1, 7, True, 1.0])
def test_weekday_must_be_0_to_6(weekday: object) -> None:
    with pytest.raises(ValueError, match="weekday"):
        WeeklySlot(weekday=weekday, time=time(9), timezone="UTC")  # type: ignore[arg-type]


def test_slot_time_is_a_local_wall_time_without_tzinfo() -> None:
    with pytest.raises(ValueError, match="tzinfo"):
        WeeklySlot(weekday=0, time=time(9, tzinfo=UTC), timezone="UTC")


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="aware"):
        due_post(MONDAY_9_BERLIN, datetime(2026, 11, 23, 9), set())


# --- week keys and slot instants ---------------------------------------------------------------


def test_week_key_is_the_iso_week_of_the_slots_local_date() -> None:
    sunday_night_utc = utc(2026, 11, 22, 23, 30)  # already Monday 08:30 in Tokyo
    assert week_key(WeeklySlot(0, time(9), "UTC"), sunday_night_utc) == "2026-W47"
    assert week_key(WeeklySlot(0, time(9), "Asia/Tokyo"), sunday_night_utc) == "2026-W48"


def test_week_key_follows_the_iso_year_not_the_calendar_year() -> None:
    slot = WeeklySlot(4, time(9), "UTC")
    assert week_key(slot, utc(2027, 1, 1, 12)) == "2026-W53"
    assert week_key(slot, utc(2024, 12, 30, 12)) == "2025-W01"


@pytest.mark.parametrize("key", ["2026-48", "2026-W4", "2026-w48", "W48-2026", "2026-W48 "])
def test_malformed_week_keys_are_value_errors(key: str) -> None:
    with pytest.raises(ValueError, match="must look like"):
        slot_datetime_for_week(MONDAY_9_BERLIN, key)


@pytest.mark.parametrize("key", ["2025-W53", "2026-W00", "2026-W54"])
def test_week_keys_outside_the_iso_year_name_the_key(key: str) -> None:
    with pytest.raises(ValueError, match=key):
        deadline_for(MONDAY_9_BERLIN, key)


def test_slot_instant_is_the_local_wall_time_in_utc() -> None:
    assert slot_datetime_for_week(MONDAY_9_BERLIN, "2026-W48") == utc(2026, 11, 23, 8)  # CET, +01:00
    assert slot_datetime_for_week(MONDAY_9_BERLIN, "2026-W27") == utc(2026, 6, 29, 7)  # CEST, +02:00


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"])
def test_slot_keeps_its_local_wall_time_in_every_week_of_the_year(zone: str) -> None:
    slot = WeeklySlot(6, time(9, 30), zone)
    for week in range(1, 54):
        at = slot_datetime_for_week(slot, f"2026-W{week:02d}")
        assert at.tzinfo is UTC
        wall = at.astimezone(ZoneInfo(zone))
        assert (wall.weekday(), wall.time()) == (6, time(9, 30)), f"2026-W{week:02d}"


def test_nonexistent_spring_forward_time_moves_forward_by_the_gap() -> None:
    slot = WeeklySlot(6, time(2, 30), "Europe/Berlin")  # 2026-03-29 02:00 -> 03:00
    at = slot_datetime_for_week(slot, "2026-W13")
    assert at == utc(2026, 3, 29, 1, 30)
    assert at.astimezone(BERLIN).time() == time(3, 30)


def test_ambiguous_fall_back_time_is_its_first_occurrence() -> None:
    slot = WeeklySlot(6, time(2, 30), "Europe/Berlin")  # 2026-10-25 03:00 -> 02:00
    assert slot_datetime_for_week(slot, "2026-W43") == utc(2026, 10, 25, 0, 30)  # CEST, not CET
    ny = WeeklySlot(6, time(1, 30), "America/New_York")  # 2026-11-01 02:00 -> 01:00
    assert slot_datetime_for_week(ny, "2026-W44") == utc(2026, 11, 1, 5, 30)  # EDT, not EST


def test_time_with_fold_1_still_takes_the_first_occurrence() -> None:
    slot = WeeklySlot(6, time(2, 30, fold=1), "Europe/Berlin")
    assert slot_datetime_for_week(slot, "2026-W43") == utc(2026, 10, 25, 0, 30)


def test_next_slot_after_is_strictly_after_now() -> None:
    this_week = utc(2026, 11, 23, 8)
    assert next_slot_after(MONDAY_9_BERLIN, this_week - timedelta(seconds=1)) == this_week
    assert next_slot_after(MONDAY_9_BERLIN, this_week) == utc(2026, 11, 30, 8)
    assert next_slot_after(MONDAY_9_BERLIN, utc(2026, 11, 29, 22, 59)) == utc(2026, 11, 30, 8)
    assert next_slot_after(MONDAY_9_BERLIN, utc(2026, 12, 28, 9)) == utc(2027, 1, 4, 8)


def test_next_slot_after_crosses_dst_on_local_time() -> None:
    after = next_slot_after(MONDAY_9_BERLIN, utc(2026, 3, 23, 9))
    assert after == utc(2026, 3, 30, 7)
    assert after.astimezone(BERLIN).time() == time(9)


# --- due or not ----------------------------------------------------------------------------------


def test_not_due_before_the_slot_and_due_from_it() -> None:
    at = utc(2026, 11, 23, 8)
    assert due_post(MONDAY_9_BERLIN, at - timedelta(minutes=1), set()) is None
    assert due_post(MONDAY_9_BERLIN, at, set()) == "2026-W48"
    assert due_post(MONDAY_9_BERLIN, at + timedelta(minutes=10), set()) == "2026-W48"


def test_not_due_on_other_days_of_the_week() -> None:
    for day in range(24, 30):
        assert due_post(MONDAY_9_BERLIN, utc(2026, 11, day, 12), set()) is None


def test_a_posted_week_is_not_due_again() -> None:
    assert due_post(MONDAY_9_BERLIN, utc(2026, 11, 23, 8, 5), {"2026-W48"}) is None
    assert due_post(MONDAY_9_BERLIN, utc(2026, 11, 23, 8, 5), {"2026-W47"}) == "2026-W48"


def test_restart_during_the_slot_day_posts_once() -> None:
    posted: set[str] = set()
    posts = []
    # Before the restart: ticks every 10 minutes, one post at 09:00.
    # After a restart at 13:17 with the stored keys: ticks again until midnight.
    ticks = [utc(2026, 11, 23, 7) + timedelta(minutes=10 * i) for i in range(30)]
    ticks += [utc(2026, 11, 23, 12, 17) + timedelta(minutes=10 * i) for i in range(60)]
    for now in ticks:
        if key := due_post(MONDAY_9_BERLIN, now, posted):
            posted.add(key)
            posts.append((key, now))
    assert posts == [("2026-W48", utc(2026, 11, 23, 8))]


def test_missed_slot_is_posted_later_the_same_local_day() -> None:
    # Down from 08:00 to 22:59 local on the slot day.
    assert due_post(MONDAY_9_BERLIN, utc(2026, 11, 23, 21, 59), set()) == "2026-W48"


def test_missed_slot_is_skipped_once_the_local_day_is_over() -> None:
    assert due_post(MONDAY_9_BERLIN, utc(2026, 11, 23, 23, 0), set()) is None  # 00:00 Tuesday in Berlin
    assert due_post(MONDAY_9_BERLIN, utc(2026, 11, 24, 9), set()) is None
    # ... and the following week is posted as usual.
    assert due_post(MONDAY_9_BERLIN, utc(2026, 11, 30, 8), set()) == "2026-W49"


def test_the_slot_day_ends_at_local_midnight_not_utc_midnight() -> None:
    slot = WeeklySlot(0, time(9), "America/Los_Angeles")  # Monday 09:00 PST = 17:00 UTC
    assert due_post(slot, utc(2026, 11, 24, 7, 59), set()) == "2026-W48"  # Monday 23:59 PST
    assert due_post(slot, utc(2026, 11, 24, 8, 0), set()) is None  # Tuesday 00:00 PST
    tokyo = WeeklySlot(0, time(9), "Asia/Tokyo")  # Monday 09:00 JST = Monday 00:00 UTC
    assert due_post(tokyo, utc(2026, 11, 23, 14, 59), set()) == "2026-W48"  # Monday 23:59 JST
    assert due_post(tokyo, utc(2026, 11, 23, 15, 0), set()) is None


def test_a_late_evening_slot_is_skipped_after_local_midnight() -> None:
    slot = WeeklySlot(6, time(23, 50), "Europe/Berlin")
    assert due_post(slot, local(BERLIN, 2026, 11, 29, 23, 59), set()) == "2026-W48"
    assert due_post(slot, local(BERLIN, 2026, 11, 30, 0, 5), set()) is None


def test_spring_forward_slot_is_due_at_the_shifted_time_only() -> None:
    slot = WeeklySlot(6, time(2, 30), "Europe/Berlin")
    assert due_post(slot, local(BERLIN, 2026, 3, 29, 3, 29), set()) is None
    assert due_post(slot, local(BERLIN, 2026, 3, 29, 3, 30), set()) == "2026-W13"


def test_fall_back_slot_is_due_at_the_first_occurrence_and_not_again_at_the_second() -> None:
    slot = WeeklySlot(6, time(2, 30), "Europe/Berlin")
    first = local(BERLIN, 2026, 10, 25, 2, 30, fold=0)
    second = local(BERLIN, 2026, 10, 25, 2, 30, fold=1)
    assert second - first == timedelta(hours=1)
    assert due_post(slot, first - timedelta(minutes=1), set()) is None
    assert due_post(slot, first, set()) == "2026-W43"
    assert due_post(slot, second, {"2026-W43"}) is None


# A clock ticking every 5 to 15 minutes across several weeks around a DST change.
DST_CASES = [
    pytest.param("Europe/Berlin", 6, time(9), date(2026, 3, 29), id="berlin-spring-0900"),
    pytest.param("Europe/Berlin", 6, time(2, 30), date(2026, 3, 29), id="berlin-spring-gap-0230"),
    pytest.param("Europe/Berlin", 6, time(9), date(2026, 10, 25), id="berlin-fall-0900"),
    pytest.param("Europe/Berlin", 6, time(2, 30), date(2026, 10, 25), id="berlin-fall-ambiguous-0230"),
    pytest.param("Europe/Berlin", 0, time(9), date(2026, 3, 29), id="berlin-monday-after-spring"),
    pytest.param("America/New_York", 6, time(9), date(2026, 3, 8), id="ny-spring-0900"),
    pytest.param("America/New_York", 6, time(2, 30), date(2026, 3, 8), id="ny-spring-gap-0230"),
    pytest.param("America/New_York", 6, time(9), date(2026, 11, 1), id="ny-fall-0900"),
    pytest.param("America/New_York", 6, time(1, 30), date(2026, 11, 1), id="ny-fall-ambiguous-0130"),
    pytest.param("America/New_York", 6, time(23, 30), date(2026, 11, 1), id="ny-fall-late-2330"),
]
WEEKS_AROUND = 3


@pytest.mark.parametrize(("zone_name", "weekday", "wall", "dst_day"), DST_CASES)
@settings(max_examples=15, deadline=None, database=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_a_ticking_clock_across_dst_posts_exactly_once_a_week_at_local_time(
    zone_name: str, weekday: int, wall: time, dst_day: date, seed: int
) -> None:
    slot = WeeklySlot(weekday, wall, zone_name)
    zone = ZoneInfo(zone_name)
    start = datetime.combine(dst_day - timedelta(weeks=WEEKS_AROUND), time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(dst_day + timedelta(weeks=WEEKS_AROUND), time(), tzinfo=zone).astimezone(UTC)
    steps = random.Random(seed)

    posted: dict[str, datetime] = {}
    now = start
    while now < end:
        if key := due_post(slot, now, posted.keys()):
            assert key not in posted
            posted[key] = now
        now += timedelta(minutes=steps.randint(5, 15), seconds=steps.randint(0, 59))

    days = (dst_day + timedelta(days=offset) for offset in range(-7 * WEEKS_AROUND, 7 * WEEKS_AROUND))
    expected = {"{}-W{:02d}".format(*day.isocalendar()[:2]) for day in days if day.weekday() == weekday}
    assert len(expected) == 2 * WEEKS_AROUND
    assert set(posted) == expected
    gap = _gap_at(zone, dst_day, wall)
    for key, posted_at in posted.items():
        at = slot_datetime_for_week(slot, key)
        assert at <= posted_at < at + timedelta(minutes=16), key
        wall_time = at.astimezone(zone)
        assert wall_time.weekday() == weekday
        expected_wall = datetime.combine(wall_time.date(), wall) + (gap if wall_time.date() == dst_day else timedelta())
        assert wall_time.replace(tzinfo=None) == expected_wall, key


def _gap_at(zone: ZoneInfo, day: date, wall: time) -> timedelta:
    """How far a nonexistent wall time on `day` moves forward (zero if it exists)."""
    naive = datetime.combine(day, wall)
    round_trip = naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    return round_trip - naive


# --- deadline and rendering ----------------------------------------------------------------------


def test_deadline_is_one_minute_before_the_next_slot() -> None:
    assert deadline_for(MONDAY_9_BERLIN, "2026-W48") == utc(2026, 11, 30, 7, 59)
    assert deadline_for(MONDAY_9_BERLIN, "2026-W53") == utc(2027, 1, 4, 7, 59)


def test_deadline_keeps_local_time_across_dst() -> None:
    deadline = deadline_for(MONDAY_9_BERLIN, "2026-W13")  # slot 2026-03-23 09:00 CET
    assert deadline.astimezone(BERLIN) == datetime(2026, 3, 30, 8, 59, tzinfo=BERLIN)
    assert deadline - slot_datetime_for_week(MONDAY_9_BERLIN, "2026-W13") == timedelta(days=7, hours=-1, minutes=-1)


def test_slot_describes_itself_for_humans() -> None:
    assert MONDAY_9_BERLIN.describe() == "Monday 09:00 (Europe/Berlin)"
    assert WeeklySlot(6, time(23, 30), "America/New_York").describe() == "Sunday 23:30 (America/New_York)"
