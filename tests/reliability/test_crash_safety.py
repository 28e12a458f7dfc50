"""kill -9 in the middle of a reindex or of progress writes: after a restart nothing is half-written or lost."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from bot import serving
from bot.answering.calibration import SHIPPED_CALIBRATION
from bot.config import Settings, load_settings
from bot.storage import SqliteStore
from indexer.build import CALIBRATION_FILE, build_lock, content_hash
from indexer.documents import build_documents
from indexer.general import candidates_digest
from indexer.search import SearchIndex
from indexer.store import read_index
from tests.fakes import FakeEncoder, mini_roadmap, write_mini_roadmap
from tests.reliability.children import GUILD
from tests.reliability.conftest import REPO, child_env

NOTE = """---
title: Study group schedule
aliases: [meetup]
---
We meet on Fridays at 18:00 UTC to work through one topic of the roadmap together, and everyone is welcome.
"""


def start_child(*args: str) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.children", *args],
        cwd=REPO,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    first = child.stdout.readline()
    if first.strip() != "ready":
        child.kill()
        raise AssertionError(f"the child did not start: {first}{child.communicate()[1]}")
    return child


def kill_after(child: subprocess.Popen[str], seconds: float, wait_for: str | None = None) -> list[str]:
    """SIGKILL the child `seconds` after it printed a line starting with `wait_for`; every line it printed."""
    assert child.stdout is not None
    lines = []
    if wait_for is not None:
        while not (line := child.stdout.readline()).startswith(wait_for):
            assert line, f"the child ended early: {child.communicate()[1]}"
            lines.append(line)
        lines.append(line)
    time.sleep(seconds)
    child.send_signal(signal.SIGKILL)
    rest, errors = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, errors
    return [line.strip() for line in [*lines, *rest.splitlines()] if line.strip()]


def kill_while_writing(child: subprocess.Popen[str], index_dir: Path, seconds: float) -> list[str]:
    """SIGKILL the child `seconds` after the next new build directory appears: in the middle of writing it."""
    assert child.stdout is not None
    while not (first := child.stdout.readline()).startswith("built"):  # an index to keep, first
        assert first, f"the child ended early: {child.communicate()[1]}"
    builds = index_dir / "builds"
    before = set(builds.iterdir())
    deadline = time.monotonic() + 20
    while not set(builds.iterdir()) - before:
        assert time.monotonic() < deadline and child.poll() is None, "no new build started"
        time.sleep(0.0005)
    return [first.strip(), *kill_after(child, seconds)]


def write_config(path: Path, data_dir: Path, knowledge_dirs: list[Path]) -> Path:
    # Knowledge of the test's own, not the shipped files, which someone may be editing while this runs.
    knowledge = {"include_shipped": False, "dirs": [str(d) for d in knowledge_dirs]}
    path.write_text(yaml.safe_dump({"data_dir": str(data_dir), "knowledge": knowledge}))
    return path


def expected_hash(settings: Settings) -> str:
    documents = build_documents(serving.load_settings_knowledge(settings))
    calibration = SHIPPED_CALIBRATION.read_text(encoding="utf-8")
    return content_hash(documents, serving.model_name(settings), calibration, general=candidates_digest())


def test_reindex_killed_at_random_moments_leaves_the_old_or_the_new_index_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roadmaps = tmp_path / "roadmaps"
    for number in range(12):
        write_mini_roadmap(roadmaps, mini_roadmap(f"mini{number}", f"r{number}-"), f"mini{number}.yaml")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "study-group.md").write_text(NOTE)
    data = tmp_path / "data"
    old = write_config(tmp_path / "old.yaml", data, [roadmaps])
    new = write_config(tmp_path / "new.yaml", data, [roadmaps, notes])
    hashes = {expected_hash(load_settings(old, environ={})), expected_hash(load_settings(new, environ={}))}
    assert len(hashes) == 2
    rng = random.Random(20240506)
    builds = 0

    for round_ in range(10):
        child = start_child("index", str(old), str(new))
        if round_ % 2:  # at any moment of the build loop
            lines = kill_after(child, rng.uniform(0.0, 1.2), wait_for="built")
        else:  # while a build is being written, where a non-atomic swap would show
            lines = kill_while_writing(child, data / "index", rng.uniform(0.0, 0.04))
        builds += sum(line.startswith("built") for line in lines)

        # What a restarted bot loads: the current build, checked against its manifest.
        stored = read_index(data / "index")
        assert stored.manifest.content_hash in hashes
        recorded = (stored.path / CALIBRATION_FILE).read_text(encoding="utf-8")
        rehashed = content_hash(stored.documents, stored.manifest.model, recorded, general=candidates_digest())
        assert rehashed == stored.manifest.content_hash
        SearchIndex.load(data / "index")
        with build_lock(data / "index"):  # the killed build's lock died with it
            pass

    assert builds > 10  # the kills did not all land before the first build of each run
    encoder = FakeEncoder()
    monkeypatch.setattr(serving, "open_encoder", lambda settings, backend=None: encoder)
    monkeypatch.setattr(serving, "_exporter", lambda settings: None)
    answerer = serving.open_answerer(load_settings(new, environ={}))
    assert answerer.answer("study group meetup").results[0].id.endswith("study-group")


async def test_progress_writer_killed_at_random_moments_keeps_every_acknowledged_change(tmp_path: Path) -> None:
    database = tmp_path / "tutor.sqlite3"
    rng = random.Random(20240507)
    expected: dict[str, bool] = {}  # topic -> done, for every change the store acknowledged
    first = 0
    for _ in range(10):
        child = start_child("progress", str(database), str(first))
        lines = kill_after(child, rng.uniform(0.0, 0.4))
        for line in lines:
            verb, number = line.split()
            expected[f"topic-{number}"] = verb == "done"
            first = max(first, int(number) + 1)
        # The change in flight when the kill came may or may not have been saved: the next topic's mark,
        # or after "done N" with N a multiple of 3, the undo of N-1. Neither was acknowledged.
        if lines and (last := lines[-1].split())[0] == "done" and int(last[1]) % 3 == 0:
            expected.pop(f"topic-{int(last[1]) - 1}", None)
        first += 1  # the next child starts on fresh topics

        async with SqliteStore(database) as store:  # opening runs SQLite's integrity check
            saved = set()
            for user in range(7):
                saved |= set(await store.completed_topics(GUILD, user))
        lost = {t for t, done in expected.items() if done and t not in saved}
        resurrected = {t for t, done in expected.items() if not done and t in saved}
        assert not lost and not resurrected
    assert sum(expected.values()) > 50
