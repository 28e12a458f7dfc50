"""Soak: thousands of mixed interactions against `roadmap-tutor run`, checked against a model of progress.

    python -m benchmarks.soak              # 10,000 interactions
    python -m benchmarks.soak --quick 500  # a short run
    python -m benchmarks.soak --postgres --processes 2  # two shard processes on one PostgreSQL database

The bot runs as `roadmap-tutor run` in a process of its own, talking to the local Discord stand-in in this
process, with the real model and the shipped knowledge. Workers act as members: /ask, free text (mentions
and DMs), /done, /undo, /next, /progress, /roadmap, /topic, autocomplete and the buttons under answers. Each
worker owns its members and waits for each answer before the member's next action, so an in-memory model
knows what every member has done; every reply is checked against it, and at the end the database is too.

With `--postgres --processes N` a throw-away PostgreSQL server (as tests/store_backends.py starts it) holds
the data, the stand-in runs N shards with one guild on each, and N bot processes each run one shard
(`roadmap-tutor run --shard-ids i`); members of every guild act at once, and the check at the end reads
every guild's progress from PostgreSQL.

Prints one JSON object on stdout (progress goes to stderr): errors (must be 0), lost progress (must be 0),
the bot's resident memory at start, end and its maximum, duration and rate. Exit status 1 if either is not 0.
Not a test: the suite stays fast; this is run by hand before a release.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge.loader import load_knowledge
from standin import DiscordStandin, InteractionRecord, Message
from standin.state import Member as StandinMember

log = logging.getLogger("benchmarks.soak")

ROOT = Path(__file__).resolve().parents[1]
ANSWER_TIMEOUT = 60.0
START_TIMEOUT = 900.0  # the first start builds the index and exports the model
QUESTIONS = [
    "what is the difference between l1 and l2 regularization",
    "how does dropout work",
    "adam vs sgd",
    "what is xgboost",
    "explain precision and recall",
    "how do I deploy a model with fastapi",
    "what is a cnn",
    "what is transfer learning",
    "how do lstms work",
    "what is hyperparameter tuning",
    "who painted the mona lisa",
    "what is batch normalization",
]
# Relative weights of the actions; together they are the mix of a busy study server.
MIX = {
    "ask": 18,
    "mention": 6,
    "dm": 3,
    "done": 14,
    "undo": 8,
    "next": 9,
    "progress": 9,
    "roadmap": 3,
    "topic": 4,
    "autocomplete": 12,
    "click_done": 9,
    "click_next": 5,
}


@dataclass
class Soak:
    standin: DiscordStandin
    places: dict[int, tuple[int, int]]  # member id -> (guild id, channel id) where they act
    topics: dict[str, str]  # id -> title
    rng: random.Random
    done: dict[int, set[str]] = field(default_factory=dict)  # the model: member -> finished topics
    answers: dict[int, list[Message]] = field(default_factory=dict)  # answers with buttons by guild, for clicks
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    acks: list[float] = field(default_factory=list)
    cooldowns: int = 0
    replies: dict[int, Message] = field(default_factory=dict)
    _seen: int = 0

    def error(self, kind: str, detail: str) -> None:
        self.errors.append(f"{kind}: {detail}"[:300])

    def reply_to(self, question_id: int) -> Message | None:
        """The bot's reply to a member's message, indexing new messages once rather than rescanning them."""
        messages = self.standin.messages
        for message in messages[self._seen :]:
            if message.reply_to is not None:
                self.replies[message.reply_to] = message
        self._seen = len(messages)
        return self.replies.get(question_id)


async def final_of(soak: Soak, run: InteractionRecord) -> Message:
    final = await run.wait_final(timeout=ANSWER_TIMEOUT)
    if run.ack_latency is not None:
        soak.acks.append(run.ack_latency)
    return final


async def act(soak: Soak, kind: str, member: StandinMember) -> None:
    standin = soak.standin
    g, c = soak.places[member.id]
    done = soak.done.setdefault(member.id, set())
    answers = soak.answers.setdefault(g, [])  # a member clicks answers in their own guild
    rng = soak.rng
    if kind == "ask":
        run = await standin.slash(g, c, member.id, "ask", {"question": rng.choice(QUESTIONS)})
        final = await final_of(soak, run)
        if "Slow down" in final.content:
            soak.cooldowns += 1
        elif not final.embeds or run.ephemeral:
            soak.error(kind, f"no public answer: {final.content!r}")
        elif any(cid.startswith("tutor:done:") for cid in final.custom_ids()):
            answers.append(final)
            del answers[:-200]
    elif kind in ("mention", "dm"):
        channel = c if kind == "mention" else standin.dm_channel(member).id
        question = await standin.user_message(channel, member.id, rng.choice(QUESTIONS), mentions_bot=kind == "mention")
        reply = await standin.wait_for(lambda: soak.reply_to(question.id), ANSWER_TIMEOUT, "a reply")
        if "Slow down" in reply.content:
            soak.cooldowns += 1
        elif not reply.embeds:
            soak.error(kind, f"reply without an answer: {reply.content!r}")
    elif kind in ("done", "click_done"):
        if kind == "click_done" and answers:
            answer = rng.choice(answers)
            button = next(cid for cid in answer.custom_ids() if cid.startswith("tutor:done:"))
            topic = button.removeprefix("tutor:done:")
            run = await standin.click(answer, button, member.id)
        else:
            topic = rng.choice(list(soak.topics))
            run = await standin.slash(g, c, member.id, "done", {"topic": topic})
        final = await final_of(soak, run)
        expected = "was already done" if topic in done else "as done. ✅"
        if expected not in final.content or not run.ephemeral:
            soak.error(kind, f"{topic} (done before: {topic in done}) answered {final.content!r}")
        done.add(topic)
    elif kind == "undo":
        pool = sorted(done) if done and rng.random() < 0.7 else list(soak.topics)
        topic = rng.choice(pool)
        final = await final_of(soak, await standin.slash(g, c, member.id, "undo", {"topic": topic}))
        expected = "Unmarked" if topic in done else "wasn't marked as done"
        if expected not in final.content:
            soak.error(kind, f"{topic} (done before: {topic in done}) answered {final.content!r}")
        done.discard(topic)
    elif kind == "progress":
        final = await final_of(soak, await standin.slash(g, c, member.id, "progress"))
        fields = {f["name"]: f["value"] for f in (final.embeds[0]["fields"] if final.embeds else [])}
        if not fields.get("Topics done", "").startswith(f"{len(done)} of "):
            soak.error(kind, f"model has {len(done)} done, the bot says {fields.get('Topics done')!r}")
    elif kind in ("next", "click_next", "roadmap", "topic"):
        if kind == "click_next" and answers:
            run = await standin.click(rng.choice(answers), "tutor:next", member.id)
        elif kind == "roadmap":
            run = await standin.slash(g, c, member.id, "roadmap")
        elif kind == "topic":
            run = await standin.slash(g, c, member.id, "topic", {"name": rng.choice(list(soak.topics))})
        else:
            run = await standin.slash(g, c, member.id, "next")
        final = await final_of(soak, run)
        if not final.embeds:
            soak.error(kind, f"no embed: {final.content!r}")
    elif kind == "autocomplete":
        command = rng.choice(["done", "undo"])
        typed = rng.choice(["", "reg", "neural", "deploy", "xgb", "optimi", "tenserflow", "q" * 50])
        run = await standin.autocomplete(g, c, member.id, command, "topic", typed)
        await run.wait_response(timeout=ANSWER_TIMEOUT)
        if run.ack_latency is not None:
            soak.acks.append(run.ack_latency)
        if run.choices is None or len(run.choices) > 25:
            soak.error(kind, f"choices {run.choices!r}")
    soak.counts[kind] += 1


async def worker(soak: Soak, members: list[StandinMember], turns: int, tick: Callable[[], None]) -> None:
    kinds, weights = zip(*MIX.items(), strict=True)
    for _ in range(turns):
        member = soak.rng.choice(members)
        kind = soak.rng.choices(kinds, weights)[0]
        try:
            await act(soak, kind, member)
        except Exception as exc:  # a timeout or a refusal: counted, and the soak goes on
            soak.error(kind, f"{type(exc).__name__}: {exc}")
        tick()


def rss_mb(pid: int, key: str = "VmRSS") -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


async def sample_memory(pid: int, samples: list[float]) -> None:
    while True:
        if (rss := rss_mb(pid)) is not None:
            samples.append(rss)
        await asyncio.sleep(1.0)


def roadmap_tutor() -> list[str]:
    script = Path(sys.executable).with_name("roadmap-tutor")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


async def wait_until(check: Callable[[], object], timeout: float, what: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if process.poll() is not None:
            raise RuntimeError(f"the bot exited with {process.returncode} while waiting for {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


async def soak(
    total: int,
    members_count: int,
    workers: int,
    seed: int,
    data_dir: Path,
    scratch: Path,
    postgres_url: str | None = None,
    processes: int = 1,
) -> dict[str, Any]:
    kb = load_knowledge()
    topics = {topic_id: entry.topic.title for topic_id, entry in kb.topics.items()}
    sharded = processes > 1
    async with DiscordStandin(shard_count=processes) as standin:
        # One guild on each shard: a guild's shard is (guild_id >> 22) % shard_count.
        guilds = [
            standin.add_guild(f"Soak {i}", guild_id=(7000 + i) << 22 if sharded else None) for i in range(processes)
        ]
        channels = [standin.add_channel(guild.id, "study") for guild in guilds]
        members = [standin.add_member(guilds[i % processes].id, f"learner{i}") for i in range(members_count)]
        places = {m.id: (guilds[i % processes].id, channels[i % processes].id) for i, m in enumerate(members)}
        settings: dict[str, Any] = {
            "data_dir": str(data_dir),
            "discord": {
                "api_base_url": standin.api_base_url,
                "gateway_url": standin.gateway_url,
                "guild_ids": [guild.id for guild in guilds],
                # Many members share the work, but a member may still ask often: the soak is about
                # the bot holding up, not about the cooldown (tests/reliability proves that).
                "ask_cooldown": {"rate": 100, "per_seconds": 60},
            },
        }
        if postgres_url is not None:
            settings["storage"] = {"url": postgres_url}
        if sharded:
            settings["discord"]["shard_count"] = processes
        config = scratch / "soak-config.yaml"
        config.write_text(yaml.safe_dump(settings))
        env = {**os.environ, "DISCORD_TOKEN": standin.valid_token}
        started = time.monotonic()
        bots: list[subprocess.Popen[bytes]] = []
        log_paths = [scratch / f"bot-{i}.log" for i in range(processes)]
        for i, log_path in enumerate(log_paths):
            shard = ["--shard-ids", str(i)] if sharded else []
            with open(log_path, "wb") as bot_log:
                bots.append(
                    subprocess.Popen(
                        [*roadmap_tutor(), "run", "--config", str(config), *shard],
                        stdout=bot_log,
                        stderr=bot_log,
                        env=env,
                        cwd=ROOT,
                    )
                )
            if i == 0 and sharded:  # the first start builds the index; the others find it built
                await wait_until(lambda: standin.connected, START_TIMEOUT, "the first bot", bots[0])
        process = bots[0]
        samples: list[float] = []
        sampler: asyncio.Task[None] | None = None
        try:
            log.info("starting %d bot process(es) (the first start builds the index)", processes)
            for bot in bots:
                await wait_until(
                    lambda: (
                        all(standin.commands.get(g.id) for g in guilds)
                        and len([s for s in standin.gateway.live_sessions() if s.connection is not None]) >= processes
                    ),
                    START_TIMEOUT,
                    "the bots",
                    bot,
                )
            await asyncio.sleep(0.5)  # GUILD_CREATE handled
            startup = time.monotonic() - started
            state = Soak(standin, places, topics, random.Random(seed))
            for guild, channel in zip(guilds, channels, strict=True):
                member = next(m for m in members if places[m.id][0] == guild.id)
                warm = await standin.slash(guild.id, channel.id, member.id, "ask", {"question": "what is relu"})
                await warm.wait_final(timeout=ANSWER_TIMEOUT)
            rss_start = rss_mb(process.pid)
            sampler = asyncio.create_task(sample_memory(process.pid, samples))

            done_count = 0
            began = time.monotonic()

            def tick() -> None:
                nonlocal done_count
                done_count += 1
                if done_count % 500 == 0:
                    rate = done_count / (time.monotonic() - began)
                    log.info("%d/%d interactions, %.0f/s, %d errors, RSS %s MB",
                             done_count, total, rate, len(state.errors), rss_mb(process.pid))  # fmt: skip

            share = [members[i::workers] for i in range(workers)]
            turns = [total // workers + (1 if i < total % workers else 0) for i in range(workers)]
            await asyncio.gather(*(worker(state, share[i], turns[i], tick) for i in range(workers)))
            duration = time.monotonic() - began
            await asyncio.sleep(1.0)
            rss_end = rss_mb(process.pid)
            peak = rss_mb(process.pid, "VmHWM")
        finally:
            if sampler is not None:
                sampler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sampler
            exits = await asyncio.gather(*(stop(bot) for bot in bots))
            stopped = next((code for code in exits if code != 0), 0)
        problems = standin.problems()

    log_text = "\n".join(path.read_text(errors="replace") for path in log_paths)
    bot_errors = [line for line in log_text.splitlines() if " ERROR " in line or line.startswith("Traceback")]
    if postgres_url is not None:
        lost, phantom = await compare_postgres(postgres_url, state.done)
    else:
        lost, phantom = compare(data_dir / "tutor.sqlite3", guilds[0].id, state.done)
    errors = len(state.errors) + len(problems) + len(bot_errors) + (stopped != 0)
    acks = sorted(state.acks)
    return {
        "interactions": sum(state.counts.values()),
        "by_kind": dict(sorted(state.counts.items())),
        "store": "postgresql" if postgres_url is not None else "sqlite",
        "processes": processes,
        "members": members_count,
        "workers": workers,
        "errors": errors,
        "error_samples": (state.errors + problems + bot_errors)[:10],
        "lost_progress": len(lost),
        "phantom_progress": len(phantom),
        "topics_done_at_end": sum(len(t) for t in state.done.values()),
        "cooldown_refusals": state.cooldowns,
        "bot_exit_code": stopped,
        "memory_mb": {
            "start": rss_start,
            "end": rss_end,
            "max": max(samples, default=None),
            "peak_including_startup": peak,
        },
        "startup_seconds": round(startup, 1),
        "duration_seconds": round(duration, 1),
        "interactions_per_second": round(sum(state.counts.values()) / duration, 1),
        "ack_ms": {
            "p50": round(acks[len(acks) // 2] * 1000, 1) if acks else None,
            "p99": round(acks[max(0, math.ceil(0.99 * len(acks)) - 1)] * 1000, 1) if acks else None,
            "max": round(acks[-1] * 1000, 1) if acks else None,
        },
    }


async def stop(process: subprocess.Popen[bytes]) -> int:
    """Stop the bot as Ctrl-C would (it closes the database cleanly), kill it if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    for _ in range(300):
        if process.poll() is not None:
            return process.returncode
        await asyncio.sleep(0.1)
    process.kill()
    return process.wait()


def compare(database: Path, guild_id: int, model: dict[int, set[str]]) -> tuple[set[Any], set[Any]]:
    """(progress the model has and the database lost, progress the database has that never happened)."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT user_id, topic_id FROM progress WHERE guild_id = ?", (guild_id,)).fetchall()
    stored = {(user, topic) for user, topic in rows}
    expected = {(user, topic) for user, topics in model.items() for topic in topics}
    return expected - stored, stored - expected


async def compare_postgres(url: str, model: dict[int, set[str]]) -> tuple[set[Any], set[Any]]:
    """`compare` for every guild of a PostgreSQL database (each member acts in one guild)."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT user_id, topic_id FROM progress")
    finally:
        await connection.close()
    stored = {(row["user_id"], row["topic_id"]) for row in rows}
    expected = {(user, topic) for user, topics in model.items() for topic in topics}
    return expected - stored, stored - expected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", type=int, metavar="N", help="run N interactions instead of 10,000")
    parser.add_argument("--members", type=int, default=300, help="members sharing the work (default 300)")
    parser.add_argument("--workers", type=int, default=16, help="members acting at once (default 16)")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--data-dir", type=Path, help="reuse this data directory (and its index) between runs")
    parser.add_argument("--bot-log", type=Path, help="keep the (first) bot's log here")
    parser.add_argument("--postgres", action="store_true", help="keep the data in a throw-away PostgreSQL server")
    parser.add_argument("--processes", type=int, default=1, help="bot processes, one shard each (needs --postgres)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("standin").setLevel(logging.ERROR)
    total = args.quick or 10_000
    if args.processes > 1 and not args.postgres:
        parser.error("--processes needs --postgres: several processes cannot share a SQLite file")
    with contextlib.ExitStack() as stack:
        postgres_url = None
        if args.postgres:
            from tests.store_backends import running_postgres_server

            server = stack.enter_context(running_postgres_server())
            postgres_url = server.url(stack.enter_context(server.fresh_database()))
        return _main(args, total, postgres_url)


def _main(args: argparse.Namespace, total: int, postgres_url: str | None) -> int:
    with tempfile.TemporaryDirectory(prefix="roadmap-tutor-soak-") as scratch:
        data_dir = args.data_dir or Path(scratch) / "data"
        if args.data_dir is not None:
            (data_dir / "tutor.sqlite3").unlink(missing_ok=True)  # progress starts empty; the index is reused
            for suffix in ("-wal", "-shm"):
                (data_dir / f"tutor.sqlite3{suffix}").unlink(missing_ok=True)
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            report = run(
                soak(
                    total,
                    args.members,
                    args.workers,
                    args.seed,
                    data_dir,
                    Path(scratch),
                    postgres_url,
                    args.processes,
                )
            )
        finally:
            if args.bot_log is not None and (Path(scratch) / "bot-0.log").exists():
                args.bot_log.write_bytes((Path(scratch) / "bot-0.log").read_bytes())
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if report["errors"] == 0 and report["lost_progress"] == 0 and report["phantom_progress"] == 0 else 1


def run(coroutine: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
