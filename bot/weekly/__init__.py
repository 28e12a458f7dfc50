"""The weekly project prompt: when it is due, which prompt comes next, who is ready for it."""

from bot.weekly.readiness import Readiness, prompt_readiness
from bot.weekly.rotation import choose_prompt
from bot.weekly.schedule import (
    WeeklySlot,
    deadline_for,
    due_post,
    next_slot_after,
    slot_datetime_for_week,
    week_key,
)

__all__ = [
    "Readiness",
    "WeeklySlot",
    "choose_prompt",
    "deadline_for",
    "due_post",
    "next_slot_after",
    "prompt_readiness",
    "slot_datetime_for_week",
    "week_key",
]
