"""The database is locked, read-only, full or corrupt: progress commands apologise, questions are answered.

Each case starts from progress saved while the database was healthy and checks that it survives.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.discord_app import main as discord_main
from bot.storage import SqliteStore
from bot.storage.errors import StorageBusy, StorageUnavailable
from standin import DiscordStandin, InteractionRecord
from tests.bot.discord_app.conftest import World
from tests.reliability.conftest import BotFactory, ServeFactory, run_settings
from tests.store_backends import PostgresBackend

BUSY = StorageBusy.user_message
UNAVAILABLE = StorageUnavailable.user_message


async def command(standin: DiscordStandin, world: World, name: str, options: dict | None = None, *, user=None):  # type: ignore[no-untyped-def]
    run = await standin.slash(world.guild.id, world.channel.id, (user or world.alice).id, name, options)
    await run.wait_final(timeout=30)
    return run


def apologised(run: InteractionRecord, message: str) -> bool:
    assert run.final is not None
    return run.ephemeral and run.final.content == message and run.ack_latency is not None and run.ack_latency < 3


async def save_progress(standin: DiscordStandin, world: World, start_bot: BotFactory) -> None:
    async with start_bot():
        done = await command(standin, world, "done", {"topic": "regularization"})
        assert done.final is not None and "as done" in done.final.content


async def assert_answers_and_apologises(standin: DiscordStandin, world: World, message: str) -> None:
    """While the fault lasts: /ask and free text are answered, writes apologise, reads show old progress."""
    ask = await command(standin, world, "ask", {"question": "what is xgboost"})
    assert ask.final is not None and "XGBoost" in ask.final.text() and not ask.ephemeral
    question = await standin.user_message(world.channel.id, world.bob.id, "what is adam", mentions_bot=True)
    reply = await standin.wait_for_message(lambda m: m.reply_to == question.id, timeout=30)
    assert "Adam" in reply.text()

    done = await command(standin, world, "done", {"topic": "ensemble-methods"})
    assert apologised(done, message), (done.ack_latency, done.final)
    undo = await command(standin, world, "undo", {"topic": "regularization"})
    assert apologised(undo, message)
    answer = await standin.slash(world.guild.id, world.channel.id, world.bob.id, "ask", {"question": "what is relu"})
    click = await standin.click(await answer.wait_final(timeout=30), "tutor:done:activation-functions", world.bob.id)
    await click.wait_final(timeout=30)
    assert apologised(click, message)
    assert not standin.rejections


async def assert_progress_intact(standin: DiscordStandin, world: World, start_bot: BotFactory) -> None:
    async with start_bot() as bot:
        assert set(await bot.store.completed_topics(world.guild.id, world.alice.id)) == {"regularization"}
        progress = await command(standin, world, "progress")
        assert progress.final is not None and "1/4" in progress.final.embeds[0]["description"]
        done = await command(standin, world, "done", {"topic": "ensemble-methods"})
        assert done.final is not None and "as done" in done.final.content


async def test_locked_database_apologises_in_time_keeps_answering_and_saves_again_after(
    standin: DiscordStandin, world: World, start_bot: BotFactory, tmp_path: Path
) -> None:
    await save_progress(standin, world, start_bot)
    async with start_bot():
        # Another program (a maintenance script, the sqlite3 shell) holds the write lock for a while.
        other = sqlite3.connect(tmp_path / "tutor.sqlite3", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            progress = await command(standin, world, "progress")  # WAL: reads are not blocked by a writer
            assert progress.final is not None and "1/4" in progress.final.embeds[0]["description"]
            # Each write now waits out the busy timeout (5 s) in turn, so only a few are tried here.
            ask, done = await asyncio.gather(
                command(standin, world, "ask", {"question": "what is xgboost"}),
                command(standin, world, "done", {"topic": "ensemble-methods"}, user=world.bob),
            )
            assert ask.final is not None and "XGBoost" in ask.final.text()
            assert apologised(done, BUSY), (done.ack_latency, done.final)
        finally:
            other.execute("ROLLBACK")
            other.close()
        done = await command(standin, world, "done", {"topic": "evaluation-metrics"})
        assert done.final is not None and "as done" in done.final.content  # busy was transient
    assert_rows(tmp_path / "tutor.sqlite3", world, {"regularization", "evaluation-metrics"})


def assert_rows(database: Path, world: World, topics: set[str]) -> None:
    with contextlib.closing(sqlite3.connect(database)) as db:
        rows = db.execute("SELECT topic_id FROM progress WHERE user_id = ?", (world.alice.id,)).fetchall()
    assert {topic for (topic,) in rows} == topics


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """Make `path` unwritable even for root (the tests may run as root, which ignores permission bits)."""
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode != 0:
        pytest.skip("cannot make a file immutable here (needs chattr and root on a filesystem that supports it)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


async def test_read_only_database_apologises_keeps_answering_and_keeps_earlier_progress(
    standin: DiscordStandin, world: World, start_bot: BotFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await save_progress(standin, world, start_bot)
    with immutable(tmp_path / "tutor.sqlite3"):  # e.g. restored from a backup without write permission
        async with start_bot():
            progress = await command(standin, world, "progress")
            assert progress.final is not None and "1/4" in progress.final.embeds[0]["description"]
            with caplog.at_level(logging.WARNING, logger="bot"):
                await assert_answers_and_apologises(standin, world, UNAVAILABLE)
            assert "is read-only" in caplog.text
    await assert_progress_intact(standin, world, start_bot)


@contextlib.contextmanager
def small_disk(where: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs mounted at `where`, so the disk can really fill up."""
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


async def test_full_disk_apologises_keeps_answering_and_saves_again_once_there_is_space(
    standin: DiscordStandin, world: World, start_bot: BotFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        await save_progress(standin, world, lambda **kw: start_bot(data_dir=disk, **kw))
        async with start_bot(data_dir=disk):
            filler = fill(disk)
            with caplog.at_level(logging.WARNING, logger="bot"):
                await assert_answers_and_apologises(standin, world, UNAVAILABLE)
            assert "the disk is full" in caplog.text
            filler.unlink()  # space again: saving works without a restart
            done = await command(standin, world, "done", {"topic": "evaluation-metrics"})
            assert done.final is not None and "as done" in done.final.content
        assert_rows(disk / "tutor.sqlite3", world, {"regularization", "evaluation-metrics"})


async def test_corrupt_database_at_start_still_answers_and_apologises_for_progress(
    standin: DiscordStandin, world: World, serve_bot: ServeFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = run_settings(tmp_path, standin, world, message_content=True)
    async with SqliteStore(settings.database_path) as store:
        for i in range(200):
            await store.log_question(
                world.guild.id, world.alice.id, f"question {i} " * 20, None, False, datetime.now(UTC)
            )
    with settings.database_path.open("r+b") as file:
        file.seek(4096 * 2)
        file.write(b"\xff" * 4096 * 3)
    damaged = settings.database_path.read_bytes()

    with caplog.at_level(logging.WARNING):
        async with serve_bot(settings):
            assert f"database {settings.database_path} is corrupt" in caplog.text
            await assert_answers_and_apologises(standin, world, UNAVAILABLE)
            progress = await command(standin, world, "progress")
            assert apologised(progress, UNAVAILABLE)
            # Ordinary chatter in a channel the bot may read costs a warning at most, never a crash.
            await standin.user_message(world.channel.id, world.bob.id, "hello everyone")
            ask = await command(standin, world, "ask", {"question": "what is dropout"})
            assert ask.final is not None and ask.final.embeds
    assert settings.database_path.read_bytes() == damaged  # left as it was, for the admin to restore or inspect
    assert not [r for r in caplog.records if r.name == "discord.client" and r.levelno >= logging.ERROR]


async def test_a_locked_database_does_not_hold_up_answers(
    standin: DiscordStandin, world: World, start_bot: BotFactory, tmp_path: Path
) -> None:
    async with start_bot():
        other = sqlite3.connect(tmp_path / "tutor.sqlite3", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            run = await standin.slash(
                world.guild.id, world.channel.id, world.alice.id, "ask", {"question": "what is xgboost"}
            )
            # Recording the question waits up to the busy timeout (5 s) per write; the answer must not.
            final = await run.wait_final(timeout=4.0)
            assert "XGBoost" in final.text()
        finally:
            other.execute("ROLLBACK")
            other.close()


async def test_a_postgresql_server_down_at_start_answers_meanwhile_and_saves_progress_once_it_is_back(
    standin: DiscordStandin,
    world: World,
    serve_bot: ServeFactory,
    tmp_path: Path,
    postgres_backend: PostgresBackend,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(discord_main, "REOPEN_EVERY", 0.2)
    settings = run_settings(tmp_path, standin, world, {"storage": {"url": postgres_backend.url}})
    server = postgres_backend.server
    await asyncio.to_thread(server.stop)  # e.g. the database container still starting
    try:
        with caplog.at_level(logging.WARNING):
            async with serve_bot(settings):
                assert "answering questions only, and trying again every 0.2 s" in caplog.text
                ask = await command(standin, world, "ask", {"question": "what is xgboost"})
                assert ask.final is not None and "XGBoost" in ask.final.text()
                done = await command(standin, world, "done", {"topic": "regularization"})
                assert apologised(done, UNAVAILABLE)

                await asyncio.to_thread(server.start)
                for _ in range(50):  # no restart: the bot opens the store once the server answers
                    done = await command(standin, world, "done", {"topic": "regularization"})
                    assert done.final is not None
                    if "as done" in done.final.content:
                        break
                    assert apologised(done, UNAVAILABLE)
                    await asyncio.sleep(0.1)
                assert done.final is not None and "as done" in done.final.content, done.final.content
                assert "progress commands work again" in caplog.text
    finally:
        if not server.running:
            await asyncio.to_thread(server.start)
    assert await postgres_backend.count_rows("progress") == 1
