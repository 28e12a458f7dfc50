"""Asking the bot through the local Discord stand-in: a room of members, and bursts of concurrent /ask."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.measure import JSON, ms, percentile
from standin import DiscordStandin, InteractionRecord
from standin.state import Channel, Guild, Member

ACK_LIMIT_SECONDS = 1.0
ANSWER_TIMEOUT = 600.0


@dataclass
class Room:
    """A guild, the channel questions are asked in, and members who each ask once, so that no one
    reaches the per-member cooldown (discord.ask_cooldown) and every /ask is answered."""

    guild: Guild
    channel: Channel
    members: list[Member]

    @classmethod
    def create(cls, standin: DiscordStandin, members: int) -> Room:
        guild = standin.add_guild("Benchmark")
        channel = standin.add_channel(guild.id, "ask")
        return cls(guild, channel, [standin.add_member(guild.id, f"learner{i}") for i in range(members)])

    def take(self, count: int) -> list[Member]:
        taken, self.members = self.members[:count], self.members[count:]
        if len(taken) < count:
            raise RuntimeError("the room ran out of fresh members")
        return taken


async def _answers(records: Sequence[InteractionRecord], timeout: float) -> int:
    """Waits until every interaction has its answer (or `timeout` passes); how many were answered.

    One poller rather than a `wait_final` per interaction: those all wake on every message the stand-in
    records, which with hundreds of them would load the event loop with the harness's own work.
    """
    pending = list(records)
    deadline = time.perf_counter() + timeout
    while pending and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
        pending = [r for r in pending if r.final is None]
    return len(records) - len(pending)


async def ask_burst(standin: DiscordStandin, room: Room, questions: Sequence[str], count: int) -> JSON:
    """`count` fresh members each run /ask at once; waits for every answer and describes how it went.

    Acknowledgement latency is the stand-in's: from writing INTERACTION_CREATE to the bot's socket to
    receiving the bot's initial response (its defer).
    """
    standin.clear_records()
    members = room.take(count)
    asked = list(itertools.islice(itertools.cycle(questions), count))
    started = time.perf_counter()
    records: list[InteractionRecord] = await asyncio.gather(
        *(
            standin.slash(room.guild.id, room.channel.id, member.id, "ask", {"question": question})
            for member, question in zip(members, asked, strict=True)
        )
    )
    answered = await _answers(records, ANSWER_TIMEOUT)
    elapsed = time.perf_counter() - started
    acks = [r.ack_latency for r in records if r.ack_latency is not None]
    return {
        "interactions": count,
        "answered": answered,
        "seconds": round(elapsed, 2),
        "answers_per_second": round(answered / elapsed, 2),
        "ack_ms": {
            "p50": ms(percentile(acks, 50)),
            "p99": ms(percentile(acks, 99)),
            "max": ms(max(acks, default=float("nan"))),
        },
        "acknowledged": len(acks),
        "acknowledged_within_1s": sum(1 for a in acks if a < ACK_LIMIT_SECONDS),
        "rejections": len(standin.rejections),
        "rejection_reasons": sorted({f"{r.status}/{r.code} {r.reason}" for r in standin.rejections})[:5],
    }
