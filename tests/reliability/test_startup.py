"""Starting up with something wrong: broken knowledge, a missing or damaged index, a bad token or config,
or a second bot on the same database."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot import serving
from standin import DiscordStandin
from tests.bot.discord_app.conftest import World
from tests.fakes import FakeEncoder, mini_roadmap, write_mini_roadmap
from tests.reliability.conftest import BotFactory, ServeFactory, child_env, roadmap_tutor, run_settings

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Index builds and questions use the word-hashing encoder: no model load, same serving code."""
    encoder = FakeEncoder()
    monkeypatch.setattr(serving, "open_encoder", lambda settings, backend=None: encoder)
    monkeypatch.setattr(serving, "_exporter", lambda settings: None)


def mini_sections(knowledge: Path) -> dict:
    return {"knowledge": {"include_shipped": False, "dirs": [str(knowledge)]}, "retrieval": {"min_confidence": 0.0}}


async def ask(standin: DiscordStandin, world: World, question: str) -> str:
    run = await standin.slash(world.guild.id, world.channel.id, world.alice.id, "ask", {"question": question})
    return (await run.wait_final(timeout=30)).text()


async def test_broken_knowledge_file_at_start_serves_the_last_good_index_and_names_the_file(
    standin: DiscordStandin, world: World, serve_bot: ServeFactory, tmp_path: Path, fake_model: None, caplog
) -> None:
    knowledge = tmp_path / "knowledge"
    write_mini_roadmap(knowledge)
    settings = run_settings(tmp_path / "data", standin, world, mini_sections(knowledge))
    serving.open_answerer(settings)  # a good build, from an earlier start

    broken = mini_roadmap()
    broken["steps"][0]["topics"][0]["hours"] = "lots"
    write_mini_roadmap(knowledge, broken)
    with caplog.at_level(logging.ERROR):
        async with serve_bot(settings, load_index=True):
            assert "Emperor Penguin" in await ask(standin, world, "what is an emperor penguin")
    error = next(r.getMessage() for r in caplog.records if "last good index" in r.getMessage())
    assert str(knowledge / "mini.yaml") in error and "steps[0].topics[0].hours" in error


DAMAGE = {
    "missing": lambda index: shutil.rmtree(index),
    "documents-garbled": lambda index: (index / "current" / "documents.json").write_text("{broken"),
    "vectors-truncated": lambda index: (index / "current" / "index.faiss").write_bytes(b"\0" * 10),
    "manifest-garbled": lambda index: (index / "current" / "manifest.json").write_text("[]"),
    "current-link-dangling": lambda index: shutil.rmtree((index / "current").resolve()),
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
async def test_missing_or_damaged_index_at_start_is_rebuilt(
    standin: DiscordStandin, world: World, serve_bot: ServeFactory, tmp_path: Path, fake_model: None, damage
) -> None:
    knowledge = tmp_path / "knowledge"
    write_mini_roadmap(knowledge)
    settings = run_settings(tmp_path / "data", standin, world, mini_sections(knowledge))
    serving.open_answerer(settings)
    damage(settings.index_dir)

    async with serve_bot(settings, load_index=True):
        assert "Magma Chambers" in await ask(standin, world, "where do magma chambers sit")
    assert serving.read_manifest(settings.index_dir) is not None


# `roadmap-tutor run` that cannot start: one line saying why, a non-zero exit, no traceback.


def run_cli(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*roadmap_tutor(), "run", "--config", str(config)],
        cwd=config.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def the_line(stderr: str) -> str:
    """The one line that is not a timestamped log record."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip() and not LOG_LINE.match(line)]
    assert len(lines) == 1, stderr
    return lines[0]


def write_config(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), **data}))
    return path


@pytest.mark.parametrize("token", [None, "", "   "], ids=["unset", "empty", "blank"])
def test_run_without_a_token_says_so_in_one_line(tmp_path: Path, token: str | None) -> None:
    env = child_env() if token is None else child_env(DISCORD_TOKEN=token)
    done = run_cli(write_config(tmp_path, {}), env)
    assert done.returncode != 0
    assert the_line(done.stderr) == (
        "roadmap-tutor: no Discord token: set the DISCORD_TOKEN environment variable (or discord.token)"
    )


INVALID_CONFIGS = {
    "unknown-key": ("discord:\n  tokn: abc\n", "discord.tokn: unknown key"),
    "unknown-section": ("weekly:\n  day: monday\n", "weekly: unknown key"),
    "wrong-type": ("retrieval:\n  top_k: many\n", "retrieval.top_k: Input should be a valid integer"),
    "out-of-range": ("discord:\n  ask_cooldown:\n    rate: 0\n", "discord.ask_cooldown.rate: Input should be greater"),
    "bad-choice": ("log_level: LOUD\n", "log_level: Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
    "not-yaml": ("discord: [\n  guild_ids: 1\n", "not valid YAML: line 3, column 1: expected ',' or ']'"),
    "not-a-mapping": ("- a\n- b\n", "the top level must be a mapping of keys"),
}


@pytest.mark.parametrize(("text", "says"), INVALID_CONFIGS.values(), ids=INVALID_CONFIGS.keys())
def test_run_with_an_invalid_config_names_the_key_in_one_line(tmp_path: Path, text: str, says: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(text)
    done = run_cli(config, child_env(DISCORD_TOKEN="a-token-that-is-never-used"))
    assert done.returncode != 0
    line = the_line(done.stderr)
    assert line.startswith(f"roadmap-tutor: {config}: ") and says in line, line


# These two need the stand-in to answer while the child runs, hence asyncio's subprocesses.


async def run_cli_async(config: Path, env: dict[str, str]) -> tuple[int, str]:
    child = await asyncio.create_subprocess_exec(
        *roadmap_tutor(),
        "run",
        "--config",
        str(config),
        cwd=config.parent,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(child.communicate(), 120)
    assert child.returncode is not None
    return child.returncode, stderr.decode()


async def test_run_with_a_token_discord_rejects_says_so_without_showing_it(
    standin: DiscordStandin, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path, {"discord": {"api_base_url": standin.api_base_url, "gateway_url": standin.gateway_url}}
    )
    code, stderr = await run_cli_async(config, child_env(DISCORD_TOKEN="MTk4.not-the-bot-token.xyz"))
    assert code != 0
    assert the_line(stderr) == "roadmap-tutor: Discord rejected the token: check DISCORD_TOKEN"
    assert "not-the-bot-token" not in stderr and standin.identify_count == 0


async def test_a_second_bot_on_the_same_database_refuses_to_start(
    standin: DiscordStandin, world: World, start_bot: BotFactory, tmp_path: Path
) -> None:
    async with start_bot():
        config = write_config(
            tmp_path,
            {"discord": {"api_base_url": standin.api_base_url, "gateway_url": standin.gateway_url}},
        )
        config.write_text(config.read_text().replace(str(tmp_path / "data"), str(tmp_path)))
        code, stderr = await run_cli_async(config, child_env(DISCORD_TOKEN=standin.valid_token))
        assert code != 0
        assert the_line(stderr) == (
            f"roadmap-tutor: cannot open the database: another Roadmap Tutor process is using "
            f"{tmp_path / 'tutor.sqlite3'} (pid {os.getpid()}); stop it, or give this process its own database"
        )
        assert standin.identify_count == 1  # the second never reached Discord
        # The first is unaffected.
        assert (
            "as done"
            in (
                await (
                    await standin.slash(
                        world.guild.id, world.channel.id, world.alice.id, "done", {"topic": "regularization"}
                    )
                ).wait_final()
            ).content
        )
