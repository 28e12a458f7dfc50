"""The bot in a process of its own, talking to a stand-in in the benchmark's process.

The parent side (`bot_process`) starts a command that runs the bot against the stand-in, times it to
synced commands, a gateway session and a first answer, and stops it as Ctrl-C would.

Run as `python -m benchmarks.bot_process --samples FILE --config FILE`, this module is such a command:
what `roadmap-tutor run` does (`bot.discord_app.main`), plus a loop-lag probe on the bot's event loop
whose samples it writes to FILE on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.lag import LagProbe
from benchmarks.measure import ROOT, Workspace, stop_child, tail
from benchmarks.standin_load import Room, ask_burst
from bot.config import Settings, load_settings
from bot.discord_app.client import TutorBot
from bot.discord_app.main import open_tutor, point_discord_py_at, token_of, weekly_service
from bot.storage import open_store
from standin import DiscordStandin

log = logging.getLogger(__name__)

START_TIMEOUT = 180.0


@dataclass
class RunningBot:
    """A started bot process and when (perf_counter seconds after its start) it reached each stage."""

    process: subprocess.Popen[bytes]
    log_path: Path
    commands_synced: float = 0.0
    gateway_connected: float = 0.0
    first_answer: float = 0.0


async def _wait_until(check: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def bot_process(
    workspace: Workspace,
    standin: DiscordStandin,
    room: Room,
    command: list[str],
    name: str,
    backend: str = "auto",
    knowledge_dirs: list[str] | None = None,
) -> AsyncIterator[RunningBot]:
    """Run `command` + `--config FILE` (settings pointing at the stand-in) until a question is answered;
    `knowledge_dirs` are added to the shipped knowledge (`knowledge.dirs`)."""
    config = workspace.write_config(
        f"config-{name}.yaml",
        model={"backend": backend},
        knowledge={"dirs": knowledge_dirs or []},
        discord={
            "api_base_url": standin.api_base_url,
            "gateway_url": standin.gateway_url,
            "guild_ids": [room.guild.id],
        },
    )
    env = {**os.environ, "DISCORD_TOKEN": standin.valid_token}
    log_path = workspace.root / f"{name}.log"
    with open(log_path, "wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen([*command, "--config", str(config)], stdout=output, stderr=output, env=env, cwd=ROOT)
        bot = RunningBot(process, log_path)
        try:
            exited = process.poll
            await _wait_until(lambda: standin.command_syncs or exited() is not None, START_TIMEOUT, "a command sync")
            if exited() is not None:
                raise RuntimeError(f"the bot exited with {process.returncode}:\n{tail(log_path)}")
            bot.commands_synced = time.perf_counter() - started
            await _wait_until(lambda: standin.connected, START_TIMEOUT, "a gateway session")
            bot.gateway_connected = time.perf_counter() - started
            first = await ask_burst(standin, room, ["what is adam"], 1)
            if first["answered"] != 1:
                raise RuntimeError(f"the bot did not answer: {standin.problems()}\n{tail(log_path)}")
            bot.first_answer = time.perf_counter() - started
            yield bot
        finally:
            await asyncio.to_thread(stop_child, process)


probe = LagProbe()
"""Loop lag of the bot's process, probed from before the tutor loads."""


async def _serve(settings: Settings) -> None:
    # bot.discord_app.main.serve, with a lag probe running on its event loop from the start.
    probe.start()
    token = token_of(settings)
    point_discord_py_at(settings)
    store = open_store(str(settings.database_path))
    await store.open()
    tutor = None
    try:
        tutor = await open_tutor(settings, store)
        async with TutorBot(settings, store, tutor, weekly_service(tutor)) as bot:
            await bot.start(token)
    finally:
        if tutor is not None:
            tutor.close()
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bot_process", description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, required=True, help="where to write the loop-lag samples (JSON)")
    parser.add_argument("--config", type=Path, required=True, help="the bot's settings file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        asyncio.run(_serve(load_settings(args.config)))
    except KeyboardInterrupt:
        pass
    finally:
        args.samples.write_text(json.dumps(probe.samples))


if __name__ == "__main__":
    main()
