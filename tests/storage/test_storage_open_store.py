"""`open_store` picks the backend from a path or URL and rejects what it cannot serve, never repeating a password."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.storage import MEMORY, PostgresStore, SqliteStore, StorageUnavailable, UnsupportedStoreError, open_store
from tests.store_backends import PostgresBackend


@pytest.mark.asyncio
async def test_plain_path_opens_a_sqlite_store(tmp_path: Path) -> None:
    store = open_store(tmp_path / "tutor.db")
    assert isinstance(store, SqliteStore)
    async with store:
        await store.completed_topics(0, 0)
    assert (tmp_path / "tutor.db").exists()


@pytest.mark.asyncio
async def test_sqlite_url_with_absolute_path_opens_that_file(tmp_path: Path) -> None:
    path = tmp_path / "from url.db"
    store = open_store(f"sqlite:///{path.as_posix().replace(' ', '%20')}")
    assert isinstance(store, SqliteStore)
    assert store.path == str(path)
    async with store:
        await store.completed_topics(0, 0)
    assert path.exists()


def test_sqlite_url_with_relative_path_and_memory() -> None:
    relative = open_store("sqlite:///data/tutor.db")
    assert isinstance(relative, SqliteStore)
    assert relative.path == "data/tutor.db"
    memory = open_store("sqlite:///:memory:")
    assert isinstance(memory, SqliteStore)
    assert memory.path == MEMORY


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bot:s3cret@db/tutor", "postgresql://bot@db/tutor"),
        ("postgres://bot:s3cret@db:6432/tutor?sslmode=require", "postgres://bot@db:6432/tutor"),
        ("postgresql+asyncpg://bot:s3cret@db/tutor", "postgresql://bot@db/tutor"),
        ("postgresql://bot@db/tutor?password=s3cret", "postgresql://bot@db/tutor"),
    ],
)
def test_postgresql_urls_build_a_postgres_store_shown_without_the_password(url: str, shown: str) -> None:
    store = open_store(url)
    assert isinstance(store, PostgresStore)
    assert store.display == shown
    assert "s3cret" not in repr(store)


@pytest.mark.asyncio
async def test_a_postgresql_url_opens_the_database_it_names(postgres_backend: PostgresBackend) -> None:
    store = open_store(postgres_backend.url.replace("postgresql://", "postgresql+asyncpg://"))
    async with store:
        await store.mark_done(1, 2, "basics", datetime.now(UTC))
    assert await postgres_backend.count_rows("progress") == 1


def test_a_postgresql_port_that_is_not_a_number_is_named_without_the_password() -> None:
    with pytest.raises(UnsupportedStoreError, match="port that is not a number") as refused:
        open_store("postgresql://bot:s3cret@db:54x/tutor")
    assert "s3cret" not in str(refused.value)


@pytest.mark.asyncio
async def test_an_unreachable_postgresql_server_is_unavailable_and_named_without_the_password() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(StorageUnavailable, match=f"cannot reach PostgreSQL at postgresql://bot@127.0.0.1:{port}/tutor"):
        await open_store(f"postgresql://bot:s3cret@127.0.0.1:{port}/tutor").open()


def test_unknown_scheme_is_refused_clearly() -> None:
    with pytest.raises(UnsupportedStoreError, match="unsupported store URL scheme 'mysql'") as refused:
        open_store("mysql://bot:s3cret@db/tutor")
    assert "s3cret" not in str(refused.value)


def test_sqlite_url_with_a_host_is_refused() -> None:
    with pytest.raises(UnsupportedStoreError, match="names a host"):
        open_store("sqlite://server/tutor.db")
