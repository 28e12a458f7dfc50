"""What a store keeps and returns, on SQLite and PostgreSQL alike: progress, questions, settings, the weekly ledger."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.storage import (
    GuildActivity,
    LoggedQuestion,
    SqlStore,
    Store,
    WeeklySettings,
)
from bot.storage.base import QuizAttempt, ReviewCard
from tests.store_backends import StoreBackend

T0 = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
GUILD, OTHER_GUILD = 1001, 2002
ALICE, BOB = 11, 22


@pytest.mark.asyncio
async def test_the_store_satisfies_the_store_protocol(store: SqlStore) -> None:
    assert isinstance(store, Store)


# Progress


@pytest.mark.asyncio
async def test_mark_done_is_idempotent_and_keeps_the_first_time(store: SqlStore) -> None:
    assert await store.mark_done(GUILD, ALICE, "basics", T0) is True
    assert await store.mark_done(GUILD, ALICE, "basics", T0 + timedelta(days=1)) is False
    assert await store.completed_topics(GUILD, ALICE) == {"basics": T0}


@pytest.mark.asyncio
async def test_unmark_done_reports_whether_something_was_removed(store: SqlStore) -> None:
    await store.mark_done(GUILD, ALICE, "basics", T0)
    assert await store.unmark_done(GUILD, ALICE, "basics") is True
    assert await store.unmark_done(GUILD, ALICE, "basics") is False
    assert await store.completed_topics(GUILD, ALICE) == {}


@pytest.mark.asyncio
async def test_times_come_back_as_aware_utc_whatever_zone_went_in(store: SqlStore) -> None:
    berlin_noon = datetime(2024, 5, 6, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    await store.mark_done(GUILD, ALICE, "basics", berlin_noon)
    stored = (await store.completed_topics(GUILD, ALICE))["basics"]
    assert stored == T0
    assert stored.utcoffset() == timedelta(0)


@pytest.mark.asyncio
async def test_naive_datetimes_are_rejected(store: SqlStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.mark_done(GUILD, ALICE, "basics", datetime(2024, 5, 6, 12, 0))


@pytest.mark.asyncio
async def test_fifty_concurrent_mark_done_leave_exactly_one_row(store: SqlStore, store_backend: StoreBackend) -> None:
    results = await asyncio.gather(
        *(store.mark_done(GUILD, ALICE, "basics", T0 + timedelta(seconds=i)) for i in range(50))
    )
    assert results.count(True) == 1
    assert list(await store.completed_topics(GUILD, ALICE)) == ["basics"]
    await store.close()
    assert await store_backend.count_rows("progress") == 1


@pytest.mark.asyncio
async def test_active_days_are_unique_and_sorted(store: SqlStore) -> None:
    for day in (date(2024, 5, 3), date(2024, 5, 1), date(2024, 5, 3), date(2024, 5, 2)):
        await store.record_activity(GUILD, ALICE, day)
    assert await store.active_days(GUILD, ALICE) == [
        date(2024, 5, 1),
        date(2024, 5, 2),
        date(2024, 5, 3),
    ]


# One database per test, not per example: each example is a member of its own, so none sees another's rows.
_EXAMPLE_MEMBERS = itertools.count(1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.booleans(), st.sampled_from(["a", "b", "c", "d"])), max_size=30))
def test_progress_matches_a_simple_set_model(store_backend: StoreBackend, operations: list[tuple[bool, str]]) -> None:
    member = next(_EXAMPLE_MEMBERS)

    async def run() -> None:
        expected: set[str] = set()
        async with store_backend.store() as store:
            for mark, topic in operations:
                if mark:
                    assert await store.mark_done(GUILD, member, topic, T0) == (topic not in expected)
                    expected.add(topic)
                else:
                    assert await store.unmark_done(GUILD, member, topic) == (topic in expected)
                    expected.discard(topic)
            assert set(await store.completed_topics(GUILD, member)) == expected

    asyncio.run(run())


# Persistence and isolation


@pytest.mark.asyncio
async def test_data_survives_close_and_reopen(store_backend: StoreBackend) -> None:
    weekly = WeeklySettings(channel_id=5, weekday=0, time="18:00", timezone="UTC", enabled=True)
    async with store_backend.store() as store:
        await store.mark_done(GUILD, ALICE, "basics", T0)
        await store.record_activity(GUILD, ALICE, T0.date())
        await store.log_question(GUILD, ALICE, "what is a list?", None, True, T0)
        await store.set_ask_channel(GUILD, 77, True)
        await store.save_weekly_settings(GUILD, weekly)
        assert await store.claim_weekly_post(GUILD, "2024-W19", "p1", T0)

    async with store_backend.store() as store:
        assert await store.completed_topics(GUILD, ALICE) == {"basics": T0}
        assert await store.active_days(GUILD, ALICE) == [T0.date()]
        assert await store.unanswered_questions(GUILD, 10) == [LoggedQuestion("what is a list?", None, T0)]
        assert await store.get_ask_channels(GUILD) == {77}
        assert await store.get_weekly_settings(GUILD) == weekly
        # The ledger is what stops a restart from posting the same week twice.
        assert await store.claim_weekly_post(GUILD, "2024-W19", "p2", T0) is False


@pytest.mark.asyncio
async def test_guilds_never_see_each_others_data(store: SqlStore) -> None:
    since = T0 - timedelta(days=7)
    # The same member id in two guilds is two different learners.
    await store.mark_done(GUILD, ALICE, "basics", T0)
    await store.record_activity(GUILD, ALICE, T0.date())
    await store.log_question(GUILD, ALICE, "guild one question", "basics", True, T0)
    await store.log_question(GUILD, ALICE, "answered", "basics", False, T0)
    await store.set_ask_channel(GUILD, 77, True)
    await store.save_weekly_settings(
        GUILD, WeeklySettings(channel_id=5, weekday=0, time="18:00", timezone="UTC", enabled=True)
    )
    await store.claim_weekly_post(GUILD, "2024-W19", "p1", T0)
    await store.record_weekly_message(GUILD, "2024-W19", 5, 500, None)

    assert await store.completed_topics(OTHER_GUILD, ALICE) == {}
    assert await store.active_days(OTHER_GUILD, ALICE) == []
    stats = await store.question_stats(OTHER_GUILD, since)
    assert (stats.asked, stats.unanswered, stats.top_topics) == (0, 0, [])
    assert await store.unanswered_questions(OTHER_GUILD, 10, since) == []
    assert await store.guild_activity(OTHER_GUILD, since) == GuildActivity(0, 0)
    assert await store.get_ask_channels(OTHER_GUILD) == set()
    assert await store.get_weekly_settings(OTHER_GUILD) is None
    assert await store.last_weekly_posts(OTHER_GUILD, 10) == []
    assert await store.used_prompt_ids(OTHER_GUILD) == []
    assert await store.current_weekly_post(OTHER_GUILD) is None
    # ...and the other guild's week is still free to claim.
    assert await store.claim_weekly_post(OTHER_GUILD, "2024-W19", "p1", T0) is True


# Question log


@pytest.mark.asyncio
async def test_question_stats_count_since_and_rank_answered_topics(store: SqlStore) -> None:
    await store.log_question(GUILD, ALICE, "old", "loops", False, T0 - timedelta(days=30))
    for i in range(3):
        await store.log_question(GUILD, ALICE, f"loops {i}", "loops", False, T0)
    for i in range(2):
        await store.log_question(GUILD, BOB, f"lists {i}", "lists", False, T0)
    await store.log_question(GUILD, BOB, "weather?", "lists", True, T0)
    await store.log_question(GUILD, BOB, "no idea", None, True, T0)

    stats = await store.question_stats(GUILD, T0 - timedelta(days=7))

    assert stats.asked == 7
    assert stats.unanswered == 2
    # Abstained questions do not count toward a topic: their closest topic is a guess.
    assert stats.top_topics == [("loops", 3), ("lists", 2)]


@pytest.mark.asyncio
async def test_question_stats_list_at_most_ten_topics(store: SqlStore) -> None:
    for i in range(12):
        for _ in range(i + 1):
            await store.log_question(GUILD, ALICE, "q", f"topic-{i:02d}", False, T0)
    stats = await store.question_stats(GUILD, T0)
    assert [topic for topic, _ in stats.top_topics] == [f"topic-{i:02d}" for i in range(11, 1, -1)]


@pytest.mark.asyncio
async def test_unanswered_questions_are_newest_first_limited_and_since(
    store: SqlStore,
) -> None:
    for hours in range(5):
        await store.log_question(GUILD, ALICE, f"q{hours}", "t", True, T0 + timedelta(hours=hours))
    await store.log_question(GUILD, ALICE, "answered", "t", False, T0 + timedelta(hours=9))

    newest = await store.unanswered_questions(GUILD, limit=2)
    assert [q.question for q in newest] == ["q4", "q3"]
    assert newest[0] == LoggedQuestion("q4", "t", T0 + timedelta(hours=4))
    recent = await store.unanswered_questions(GUILD, 10, since=T0 + timedelta(hours=3))
    assert [q.question for q in recent] == ["q4", "q3"]


@pytest.mark.asyncio
async def test_purge_removes_only_questions_older_than_the_cutoff_in_every_guild(
    store: SqlStore,
) -> None:
    cutoff = T0 - timedelta(days=90)
    await store.log_question(GUILD, ALICE, "ancient", None, True, cutoff - timedelta(days=1))
    await store.log_question(OTHER_GUILD, BOB, "ancient too", None, True, cutoff - timedelta(seconds=1))
    await store.log_question(GUILD, ALICE, "exactly at cutoff", None, True, cutoff)
    await store.log_question(OTHER_GUILD, BOB, "recent", None, True, T0)

    assert await store.purge_questions(cutoff) == 2
    assert await store.purge_questions(cutoff) == 0
    early = T0 - timedelta(days=365)
    assert [q.question for q in await store.unanswered_questions(GUILD, 10, early)] == ["exactly at cutoff"]
    assert [q.question for q in await store.unanswered_questions(OTHER_GUILD, 10, early)] == ["recent"]


@pytest.mark.asyncio
async def test_guild_activity_counts_members_and_completions_since(store: SqlStore) -> None:
    since = T0 - timedelta(days=7)
    await store.mark_done(GUILD, ALICE, "a", T0)
    await store.mark_done(GUILD, ALICE, "b", T0)
    await store.mark_done(GUILD, 33, "a", since - timedelta(days=1))  # before the window
    await store.record_activity(GUILD, ALICE, T0.date())
    await store.record_activity(GUILD, BOB, since.date())  # active on the first day counts
    await store.log_question(GUILD, 44, "q", None, True, T0)  # asking is activity too

    assert await store.guild_activity(GUILD, since) == GuildActivity(active_members=3, topics_completed=2)


# Guild settings


@pytest.mark.asyncio
async def test_ask_channels_can_be_enabled_and_disabled(store: SqlStore) -> None:
    await store.set_ask_channel(GUILD, 1, True)
    await store.set_ask_channel(GUILD, 2, True)
    await store.set_ask_channel(GUILD, 2, True)
    await store.set_ask_channel(GUILD, 1, False)
    await store.set_ask_channel(GUILD, 3, False)
    assert await store.get_ask_channels(GUILD) == {2}


@pytest.mark.asyncio
async def test_weekly_settings_are_replaced_and_listed_when_enabled(store: SqlStore) -> None:
    assert await store.get_weekly_settings(GUILD) is None
    first = WeeklySettings(channel_id=5, weekday=0, time="18:00", timezone="UTC", enabled=True)
    second = WeeklySettings(
        channel_id=6, weekday=4, time="09:30", timezone="Europe/Berlin", enabled=True, roadmap_id="beginner"
    )
    await store.save_weekly_settings(GUILD, first)
    await store.save_weekly_settings(GUILD, second)
    await store.save_weekly_settings(
        OTHER_GUILD,
        WeeklySettings(channel_id=7, weekday=1, time="12:00", timezone="UTC", enabled=False),
    )
    await store.save_weekly_settings(
        3003, WeeklySettings(channel_id=None, weekday=1, time="12:00", timezone="UTC", enabled=True)
    )

    assert await store.get_weekly_settings(GUILD) == second
    assert await store.guilds_with_weekly_enabled() == [(GUILD, second)]


@pytest.mark.parametrize(
    ("weekday", "time", "tz"),
    [
        (7, "18:00", "UTC"),
        (-1, "18:00", "UTC"),
        (0, "24:00", "UTC"),
        (0, "6pm", "UTC"),
        (0, "18:00", ""),
    ],
)
def test_weekly_settings_reject_invalid_values(weekday: int, time: str, tz: str) -> None:
    with pytest.raises(ValueError):
        WeeklySettings(channel_id=1, weekday=weekday, time=time, timezone=tz, enabled=True)


# Weekly ledger


@pytest.mark.asyncio
async def test_two_concurrent_weekly_claims_have_one_winner(store: SqlStore) -> None:
    results = await asyncio.gather(
        store.claim_weekly_post(GUILD, "2024-W19", "p1", T0),
        store.claim_weekly_post(GUILD, "2024-W19", "p2", T0 + timedelta(seconds=1)),
    )
    assert sorted(results) == [False, True]
    posts = await store.last_weekly_posts(GUILD, 10)
    assert len(posts) == 1
    assert posts[0].prompt_id == ("p1" if results[0] else "p2")


@pytest.mark.asyncio
async def test_released_claim_can_be_claimed_again(store: SqlStore) -> None:
    assert await store.claim_weekly_post(GUILD, "2024-W19", "p1", T0)
    assert await store.release_weekly_post(GUILD, "2024-W19") is True
    assert await store.release_weekly_post(GUILD, "2024-W19") is False
    assert await store.last_weekly_posts(GUILD, 10) == []
    assert await store.claim_weekly_post(GUILD, "2024-W19", "p2", T0) is True
    assert await store.claim_weekly_post(GUILD, "2024-W19", "p3", T0) is False


@pytest.mark.asyncio
async def test_recorded_message_becomes_the_current_post(store: SqlStore) -> None:
    assert await store.record_weekly_message(GUILD, "2024-W18", 5, 400, None) is False
    await store.claim_weekly_post(GUILD, "2024-W18", "p1", T0 - timedelta(days=7))
    await store.record_weekly_message(GUILD, "2024-W18", 5, 400, 401)
    await store.claim_weekly_post(GUILD, "2024-W19", "p2", T0)

    # A claim without a message (posting in progress or interrupted) is not current.
    current = await store.current_weekly_post(GUILD)
    assert current is not None
    assert (current.week_key, current.message_id, current.thread_id) == ("2024-W18", 400, 401)
    assert current.posted

    assert await store.record_weekly_message(GUILD, "2024-W19", 5, 500, None) is True
    current = await store.current_weekly_post(GUILD)
    assert current is not None
    assert (current.week_key, current.channel_id, current.message_id) == ("2024-W19", 5, 500)
    assert current.thread_id is None


@pytest.mark.asyncio
async def test_weekly_history_is_newest_first_and_prompts_are_listed_once(
    store: SqlStore,
) -> None:
    for week, prompt in enumerate(["p1", "p2", "p1", "p3"]):
        await store.claim_weekly_post(GUILD, f"2024-W{10 + week}", prompt, T0 + timedelta(weeks=week))

    posts = await store.last_weekly_posts(GUILD, limit=2)
    assert [(p.week_key, p.prompt_id) for p in posts] == [("2024-W13", "p3"), ("2024-W12", "p1")]
    assert posts[0].claimed_at == T0 + timedelta(weeks=3)
    assert not posts[0].posted
    assert await store.used_prompt_ids(GUILD) == ["p1", "p2", "p3"]


# Privacy


def card(topic_id: str, due: datetime = T0 + timedelta(days=2)) -> ReviewCard:
    return ReviewCard(topic_id, 2, None, 2.3065, 2.11, due, T0, reviews=1, lapses=0)


async def populate_two_members_in_two_guilds(store: SqlStore) -> None:
    for guild in (GUILD, OTHER_GUILD):
        for user in (ALICE, BOB):
            tag = f"{guild}-{user}"
            await store.mark_done(guild, user, f"topic-{tag}", T0)
            await store.record_activity(guild, user, T0.date())
            await store.log_question(guild, user, f"question {tag}", f"topic-{tag}", False, T0)
            await store.follow_roadmap(guild, user, f"roadmap-{tag}", T0)
            await store.record_quiz_answer(
                guild, user, QuizAttempt(f"topic-{tag}", "0123456789ab", 1, True, T0), card(f"topic-{tag}")
            )
            await store.save_reminder(guild, user, 18, "Europe/Berlin", 77)
    await store.set_ask_channel(GUILD, 77, True)
    await store.claim_weekly_post(GUILD, "2024-W19", "p1", T0)


@pytest.mark.asyncio
async def test_a_members_roadmap_choice_is_replaced_and_kept_per_guild(store: SqlStore) -> None:
    assert await store.followed_roadmap(GUILD, ALICE) is None
    await store.follow_roadmap(GUILD, ALICE, "beginner", T0)
    await store.follow_roadmap(GUILD, ALICE, "intermediate", T0 + timedelta(days=1))
    await store.follow_roadmap(OTHER_GUILD, ALICE, "beginner", T0)
    assert await store.followed_roadmap(GUILD, ALICE) == "intermediate"
    assert await store.followed_roadmap(OTHER_GUILD, ALICE) == "beginner"
    assert await store.followed_roadmap(GUILD, BOB) is None


@pytest.mark.asyncio
async def test_export_holds_only_that_member_in_that_guild(store: SqlStore) -> None:
    await populate_two_members_in_two_guilds(store)
    await store.log_question(
        GUILD, ALICE, "unanswered one", None, True, T0 + timedelta(hours=1), top_result_id="l1", answer_key="k1"
    )
    assert await store.record_feedback(GUILD, ALICE, "k1", False, "the penalty maths", T0 + timedelta(hours=2))

    exported = await store.export_member(GUILD, ALICE)

    assert json.loads(json.dumps(exported)) == exported
    assert exported == {
        "guild_id": GUILD,
        "user_id": ALICE,
        "progress": [{"topic_id": f"topic-{GUILD}-{ALICE}", "completed_at": T0.isoformat()}],
        "activity_days": [T0.date().isoformat()],
        "questions": [
            {
                "question": f"question {GUILD}-{ALICE}",
                "top_topic_id": f"topic-{GUILD}-{ALICE}",
                "top_result_id": None,
                "answered": True,
                "asked_at": T0.isoformat(),
                "feedback": None,
            },
            {
                "question": "unanswered one",
                "top_topic_id": None,
                "top_result_id": "l1",
                "answered": False,
                "asked_at": (T0 + timedelta(hours=1)).isoformat(),
                "feedback": {
                    "helpful": False,
                    "looking_for": "the penalty maths",
                    "at": (T0 + timedelta(hours=2)).isoformat(),
                },
            },
        ],
        "followed_roadmap": {"roadmap_id": f"roadmap-{GUILD}-{ALICE}", "chosen_at": T0.isoformat()},
        "review_schedule": [
            {
                "topic_id": f"topic-{GUILD}-{ALICE}",
                "due": (T0 + timedelta(days=2)).isoformat(),
                "last_review": T0.isoformat(),
                "stability_days": 2.3065,
                "difficulty": 2.11,
                "fsrs_state": 2,
                "reviews": 1,
                "lapses": 0,
            }
        ],
        "quiz_answers": [
            {
                "topic_id": f"topic-{GUILD}-{ALICE}",
                "question_key": "0123456789ab",
                "choice": 1,
                "correct": True,
                "answered_at": T0.isoformat(),
            }
        ],
        "review_reminder": {
            "hour": 18,
            "timezone": "Europe/Berlin",
            "channel_id": 77,
            "last_day": None,
            "paused_at": None,
        },
    }


@pytest.mark.asyncio
async def test_forget_deletes_only_that_member_in_that_guild(store: SqlStore) -> None:
    await populate_two_members_in_two_guilds(store)
    before_other = await store.export_member(OTHER_GUILD, ALICE)
    before_bob = await store.export_member(GUILD, BOB)

    assert await store.forget_member(GUILD, ALICE) == 7
    assert await store.forget_member(GUILD, ALICE) == 0

    emptied = await store.export_member(GUILD, ALICE)
    assert (emptied["progress"], emptied["activity_days"], emptied["questions"]) == ([], [], [])
    assert emptied["followed_roadmap"] is None and await store.followed_roadmap(GUILD, ALICE) is None
    assert (emptied["review_schedule"], emptied["quiz_answers"], emptied["review_reminder"]) == ([], [], None)
    reminding = {(guild, user) for guild, user, _ in await store.active_reminders()}
    assert reminding == {(OTHER_GUILD, ALICE), (GUILD, BOB), (OTHER_GUILD, BOB)}
    assert await store.export_member(OTHER_GUILD, ALICE) == before_other
    assert await store.export_member(GUILD, BOB) == before_bob
    # Guild-level data is not the member's and stays.
    assert await store.get_ask_channels(GUILD) == {77}
    assert len(await store.last_weekly_posts(GUILD, 10)) == 1
