"""Quiz buttons under load and the progress card's drawing time.

`buttons`: 200 members each have a quiz question open (/quiz, in small batches beforehand), then all click an
answer at the same moment, through the local Discord stand-in, against the real bot. Measured twice, like
benchmarks.discord_load: `in_process` (the bot on the benchmark's event loop beside the stand-in, the loop lag
probed there) and `own_process` (the bot in a process of its own, as in production, the lag probed inside
it). Acknowledgement is the bot's defer of the click; an answer counts once the question message shows it.

`card`: `render_card` of a member half-way through the shipped roadmap, timed over many renders, with the
PNG's size against Discord's attachment limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import time
from collections.abc import AsyncIterator, Sequence
from itertools import cycle

from benchmarks.bot_process import bot_process
from benchmarks.discord_load import BenchTutorBot
from benchmarks.lag import LagProbe, lag_summary
from benchmarks.measure import JSON, ROOT, Workspace, ms, percentile, target
from benchmarks.standin_load import ACK_LIMIT_SECONDS, Room
from bot.discord_app.client import TutorBot
from bot.discord_app.main import open_tutor, weekly_service
from bot.progress.card import CARD_MAX_BYTES, CardStep, ProgressCard, render_card
from bot.storage import open_store
from knowledge.loader import KnowledgeBase, load_knowledge
from standin import DiscordStandin, InteractionRecord, Message
from standin.harness import running

log = logging.getLogger(__name__)

LAG_LIMIT_MS = 100.0
CARD_P50_LIMIT_MS = 50.0
MEMBERS = 200
# /quiz run this many at once while preparing (not measured): the bot opens its HTTP connections then, as a
# bot that has been serving a while has them (see "The first burst of 200 is slower" in docs/BENCHMARKS.md).
OPEN_BATCH = 200
TEST_QUIZZES = ROOT / "tests" / "quizzes"


def quiz_knowledge() -> tuple[KnowledgeBase, list[str]]:
    """The knowledge the bot quizzes from, and the extra knowledge dirs that give it: the shipped quizzes when
    there are any, else the test questions (tests/quizzes) added as an admin would add a quiz file."""
    shipped = load_knowledge()
    if shipped.quizzes:
        return shipped, []
    dirs = [str(TEST_QUIZZES)]
    return load_knowledge(dirs), dirs


async def open_questions(standin: DiscordStandin, room: Room, members: int, topics: Sequence[str]) -> list[Message]:
    """`members` fresh members each run /quiz on one of `topics`; their question messages, in order."""
    chosen = room.take(members)
    questions: list[Message] = []
    for start in range(0, members, OPEN_BATCH):
        batch = list(zip(chosen[start : start + OPEN_BATCH], cycle(topics), strict=False))
        runs = await asyncio.gather(
            *(standin.slash(room.guild.id, room.channel.id, m.id, "quiz", {"topic": t}) for m, t in batch)
        )
        questions += await asyncio.gather(*(r.wait_final(timeout=120) for r in runs))
    return questions


async def click_burst(standin: DiscordStandin, kb: KnowledgeBase, questions: Sequence[Message]) -> JSON:
    """Every member clicks an answer at once (the right one for half of them); waits until every question
    shows its answer."""
    clicks = []
    for number, message in enumerate(questions):
        buttons = message.components[0]["components"]
        _, _, user, key, _, _ = buttons[0]["custom_id"].split(":")  # quiz:a:USER:KEY:CHOICE:MODE
        entry = kb.quiz_question(key)
        assert entry is not None, key
        choice = entry.item.answer if number % 2 == 0 else entry.item.tempting
        clicks.append((message, buttons[choice]["custom_id"], int(user)))
    standin.clear_records()
    started = time.perf_counter()
    records: list[InteractionRecord] = await asyncio.gather(
        *(standin.click(message, custom_id, user) for message, custom_id, user in clicks)
    )

    def answered() -> int:
        return sum(1 for m in questions if m.embeds and m.embeds[0]["title"].startswith(("✅", "❌")))

    deadline = time.perf_counter() + 300
    while answered() < len(questions) and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    acks = [r.ack_latency for r in records if r.ack_latency is not None]
    return {
        "clicks": len(records),
        "answered": answered(),
        "seconds": round(elapsed, 2),
        "answers_per_second": round(answered() / elapsed, 1),
        "ack_ms": {
            "p50": ms(percentile(acks, 50)),
            "p99": ms(percentile(acks, 99)),
            "max": ms(max(acks, default=float("nan"))),
        },
        "acknowledged_within_1s": sum(1 for a in acks if a < ACK_LIMIT_SECONDS),
        "rejections": len(standin.rejections),
        "rejection_reasons": sorted({f"{r.status}/{r.code} {r.reason}" for r in standin.rejections})[:5],
    }


def _topics(kb: KnowledgeBase) -> list[str]:
    return [topic for topic, questions in kb.quizzes.items() if questions]


@contextlib.asynccontextmanager
async def _bot_here(
    workspace: Workspace, standin: DiscordStandin, room: Room, dirs: list[str]
) -> AsyncIterator[TutorBot]:
    from bot.serving import open_answerer

    workspace.ensure_index()  # quizzes are not indexed: the shipped index serves
    settings = workspace.settings(discord={"guild_ids": [room.guild.id]}, knowledge={"dirs": dirs})
    answerer = await asyncio.to_thread(open_answerer, settings)
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


async def _in_process(workspace: Workspace, members: int) -> JSON:
    kb, dirs = quiz_knowledge()
    async with DiscordStandin() as standin:
        room = Room.create(standin, members=members)
        async with _bot_here(workspace, standin, room, dirs):
            questions = await open_questions(standin, room, members, _topics(kb))
            log.info("quiz buttons: %d members click at once, bot in this process", members)
            probe = LagProbe()
            probe.start()
            burst = await click_burst(standin, kb, questions)
            await probe.stop()
            burst["event_loop_lag_ms"] = lag_summary(probe.samples)
    return burst


async def _own_process(workspace: Workspace, members: int) -> JSON:
    kb, dirs = quiz_knowledge()
    samples_path = workspace.root / "quiz-lag-samples.json"
    command = [sys.executable, "-m", "benchmarks.bot_process", "--samples", str(samples_path)]
    async with DiscordStandin() as standin:
        room = Room.create(standin, members=members + 1)  # one asks the bot_process warm-up question
        async with bot_process(workspace, standin, room, command, "quiz-bot", knowledge_dirs=dirs):
            questions = await open_questions(standin, room, members, _topics(kb))
            log.info("quiz buttons: %d members click at once, bot in its own process", members)
            since = time.monotonic()
            burst = await click_burst(standin, kb, questions)
            until = time.monotonic()
    samples = [(at, lag) for at, lag in json.loads(samples_path.read_text())]
    burst["event_loop_lag_ms"] = lag_summary(samples, since, until)
    return burst


def sample_card() -> ProgressCard:
    """A member half-way through the shipped roadmap: every kind of topic state, reviews due, a long title."""
    roadmap = load_knowledge().roadmaps[0]
    states = cycle(["mastered", "done", "due", "done", "learning", "new", "new"])
    steps = tuple(
        CardStep(step.number, step.title, tuple(next(states) if step.number <= 3 else "new" for _ in step.topics))
        for step in roadmap.steps
    )
    return ProgressCard(
        name="a learner with a rather long display name",
        roadmap=roadmap.title,
        steps=steps,
        done=9,
        total=sum(len(s.topics) for s in roadmap.steps),
        streak_days=12,
        mastered=2,
        due=("Model Evaluation Metrics", "Loss Functions", "PyTorch"),
    )


def card_figures(renders: int) -> JSON:
    card = sample_card()
    render_card(card)  # the font is loaded once per process
    times, size = [], 0
    for _ in range(renders):
        started = time.perf_counter()
        size = len(render_card(card))
        times.append(time.perf_counter() - started)
    return {
        "renders": renders,
        "ms": {"p50": ms(percentile(times, 50)), "p90": ms(percentile(times, 90)), "max": ms(max(times))},
        "bytes": size,
        "attachment_limit_bytes": CARD_MAX_BYTES,
    }


def _burst_targets(burst: JSON) -> JSON:
    return {
        "ack_p99": target(burst["ack_ms"]["p99"], ACK_LIMIT_SECONDS * 1000, "ms", strict=True),
        "all_answered": target(burst["clicks"] - burst["answered"], 0, "unanswered"),
        "event_loop_lag_max": target(burst["event_loop_lag_ms"]["max"], LAG_LIMIT_MS, "ms", strict=True),
    }


def run(workspace: Workspace, quick: bool) -> JSON:
    members = 50 if quick else MEMBERS
    card = card_figures(20 if quick else 200)
    in_process = asyncio.run(_in_process(workspace, members))
    own_process = asyncio.run(_own_process(workspace, members))
    return {
        "members": members,
        "quizzes_from": "shipped" if not quiz_knowledge()[1] else "tests/quizzes (no shipped quiz file yet)",
        "buttons": {"in_process": in_process, "own_process": own_process},
        "card": card,
        "targets": {
            **{f"in_process.{name}": check for name, check in _burst_targets(in_process).items()},
            **{f"own_process.{name}": check for name, check in _burst_targets(own_process).items()},
            "card_render_p50": target(card["ms"]["p50"], CARD_P50_LIMIT_MS, "ms"),
            "card_within_attachment_limit": target(card["bytes"], CARD_MAX_BYTES, "bytes"),
        },
    }
