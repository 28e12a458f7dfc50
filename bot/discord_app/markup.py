"""Discord's own markup: taken out of what members write before the tutor reads it, and written into the
timestamps the bot posts."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.answering.normalise import visible_text

# Member, role and channel mentions, custom emoji, @everyone and @here: none of it is part of a question.
_MARKUP = re.compile(r"<(?:@[!&]?|#)\d+>|<a?:\w+:\d+>|@(?:everyone|here)\b")
_TIMESTAMP_STYLES = frozenset("tTdDfFR")


def without_markup(text: str) -> str:
    """A member's text without Discord's mention and emoji markup, on one line. Invisible characters go first, so
    a mention written with a zero-width space inside ("@every\u200bone") is markup too."""
    return " ".join(_MARKUP.sub(" ", visible_text(text)).split())


def timestamp(moment: datetime, style: str = "F") -> str:
    """Discord's timestamp markup, e.g. '<t:1764576000:F>', which each reader sees in their own time zone."""
    if style not in _TIMESTAMP_STYLES:
        raise ValueError(f"unknown Discord timestamp style {style!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got naive {moment!r}")
    return f"<t:{int(moment.astimezone(UTC).timestamp())}:{style}>"
