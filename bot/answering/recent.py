"""The tutor's recent answers, remembered so that a member's next message can be read as a follow-up of one.

Where a follow-up comes from decides which answer it follows: a reply to an answer follows that answer, a
message in a thread follows the tutor's latest answer there (or what the thread was opened on), and a direct
message follows the tutor's latest answer to that member if it came within a few minutes. Each entry is one
`AnswerContext` (a few hundred characters), held in memory only, for a bounded number of answers and a
bounded time: nothing here is stored, and a restart forgets it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.answering.followup import AnswerContext

# How many answers are remembered (the least recently used goes first) and for how long at most.
CAPACITY = 4096
KEEP = timedelta(hours=24)
# A direct message this soon after the tutor's last answer to that member follows it up.
DM_WINDOW = timedelta(minutes=5)

Key = tuple[str, int]


@dataclass(frozen=True)
class _Entry:
    context: AnswerContext
    at: datetime
    asker: tuple[int, int] | None  # (guild, user) of the member answered, so /privacy forget can drop it


class RecentAnswers:
    """Contexts of recent answers by answer message, by thread and by DM member; bounded and expiring.

    Plain and synchronous: the Discord layer and the console call it from the event loop, and nothing in it
    takes longer than a dictionary lookup."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        dm_window: timedelta = DM_WINDOW,
        keep: timedelta = KEEP,
        capacity: int = CAPACITY,
    ) -> None:
        self.clock = clock
        self.dm_window = dm_window
        self.keep = keep
        self.capacity = capacity
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def answered(
        self,
        context: AnswerContext,
        *,
        message_id: int | None = None,
        thread_id: int | None = None,
        dm_user_id: int | None = None,
        asker: tuple[int, int] | None = None,
        at: datetime | None = None,
    ) -> None:
        """Remember an answer: the message it was posted as, the thread it was posted in, the member it was
        sent to in a DM (each that applies); `asker` is the (guild, user) it answered, `at` when it was
        answered (default: now), which the DM window counts from."""
        entry = _Entry(context, at or self.clock(), asker)
        for key in (("message", message_id), ("thread", thread_id), ("dm", dm_user_id)):
            if key[1] is not None:
                self._put((key[0], key[1]), entry)

    def opened_thread(self, thread_id: int, context: AnswerContext) -> None:
        """Remember what a thread the tutor opened is about (a weekly project's submissions thread)."""
        self._put(("thread", thread_id), _Entry(context, self.clock(), None))

    def following(
        self, *, reply_to: int | None = None, thread_id: int | None = None, dm_user_id: int | None = None
    ) -> AnswerContext | None:
        """The context a message follows up, or None: the answer it replies to, else the latest answer in its
        thread (a thread started on an answer shares that answer's id), else, in a DM, the tutor's latest
        answer to its author within the DM window."""
        now = self.clock()
        if reply_to is not None and (found := self._get(("message", reply_to), now, self.keep)):
            return found
        if thread_id is not None:
            # A thread started on an answer has the answer's id, until the tutor answers in it.
            for key in (("thread", thread_id), ("message", thread_id)):
                if found := self._get(key, now, self.keep):
                    return found
        if dm_user_id is not None and self.dm_window > timedelta(0):
            return self._get(("dm", dm_user_id), now, self.dm_window)
        return None

    def is_answer(self, message_id: int) -> bool:
        """Whether a message is one of the answers remembered (a reply to it, or a thread on it, follows it)."""
        return ("message", message_id) in self._entries

    def forget_member(self, guild_id: int, user_id: int) -> None:
        """Drop every answer given to a member (their questions are in the contexts)."""
        for key in [k for k, e in self._entries.items() if e.asker == (guild_id, user_id)]:
            del self._entries[key]

    def _put(self, key: Key, entry: _Entry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def _get(self, key: Key, now: datetime, window: timedelta) -> AnswerContext | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if now - entry.at > min(window, self.keep):
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry.context
