"""`open_store` picks the backend from a path or URL and rejects what it cannot serve."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.storage import MEMORY, SqliteStore, UnsupportedStoreError, open_store


@pytest.mark.asyncio
async def test_plain_path_opens_a_sqlite_store(tmp_path: Path) -> None:
    store = open_store(tmp_path / "tutor.db")
    assert isinstance(store, SqliteStore)
    async with store:
        await store.ping()
    assert (tmp_path / "tutor.db").exists()


@pytest.mark.asyncio
async def test_sqlite_url_with_absolute_path_opens_that_file(tmp_path: Path) -> None:
    path = tmp_path / "from url.db"
    store = open_store(f"sqlite:///{path.as_posix().replace(' ', '%20')}")
    assert isinstance(store, SqliteStore)
    assert store.path == str(path)
    async with store:
        await store.ping()
    assert path.exists()


def test_sqlite_url_with_relative_path_and_memory() -> None:
    relative = open_store("sqlite:///data/tutor.db")
    assert isinstance(relative, SqliteStore)
    assert relative.path == "data/tutor.db"
    memory = open_store("sqlite:///:memory:")
    assert isinstance(memory, SqliteStore)
    assert memory.path == MEMORY


@pytest.mark.parametrize("url", ["postgresql://bot:s3cret@db/tutor", "postgres://bot:s3cret@db/tutor"])
def test_postgresql_is_refused_as_not_available_yet_without_leaking_the_password(
    url: str,
) -> None:
    with pytest.raises(UnsupportedStoreError, match="not available yet") as refused:
        open_store(url)
    assert "s3cret" not in str(refused.value)


def test_unknown_scheme_is_refused_clearly() -> None:
    with pytest.raises(UnsupportedStoreError, match="unsupported store URL scheme 'mysql'") as refused:
        open_store("mysql://bot:s3cret@db/tutor")
    assert "s3cret" not in str(refused.value)


def test_sqlite_url_with_a_host_is_refused() -> None:
    with pytest.raises(UnsupportedStoreError, match="names a host"):
        open_store("sqlite://server/tutor.db")
