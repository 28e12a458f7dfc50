"""When the weekly prompt is due: a local weekly slot, its ISO week keys, missed-slot and DST rules.

Every function takes the current instant as an argument (the caller's clock), so the rules are
plain arithmetic a test can drive through any date. Time zones come from `zoneinfo`, which reads
the system's IANA database; where the system has none (Windows, slim containers) install `tzdata`.

Rules, in one place:

- A week is the ISO week (Monday to Sunday) of the slot's *local* calendar, keyed "2026-W48".
- A week's slot is its weekday at the slot's local wall time. A wall time that does not exist that
  day (spring forward) moves forward by the gap, 02:30 -> 03:30; one that occurs twice (fall back)
  is the first occurrence (fold=0). Either way it is one instant, so it is posted once.
- A slot is due from its instant until the end of that local calendar day, if not yet posted.
  After that day the week is missed and skipped, so a bot that was down never posts stale prompts.
- A week's deadline is one minute before the next week's slot: the next prompt replaces it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "WeeklySlot",
    "deadline_for",
    "due_post",
    "next_slot_after",
    "slot_datetime_for_week",
    "week_key",
]

_WEEK_KEY = re.compile(r"^(\d{4})-W(\d{2})$")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class WeeklySlot:
    """A weekly posting time: weekday (0 = Monday), local wall time and IANA time zone."""

    weekday: int
    time: time
    timezone: str

    def __post_init__(self) -> None:
        if isinstance(self.weekday, bool) or not isinstance(self.weekday, int):
            raise ValueError(f"weekday must be an int from 0 (Monday) to 6 (Sunday), got {self.weekday!r}")
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be from 0 (Monday) to 6 (Sunday), got {self.weekday}")
        if not isinstance(self.time, time):
            raise ValueError(f"time must be a datetime.time, got {self.time!r}")
        if self.time.tzinfo is not None:
            raise ValueError("time must be a local wall time without tzinfo; the zone goes in `timezone`")
        _load_zone(self.timezone)  # an unknown zone fails here, at construction

    @property
    def zone(self) -> ZoneInfo:
        """The slot's time zone (ZoneInfo caches instances, so this is cheap)."""
        return _load_zone(self.timezone)

    def describe(self) -> str:
        """Human wording, e.g. 'Monday 09:00 (Europe/Berlin)'."""
        return f"{_WEEKDAYS[self.weekday]} {self.time:%H:%M} ({self.timezone})"


def week_key(slot: WeeklySlot, now_utc: datetime) -> str:
    """The ISO week ("2026-W48") of `now_utc`'s date in the slot's time zone."""
    year, week, _ = _as_utc(now_utc).astimezone(slot.zone).isocalendar()
    return f"{year}-W{week:02d}"


def slot_datetime_for_week(slot: WeeklySlot, week_key: str) -> datetime:
    """The UTC instant of the slot in the given week (DST rules in the module docstring)."""
    day = date.fromisocalendar(*_parse_week_key(week_key), slot.weekday + 1)
    local = datetime.combine(day, slot.time.replace(fold=0), tzinfo=slot.zone)
    # Converting through UTC is what applies fold=0 and shifts a nonexistent wall time forward.
    return local.astimezone(UTC)


def next_slot_after(slot: WeeklySlot, now_utc: datetime) -> datetime:
    """The first slot instant strictly after `now_utc`, in UTC."""
    now = _as_utc(now_utc)
    key = week_key(slot, now)
    this_week = slot_datetime_for_week(slot, key)
    if this_week > now:
        return this_week
    return slot_datetime_for_week(slot, _shift_week(key, 1))


def due_post(slot: WeeklySlot, now_utc: datetime, already_posted_week_keys: Collection[str]) -> str | None:
    """The week key to post now, or None: not yet time, already posted, or missed (day is over)."""
    now = _as_utc(now_utc)
    key = week_key(slot, now)
    if key in already_posted_week_keys:
        return None
    at = slot_datetime_for_week(slot, key)
    if now < at:
        return None
    if now.astimezone(slot.zone).date() != at.astimezone(slot.zone).date():
        return None  # missed: the slot's local day has ended
    return key


def deadline_for(slot: WeeklySlot, week_key: str) -> datetime:
    """One minute before the next week's slot, in UTC; stays on local wall time across DST."""
    return slot_datetime_for_week(slot, _shift_week(week_key, 1)) - timedelta(minutes=1)


def _load_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError) as error:
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin'") from error


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got naive {moment!r}")
    return moment.astimezone(UTC)


def _parse_week_key(key: str) -> tuple[int, int]:
    match = _WEEK_KEY.match(key)
    if match is None:
        raise ValueError(f"week key must look like '2026-W48', got {key!r}")
    year, week = int(match[1]), int(match[2])
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError as error:
        raise ValueError(f"week key {key!r} names a week that {year} does not have") from error
    return year, week


def _shift_week(key: str, weeks: int) -> str:
    monday = date.fromisocalendar(*_parse_week_key(key), 1) + timedelta(weeks=weeks)
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"
