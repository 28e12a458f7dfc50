"""What the stand-in observed, in a form tests can assert on and wait for.

Every record is appended by the server as it happens; ``Signal`` wakes anyone waiting for a
condition over these records, so waits are race-free (a condition already true returns at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from .constants import CallbackType, MessageFlag
from .state import EVERYONE_MENTION, ROLE_MENTION, USER_MENTION, Message

if TYPE_CHECKING:
    from .gateway import Dispatch

JSON = dict[str, Any]
T = TypeVar("T")

POLL_INTERVAL = 0.05


class Signal:
    """Wakes waiters whenever something was recorded; each waiter re-checks its own condition."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, check: Callable[[], T | None], timeout: float, what: str) -> T:
        """Returns ``check()``'s first truthy value; TimeoutError naming ``what`` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"stand-in: timed out after {timeout:.1f}s waiting for {what}")
            event = self._event
            # Also re-check now and then: conditions may read state the stand-in does not own
            # (e.g. the bot's cache), which changes without a notify.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, POLL_INTERVAL))


@dataclass(frozen=True)
class Rejection:
    """A request Discord would refuse (wrong shape, too long, too late, not allowed...)."""

    method: str
    route: str
    status: int
    code: int
    reason: str
    body: JSON
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class UnknownRoute:
    method: str
    path: str


@dataclass
class RequestRecord:
    method: str
    path: str
    status: int = 0
    started: float = field(default_factory=time.monotonic)
    duration: float = 0.0
    injected: bool = False


@dataclass
class FaultRule:
    """One ``fail_next``/``delay_next`` rule; ``hits`` counts how often it fired."""

    method: str
    pattern: re.Pattern[str]
    status: int | None
    body: JSON | None
    headers: dict[str, str]
    times: int
    delay: float = 0.0
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return self.hits < self.times and self.method in ("*", method) and bool(self.pattern.search(path))


@dataclass(frozen=True)
class Callback:
    """The interaction's initial response as Discord received it."""

    type: int
    data: JSON
    received_at: float

    @property
    def ephemeral(self) -> bool:
        return bool((self.data.get("flags") or 0) & MessageFlag.EPHEMERAL)


@dataclass
class InteractionRecord:
    """One interaction the stand-in dispatched and everything the bot did with its token."""

    id: int
    token: str
    type: int
    name: str  # command name, or the component's / modal's custom_id
    payload: JSON
    user_id: int
    guild_id: int | None
    channel_id: int
    deadline: float
    signal: Signal
    dispatch: Dispatch | None = None
    response: Callback | None = None
    original_id: int | None = None
    messages: list[Message] = field(default_factory=list)
    followup_ids: list[int] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    deleted_original: bool = False

    # -- timing ---------------------------------------------------------------------------------

    @property
    def dispatched_at(self) -> float | None:
        """When the INTERACTION_CREATE frame was written to the bot's socket (monotonic)."""
        return None if self.dispatch is None else self.dispatch.sent_at

    @property
    def ack_latency(self) -> float | None:
        """Seconds from dispatch to the initial callback reaching the stand-in."""
        if self.response is None or self.dispatched_at is None:
            return None
        return self.response.received_at - self.dispatched_at

    @property
    def late(self) -> bool:
        return any(r.code == 10062 for r in self.rejections)

    # -- what the bot answered ------------------------------------------------------------------

    @property
    def response_type(self) -> int | None:
        return None if self.response is None else self.response.type

    @property
    def deferred(self) -> bool:
        return self.response_type in (CallbackType.DEFERRED_CHANNEL_MESSAGE, CallbackType.DEFERRED_UPDATE_MESSAGE)

    @property
    def ephemeral(self) -> bool:
        return self.response is not None and self.response.ephemeral

    @property
    def choices(self) -> list[JSON] | None:
        if self.response_type != CallbackType.AUTOCOMPLETE_RESULT:
            return None
        return list(self.response.data.get("choices") or [])  # type: ignore[union-attr]

    @property
    def modal(self) -> JSON | None:
        return self.response.data if self.response_type == CallbackType.MODAL else None  # type: ignore[union-attr]

    @property
    def original(self) -> Message | None:
        return next((m for m in self.messages if m.id == self.original_id), None)

    @property
    def followups(self) -> list[Message]:
        """Messages sent through the followup webhook, in order (the first one after a defer is the
        original "thinking..." message, which Discord fills in rather than posting anew)."""
        by_id = {m.id: m for m in self.messages}
        return [by_id[i] for i in self.followup_ids if i in by_id]

    @property
    def final(self) -> Message | None:
        """The first message carrying the answer: a type 4/7 callback's message, or after a defer
        the first followup or the filled-in original."""
        if self.response is None:
            return None
        if self.response_type in (CallbackType.CHANNEL_MESSAGE, CallbackType.UPDATE_MESSAGE):
            return self.original
        if self.deferred:
            original = self.original
            filled = (
                original if original is not None and original.edited_at is not None and not original.loading else None
            )
            followup = next(iter(self.followups), None)
            candidates = [m for m in (filled, followup) if m is not None]
            return min(candidates, key=lambda m: m.edited_at or m.created_at) if candidates else None
        return None

    # -- waiting --------------------------------------------------------------------------------

    async def wait_response(self, timeout: float = 5.0) -> Callback:
        return await self.signal.wait_until(lambda: self.response, timeout, f"the callback of {self.describe()}")

    async def wait_followups(self, n: int = 1, timeout: float = 5.0) -> list[Message]:
        return await self.signal.wait_until(
            lambda: self.followups[:n] if len(self.followups) >= n else None,
            timeout,
            f"{n} followup(s) of {self.describe()}",
        )

    async def wait_final(self, timeout: float = 5.0) -> Message:
        return await self.signal.wait_until(lambda: self.final, timeout, f"the answer to {self.describe()}")

    async def wait_rejected(self, timeout: float = 5.0) -> Rejection:
        return await self.signal.wait_until(
            lambda: self.rejections[0] if self.rejections else None, timeout, f"a rejection for {self.describe()}"
        )

    def describe(self) -> str:
        return f"interaction {self.id} ({self.name!r}, type {self.type})"


def mentioned_ids(content: str) -> tuple[set[int], set[int], bool]:
    """(user ids, role ids, @everyone/@here present) written in ``content``."""
    return (
        {int(uid) for uid in USER_MENTION.findall(content)},
        {int(rid) for rid in ROLE_MENTION.findall(content)},
        bool(EVERYONE_MENTION.search(content)),
    )


def pings(message: Message, replied_user_id: int | None = None) -> bool:
    """Whether the message as sent could ping anyone beyond the user it replies to.

    A message without ``allowed_mentions`` counts as pinging: Discord then parses every mention
    in the content, so text that came from users could ping @everyone, roles or members.
    """
    allowed = message.allowed_mentions
    if allowed is None:
        return True
    users, roles, everyone = mentioned_ids(message.content)
    users.discard(replied_user_id or 0)
    parse = set(allowed.get("parse") or [])
    listed_users = {int(uid) for uid in allowed.get("users") or []}
    listed_roles = {int(rid) for rid in allowed.get("roles") or []}
    if everyone and "everyone" in parse:
        return True
    if users and ("users" in parse or users & listed_users):
        return True
    return bool(roles and ("roles" in parse or roles & listed_roles))
