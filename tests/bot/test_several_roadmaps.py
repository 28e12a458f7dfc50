"""Several roadmaps loaded at once: a member follows one, and /next, /progress, /roadmap, topic names,
autocomplete, the console and a guild's weekly prompts stay within the roadmap they concern."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot.answering import Answerer
from bot.console import handle_line
from bot.storage import MEMORY, SqliteStore
from bot.storage.base import WeeklySettings
from bot.tutor import Member, Tutor, UnknownRoadmapChoice
from bot.weekly.service import WeeklyService
from indexer.build import build_index
from indexer.search import SearchIndex
from knowledge.loader import KnowledgeBase, load_knowledge
from tests.fakes import FakeEncoder, without_asked, write_second_roadmap

ALICE = Member(1, 10)


@pytest.fixture(scope="module")
def two_roadmaps(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return without_asked(load_knowledge([write_second_roadmap(tmp_path_factory.mktemp("second"))]))


@pytest.fixture
def answerer(two_roadmaps: KnowledgeBase, tmp_path: Path) -> Answerer:
    encoder = FakeEncoder()
    build_index(two_roadmaps, tmp_path / "index", encoder.name, lambda: encoder)
    return Answerer(two_roadmaps, SearchIndex.load(tmp_path / "index"), encoder)


@pytest_asyncio.fixture
async def store() -> AsyncIterator[SqliteStore]:
    async with SqliteStore(MEMORY) as opened:
        yield opened


async def test_a_member_who_follows_a_roadmap_studies_within_it_and_keeps_the_choice(
    answerer: Answerer, store: SqliteStore
) -> None:
    tutor = Tutor(answerer, store)
    assert (await tutor.followed_roadmap(ALICE)).id == "intermediate"  # the first loaded, before any choice
    chosen = await tutor.follow(ALICE, "penguin roadmap")  # by alias, as typed
    assert chosen.id == "second"

    picks = await tutor.next_steps(ALICE)
    assert [p.entry.topic.id for p in picks] == ["s-penguins"]
    report = await tutor.progress(ALICE)
    assert report.roadmap_title == "Second Roadmap" and (report.done, report.total) == (0, 3)
    assert [number for number, _, _ in await tutor.roadmap(ALICE)] == [1, 2]
    # Another roadmap can still be looked at on request.
    shipped = tutor.find_roadmap("intermediate")
    assert len(await tutor.roadmap(ALICE, None, shipped)) == 5
    assert (await tutor.progress(ALICE, shipped)).total == 21

    # A name two roadmaps share means the followed roadmap's topic; the other stays reachable by id.
    assert tutor.topic_card("Regularization", ALICE).entry.topic.id == "s-volcanoes"
    assert tutor.topic_card("Regularization", Member(1, 99)).entry.topic.id == "regularization"
    assert tutor.topic_card("regularization", ALICE).entry.topic.id == "regularization"  # an exact id wins

    # The choice outlives the process: a new tutor on the same store reads it back.
    restarted = Tutor(answerer, store)
    assert (await restarted.followed_roadmap(ALICE)).id == "second"
    tutor.close()
    restarted.close()


async def test_a_chosen_roadmap_outranks_where_most_finished_topics_are(answerer: Answerer, store: SqliteStore) -> None:
    tutor = Tutor(answerer, store)
    await tutor.mark_done(ALICE, "regularization")  # a shipped topic: followed by finished topics
    assert (await tutor.followed_roadmap(ALICE)).id == "intermediate"
    await tutor.follow(ALICE, "second")
    assert (await tutor.followed_roadmap(ALICE)).id == "second"
    await tutor.forget(ALICE)
    assert (await tutor.followed_roadmap(ALICE)).id == "intermediate"
    tutor.close()


async def test_an_unknown_roadmap_is_refused_naming_the_loaded_ones(answerer: Answerer, store: SqliteStore) -> None:
    tutor = Tutor(answerer, store)
    with pytest.raises(UnknownRoadmapChoice, match="Intermediate Roadmap for AI Engineering, Second Roadmap"):
        await tutor.follow(ALICE, "underwater basket weaving")
    assert await store.followed_roadmap(ALICE.guild_id, ALICE.user_id) is None
    tutor.close()


async def test_autocomplete_names_each_topics_roadmap_and_lists_the_followed_one_first(
    answerer: Answerer, store: SqliteStore
) -> None:
    tutor = Tutor(answerer, store)
    await tutor.follow(ALICE, "second")
    first = tutor.topic_choices("", ALICE)
    assert first[0].value == "s-penguins" and first[0].name == "Second Roadmap · Step 1: Penguins"
    shared = tutor.topic_choices("Regularization", ALICE)
    assert [c.value for c in shared[:2]] == ["s-volcanoes", "regularization"]
    assert [c.value for c in tutor.topic_choices("Regularization", Member(1, 99))[:2]] == [
        "regularization",
        "s-volcanoes",
    ]
    assert tutor.roadmap_choices("penguin")[0].value == "second"
    assert [c.value for c in tutor.roadmap_choices("")] == ["intermediate", "second"]
    tutor.close()


async def test_the_console_lists_and_follows_roadmaps(answerer: Answerer, store: SqliteStore) -> None:
    tutor = Tutor(answerer, store)
    listing = await handle_line(tutor, "roadmaps")
    assert "→ Intermediate" in listing and "  Second Roadmap (second)" in listing
    assert await handle_line(tutor, "follow second roadmap") == "You now follow Second Roadmap. Next up: Penguins"
    assert (await handle_line(tutor, "progress")).startswith("Second Roadmap: 0/3 topics done")
    assert "couldn't find a roadmap" in await handle_line(tutor, "follow nothing like it")
    tutor.close()


async def test_a_guild_set_to_one_roadmap_gets_only_its_weekly_prompts(
    two_roadmaps: KnowledgeBase, store: SqliteStore
) -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC
    service = WeeklyService(store, lambda: two_roadmaps, lambda: now)
    await service.save(1, WeeklySettings(5, 0, "09:00", "UTC", True, roadmap_id="second"))
    await service.save(2, WeeklySettings(6, 0, "09:00", "UTC", True))
    posted: dict[int, list[str]] = {1: [], 2: []}
    weeks = len(two_roadmaps.prompts)  # one cycle: every prompt once
    for week in range(weeks):
        now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC) + timedelta(weeks=week)
        for plan in await service.due_posts():
            posted[plan.guild_id].append(plan.prompt.id)
            await service.posted(plan, 100 + week, None)
        if week == 0:  # pausing and resuming keeps the roadmap
            await service.set_enabled(1, False)
            await service.set_enabled(1, True)
    assert posted[1] == ["s-penguin-census"] * weeks
    assert sorted(posted[2]) == sorted(p.id for p in two_roadmaps.prompts)  # every roadmap's prompts take turns
    assert (await service.status(1)).roadmap_title == "Second Roadmap"
    assert (await service.status(2)).roadmap_title is None
