"""`roadmap-tutor db migrate` and `db copy`, through the command line: what they print, what they refuse, exit codes."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.storage import SqliteStore
from bot.storage.migrations import latest_version, shipped_migrations
from tests.store_backends import PostgresBackend, SqliteBackend

T0 = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


async def make_sqlite(path: Path, *, upto: int | None = None, topics: int = 1) -> None:
    migrations = shipped_migrations()[:upto] if upto else None
    async with SqliteStore(path, migrations=migrations) as store:
        for i in range(topics):
            await store.mark_done(1, 2, f"topic-{i}", T0)


def test_migrate_without_settings_brings_the_default_sqlite_file_up_to_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    latest = latest_version()
    assert main(["db", "migrate"]) == 0
    assert capsys.readouterr().out.startswith(f"Migrated data/tutor.sqlite3 from schema version 0 to {latest} (")
    assert (tmp_path / "data" / "tutor.sqlite3").exists()

    assert main(["db", "migrate"]) == 0
    assert capsys.readouterr().out == f"data/tutor.sqlite3 is already at schema version {latest}; nothing to do.\n"


def test_migrate_names_the_steps_it_applied_to_an_older_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "old.db"
    asyncio.run(make_sqlite(database, upto=3))
    config = write_config(tmp_path, f"storage:\n  url: sqlite:///{database}\n")
    assert main(["db", "migrate", "--config", str(config)]) == 0
    later_steps = [f"{m.version:04d}_{m.name}" for m in shipped_migrations()[3:]]
    assert later_steps[0] == "0004_followed_roadmaps"
    assert capsys.readouterr().out == (
        f"Migrated {database} from schema version 3 to {latest_version()} ({', '.join(later_steps)}).\n"
    )


def test_migrate_on_postgresql_then_nothing_to_do(
    tmp_path: Path, postgres_backend: PostgresBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, f"storage:\n  url: {postgres_backend.url}\n")
    assert main(["db", "migrate", "--config", str(config)]) == 0
    assert f"Migrated {postgres_backend.url} from schema version 0 to {latest_version()}" in capsys.readouterr().out
    assert main(["db", "migrate", "--config", str(config)]) == 0
    assert "is already at schema version" in capsys.readouterr().out


def test_migrate_against_an_unreachable_server_is_one_line_without_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = write_config(tmp_path, f"storage:\n  url: postgresql://bot:s3cret@127.0.0.1:{port}/tutor\n")
    assert main(["db", "migrate", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"roadmap-tutor: cannot reach PostgreSQL at postgresql://bot@127.0.0.1:{port}/tutor")
    assert err.count("\n") == 1 and "s3cret" not in err


def test_a_mistyped_storage_key_or_bad_url_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, "storage:\n  uri: postgresql://db/tutor\n")
    assert main(["db", "migrate", "--config", str(config)]) == 2
    assert "storage.uri: unknown key" in capsys.readouterr().err
    config = write_config(tmp_path, "storage:\n  url: mysql://bot:s3cret@db/tutor\n")
    assert main(["db", "migrate", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "storage.url: unsupported store URL scheme 'mysql'" in err and "s3cret" not in err


def test_copy_sqlite_to_postgresql_reports_each_table_then_refuses_a_second_copy_unless_forced(
    tmp_path: Path, postgres_backend: PostgresBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "tutor.sqlite3"
    asyncio.run(make_sqlite(source, topics=3))

    assert main(["db", "copy", str(source), postgres_backend.url]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Copying {source} to {postgres_backend.url}:\n")
    assert "  progress: 3 rows\n" in out and "  questions: 0 rows\n" in out
    assert out.endswith("Copied 3 rows in 12 tables; every table's row count matches the source.\n")
    assert asyncio.run(postgres_backend.count_rows("progress")) == 3

    assert main(["db", "copy", str(source), postgres_backend.url]) == 2
    err = capsys.readouterr().err
    assert "already holds data (progress: 3 rows)" in err and "--force" in err

    assert main(["db", "copy", str(source), postgres_backend.url, "--force"]) == 0
    assert "Copied 3 rows" in capsys.readouterr().out
    assert asyncio.run(postgres_backend.count_rows("progress")) == 3


def test_copy_postgresql_back_to_a_new_sqlite_file(
    tmp_path: Path, postgres_backend: PostgresBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "first.sqlite3"
    asyncio.run(make_sqlite(source, topics=2))
    assert main(["db", "copy", f"sqlite:///{source}", postgres_backend.url]) == 0
    back = tmp_path / "back" / "tutor.sqlite3"
    assert main(["db", "copy", postgres_backend.url, str(back)]) == 0
    assert "Copied 2 rows" in capsys.readouterr().out
    assert asyncio.run(SqliteBackend(back).count_rows("progress")) == 2


def test_copy_from_a_sqlite_file_that_does_not_exist_is_refused_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo.sqlite3"
    assert main(["db", "copy", str(missing), str(tmp_path / "out.sqlite3")]) == 2
    assert capsys.readouterr().err == f"roadmap-tutor: the source database {missing} does not exist\n"
    assert not missing.exists() and not (tmp_path / "out.sqlite3").exists()


def test_copy_from_a_database_a_running_bot_holds_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "busy.sqlite3"
    asyncio.run(make_sqlite(source))

    async def copy_while_open() -> int:
        async with SqliteStore(source):  # the bot, running
            return await asyncio.to_thread(main, ["db", "copy", str(source), str(tmp_path / "out.sqlite3")])

    assert asyncio.run(copy_while_open()) == 2
    assert f"another Roadmap Tutor process is using {source}" in capsys.readouterr().err
