"""Reliability tests: the product's bot against the local Discord stand-in, with faults, bad input and load.

The stand-in and its world come from the Discord end-to-end suite; the bot is started here so a test can
hand it its own store (a read-only file, a full disk) or run it through `serve()`, the path
`roadmap-tutor run` takes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot import serving
from bot.answering import Answerer
from bot.config import Settings
from bot.discord_app import main as discord_main
from bot.discord_app.client import TutorBot, build_bot
from bot.storage import SqliteStore, Store
from indexer.build import build_index
from indexer.search import SearchIndex
from knowledge.loader import KnowledgeBase
from standin import DiscordStandin, InteractionRecord, Message
from standin.harness import pointed_at
from tests.bot.discord_app.conftest import World, bot_settings, connected_bot, standin, world
from tests.fakes import FakeEncoder, without_asked

__all__ = ["standin", "world"]  # fixtures shared with tests/bot/discord_app

REPO = Path(__file__).resolve().parents[2]


def roadmap_tutor() -> list[str]:
    """The installed `roadmap-tutor` command, else the same CLI through `python -m bot`."""
    script = Path(sys.executable).with_name("roadmap-tutor")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child process: this checkout importable, no Discord token unless given."""
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return {**env, **extra}


def embed_text(message: Message) -> str:
    return message.text()


def messages_of(standin: DiscordStandin, run: InteractionRecord) -> list[Message]:
    """Every message the bot left for one interaction (a filled "thinking..." message counts once)."""
    return [m for m in standin.messages if m.interaction_id == run.id and not m.deleted]


@pytest.fixture(scope="session")
def answerer(tmp_path_factory: pytest.TempPathFactory, shipped_kb: KnowledgeBase) -> Answerer:
    """The shipped knowledge with the word-hashing encoder, built once: these tests are about faults, not
    ranking, and the real model's load and index build would cost most of the suite's time budget."""
    encoder = FakeEncoder()
    index_dir = tmp_path_factory.mktemp("reliability-index")
    kb = without_asked(shipped_kb)
    build_index(kb, index_dir, encoder.name, lambda: encoder)
    return Answerer(kb, SearchIndex.load(index_dir), encoder)


BotFactory = Callable[..., contextlib.AbstractAsyncContextManager[TutorBot]]


@pytest.fixture
def start_bot(standin: DiscordStandin, world: World, tmp_path: Path, answerer: Answerer) -> BotFactory:
    """`async with start_bot(store=..., data_dir=..., **discord) as bot`: a connected bot.

    Without `store` the bot gets a SQLite store on `data_dir` (default: the test's tmp_path) with the
    production busy timeout; a given store is opened by the caller and left open.
    """

    @contextlib.asynccontextmanager
    async def start(
        store: Store | None = None,
        data_dir: Path | None = None,
        **discord: Any,
    ) -> AsyncIterator[TutorBot]:
        settings = bot_settings(data_dir or tmp_path, world, **discord)
        own = store is None
        if store is None:
            store = SqliteStore(settings.database_path)
            await store.open()
        try:
            async with connected_bot(standin, settings, store, answerer) as bot:
                yield bot
        finally:
            if own:
                await store.close()

    return start


ServeFactory = Callable[..., contextlib.AbstractAsyncContextManager[TutorBot]]


@pytest.fixture
def serve_bot(standin: DiscordStandin, monkeypatch: pytest.MonkeyPatch, answerer: Answerer) -> ServeFactory:
    """`async with serve_bot(settings) as bot`: `bot.discord_app.main.serve(settings)`, as `roadmap-tutor run`
    calls it, until the block ends. Only the guild-ready wait is shortened (as in FastTutorBot), and the
    answerer is the session's unless `load_index=True` (then `bot.serving.open_answerer` runs)."""
    started: list[TutorBot] = []

    class RecordedTutorBot(TutorBot):
        def __init__(self, *args: Any, **options: Any) -> None:
            super().__init__(*args, guild_ready_timeout=0.05, chunk_guilds_at_startup=False, **options)
            started.append(self)

    monkeypatch.setattr(discord_main, "build_bot", functools.partial(build_bot, bot_class=RecordedTutorBot))

    @contextlib.asynccontextmanager
    async def serve(settings: Settings, load_index: bool = False) -> AsyncIterator[TutorBot]:
        if not load_index:
            monkeypatch.setattr(serving, "open_answerer", lambda settings: answerer)
        with pointed_at(standin):  # serve() points discord.py at the settings' URLs; restore them after
            task = asyncio.create_task(discord_main.serve(settings), name="serve")
            try:
                await standin.wait_for(
                    lambda: task.done() or (started and started[-1].is_ready()), timeout=60, what="serve() ready"
                )
                if task.done():
                    task.result()  # re-raises why serve() stopped
                yield started[-1]
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return serve


def endpoints(standin: DiscordStandin) -> dict[str, str]:
    return {"api_base_url": standin.api_base_url, "gateway_url": standin.gateway_url, "token": standin.valid_token}


def run_settings(
    data_dir: Path, standin: DiscordStandin, world: World, sections: dict[str, Any] | None = None, **discord: Any
) -> Settings:
    """Settings for `serve()` against the stand-in: both guilds, the stand-in's URLs and token."""
    return Settings.model_validate(
        {
            "data_dir": str(data_dir),
            **(sections or {}),
            "discord": {"guild_ids": [world.guild.id, world.other_guild.id], **endpoints(standin), **discord},
        }
    )
