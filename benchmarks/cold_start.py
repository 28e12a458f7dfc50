"""Cold start in fresh processes: `roadmap-tutor ask` to its first answer, and `roadmap-tutor run` to synced
commands and answered questions, with each process's peak resident memory.

"Cold" means a new interpreter with nothing loaded; the index is already built and the operating
system's file cache is warm (the model files were read moments before), as on a server that restarts.
"""

from __future__ import annotations

import asyncio
import logging
import statistics

from benchmarks.answering import dev_questions
from benchmarks.bot_process import bot_process
from benchmarks.measure import JSON, Workspace, mb, proc_status_kib, roadmap_tutor, run_child, target
from benchmarks.standin_load import Room, ask_burst
from standin import DiscordStandin

log = logging.getLogger(__name__)

ASK_LIMIT_SECONDS = 10.0
BOT_RSS_LIMIT_MB = 600.0
# Tighter targets for the torch-free ONNX query encoder. Its bot measured 240-243 MB until the shipped
# asked questions (3,492 of them) added 251-256 MB: their vectors (about 6 MB) and reading their YAML.
ONNX_ASK_LIMIT_SECONDS = 1.0
ONNX_BOT_RSS_LIMIT_MB = 275.0
ONNX_BOT_SYNC_LIMIT_SECONDS = 3.0
BACKENDS = ("onnx", "sentence-transformers")
BOT_QUESTIONS = 50


def ask_cold(workspace: Workspace, runs: int, backend: str) -> JSON:
    config = workspace.write_config(f"config-ask-{backend}.yaml", log_level="WARNING", model={"backend": backend})
    children = []
    for number in range(runs):
        log.info("cold start: roadmap-tutor ask, run %d of %d", number + 1, runs)
        child = run_child([*roadmap_tutor(), "ask", "what is adam", "--config", str(config)]).check()
        if child.first_output_seconds is None:
            raise RuntimeError("roadmap-tutor ask printed no answer")
        children.append(child)
    first_answers = [round(c.first_output_seconds or c.seconds, 2) for c in children]
    first_answer = round(statistics.median(first_answers), 2)
    return {
        "command": 'roadmap-tutor ask "what is adam"',
        "runs": runs,
        "first_answer_seconds": {"median": first_answer, "each": first_answers},
        "exit_seconds_median": round(statistics.median(c.seconds for c in children), 2),
        "cpu_seconds_median": round(statistics.median(c.cpu_seconds for c in children), 2),
        "peak_rss_mb": max(c.peak_rss_mb for c in children),
        "targets": _ask_targets(backend, first_answer),
    }


def _ask_targets(backend: str, first_answer: float) -> JSON:
    targets = {"first_answer": target(first_answer, ASK_LIMIT_SECONDS, "s")}
    if backend == "onnx":
        targets["first_answer_onnx"] = target(first_answer, ONNX_ASK_LIMIT_SECONDS, "s")
    return targets


def _bot_targets(backend: str, peak: float | None, synced: float) -> JSON:
    targets = {"bot_peak_rss": target(peak, BOT_RSS_LIMIT_MB, "MB")}
    if backend == "onnx":
        targets["bot_peak_rss_onnx"] = target(peak, ONNX_BOT_RSS_LIMIT_MB, "MB")
        targets["bot_commands_synced_onnx"] = target(synced, ONNX_BOT_SYNC_LIMIT_SECONDS, "s")
    return targets


async def _bot_cold(workspace: Workspace, backend: str) -> JSON:
    async with DiscordStandin() as standin:
        room = Room.create(standin, members=1 + BOT_QUESTIONS)
        command = [*roadmap_tutor(), "run"]
        async with bot_process(workspace, standin, room, command, f"cold-bot-{backend}", backend) as bot:
            log.info("cold start: the bot is up; %d concurrent /ask", BOT_QUESTIONS)
            burst = await ask_burst(standin, room, dev_questions(), BOT_QUESTIONS)
            peak_kib = proc_status_kib(bot.process.pid, "VmHWM")
            now_kib = proc_status_kib(bot.process.pid, "VmRSS")
    peak = mb(peak_kib) if peak_kib is not None else None
    return {
        "command": "roadmap-tutor run (DISCORD_TOKEN, discord.api_base_url/gateway_url at the stand-in)",
        "commands_synced_seconds": round(bot.commands_synced, 2),
        "gateway_connected_seconds": round(bot.gateway_connected, 2),
        "first_answer_seconds": round(bot.first_answer, 2),
        "questions_served": burst["answered"] + 1,
        "burst": {k: burst[k] for k in ("interactions", "answered", "answers_per_second", "ack_ms", "rejections")},
        "peak_rss_mb": peak,
        "rss_after_serving_mb": mb(now_kib) if now_kib is not None else None,
        "exit_code_on_sigint": bot.process.returncode,
        "targets": _bot_targets(backend, peak, bot.commands_synced),
    }


def run(workspace: Workspace, quick: bool) -> JSON:
    """Each query backend side by side: the ONNX one (served by default) and sentence-transformers."""
    workspace.ensure_index()
    report: JSON = {"ask": {}, "bot": {}, "targets": {}}
    for backend in BACKENDS:
        ask = ask_cold(workspace, runs=1 if quick else 3, backend=backend)
        log.info("cold start: roadmap-tutor run against the stand-in (%s)", backend)
        bot = asyncio.run(_bot_cold(workspace, backend))
        for name, value in {**ask.pop("targets"), **bot.pop("targets")}.items():
            report["targets"][f"{backend}.{name}"] = value
        report["ask"][backend], report["bot"][backend] = ask, bot
    return report
