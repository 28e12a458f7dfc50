"""Whether a member has finished the topics a weekly prompt builds on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from knowledge.schema import WeeklyPrompt

__all__ = ["Readiness", "prompt_readiness"]


class Readiness(NamedTuple):
    """`ready` is True when nothing is `missing`; `missing` keeps the prompt's prerequisite order."""

    ready: bool
    missing: list[str]


def prompt_readiness(prompt: WeeklyPrompt, completed_topic_ids: Iterable[str]) -> Readiness:
    """Which of the prompt's prerequisite topic ids are not among the completed ones."""
    done = set(completed_topic_ids)
    missing = [topic for topic in dict.fromkeys(prompt.prerequisites) if topic not in done]
    return Readiness(ready=not missing, missing=missing)
