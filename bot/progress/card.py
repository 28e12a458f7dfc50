"""The progress card: a PNG of a member's steps (a bar per step, a segment per topic), streak and due reviews.

Drawn with Pillow, which is CPU work: callers run `render_card` off the event loop (`Tutor.progress_card`).
The picture is a few tens of kilobytes, far inside Discord's attachment limit (`CARD_MAX_BYTES` is checked).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from bot.quiz.schedule import TopicState

WIDTH = 800
MARGIN = 32
HEADER = 118
ROW = 58
FOOTER_LINE = 26
# Discord takes 10 MiB per attachment from any bot; a card is ~30 KB, so this only guards a bug.
CARD_MAX_BYTES = 10 * 1024 * 1024

BACKGROUND = (30, 31, 34)
PANEL = (43, 45, 49)
TEXT = (242, 243, 245)
MUTED = (181, 186, 193)
COLOURS: dict[TopicState, tuple[int, int, int]] = {
    "mastered": (240, 178, 50),  # gold
    "done": (67, 181, 129),  # green
    "due": (250, 120, 70),  # orange: done once, fading now
    "learning": (88, 101, 242),  # blurple: quizzed, not finished
    "new": (78, 80, 88),  # grey
}
LEGEND: tuple[tuple[TopicState, str], ...] = (
    ("mastered", "mastered"),
    ("done", "done"),
    ("due", "due for review"),
    ("learning", "learning"),
    ("new", "not started"),
)


@dataclass(frozen=True)
class CardStep:
    number: int
    title: str
    topics: tuple[TopicState, ...]  # one per topic, in roadmap order


@dataclass(frozen=True)
class ProgressCard:
    """What the card shows; built by the tutor from the member's progress and review cards."""

    name: str
    roadmap: str
    steps: tuple[CardStep, ...]
    done: int
    total: int
    streak_days: int
    mastered: int
    due: tuple[str, ...]  # titles of the topics due for review, most overdue first


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's bundled font: no font file to ship or find, the same picture on every machine.
    return ImageFont.load_default(size)


def _fit(draw: ImageDraw.ImageDraw, text: str, size: int, width: float) -> str:
    """`text` cut with an ellipsis to fit `width` pixels."""
    font = _font(size)
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def card_height(card: ProgressCard) -> int:
    return HEADER + ROW * len(card.steps) + 20 + FOOTER_LINE * 3 + MARGIN


def render_card(card: ProgressCard) -> bytes:
    """The card as PNG bytes."""
    image = Image.new("RGB", (WIDTH, card_height(card)), BACKGROUND)
    draw = ImageDraw.Draw(image)
    inner = WIDTH - 2 * MARGIN
    draw.text((MARGIN, 24), _fit(draw, f"Progress of {card.name}", 30, inner), font=_font(30), fill=TEXT)
    summary = f"{card.roadmap} · {card.done}/{card.total} topics done · {card.mastered} mastered"
    draw.text((MARGIN, 66), _fit(draw, summary, 18, inner), font=_font(18), fill=MUTED)
    _legend(draw, MARGIN, 94)
    y = HEADER
    for step in card.steps:
        _step_row(draw, step, y)
        y += ROW
    y += 20
    streak = f"Streak: {card.streak_days} active day{'s' if card.streak_days != 1 else ''} in a row"
    draw.text((MARGIN, y), streak, font=_font(20), fill=TEXT)
    due = f"Reviews due: {len(card.due)}"
    if card.due:
        due += " · " + ", ".join(card.due[:4]) + (f" and {len(card.due) - 4} more" if len(card.due) > 4 else "")
    colour = COLOURS["due"] if card.due else TEXT
    draw.text((MARGIN, y + FOOTER_LINE), _fit(draw, due, 20, inner), font=_font(20), fill=colour)
    hint = "/quiz to review · /review for dates · /progress card:False for text only"
    draw.text((MARGIN, y + 2 * FOOTER_LINE + 6), _fit(draw, hint, 15, inner), font=_font(15), fill=MUTED)
    out = io.BytesIO()
    # A few flat colours and anti-aliased text: 64 palette colours look the same, and the PNG is a third of
    # the size and faster to encode than true colour.
    image.quantize(colors=64, method=Image.Quantize.FASTOCTREE).save(out, format="PNG", compress_level=6)
    data = out.getvalue()
    if len(data) > CARD_MAX_BYTES:  # pragma: no cover - a card is tens of kilobytes
        raise ValueError(f"progress card is {len(data)} bytes, over {CARD_MAX_BYTES}")
    return data


def _legend(draw: ImageDraw.ImageDraw, x: int, y: int) -> None:
    for state, label in LEGEND:
        draw.rounded_rectangle((x, y + 3, x + 12, y + 15), radius=3, fill=COLOURS[state])
        draw.text((x + 18, y), label, font=_font(15), fill=MUTED)
        x += 18 + int(draw.textlength(label, font=_font(15))) + 22


def _step_row(draw: ImageDraw.ImageDraw, step: CardStep, y: int) -> None:
    finished = sum(state in ("done", "due", "mastered") for state in step.topics)
    count = f"{finished}/{len(step.topics)}"
    count_width = draw.textlength(count, font=_font(18))
    label = _fit(draw, f"Step {step.number} · {step.title}", 18, WIDTH - 2 * MARGIN - count_width - 16)
    draw.text((MARGIN, y), label, font=_font(18), fill=TEXT)
    draw.text((WIDTH - MARGIN - count_width, y), count, font=_font(18), fill=MUTED)
    _bar(draw, step.topics, MARGIN, y + 26, WIDTH - 2 * MARGIN, 18)


def _bar(draw: ImageDraw.ImageDraw, states: Sequence[TopicState], x: int, y: int, width: int, height: int) -> None:
    """A segment per topic, with a gap between segments."""
    draw.rounded_rectangle((x, y, x + width, y + height), radius=6, fill=PANEL)
    if not states:
        return
    gap = 4
    segment = (width - gap * (len(states) - 1)) / len(states)
    for number, state in enumerate(states):
        left = x + number * (segment + gap)
        draw.rounded_rectangle((left, y, left + segment, y + height), radius=6, fill=COLOURS[state])
