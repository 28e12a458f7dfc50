"""End to end with two roadmaps loaded: /follow, and /next, /progress, /roadmap, /topic, autocomplete and the
weekly prompts of the roadmap each member or guild chose."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.answering import Answerer
from indexer.build import build_index
from indexer.search import SearchIndex
from knowledge.loader import load_knowledge
from standin import DiscordStandin
from tests.bot.discord_app.conftest import BotFactory, World
from tests.fakes import FakeEncoder, without_asked, write_second_roadmap


@pytest.fixture
def two_roadmap_answerer(tmp_path: Path) -> Answerer:
    kb = without_asked(load_knowledge([write_second_roadmap(tmp_path / "second")]))
    encoder = FakeEncoder()
    build_index(kb, tmp_path / "index", encoder.name, lambda: encoder)
    return Answerer(kb, SearchIndex.load(tmp_path / "index"), encoder)


async def test_a_member_follows_a_roadmap_and_every_command_uses_it(
    standin: DiscordStandin, world: World, start_bot: BotFactory, two_roadmap_answerer: Answerer
) -> None:
    g, c, alice = world.guild.id, world.channel.id, world.alice.id
    async with start_bot(answerer=two_roadmap_answerer):
        offered = await standin.autocomplete(g, c, alice, "follow", "roadmap", "pengu")
        await offered.wait_response()
        assert offered.choices[0] == {"name": "Second Roadmap", "value": "second"}

        follow = await standin.slash(g, c, alice, "follow", {"roadmap": "second"})
        reply = await follow.wait_final()
        assert follow.ephemeral and "You now follow **Second Roadmap**" in reply.content
        assert "Penguins" in json.dumps(reply.embeds)

        topics = await standin.autocomplete(g, c, alice, "done", "topic", "")
        await topics.wait_response()
        assert topics.choices[0] == {"name": "Second Roadmap · Step 1: Penguins", "value": "s-penguins"}

        roadmap = await standin.slash(g, c, alice, "roadmap")
        embed = (await roadmap.wait_final()).embeds[0]
        assert embed["title"] == "Second Roadmap" and len(embed["fields"]) == 2
        other = await standin.slash(g, c, alice, "roadmap", {"name": "intermediate"})
        assert len((await other.wait_final()).embeds[0]["fields"]) == 5

        progress = await standin.slash(g, c, alice, "progress")
        report = (await progress.wait_final()).embeds[0]
        assert report["author"]["name"] == "Second Roadmap" and "0 of 3" in json.dumps(report)

        card = await standin.slash(g, c, alice, "topic", {"name": "Regularization"})
        assert "Second Roadmap" in (await card.wait_final()).embeds[0]["description"]

        # Bob chose nothing: the first roadmap, as before several roadmaps were loaded.
        bobs = await standin.slash(g, c, world.bob.id, "topic", {"name": "Regularization"})
        assert "Intermediate Roadmap" in (await bobs.wait_final()).embeds[0]["description"]

        unknown = await standin.slash(g, c, alice, "follow", {"roadmap": "underwater basket weaving"})
        assert "couldn't find a roadmap" in (await unknown.wait_final()).content
        assert not standin.rejections


async def test_an_admin_sets_the_roadmap_whose_weekly_prompts_are_posted(
    standin: DiscordStandin, world: World, start_bot: BotFactory, two_roadmap_answerer: Answerer
) -> None:
    async with start_bot(answerer=two_roadmap_answerer) as bot:
        run = await standin.slash(
            world.guild.id,
            world.channel.id,
            world.admin.id,
            "admin",
            {"channel": world.channel.id, "weekday": 0, "time": "09:00", "timezone": "UTC", "roadmap": "penguin"},
            subcommand="weekly set",
        )
        reply = await run.wait_final()
        fields = {f["name"]: f["value"] for f in reply.embeds[0]["fields"]}
        assert fields["Prompts from"] == "Second Roadmap"
        settings = await bot.store.get_weekly_settings(world.guild.id)
        assert settings is not None and settings.roadmap_id == "second"
