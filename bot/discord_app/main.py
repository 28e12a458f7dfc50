"""`roadmap-tutor run`: check the token, point discord.py at the configured endpoints, run the bot."""

from __future__ import annotations

import asyncio
import logging
import sys
from functools import partial

import discord
import yarl

from bot.config import DISCORD_API_BASE, DISCORD_GATEWAY, Settings
from bot.discord_app.client import build_bot
from bot.storage import (
    SchemaTooNewError,
    SqlStore,
    StorageBusy,
    StorageError,
    StorageUnavailable,
    StoreLockedError,
    open_store,
)

log = logging.getLogger(__name__)

REOPEN_EVERY = 10.0
"""Seconds between attempts to open a database server that could not be reached at start."""


class StartupError(Exception):
    """The bot cannot start; the message is one line for the admin."""


def point_discord_py_at(settings: Settings) -> None:
    """Use the configured REST base and gateway (a REST proxy, or a local stand-in in tests)."""
    discord.http.Route.BASE = settings.discord.api_base_url
    gateway = settings.discord.gateway_url
    if gateway != DISCORD_GATEWAY or settings.discord.api_base_url != DISCORD_API_BASE:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)


def token_of(settings: Settings) -> str:
    if settings.discord.token is None or not settings.discord.token.get_secret_value().strip():
        raise StartupError("no Discord token: set the DISCORD_TOKEN environment variable (or discord.token)")
    return settings.discord.token.get_secret_value().strip()


async def serve(settings: Settings) -> None:
    from bot.serving import open_answerer

    token = token_of(settings)
    point_discord_py_at(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    reopening: asyncio.Task[None] | None = None
    try:
        store = open_store(settings.store_url, pool_size=settings.storage.pool_size)
        await store.open()
    except (StoreLockedError, SchemaTooNewError) as exc:
        raise StartupError(f"cannot open the database: {exc}") from None
    except (StorageUnavailable, StorageBusy) as exc:
        if store.retry_open_while_unreachable:
            # A database server down or still starting (a restart, containers starting together) comes
            # back by itself: answer questions meanwhile and open the store when it does.
            log.error(
                "cannot open the database: %s; answering questions only, and trying again every %g s",
                exc,
                REOPEN_EVERY,
            )
            reopening = asyncio.create_task(keep_opening(store), name="reopen the store")
        elif isinstance(exc, StorageUnavailable):
            # Answering needs no database: serve questions, and let the unopened store make progress
            # commands apologise, rather than take the whole tutor down over a damaged file.
            log.error("cannot open the database: %s; answering questions only until it is fixed", exc)
        else:
            raise StartupError(f"cannot open the database: {exc}") from None
    except StorageError as exc:
        raise StartupError(f"cannot open the database: {exc}") from None
    try:
        bot = build_bot(settings, store, partial(open_answerer, settings))
        async with bot:
            try:
                await bot.start(token)
            except discord.LoginFailure:
                raise StartupError("Discord rejected the token: check DISCORD_TOKEN") from None
            except discord.PrivilegedIntentsRequired:
                raise StartupError(
                    "discord.message_content is on, but the Message Content intent is not enabled for this "
                    "application in the Developer Portal (Bot → Privileged Gateway Intents)"
                ) from None
    finally:
        if reopening is not None:
            reopening.cancel()
        await store.close()


async def keep_opening(store: SqlStore) -> None:
    """Try to open `store` every `REOPEN_EVERY` seconds until it opens (or turns out newer than the code)."""
    while True:
        await asyncio.sleep(REOPEN_EVERY)
        try:
            await store.open()
        except SchemaTooNewError as exc:
            log.error("cannot open the database: %s; progress stays off until the bot is upgraded", exc)
            return
        except StorageError as exc:
            log.debug("the database is still unavailable: %s", exc)
            continue
        log.warning("opened the database %s; progress commands work again", store.display)
        return


def run_bot(settings: Settings) -> int:
    try:
        asyncio.run(serve(settings))
    except StartupError as exc:
        print(f"roadmap-tutor: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        log.info("stopped")
    return 0
