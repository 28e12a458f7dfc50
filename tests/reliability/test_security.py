"""Security: one server's data never shows in another, and the bot token never reaches a log or an error."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
import yaml

from bot.config import ConfigError, load_settings
from standin import DiscordStandin
from standin.constants import InteractionType
from tests.bot.discord_app.conftest import World
from tests.reliability.conftest import BotFactory, ServeFactory, run_settings

SECRET = "MTE5ODc2NTQzMjEwOTg3NjU0.GxYz12.s3cr3t-t0k3n-n3v3r-l0gg3d_abcdefghijkl"


async def slash(standin: DiscordStandin, guild, channel, user, name: str, options=None):  # type: ignore[no-untyped-def]
    run = await standin.slash(guild.id, channel.id, user.id, name, options)
    await run.wait_final(timeout=30)
    return run


async def test_progress_in_one_server_never_shows_in_another(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    a, b = world.guild, world.other_guild
    channel_b = standin.add_channel(b.id, "general")
    alice_in_b = standin.add_member(b.id, "alice", user_id=world.alice.id)  # the same person, in both servers
    async with start_bot() as bot:
        for topic in ("regularization", "evaluation-metrics", "ensemble-methods"):
            await slash(standin, a, world.channel, world.alice, "done", {"topic": topic})
        await slash(standin, a, world.channel, world.alice, "ask", {"question": "what is xgboost"})

        progress = await slash(standin, b, channel_b, alice_in_b, "progress")
        assert "0/4" in progress.final.embeds[0]["description"]
        assert any(
            f["name"] == "Topics done" and f["value"].startswith("0 of") for f in progress.final.embeds[0]["fields"]
        )
        roadmap = await slash(standin, b, channel_b, alice_in_b, "roadmap", {"step": 1})
        assert not any("✅" in f["value"] for f in roadmap.final.embeds[0]["fields"])
        nxt = await slash(standin, b, channel_b, alice_in_b, "next")
        assert "you finished" not in nxt.final.text()
        undo = await standin.autocomplete(b.id, channel_b.id, alice_in_b.id, "undo", "topic", "")
        await undo.wait_response()
        assert not {c["value"] for c in undo.choices or []} & {"regularization", "evaluation-metrics"}
        unmark = await slash(standin, b, channel_b, alice_in_b, "undo", {"topic": "regularization"})
        assert "wasn't marked as done" in unmark.final.content

        # Back in the first server nothing was touched.
        assert len(await bot.store.completed_topics(a.id, world.alice.id)) == 3
        assert await bot.store.completed_topics(b.id, world.alice.id) == {}
        assert (await bot.store.question_stats(b.id, datetime(2000, 1, 1, tzinfo=UTC))).asked == 0


async def test_progress_of_a_member_only_within_the_same_server(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    a, b = world.guild, world.other_guild
    channel_b = standin.add_channel(b.id, "general")
    alice_in_b = standin.add_member(b.id, "alice", user_id=world.alice.id)
    async with start_bot():
        await slash(standin, a, world.channel, world.alice, "done", {"topic": "regularization"})
        await slash(standin, a, world.channel, world.bob, "done", {"topic": "regularization"})

        seen = await slash(standin, a, world.channel, world.bob, "progress", {"member": world.alice.id})
        assert "1/4" in seen.final.embeds[0]["description"]  # same server: allowed
        outsider = await slash(standin, a, world.channel, world.alice, "progress", {"member": world.stranger.id})
        assert "members of this server" in outsider.final.content and outsider.ephemeral
        other_way = await slash(standin, b, channel_b, world.stranger, "progress", {"member": world.bob.id})
        assert "members of this server" in other_way.final.content
        # Alice is in both servers: from the second one her first server's progress stays hidden.
        both = await slash(standin, b, channel_b, world.stranger, "progress", {"member": alice_in_b.id})
        assert "0/4" in both.final.embeds[0]["description"]

        # A forged request claiming Bob is a member of the second server still sees only that server's data.
        payload = standin.builder.command(
            InteractionType.APPLICATION_COMMAND, b.id, channel_b.id, world.stranger.id, "progress",
            {"member": alice_in_b.id}, None,
        )  # fmt: skip
        forged = copy.deepcopy(payload)
        resolved = forged["data"]["resolved"]
        forged["data"]["options"][0]["value"] = str(world.bob.id)
        resolved["users"] = {str(world.bob.id): standin.world.users[world.bob.id].payload()}
        resolved["members"] = {str(world.bob.id): next(iter(resolved["members"].values()))}
        run = await standin._dispatch_interaction(forged, "progress")
        final = await run.wait_final(timeout=30)
        assert "1/4" not in final.text() and not standin.rejections


# The token ------------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def standin() -> AsyncIterator[DiscordStandin]:
    async with DiscordStandin(valid_token=SECRET) as server:
        yield server


@pytest.fixture
def debug_log(tmp_path: Path) -> AsyncIterator[Path]:
    """Everything every logger says, DEBUG and up, written to a file as a deployment would."""
    path = tmp_path / "bot.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()


async def test_the_token_never_appears_in_logs_or_errors(
    standin: DiscordStandin, world: World, serve_bot: ServeFactory, tmp_path: Path, debug_log: Path, monkeypatch
) -> None:
    settings = run_settings(tmp_path, standin, world)
    g, c = world.guild, world.channel
    async with serve_bot(settings) as bot:
        await slash(standin, g, c, world.alice, "ask", {"question": "what is adam"})
        await slash(standin, g, c, world.alice, "done", {"topic": "regularization"})
        await slash(standin, g, c, world.alice, "done", {"topic": "no such topic"})  # a refused command
        standin.fail_next("POST", r"^/webhooks/", 429, {"message": "rate limited", "retry_after": 0.1, "global": False})
        await slash(standin, g, c, world.bob, "ask", {"question": "what is relu"})  # a 429, waited out
        await standin.drop_gateway(abrupt=True)  # the RESUME carries the token, as the IDENTIFY did
        await standin.wait_resumed(timeout=20)

        async def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise RuntimeError("the index exploded")

        monkeypatch.setattr(bot.tutor, "next_steps", broken)  # an unexpected error, logged with its traceback
        failed = await slash(standin, g, c, world.alice, "next")
        assert "Something went wrong" in failed.final.content
        await asyncio.sleep(0.2)

    log = debug_log.read_text(encoding="utf-8")
    for happened in ("IDENTIFY", "RESUME", "rate limited", "the index exploded", "Traceback", "/api/v10/"):
        assert happened in log, happened  # the session really went through all of it, at DEBUG
    assert SECRET not in log
    assert SECRET.split(".")[-1] not in log  # nor its secret part on its own


def test_the_token_never_appears_in_settings_output_or_config_errors(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config.yaml
    config = tmp_path / "mistyped.yaml"
    config.write_text(yaml.safe_dump({"discord": {"token": SECRET, "guild_ids": "not a list"}}))
    with pytest.raises(ConfigError) as error:
        load_settings(config, environ={})
    assert SECRET not in str(error.value)
    config.write_text(yaml.safe_dump({"discord": {"tokn": SECRET}}))
    with pytest.raises(ConfigError) as error:
        load_settings(config, environ={})
    assert SECRET not in str(error.value)

    settings = load_settings(None, environ={"DISCORD_TOKEN": SECRET})
    for shown in (repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())):
        assert SECRET not in shown
