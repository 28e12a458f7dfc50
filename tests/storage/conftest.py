"""Fixtures for the storage tests: a fresh store per test on each backend, and a SQLite file for SQLite's own cases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.storage import SqliteStore, SqlStore
from tests.store_backends import StoreBackend


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "tutor.db"


@pytest_asyncio.fixture
async def store(store_backend: StoreBackend) -> AsyncIterator[SqlStore]:
    """An open store on SQLite, then on PostgreSQL: every test using it runs on both."""
    # A short busy timeout keeps the lock-contention tests fast.
    async with store_backend.store(busy_timeout=0.2) as opened:
        yield opened


@pytest_asyncio.fixture
async def sqlite_store(db_path: Path) -> AsyncIterator[SqliteStore]:
    """For what only SQLite has: its file, its pragmas, its writer lock."""
    async with SqliteStore(db_path, busy_timeout=0.2) as opened:
        yield opened
