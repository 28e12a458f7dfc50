"""Event-loop lag: a task that sleeps 5 ms in a loop and records by how much each sleep overshot."""

from __future__ import annotations

import asyncio
import contextlib
import time

from benchmarks.measure import JSON, ms, percentile


class LagProbe:
    """Samples are (time.monotonic(), overshoot in seconds); the monotonic clock is the same in every
    process on the machine, so a parent can pick out of a child's samples the ones of a given window."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.samples: list[tuple[float, float]] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            await asyncio.sleep(self.interval)
            woke = time.monotonic()
            self.samples.append((woke, woke - started - self.interval))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="benchmark-lag-probe")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def lag_summary(samples: list[tuple[float, float]], since: float = float("-inf"), until: float = float("inf")) -> JSON:
    """Max and p99 overshoot (ms) of the samples taken between `since` and `until` (monotonic seconds)."""
    overshoots = [lag for at, lag in samples if since <= at <= until]
    return {
        "max": ms(max(overshoots, default=0.0)),
        "p99": ms(percentile(overshoots, 99)) if overshoots else 0.0,
        "samples": len(overshoots),
    }
