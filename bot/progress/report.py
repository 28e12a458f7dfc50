"""Progress reports: per-step bars and counts, the current step and the streak of active days."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from knowledge.schema import Roadmap

BAR_WIDTH = 10


@dataclass(frozen=True)
class StepProgress:
    roadmap_title: str
    number: int
    title: str
    done: int
    total: int

    @property
    def bar(self) -> str:
        filled = round(BAR_WIDTH * self.done / self.total) if self.total else 0
        return "█" * filled + "░" * (BAR_WIDTH - filled)

    @property
    def complete(self) -> bool:
        return self.done == self.total


@dataclass(frozen=True)
class ProgressReport:
    roadmap_title: str | None  # the roadmap the report covers
    steps: list[StepProgress]
    done: int
    total: int
    current_step: StepProgress | None
    streak_days: int


def streak(active_days: Iterable[date], today: date) -> int:
    """Consecutive active days ending today (or yesterday, so a streak survives until the day is over)."""
    days = set(active_days)
    start = today if today in days else today - timedelta(days=1)
    count = 0
    while start - timedelta(days=count) in days:
        count += 1
    return count


def progress_report(
    roadmaps: Sequence[Roadmap], completed: Collection[str], active_days: Iterable[date], today: date
) -> ProgressReport:
    """A member's progress through `roadmaps` (usually the one they follow)."""
    steps = [
        StepProgress(
            roadmap.title,
            step.number,
            step.title,
            sum(t.id in completed for t in step.topics),
            len(step.topics),
        )
        for roadmap in roadmaps
        for step in roadmap.steps
    ]
    current = next((s for s in steps if not s.complete), None)
    return ProgressReport(
        roadmap_title=" + ".join(r.title for r in roadmaps) or None,
        steps=steps,
        done=sum(s.done for s in steps),
        total=sum(s.total for s in steps),
        current_step=current,
        streak_days=streak(active_days, today),
    )
