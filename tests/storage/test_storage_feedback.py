"""Feedback on answers, kept with the question in the log: only its asker's, per guild, purged and forgotten with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.storage import SqliteStore

T0 = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
GUILD, OTHER_GUILD = 1001, 2002
ALICE, BOB = 11, 22

pytestmark = pytest.mark.asyncio


async def test_feedback_is_kept_only_for_the_member_who_asked_in_that_guild(store: SqliteStore) -> None:
    await store.log_question(GUILD, ALICE, "what is lasso", "regularization", False, T0, answer_key="a1")
    assert not await store.record_feedback(GUILD, BOB, "a1", False, "not mine", T0)
    assert not await store.record_feedback(OTHER_GUILD, ALICE, "a1", False, "wrong guild", T0)
    assert not await store.record_feedback(GUILD, ALICE, "nope", False, None, T0)
    assert (await store.feedback_summary(GUILD, T0, 10)).unhelpful == 0

    assert await store.record_feedback(GUILD, ALICE, "a1", False, "the maths", T0 + timedelta(minutes=1))
    summary = await store.feedback_summary(GUILD, T0, 10)
    assert (summary.helpful, summary.unhelpful, summary.declined) == (0, 1, 0)
    (question,) = summary.questions
    assert (question.question, question.helpful, question.looking_for) == ("what is lasso", False, "the maths")


async def test_an_unhelpful_mark_without_text_keeps_what_was_written_and_helpful_drops_it(store: SqliteStore) -> None:
    await store.log_question(GUILD, ALICE, "what is lasso", "regularization", False, T0, answer_key="a1")
    await store.record_feedback(GUILD, ALICE, "a1", False, "x" * 250, T0)
    (question,) = (await store.feedback_summary(GUILD, T0, 10)).questions
    assert question.looking_for == "x" * 200  # clipped to what Discord's form allows

    await store.record_feedback(GUILD, ALICE, "a1", False, None, T0)
    (question,) = (await store.feedback_summary(GUILD, T0, 10)).questions
    assert question.looking_for == "x" * 200

    await store.record_feedback(GUILD, ALICE, "a1", True, None, T0)
    summary = await store.feedback_summary(GUILD, T0, 10)
    assert (summary.helpful, summary.unhelpful, summary.questions) == (1, 0, [])
    exported = (await store.export_member(GUILD, ALICE))["questions"][0]["feedback"]
    assert exported == {"helpful": True, "looking_for": None, "at": T0.isoformat()}


async def test_the_summary_lists_declined_and_unhelpful_questions_of_the_window_newest_first(
    store: SqliteStore,
) -> None:
    await store.log_question(GUILD, ALICE, "too old", None, True, T0 - timedelta(days=40))
    await store.log_question(GUILD, ALICE, "declined", "cloud-platforms", True, T0, top_result_id="aws-sagemaker")
    await store.log_question(GUILD, ALICE, "fine", "adam", False, T0 + timedelta(hours=1), answer_key="f")
    await store.log_question(GUILD, BOB, "meh", "adam", False, T0 + timedelta(hours=2), answer_key="m")
    await store.log_question(OTHER_GUILD, BOB, "elsewhere", None, True, T0)
    await store.record_feedback(GUILD, ALICE, "f", True, None, T0)
    await store.record_feedback(GUILD, BOB, "m", False, "an example", T0)

    summary = await store.feedback_summary(GUILD, T0 - timedelta(days=30), 10)

    assert (summary.helpful, summary.unhelpful, summary.declined) == (1, 1, 1)
    assert [(q.question, q.declined, q.top_result_id) for q in summary.questions] == [
        ("meh", False, None),
        ("declined", True, "aws-sagemaker"),
    ]
    assert len((await store.feedback_summary(GUILD, T0 - timedelta(days=30), 1)).questions) == 1


async def test_feedback_goes_with_its_question_in_the_purge_and_in_forget(store: SqliteStore) -> None:
    await store.log_question(GUILD, ALICE, "old", "adam", False, T0 - timedelta(days=100), answer_key="o")
    await store.log_question(GUILD, ALICE, "new", "adam", False, T0, answer_key="n")
    await store.log_question(GUILD, BOB, "bob's", "adam", False, T0, answer_key="b")
    for user, key in ((ALICE, "o"), (ALICE, "n"), (BOB, "b")):
        await store.record_feedback(GUILD, user, key, False, f"text {key}", T0)

    assert await store.purge_questions(T0 - timedelta(days=90)) == 1
    assert not await store.record_feedback(GUILD, ALICE, "o", True, None, T0)  # purged: nothing to mark
    assert [q.looking_for for q in (await store.feedback_summary(GUILD, T0 - timedelta(days=200), 10)).questions] == [
        "text b",
        "text n",
    ]

    await store.forget_member(GUILD, ALICE)
    summary = await store.feedback_summary(GUILD, T0 - timedelta(days=200), 10)
    assert [q.looking_for for q in summary.questions] == ["text b"]
    assert (await store.export_member(GUILD, ALICE))["questions"] == []
