"""`roadmap-tutor run`: check the token, open the store, build the tutor and the weekly service, then run the bot
with them (as discord.py's `examples/advanced_startup.py` builds its collaborators before the bot)."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from datetime import datetime, timedelta

import discord
import yarl

from bot import serving
from bot.answering import Answerer
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
from bot.storage.base import Store
from bot.tutor import Tutor, utc_now
from bot.weekly.service import WeeklyService

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


async def check_token(token: str) -> None:
    """Ask Discord who the token belongs to, so a rejected token stops the bot before the slow loading, not after.

    Raises `discord.LoginFailure` for a token Discord rejects."""
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    try:
        await http.static_login(token)
    finally:
        await http.close()


async def open_tutor(
    settings: Settings, store: Store, answerer: Answerer | None = None, clock: Callable[[], datetime] = utc_now
) -> Tutor:
    """The tutor on the configured index (or on `answerer`) with the questions admins taught. Loading the model
    and the index is CPU work: it runs off the event loop."""
    if answerer is None:
        answerer = await asyncio.to_thread(serving.open_answerer, settings)
    # The questions admins taught, embedded and served beside the index (data_dir/taught.yaml).
    teacher = await asyncio.to_thread(serving.open_teacher, settings, answerer)
    serving.settle_long_lived_objects()  # before any event arrives: the collection pauses the loop once, now
    window = timedelta(minutes=settings.discord.follow_up_minutes)
    return Tutor(answerer, store, clock, teacher=teacher, follow_up_window=window)


def weekly_service(tutor: Tutor) -> WeeklyService:
    """The weekly prompt's scheduler on the tutor's store and clock; it reads the knowledge the tutor serves now
    (a reindex replaces it)."""
    return WeeklyService(tutor.store, lambda: tutor.kb, tutor.clock)


async def serve(settings: Settings) -> None:
    token = token_of(settings)
    point_discord_py_at(settings)
    try:
        await check_token(token)
    except discord.LoginFailure:
        raise StartupError("Discord rejected the token: check DISCORD_TOKEN") from None
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
    tutor: Tutor | None = None
    try:
        tutor = await open_tutor(settings, store)
        async with build_bot(settings, store, tutor, weekly_service(tutor)) as bot:
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
        if tutor is not None:
            tutor.close()
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
