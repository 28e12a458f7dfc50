"""The `roadmap-tutor` command line: ask, index, chat, run, eval, db, and teaching the tutor (teach, taught)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from bot.answering.calibration import CalibrationError
from bot.config import ConfigError, Settings, load_settings, with_shard_ids
from bot.evaluation import EvalFileError
from indexer.build import BuildInProgress
from indexer.encoders import EncoderUnavailable
from indexer.store import IndexUnavailable, read_manifest
from knowledge.loader import KnowledgeError, UnknownRoadmap

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, help="settings file (default: ./config.yaml if present)")
    common.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")

    parser = argparse.ArgumentParser(prog="roadmap-tutor", description="A tutor for a learning roadmap.")
    commands = parser.add_subparsers(dest="command", required=True)

    ask = commands.add_parser("ask", parents=[common], help="answer a question from the knowledge base")
    ask.add_argument("question", nargs="?", help="the question (omit with --batch)")
    ask.add_argument("--json", action="store_true", help="print JSON: one object, or one per line with --batch")
    ask.add_argument("--batch", metavar="FILE", help="read one question per line from FILE ('-' for stdin)")
    ask.add_argument("-k", type=int, default=None, help="how many results to return (default: retrieval.top_k)")
    ask.add_argument("--roadmap", metavar="ID", help="answer as a member who follows this roadmap would be answered")

    index = commands.add_parser("index", help="build or inspect the search index")
    index_commands = index.add_subparsers(dest="index_command", required=True)
    build = index_commands.add_parser("build", parents=[common], help="build the index from the knowledge files")
    build.add_argument("--force", action="store_true", help="re-embed even when nothing changed")
    index_commands.add_parser("info", parents=[common], help="show the current index's manifest")

    commands.add_parser("chat", parents=[common], help="use the tutor in this terminal, without Discord")
    run = commands.add_parser("run", parents=[common], help="run the Discord bot")
    run.add_argument(
        "--shard-ids",
        metavar="IDS",
        help="the shards this process runs, e.g. 0 or 2,3 or auto (overrides discord.shard_ids; docs/DEPLOY.md)",
    )

    evaluate = commands.add_parser("eval", parents=[common], help="measure retrieval on a question file")
    evaluate.add_argument("file", type=Path, help="YAML question set (items: q, expect)")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.add_argument(
        "--mode",
        choices=["hybrid", "dense", "lexical"],
        default="hybrid",
        help="rank with both signals (served), or dense or BM25 alone for comparison",
    )
    evaluate.add_argument(
        "--roadmap", metavar="ID", help="answer as a member of this roadmap; labels without a roadmap mean this one"
    )
    calibrate = commands.add_parser(
        "calibrate", parents=[common], help="fit the ranking weights and the scope model on question sets"
    )
    calibrate.add_argument("files", type=Path, nargs="+", help="YAML question sets (items: q, expect)")
    calibrate.add_argument("--out", type=Path, help="where to write it (default: the shipped calibration)")
    calibrate.add_argument("--scope-only", action="store_true", help="fit the scope model, keep the weights")
    asked = commands.add_parser(
        "asked", parents=[common], help="turn question sets into asked-question knowledge (YAML)"
    )
    asked.add_argument("files", type=Path, nargs="+", help="YAML question sets (items: q, expect)")
    asked.add_argument("--out", type=Path, help="write to this file instead of stdout")

    db = commands.add_parser("db", help="bring the database to the current schema, or copy one into another")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser(
        "migrate", parents=[common], help="apply pending migrations to the configured database (storage.url)"
    )
    copy = db_commands.add_parser(
        "copy", parents=[common], help="copy every table from one database to another (SQLite <-> PostgreSQL)"
    )
    copy.add_argument("source", metavar="SRC", help="a SQLite path, sqlite:///path or postgresql://... URL")
    copy.add_argument("destination", metavar="DST", help="the same kinds; its schema is brought up to date first")
    copy.add_argument("--force", action="store_true", help="replace what DST already holds (refused otherwise)")
    teach = commands.add_parser(
        "teach", parents=[common], help="teach the tutor to answer a question with an entry (data_dir/taught.yaml)"
    )
    teach.add_argument("question", help="the question, as members ask it")
    teach.add_argument(
        "--answer",
        required=True,
        metavar="ENTRY_ID",
        help="the id of the step, topic, concept, resource, weekly prompt or note that answers it",
    )
    teach.add_argument(
        "--guild", type=int, metavar="ID", help="only in this Discord server (default: every server, DMs and chat)"
    )
    taught = commands.add_parser("taught", parents=[common], help="list the taught questions, or remove one")
    taught.add_argument("--remove", type=int, metavar="N", help="remove the Nth taught question of the list")
    return parser


def _configure_logging(settings: Settings, verbose: bool, command: str) -> None:
    level = settings.log_level if command == "run" or verbose else "WARNING"
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("sentence_transformers", "transformers", "httpx", "huggingface_hub", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def _questions(source: str) -> Iterator[str]:
    handle: TextIO = sys.stdin if source == "-" else open(source, encoding="utf-8")  # noqa: SIM115
    try:
        for line in handle:
            yield line.rstrip("\n")
    finally:
        if handle is not sys.stdin:
            handle.close()


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    from bot.serving import open_answerer, open_teacher

    if args.batch is None and args.question is None:
        raise UsageError("ask needs a QUESTION, or --batch FILE")
    if args.batch is not None and args.question is not None:
        raise UsageError("give either a QUESTION or --batch FILE, not both")
    if args.k is not None and not 1 <= args.k <= 25:
        raise UsageError("-k must be between 1 and 25")
    answerer = open_answerer(settings)
    open_teacher(settings, answerer)  # questions taught for every server are answered here too
    answerer.kb.check_roadmap(args.roadmap)
    if args.batch is None:
        answer = answerer.answer(args.question, args.k, args.roadmap)
        print(json.dumps(answer.to_json(), ensure_ascii=False) if args.json else answer.text)
        return 0
    batch: list[str] = []

    def flush() -> None:
        for answer in answerer.answer_batch(batch, args.k, args.roadmap):
            if args.json:
                print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
            else:
                print(answer.text + "\n" + "-" * 40, flush=True)
        batch.clear()

    for question in _questions(args.batch):
        batch.append(question)
        if len(batch) == 32:
            flush()
    flush()
    return 0


def cmd_index(settings: Settings, args: argparse.Namespace) -> int:
    if args.index_command == "info":
        manifest = read_manifest(settings.index_dir)
        if manifest is None:
            print(f"No index in {settings.index_dir}. Build it with: roadmap-tutor index build", file=sys.stderr)
            return 1
        print(json.dumps(manifest.to_json(), indent=2))
        return 0
    from bot.serving import LazyEncoder, build, load_settings_knowledge

    kb = load_settings_knowledge(settings)
    report = build(settings, kb, LazyEncoder(settings), force=args.force)
    manifest = report.manifest
    verb = "Index is up to date" if report.reused else "Built the index"
    print(
        f"{verb}: {manifest.documents} documents, {manifest.passages} passages, model {manifest.model}, "
        f"{report.seconds:.1f} s, in {settings.index_dir}"
    )
    return 0


class UsageError(Exception):
    """A command was called with arguments that do not fit together."""


def _teacher(settings: Settings):  # type: ignore[no-untyped-def]
    """The taught questions' file with the knowledge it is checked against; no model: the bot embeds them."""
    from bot.serving import load_settings_knowledge
    from bot.teaching import Teacher, taught_path

    kb = load_settings_knowledge(settings)
    return Teacher(taught_path(settings.data_dir), lambda: kb)


def _where(guild: int | None) -> str:
    return f"in Discord server {guild} only" if guild is not None else "everywhere (every server, DMs and chat)"


def _file_problem(error: Exception) -> UsageError:
    return UsageError(f"{error}: nothing was changed, and the file is left as it is; fix it by hand, then try again")


def cmd_teach(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from bot.teaching import TaughtFileError, TeachingError

    if args.guild is not None and args.guild <= 0:
        raise UsageError("--guild takes a Discord server id (a positive number)")
    teacher = _teacher(settings)
    try:
        taught = teacher.teach(args.question, args.answer, args.guild, datetime.now(UTC))
    except TaughtFileError as error:
        raise _file_problem(error) from None
    except TeachingError as error:
        raise UsageError(str(error)) from None
    entry = f"{taught.entry.title} ({taught.entry.id})"
    if taught.unchanged:
        print(f"Already taught: “{taught.question.q}” → {entry}, {_where(args.guild)}.")
        return 0
    before = f" (it was answered with {taught.previous.title} ({taught.previous.id}) before)" if taught.previous else ""
    print(f"Taught: “{taught.question.q}” → {entry}, {_where(args.guild)}{before}.")
    print(f"Kept in {teacher.path}; a running bot answers with it from its next question.")
    return 0


def cmd_taught(settings: Settings, args: argparse.Namespace) -> int:
    from bot.teaching import EVERY_SERVER, TaughtFileError, TeachingError

    teacher = _teacher(settings)
    try:
        if args.remove is not None:
            removed = teacher.remove(str(args.remove), EVERY_SERVER)
            question = removed.question
            print(f"Removed {removed.number}: “{question.q}” → {question.answer}, {_where(question.guild)}.")
            return 0
        listed = teacher.listed(EVERY_SERVER)
    except TaughtFileError as error:
        raise _file_problem(error) from None
    except TeachingError as error:
        raise UsageError(str(error)) from None
    if not listed:
        print(f'Nothing taught yet ({teacher.path}). Teach with: roadmap-tutor teach "QUESTION" --answer ENTRY_ID')
        return 0
    for item in listed:
        entry = (
            f"{item.entry.title} ({item.entry.id})" if item.entry else f"{item.question.answer} (not in the knowledge)"
        )
        print(f"{item.number}. “{item.question.q}” → {entry}, {_where(item.question.guild)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        _configure_logging(settings, args.verbose, args.command)
        if args.command == "ask":
            return cmd_ask(settings, args)
        if args.command == "index":
            return cmd_index(settings, args)
        if args.command == "chat":
            from bot.console import run_console

            return run_console(settings)
        if args.command == "run":
            from bot.discord_app.main import run_bot

            if args.shard_ids is not None:
                settings = with_shard_ids(settings, args.shard_ids)
            return run_bot(settings)
        if args.command == "eval":
            from bot.evaluation import run_eval_command

            return run_eval_command(settings, args.file, as_json=args.json, mode=args.mode, roadmap=args.roadmap)
        if args.command == "calibrate":
            from bot.calibrate import run_calibrate_command

            return run_calibrate_command(settings, args.files, args.out, weights=not args.scope_only)
        if args.command == "asked":
            from bot.evaluation import run_asked_command

            return run_asked_command(settings, args.files, args.out)
        if args.command == "db":
            from bot.database import run_copy_command, run_migrate_command

            if args.db_command == "migrate":
                return run_migrate_command(settings)
            return run_copy_command(args.source, args.destination, force=args.force)
        if args.command == "teach":
            return cmd_teach(settings, args)
        if args.command == "taught":
            return cmd_taught(settings, args)
    except (
        ConfigError,
        KnowledgeError,
        IndexUnavailable,
        EncoderUnavailable,
        BuildInProgress,
        UsageError,
        EvalFileError,
        CalibrationError,
        UnknownRoadmap,
    ) as exc:
        print(f"roadmap-tutor: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as Unix tools do.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
