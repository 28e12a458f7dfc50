"""Properties of the text the bot sends and the questions it reads, for any input Hypothesis can find."""

from __future__ import annotations

import re
import unicodedata

import discord
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.answering.normalise import MAX_QUESTION_CHARS, clean_question
from bot.discord_app import render
from bot.discord_app.markup import without_markup
from standin import limits
from standin.state import EVERYONE_MENTION, ROLE_MENTION, USER_MENTION

ELLIPSIS = "…"
# Plain words and spaces, plus everything else Unicode has: limits and cuts are hit both ways.
words = st.text(st.sampled_from("abc xyz\n"), max_size=300) | st.text(max_size=300)
long_text = st.builds(lambda t, n: t * n, words, st.integers(1, 40))
HYPOTHESIS = settings(max_examples=300, deadline=None)


# clip ---------------------------------------------------------------------------------------------


@HYPOTHESIS
@given(text=long_text, limit=st.integers(1, 5000))
def test_clip_fits_and_only_drops_a_marked_tail(text: str, limit: int) -> None:
    clipped = render.clip(text, limit)
    assert len(clipped) <= limit
    if len(text.strip()) <= limit:
        assert clipped == text.strip()
    else:
        assert clipped.endswith(ELLIPSIS)
        assert text.strip().startswith(clipped[: -len(ELLIPSIS)])


# fit ----------------------------------------------------------------------------------------------

short = st.text(max_size=300)
field = st.tuples(long_text, long_text, st.booleans())


@HYPOTHESIS
@given(
    title=st.none() | long_text,
    description=st.none() | long_text,
    fields=st.lists(field, max_size=40),
    footer=st.none() | long_text,
)
@example(title="t" * 300, description="d" * 5000, fields=[("n" * 300, "v" * 2000, False)] * 30, footer="f" * 3000)
@example(title=None, description=None, fields=[("name", "v" * 1000, False)] * 25, footer=None)
def test_fit_keeps_every_embed_within_discords_limits_and_marks_what_it_cut(
    title: str | None, description: str | None, fields: list[tuple[str, str, bool]], footer: str | None
) -> None:
    embed = discord.Embed(title=title, description=description)
    for name, value, inline in fields:
        embed.add_field(name=name, value=value, inline=inline)
    if footer is not None:
        embed.set_footer(text=footer)

    fitted = render.fit(embed).to_dict()

    errors = limits.validate_message({"embeds": [fitted]})
    assert not errors.tree, errors.tree
    assert limits.embed_length(fitted) <= limits.MAX_EMBED_TOTAL
    for original, kept in ((title, fitted.get("title")), (description, fitted.get("description"))):
        assert_cut_is_marked(original, kept)
    shown = fitted.get("fields", [])
    hidden = 0
    if shown and shown[-1]["name"] == ELLIPSIS and re.fullmatch(r"\d+ more not shown", shown[-1]["value"]):
        hidden = int(shown.pop()["value"].split()[0])  # fields that did not fit are counted, never dropped silently
    assert len(shown) + hidden == len(fields)
    for (name, value, _), kept in zip(fields, shown, strict=False):
        assert_cut_is_marked(name, kept["name"], blank="\u200b")
        assert_cut_is_marked(value, kept["value"], blank="\u200b")


def assert_cut_is_marked(original: str | None, kept: str | None, blank: str = "") -> None:
    if not original or not original.strip():
        assert kept in (None, "", blank)
        return
    assert kept is not None
    if kept != original.strip():
        assert kept.endswith(ELLIPSIS) and original.strip().startswith(kept[: -len(ELLIPSIS)]), (original, kept)


# quote --------------------------------------------------------------------------------------------


@HYPOTHESIS
@given(text=st.text(max_size=2000))
def test_quote_is_one_inert_line_within_its_limit(text: str) -> None:
    quoted = render.quote(text)
    assert len(quoted) <= 300
    assert "\n" not in quoted
    assert not any(unicodedata.category(c) in {"Cc", "Cf"} for c in quoted)
    assert quoted == "" or quoted.startswith("> ")


# clean_question -----------------------------------------------------------------------------------

INVISIBLE = {"Cc", "Cf", "Zl", "Zp", "Cs"}  # control, format (zero-width, direction), separators
# Drawn one character at a time so the listed troublemakers come up often, not once in a million.
nasty = st.lists(
    st.characters(codec=None)
    | st.sampled_from(["\u200b", "\u202e", "\u2066", "\ufeff", "\u00ad", "\u061c", "\u180e", "\U000e0041", "@"]),
    max_size=700,
).map("".join)
mentions = st.sampled_from(
    [
        "<@123456789012345678>",
        "<@!45>",
        "<@&678901234567890123>",
        "<#1>",
        "<:wave:42>",
        "<a:dance:7>",
        "@everyone",
        "@here",
    ]
)
questions = st.lists(nasty | mentions, max_size=8).map("".join) | long_text


@HYPOTHESIS
@given(raw=questions)
@example(raw="@every\u200bone what is relu")
@example(raw="ﷺ" * 100)
@example(raw="0\ud800")  # a lone surrogate
def test_clean_question_never_raises_is_idempotent_and_leaves_only_visible_text(raw: str) -> None:
    cleaned = clean_question(raw)
    again = clean_question(cleaned.text)
    assert again.text == cleaned.text
    assert len(cleaned.text) <= MAX_QUESTION_CHARS
    assert not any(unicodedata.category(c) in INVISIBLE for c in cleaned.text), ascii(cleaned.text)
    assert cleaned.text == cleaned.text.strip() and "  " not in cleaned.text


@HYPOTHESIS
@given(raw=questions)
@example(raw="@every\u200bone what is relu")
@example(raw="<@\u200b123> <#\u20661>")
def test_what_the_tutor_reads_from_discord_has_no_mention_left_in_it(raw: str) -> None:
    read = clean_question(without_markup(raw)).text
    assert not any(p.search(read) for p in (USER_MENTION, ROLE_MENTION, EVERYONE_MENTION)), ascii(read)
    assert without_markup(without_markup(raw)) == without_markup(raw)
