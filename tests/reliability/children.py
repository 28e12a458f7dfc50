"""Processes the crash tests kill with SIGKILL at random moments.

python -m tests.reliability.children index CONFIG_A CONFIG_B
    `roadmap-tutor index build --force` in a loop, alternating between two configs (two versions of
    the knowledge), printing "built <content hash>" after each; the fake encoder keeps a build short,
    so the kills land in every phase of it rather than in the model's loading.

python -m tests.reliability.children progress DATABASE FIRST
    marks topics done (and every third one undone again) through the store, printing each change
    once the store has acknowledged it: "done N" / "undone N".
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

GUILD = 42


def index_loop(configs: list[str]) -> None:
    from bot import cli, serving
    from bot.config import load_settings
    from indexer.store import read_manifest
    from tests.fakes import FakeEncoder

    encoder = FakeEncoder()
    serving.open_encoder = lambda settings, backend=None: encoder  # type: ignore[assignment]
    serving._exporter = lambda settings: None  # type: ignore[assignment]
    print("ready", flush=True)
    turn = 0
    while True:
        config = configs[turn % len(configs)]
        if cli.main(["index", "build", "--force", "--config", config]) != 0:
            sys.exit(1)
        manifest = read_manifest(load_settings(config).index_dir)
        print(f"built {manifest.content_hash if manifest else None}", flush=True)
        turn += 1


async def progress_loop(database: str, first: int) -> None:
    from bot.storage import SqliteStore

    async with SqliteStore(database) as store:
        print("ready", flush=True)
        number = first
        while True:
            await store.mark_done(GUILD, number % 7, f"topic-{number}", datetime.now(UTC))
            print(f"done {number}", flush=True)
            if number % 3 == 0:
                await store.unmark_done(GUILD, (number - 1) % 7, f"topic-{number - 1}")
                print(f"undone {number - 1}", flush=True)
            number += 1


if __name__ == "__main__":
    if sys.argv[1] == "index":
        index_loop(sys.argv[2:])
    else:
        asyncio.run(progress_loop(sys.argv[2], int(sys.argv[3])))
