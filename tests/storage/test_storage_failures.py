"""How the SQLite store fails: busy, read-only, corrupt, full, closed, and already in use.

PostgreSQL's own failures (a lock held too long, a lost connection, a server that is down) are in
test_storage_postgres.py; a closed store fails the same way on both, here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.storage import (
    SqliteStore,
    StorageBusy,
    StorageError,
    StorageUnavailable,
    StoreLockedError,
)
from bot.storage.sqlite import translate_sqlite_error
from tests.store_backends import StoreBackend

T0 = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
GUILD, ALICE = 1001, 11
REPO = Path(__file__).resolve().parents[2]

# Opens the store in another process; with a second argument it holds it until stdin closes.
OPEN_IN_CHILD = """
import asyncio, sys
from bot.storage import SqliteStore, StoreLockedError

async def main() -> None:
    try:
        async with SqliteStore(sys.argv[1]):
            print("opened", flush=True)
            if len(sys.argv) > 2:
                sys.stdin.readline()
    except StoreLockedError as exc:
        print(f"refused: {exc}", flush=True)
        sys.exit(3)

asyncio.run(main())
"""


def child_command(db_path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-c", OPEN_IN_CHILD, str(db_path), *extra]


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


@contextlib.contextmanager
def read_only_file(path: Path) -> Iterator[None]:
    """Make `path` unwritable for this process, even when the tests run as root."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(0o644)
        return
    # Root ignores permission bits; the immutable attribute stops root as well.
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: cannot make a file read-only")
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"running as root and cannot make {path} immutable: {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


async def create_database_with_progress(db_path: Path) -> None:
    async with SqliteStore(db_path) as store:
        await store.mark_done(GUILD, ALICE, "basics", T0)


# Busy


@pytest.mark.asyncio
async def test_write_blocked_by_another_connection_raises_busy_then_recovers(
    sqlite_store: SqliteStore, db_path: Path
) -> None:
    store = sqlite_store
    await store.mark_done(GUILD, ALICE, "basics", T0)
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # e.g. a maintenance script holding the write lock
    try:
        with pytest.raises(StorageBusy) as busy:
            await store.mark_done(GUILD, ALICE, "loops", T0)
        assert "locked" in str(busy.value)
        assert "try again" in busy.value.user_message
        with pytest.raises(StorageBusy):
            await store.forget_member(GUILD, ALICE)
        # WAL mode: readers are not blocked by a writer.
        assert await store.completed_topics(GUILD, ALICE) == {"basics": T0}
    finally:
        other.execute("ROLLBACK")
        other.close()

    # Busy is transient: no transaction was left open, so the next writes go through.
    assert await store.mark_done(GUILD, ALICE, "loops", T0) is True
    assert await store.forget_member(GUILD, ALICE) == 2


# Read-only


@pytest.mark.asyncio
@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
async def test_read_only_file_serves_reads_and_refuses_writes(db_path: Path, journal_mode: str) -> None:
    await create_database_with_progress(db_path)
    # A copy restored from a backup may be in rollback-journal mode, which cannot be switched
    # to WAL without writing.
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        conn.execute(f"PRAGMA journal_mode = {journal_mode}")

    with read_only_file(db_path):
        async with SqliteStore(db_path) as store:
            await store.completed_topics(0, 0)
            assert await store.completed_topics(GUILD, ALICE) == {"basics": T0}
            with pytest.raises(StorageUnavailable, match="read-only") as refused:
                await store.mark_done(GUILD, ALICE, "loops", T0)
            assert str(db_path) in str(refused.value)
            with pytest.raises(StorageUnavailable):
                await store.log_question(GUILD, ALICE, "q", None, True, T0)
            # Still usable for reads after a refused write.
            assert await store.completed_topics(GUILD, ALICE) == {"basics": T0}


# Corrupt


@pytest.mark.asyncio
async def test_opening_a_file_that_is_not_a_database_names_the_path(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not a SQLite database\n" * 200)

    with pytest.raises(StorageUnavailable) as unavailable:
        await SqliteStore(db_path).open()
    assert str(db_path) in str(unavailable.value)

    # The failed open released its lock: once the file is moved aside the path opens.
    db_path.rename(db_path.with_suffix(".broken"))
    async with SqliteStore(db_path) as store:
        await store.completed_topics(0, 0)


@pytest.mark.asyncio
async def test_opening_a_database_with_damaged_pages_names_the_path(db_path: Path) -> None:
    async with SqliteStore(db_path) as store:
        for i in range(500):
            await store.log_question(GUILD, ALICE, f"question {i} " * 20, "t", False, T0)
    with db_path.open("r+b") as file:
        file.seek(4096 * 3)
        file.write(b"\xff" * 4096 * 4)

    with pytest.raises(StorageUnavailable, match="corrupt") as unavailable:
        await SqliteStore(db_path).open()
    assert str(db_path) in str(unavailable.value)


# Error translation, with errors produced by real SQLite


def real_error(make: str, tmp_path: Path) -> sqlite3.Error:
    path = tmp_path / f"{make}.db"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None, timeout=0)) as conn:
        conn.execute("CREATE TABLE t (x)")
        try:
            if make == "full":
                conn.execute("PRAGMA max_page_count = 2")
                conn.execute("INSERT INTO t SELECT zeroblob(100000)")
            elif make == "readonly":
                with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as ro:
                    ro.execute("INSERT INTO t VALUES (1)")
            elif make == "busy":
                conn.execute("BEGIN IMMEDIATE")
                with contextlib.closing(sqlite3.connect(path, timeout=0)) as other:
                    other.execute("INSERT INTO t VALUES (1)")
            elif make == "notadb":
                junk = tmp_path / "junk.db"
                junk.write_bytes(b"junk" * 1000)
                with contextlib.closing(sqlite3.connect(junk)) as bad:
                    bad.execute("SELECT * FROM sqlite_master")
            elif make == "syntax":
                conn.execute("SELEKT 1")
        except sqlite3.Error as exc:
            return exc
    raise AssertionError(f"{make} did not fail")


@pytest.mark.parametrize(
    ("make", "expected", "words"),
    [
        ("busy", StorageBusy, "locked"),
        ("readonly", StorageUnavailable, "read-only"),
        ("full", StorageUnavailable, "disk is full"),
        ("notadb", StorageUnavailable, "not a SQLite database"),
    ],
)
def test_sqlite_errors_map_to_storage_errors(
    make: str, expected: type[StorageError], words: str, tmp_path: Path
) -> None:
    error = translate_sqlite_error(real_error(make, tmp_path), "some.db")
    assert type(error) is expected
    assert words in str(error)
    assert "some.db" in str(error)


def test_unexpected_sqlite_errors_become_the_base_storage_error(tmp_path: Path) -> None:
    error = translate_sqlite_error(real_error("syntax", tmp_path), "some.db")
    assert type(error) is StorageError
    assert error.user_message


# Lifecycle


@pytest.mark.asyncio
async def test_closed_store_raises_unavailable_and_close_is_idempotent(store_backend: StoreBackend) -> None:
    store = store_backend.store()
    with pytest.raises(StorageUnavailable, match="not open"):
        await store.completed_topics(0, 0)
    await store.open()
    await store.completed_topics(0, 0)
    await store.close()
    await store.close()
    with pytest.raises(StorageUnavailable, match="not open"):
        await store.mark_done(GUILD, ALICE, "basics", T0)


# Single writer


@pytest.mark.asyncio
async def test_second_store_in_the_same_process_is_refused(sqlite_store: SqliteStore, db_path: Path) -> None:
    store = sqlite_store
    second = SqliteStore(db_path)
    with pytest.raises(StoreLockedError) as refused:
        await second.open()
    assert f"another Roadmap Tutor process is using {db_path}" in str(refused.value)
    assert f"pid {os.getpid()}" in str(refused.value)
    # The first store is unaffected.
    assert await store.mark_done(GUILD, ALICE, "basics", T0) is True

    await store.close()
    async with second:
        assert await second.completed_topics(GUILD, ALICE) == {"basics": T0}


@pytest.mark.asyncio
async def test_second_process_is_refused_while_the_store_is_open(sqlite_store: SqliteStore, db_path: Path) -> None:
    store = sqlite_store
    child = subprocess.run(
        child_command(db_path),
        cwd=REPO,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == 3, child.stderr
    assert f"refused: another Roadmap Tutor process is using {db_path}" in child.stdout

    await store.close()
    child = subprocess.run(
        child_command(db_path),
        cwd=REPO,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == "opened"


@pytest.mark.asyncio
async def test_lock_of_a_killed_process_does_not_outlive_it(db_path: Path) -> None:
    holder = subprocess.Popen(
        child_command(db_path, "hold"),
        cwd=REPO,
        env=child_env(),
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "opened"
        with pytest.raises(StoreLockedError, match=f"pid {holder.pid}"):
            await SqliteStore(db_path).open()
    finally:
        holder.kill()
        holder.communicate(timeout=60)

    # The lock file is still there, but the kernel dropped the dead process's lock.
    assert db_path.with_name(db_path.name + ".lock").exists()
    async with SqliteStore(db_path) as store:
        await store.completed_topics(0, 0)
