"""Fixtures for the storage tests: a fresh SQLite store per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.storage import SqliteStore


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "tutor.db"


@pytest_asyncio.fixture
async def store(db_path: Path) -> AsyncIterator[SqliteStore]:
    # A short busy timeout keeps the lock-contention tests fast.
    async with SqliteStore(db_path, busy_timeout=0.2) as opened:
        yield opened
