"""Two `roadmap-tutor run --shard-ids i` processes on one PostgreSQL database, against the stand-in in this process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from standin import DiscordStandin
from tests.store_backends import PostgresBackend

pytestmark = [pytest.mark.model]

ROOT = Path(__file__).resolve().parents[3]
SHARDS = 2
GUILD_ON_SHARD = {0: 5100 << 22, 1: 5101 << 22}  # (guild_id >> 22) % 2 is 0, then 1
START_TIMEOUT = 300.0


async def wait_until(check: Callable[[], object], what: str, processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not check():
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"a bot process exited with {process.returncode} while waiting for {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


@pytest.fixture
def stop_later() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


async def test_two_shard_processes_serve_their_own_guilds_and_one_keeps_serving_when_the_other_is_killed(
    postgres_backend: PostgresBackend, real_data_dir: Path, tmp_path: Path, stop_later: list[subprocess.Popen[bytes]]
) -> None:
    async with DiscordStandin(shard_count=SHARDS) as standin:
        guilds = [standin.add_guild(f"shard {i}", guild_id=GUILD_ON_SHARD[i]) for i in range(SHARDS)]
        channels = [standin.add_channel(g.id, "general") for g in guilds]
        learners = [standin.add_member(g.id, "learner") for g in guilds]
        config = tmp_path / "config.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "data_dir": str(real_data_dir),  # the index the session built; these processes only read it
                    "storage": {"url": postgres_backend.url},
                    "discord": {
                        "api_base_url": standin.api_base_url,
                        "gateway_url": standin.gateway_url,
                        "guild_ids": [g.id for g in guilds],
                        "shard_count": SHARDS,
                    },
                }
            )
        )
        env = {**os.environ, "DISCORD_TOKEN": standin.valid_token}
        logs = [tmp_path / f"shard-{i}.log" for i in range(SHARDS)]
        for i, log_path in enumerate(logs):
            with open(log_path, "wb") as output:
                command = [sys.executable, "-m", "bot", "run", "--config", str(config), "--shard-ids", str(i)]
                stop_later.append(subprocess.Popen(command, stdout=output, stderr=output, env=env, cwd=ROOT))
        processes = list(stop_later)

        def connected() -> bool:
            live = [s for s in standin.gateway.live_sessions() if s.connection is not None]
            return sorted(s.shard for s in live) == [(i, SHARDS) for i in range(SHARDS)]

        await wait_until(lambda: connected() and all(standin.commands.get(g.id) for g in guilds), "both", processes)
        await asyncio.sleep(0.5)  # GUILD_CREATE handled

        for guild, channel, learner in zip(guilds, channels, learners, strict=True):
            run = await standin.slash(guild.id, channel.id, learner.id, "ask", {"question": "what is adam"})
            assert (await run.wait_final(timeout=60)).embeds

        # 50 simultaneous /done of one topic by one member leave one row.
        runs = await asyncio.gather(
            *(
                standin.slash(guilds[0].id, channels[0].id, learners[0].id, "done", {"topic": "dropout"})
                for _ in range(50)
            )
        )
        replies = [(await run.wait_final(timeout=60)).content for run in runs]
        assert sum("as done. ✅" in reply for reply in replies) == 1
        assert sum("was already done" in reply for reply in replies) == 49
        assert await postgres_backend.count_rows("progress") == 1

        processes[1].send_signal(signal.SIGKILL)
        processes[1].wait(10)
        await asyncio.sleep(0.5)
        for question in ("how does dropout work", "what is xgboost"):
            run = await standin.slash(guilds[0].id, channels[0].id, learners[0].id, "ask", {"question": question})
            assert (await run.wait_final(timeout=60)).embeds  # shard 0's process keeps serving its guild
        progress = await standin.slash(guilds[0].id, channels[0].id, learners[0].id, "progress")
        assert (await progress.wait_final(timeout=60)).embeds
        assert processes[0].poll() is None

        processes[0].send_signal(signal.SIGINT)
        assert processes[0].wait(60) == 0
    text = logs[0].read_text(errors="replace")
    assert "Traceback" not in text and " ERROR " not in text, text[-3000:]
    assert standin.valid_token not in text + logs[1].read_text(errors="replace")
