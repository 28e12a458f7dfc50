"""Per-member question cooldown shared by /ask and free text: a sliding window over a monotonic clock."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable


class Cooldown:
    """At most `rate` uses per `per` seconds for each key; `hit` says how long to wait when over."""

    def __init__(self, rate: int, per: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.per = per
        self._clock = clock
        self._uses: dict[Hashable, deque[float]] = {}

    def hit(self, key: Hashable) -> float:
        """Record a use if allowed and return 0.0; otherwise return the seconds until the next use is."""
        now = self._clock()
        uses = self._uses.setdefault(key, deque())
        while uses and uses[0] <= now - self.per:
            uses.popleft()
        if len(uses) >= self.rate:
            return uses[0] + self.per - now
        uses.append(now)
        if len(self._uses) > 10_000:  # drop idle members so the map cannot grow without bound
            self._uses = {k: v for k, v in self._uses.items() if v and v[-1] > now - self.per}
        return 0.0
