"""Where the data lives: a SQLite path, ``sqlite:///path`` or ``postgresql://...``, read without loading a driver.

The settings check ``storage.url`` with `parse_store_url` when the file is read, and `open_store`
builds the store from the same answer, so a typo is reported at start with the key's name rather
than on the first command.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from bot.storage.errors import UnsupportedStoreError

__all__ = ["POSTGRES_SCHEMES", "StoreLocation", "parse_store_url", "redact_url"]

POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "postgresql+asyncpg"})


@dataclass(frozen=True, slots=True)
class StoreLocation:
    """A parsed store URL: which backend, what to hand its driver, and what to show in messages."""

    backend: Literal["sqlite", "postgresql"]
    target: str  # SQLite: the file path (or ":memory:"); PostgreSQL: the DSN asyncpg connects with
    display: str  # for logs and messages: never a password


def redact_url(url: str) -> str:
    """`url` without its password or query string (which may hold one), for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        port = ""
    user = f"{unquote(parts.username)}@" if parts.username else ""
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, "", ""))


def parse_store_url(url_or_path: str | os.PathLike[str]) -> StoreLocation:
    """Read a path or a store URL; raise `UnsupportedStoreError` naming what is wrong (never the password).

    ``sqlite:///relative.db`` and ``sqlite:////absolute.db`` follow SQLAlchemy's convention;
    ``sqlite:///:memory:`` is a throw-away database. ``postgresql://``, ``postgres://`` and
    ``postgresql+asyncpg://`` URLs are libpq-style: user, password, host, port, database, and
    query options such as ``sslmode=require``.
    """
    text = os.fspath(url_or_path)
    if not text.strip():
        raise UnsupportedStoreError("the store URL is empty; use a file path, sqlite:///path or postgresql://...")
    if "://" not in text:
        return StoreLocation("sqlite", text, text)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        if parts.netloc:
            raise UnsupportedStoreError(
                f"sqlite URL {text!r} names a host; use sqlite:///relative.db or sqlite:////absolute/path.db"
            )
        path = unquote(parts.path.removeprefix("/"))
        if not path:
            raise UnsupportedStoreError(f"sqlite URL {text!r} has no database path")
        return StoreLocation("sqlite", path, path)
    display = redact_url(text)
    if scheme in POSTGRES_SCHEMES:
        try:
            parts.port  # noqa: B018 - parsing the port is the check
        except ValueError:
            raise UnsupportedStoreError(f"PostgreSQL URL {display} has a port that is not a number") from None
        # asyncpg reads postgres:// and postgresql://; the +asyncpg spelling is SQLAlchemy's.
        dsn = text if scheme != "postgresql+asyncpg" else "postgresql" + text[len(parts.scheme) :]
        return StoreLocation("postgresql", dsn, display)
    # The URL itself stays out of the message: it may carry a password.
    raise UnsupportedStoreError(
        f"unsupported store URL scheme {scheme!r}; use a file path, sqlite:///path or postgresql://user@host/database"
    )
