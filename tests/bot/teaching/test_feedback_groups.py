"""What /admin feedback shows: questions grouped by the entry their answer led with, repeats counted once, on pages
that each fit Discord's limits without dropping a group."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.discord_app.teaching import feedback_pages
from bot.storage.base import QuestionFeedback
from bot.teaching import group_feedback
from bot.teaching.feedback import DECLINED
from knowledge.loader import Entry
from standin import limits

T0 = datetime(2026, 12, 1, tzinfo=UTC)
ENTRIES = {"adam": Entry("adam", "concept", "Adam"), "docker": Entry("docker", "concept", "Docker")}


def logged(
    question: str, result: str | None, declined: bool = False, minutes: int = 0, **kw: object
) -> QuestionFeedback:
    return QuestionFeedback(
        question=question,
        top_result_id=result,
        top_topic_id=None,
        declined=declined,
        helpful=kw.get("helpful", None if declined else False),  # type: ignore[arg-type]
        looking_for=kw.get("looking_for"),  # type: ignore[arg-type]
        asked_at=T0 - timedelta(minutes=minutes),
        answer_key=f"{minutes:012x}",
    )


def test_questions_are_grouped_by_the_entry_reached_repeats_counted_and_declined_together() -> None:
    records = [
        logged("adam vs sgd?", "adam", minutes=1, looking_for="a table"),
        logged("Adam  vs SGD", "adam", minutes=2, looking_for="code"),
        logged("what's adam", "adam", minutes=3),
        logged("who painted it", "docker", declined=True, minutes=4),  # declined: whatever it came closest to
        logged("is colab free", None, declined=True, minutes=5),
        logged("gone entry", "removed-entry", minutes=6),
    ]
    groups = group_feedback(records, ENTRIES)
    assert [(g.entry_id, g.title, g.count) for g in groups] == [
        ("adam", "Adam (adam)", 3),
        (DECLINED, "Declined: no answer given", 2),
        ("removed-entry", "removed-entry (no longer in the knowledge)", 1),
    ]
    first = groups[0].questions[0]
    assert (first.text, first.count, first.unhelpful, first.looking_for) == ("adam vs sgd?", 2, 2, ["a table", "code"])


@pytest.mark.parametrize("seed", range(12))
def test_every_page_fits_discord_and_every_group_is_on_exactly_one_page(seed: int) -> None:
    rng = random.Random(seed)
    records = [
        logged(
            f"question {n} " + "why " * rng.randint(0, 60) + "@everyone **bold**",
            f"entry-{rng.randrange(40)}",
            minutes=n,
            looking_for="x" * rng.randint(0, 200) or None,
        )
        for n in range(rng.randint(50, 400))
    ] + [logged(f"declined {n}", None, declined=True, minutes=500 + n) for n in range(rng.randint(0, 30))]
    groups = group_feedback(records, {})
    pages = feedback_pages(groups, helpful=3, unhelpful=400, declined=30, days=30)
    shown = []
    for page in pages:
        payload = page.to_dict()
        assert not limits.validate_message({"embeds": [payload]}, ephemeral_allowed=True)
        assert not any(f["name"] == "…" for f in payload.get("fields", []))  # nothing cut by render.fit
        assert payload["description"].endswith("the entry that answers it.")  # nor the description shortened
        assert "@everyone" not in str(payload).replace("@\u200beveryone", "")
        shown += [f["name"] for f in payload["fields"]]
    assert len(shown) == len(set(shown)) == len(groups)
    assert pages[0].footer.text is not None and pages[0].footer.text.startswith(f"Page 1 of {len(pages)}")


def test_nothing_to_teach_from_says_so() -> None:
    (page,) = feedback_pages([], helpful=2, unhelpful=0, declined=0, days=7)
    assert "Nothing to teach from" in (page.description or "") and not page.fields
