"""Concurrent /ask through the local Discord stand-in, answered by the real bot with the real model.

Measured twice. `in_process`: the bot runs on the benchmark's event loop beside the stand-in, as in
tests/bot/discord_app, so the loop lag is what bot and stand-in together leave for a 5 ms timer.
`own_process`: the bot runs in a process of its own (benchmarks.bot_process) as in production, where
Discord's side costs the bot's loop nothing; the lag probe runs inside the bot's process.
Each burst size runs three times (members never repeat, so no one meets the /ask cooldown).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import statistics
import sys
import time
from collections.abc import AsyncIterator, Sequence

from benchmarks.answering import dev_questions
from benchmarks.bot_process import bot_process
from benchmarks.lag import LagProbe, lag_summary
from benchmarks.measure import JSON, Workspace, target
from benchmarks.standin_load import ACK_LIMIT_SECONDS, Room, ask_burst
from bot.discord_app.client import TutorBot
from bot.discord_app.main import open_tutor, weekly_service
from bot.storage import open_store
from standin import DiscordStandin
from standin.harness import running

log = logging.getLogger(__name__)

LAG_LIMIT_MS = 100.0
REPEATS = 3


class BenchTutorBot(TutorBot):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py waits 5 s before re-identifying (Discord's rate limit); the stand-in has none.
        return None


@contextlib.asynccontextmanager
async def bot_in_process(workspace: Workspace, standin: DiscordStandin, room: Room) -> AsyncIterator[TutorBot]:
    settings = workspace.settings(discord={"guild_ids": [room.guild.id]})
    answerer = workspace.answerer()
    store = open_store(str(settings.database_path))
    await store.open()
    tutor = await open_tutor(settings, store, answerer)
    bot = BenchTutorBot(
        settings, store, tutor, weekly_service(tutor), guild_ready_timeout=0.05, chunk_guilds_at_startup=False
    )
    try:
        async with running(bot, standin, ready_timeout=120):
            await bot.commands_synced.wait()
            yield bot
    finally:
        tutor.close()
        await store.close()


def _combine(bursts: list[JSON]) -> JSON:
    """Repetitions of one burst size: counts added up; latency, lag and throughput as medians over the
    repetitions (the machine's other work makes single runs noisy), with every repetition's value beside."""

    def median(values: list[float]) -> float:
        return round(statistics.median(values), 2)

    return {
        "repetitions": len(bursts),
        "interactions": sum(b["interactions"] for b in bursts),
        "answered": sum(b["answered"] for b in bursts),
        "acknowledged_within_1s": sum(b["acknowledged_within_1s"] for b in bursts),
        "rejections": sum(b["rejections"] for b in bursts),
        "rejection_reasons": sorted({r for b in bursts for r in b["rejection_reasons"]}),
        "answers_per_second": median([b["answers_per_second"] for b in bursts]),
        "ack_ms": {key: median([b["ack_ms"][key] for b in bursts]) for key in ("p50", "p99", "max")},
        "event_loop_lag_ms": {key: median([b["event_loop_lag_ms"][key] for b in bursts]) for key in ("p99", "max")},
        "each": {
            "answers_per_second": [b["answers_per_second"] for b in bursts],
            "ack_p99_ms": [b["ack_ms"]["p99"] for b in bursts],
            "event_loop_lag_max_ms": [b["event_loop_lag_ms"]["max"] for b in bursts],
        },
    }


async def _in_process(workspace: Workspace, sizes: Sequence[int], repeats: int) -> JSON:
    questions = dev_questions()
    bursts: dict[str, list[JSON]] = {str(size): [] for size in sizes}
    async with DiscordStandin() as standin:
        room = Room.create(standin, members=1 + repeats * sum(sizes))
        async with bot_in_process(workspace, standin, room):
            if (await ask_burst(standin, room, questions, 1))["answered"] != 1:
                raise RuntimeError(f"the warm-up question was not answered: {standin.problems()}")
            for _ in range(repeats):
                for size in sizes:
                    log.info("discord load: %d concurrent /ask, bot in this process", size)
                    probe = LagProbe()
                    probe.start()
                    burst = await ask_burst(standin, room, questions, size)
                    await probe.stop()
                    burst["event_loop_lag_ms"] = lag_summary(probe.samples)
                    bursts[str(size)].append(burst)
    return {size: _combine(runs) for size, runs in bursts.items()}


async def _own_process(workspace: Workspace, sizes: Sequence[int], repeats: int) -> JSON:
    questions = dev_questions()
    samples_path = workspace.root / "lag-samples.json"
    command = [sys.executable, "-m", "benchmarks.bot_process", "--samples", str(samples_path)]
    bursts: list[tuple[str, JSON, float, float]] = []
    async with DiscordStandin() as standin:
        room = Room.create(standin, members=1 + repeats * sum(sizes))
        async with bot_process(workspace, standin, room, command, "load-bot"):
            for _ in range(repeats):
                for size in sizes:
                    log.info("discord load: %d concurrent /ask, bot in its own process", size)
                    since = time.monotonic()
                    burst = await ask_burst(standin, room, questions, size)
                    bursts.append((str(size), burst, since, time.monotonic()))
    samples = [(at, lag) for at, lag in json.loads(samples_path.read_text())]
    for _, burst, since, until in bursts:
        burst["event_loop_lag_ms"] = lag_summary(samples, since, until)
    return {str(size): _combine([b for s, b, _, _ in bursts if s == str(size)]) for size in sizes}


def _targets(bursts: JSON) -> JSON:
    targets: JSON = {}
    for size, burst in bursts.items():
        lag = burst["event_loop_lag_ms"]["max"]
        targets[f"ack_p99_{size}"] = target(burst["ack_ms"]["p99"], ACK_LIMIT_SECONDS * 1000, "ms", strict=True)
        targets[f"all_answered_{size}"] = target(burst["interactions"] - burst["answered"], 0, "unanswered")
        targets[f"event_loop_lag_max_{size}"] = target(lag, LAG_LIMIT_MS, "ms", strict=True)
    if "50" in bursts:
        late = bursts["50"]["interactions"] - bursts["50"]["acknowledged_within_1s"]
        targets["all_acknowledged_within_1s_50"] = target(late, 0, "late")
    return targets


def run(workspace: Workspace, quick: bool) -> JSON:
    sizes = (50,) if quick else (50, 200)
    repeats = 1 if quick else REPEATS
    # The answerer loads before the loop starts, so the bursts measure serving, not model loading.
    workspace.answerer()
    in_process = asyncio.run(_in_process(workspace, sizes, repeats))
    own_process = asyncio.run(_own_process(workspace, sizes, repeats))
    return {
        "in_process": in_process,
        "own_process": own_process,
        "targets": {
            **{f"in_process.{name}": check for name, check in _targets(in_process).items()},
            **{f"own_process.{name}": check for name, check in _targets(own_process).items()},
        },
    }
