"""Fixtures shared across the suites: the shipped knowledge, the real model, a built index, and both store backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answering import Answerer
from bot.config import Settings
from indexer.build import build_index
from indexer.encoders import Encoder, SentenceTransformerEncoder
from indexer.search import SearchIndex
from knowledge.loader import KnowledgeBase, load_knowledge
from tests.fakes import FakeEncoder, without_asked
from tests.store_backends import (
    PostgresBackend,
    PostgresServer,
    PostgresUnavailable,
    SqliteBackend,
    StoreBackend,
    running_postgres_server,
)


@pytest.fixture(scope="session")
def shipped_kb() -> KnowledgeBase:
    return load_knowledge()


@pytest.fixture(scope="session")
def real_encoder() -> Encoder:
    """The bundled all-MiniLM-L6-v2, loaded once for the whole run."""
    return SentenceTransformerEncoder("bundled")


@pytest.fixture(scope="session")
def real_data_dir(tmp_path_factory: pytest.TempPathFactory, shipped_kb: KnowledgeBase, real_encoder: Encoder) -> Path:
    """A data directory holding the shipped knowledge's index, built once with the real model."""
    data_dir = tmp_path_factory.mktemp("real-data")
    build_index(shipped_kb, data_dir / "index", real_encoder.name, lambda: real_encoder)
    return data_dir


@pytest.fixture(scope="session")
def real_answerer(shipped_kb: KnowledgeBase, real_encoder: Encoder, real_data_dir: Path) -> Answerer:
    return Answerer(shipped_kb, SearchIndex.load(real_data_dir / "index"), real_encoder)


@pytest.fixture
def fake_answerer(tmp_path: Path, shipped_kb: KnowledgeBase) -> Answerer:
    """The shipped knowledge (`without_asked`) with a word-hashing encoder: fast, for tests of everything but
    ranking quality."""
    encoder = FakeEncoder()
    kb = without_asked(shipped_kb)
    build_index(kb, tmp_path / "index", encoder.name, lambda: encoder)
    return Answerer(kb, SearchIndex.load(tmp_path / "index"), encoder)


@pytest.fixture
def real_settings(real_data_dir: Path) -> Settings:
    return Settings(data_dir=real_data_dir)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole run, started on first use (as `postgres` under root)."""
    try:
        with running_postgres_server() as server:
            yield server
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(params=["sqlite", "postgresql"])
def store_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreBackend]:
    """Each store test once per backend: a SQLite file in tmp_path, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield SqliteBackend(tmp_path / "data" / "tutor.db")
        return
    yield request.getfixturevalue("postgres_backend")


@pytest.fixture
def postgres_backend(postgres_server: PostgresServer) -> Iterator[PostgresBackend]:
    """A fresh PostgreSQL database, for what only PostgreSQL does."""
    with postgres_server.fresh_database() as database:
        yield PostgresBackend(postgres_server, database)
