"""Clean a learner's question before it is searched: invisible characters, length, script. (Discord's mention
markup is taken out by the Discord layer, `bot.discord_app.markup`.)"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

MAX_QUESTION_CHARS = 500

# Controls and line breaks become spaces; format characters (zero-width spaces and joiners, direction marks
# and overrides, soft hyphens, tags) are dropped, so "drop\u200bout" is "dropout", and so are lone
# surrogates, which no UTF-8 encoder (logs, JSON, Discord) accepts.
_SPACED = {"Cc": " ", "Zl": " ", "Zp": " ", "Cf": "", "Cs": ""}
_SPACE = re.compile(r"\s+")

Problem = Literal["empty", "not_english"]


@dataclass(frozen=True)
class CleanQuestion:
    text: str
    problem: Problem | None = None
    truncated: bool = False


def _is_latin_letter(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN")


def visible_text(raw: str) -> str:
    """`raw` in Unicode's compatibility form (NFKC), with controls and line breaks as spaces and invisible
    characters dropped."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(_SPACED.get(unicodedata.category(c), c) for c in text)


def clean_question(raw: str) -> CleanQuestion:
    """Normalise Unicode, drop control and invisible characters, cap the length."""
    text = _SPACE.sub(" ", visible_text(raw)).strip()
    letters = [c for c in text if c.isalpha()]
    if not letters and not any(c.isdigit() for c in text):
        return CleanQuestion("", "empty")
    truncated = len(text) > MAX_QUESTION_CHARS
    if truncated:
        cut = text[:MAX_QUESTION_CHARS]
        text = cut.rsplit(" ", 1)[0] if " " in cut[-40:] else cut
    if letters and sum(map(_is_latin_letter, letters)) < 0.5 * len(letters):
        return CleanQuestion(text, "not_english", truncated)
    return CleanQuestion(text, None, truncated)
