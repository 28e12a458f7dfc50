"""Discord's markup: taken out of members' questions, written into timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.discord_app.markup import timestamp, without_markup


def test_mentions_channels_emoji_and_everyone_are_not_part_of_the_question() -> None:
    assert without_markup("<@42> what is <:wave:7> dropout? <@!42> <#9> <@&5> @everyone @here") == ("what is dropout?")
    assert without_markup("<@42> @every\u200bone") == ""  # a mention hidden with a zero-width space is one too
    assert without_markup("and <a:dance:1>\nL2?") == "and L2?"


def test_timestamp_renders_the_unix_instant() -> None:
    assert timestamp(datetime(2026, 11, 30, 7, 59, tzinfo=UTC)) == "<t:1796025540:F>"
    same_instant_in_cet = datetime(2026, 11, 30, 8, 59, tzinfo=timezone(timedelta(hours=1)))
    assert timestamp(same_instant_in_cet, "R") == "<t:1796025540:R>"
    with pytest.raises(ValueError, match="style"):
        timestamp(datetime(2026, 11, 30, tzinfo=UTC), "X")
    with pytest.raises(ValueError, match="naive"):
        timestamp(datetime(2026, 11, 30))
