"""Running a real discord.py client against a ``DiscordStandin`` (for end-to-end tests and benchmarks).

The only module of the stand-in that imports discord.py: the stand-in itself speaks Discord's
protocol and knows nothing of the library on the other end.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, TypeVar

import discord
import yarl

if TYPE_CHECKING:
    from .server import DiscordStandin

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.contextmanager
def pointed_at(standin: DiscordStandin) -> Iterator[None]:
    """Sends discord.py's REST calls and gateway connection to the stand-in, restoring both after."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = standin.api_base_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(standin.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


@contextlib.asynccontextmanager
async def running(
    client: ClientT, standin: DiscordStandin, *, token: str | None = None, ready_timeout: float = 5.0
) -> AsyncIterator[ClientT]:
    """Logs ``client`` in, runs ``connect()`` as a task and yields once ``on_ready`` has fired.

    ``login`` + a ``connect`` task rather than ``start()`` + ``wait_until_ready()``: a failure in
    ``connect`` (bad token, disallowed intents) surfaces here instead of hanging the wait.
    The client is closed and its task finished on exit, so no session or socket outlives the test.
    """
    connect: asyncio.Task[None] | None = None
    with pointed_at(standin):
        try:
            await client.login(token if token is not None else standin.valid_token)
            connect = asyncio.create_task(client.connect(reconnect=True), name="standin-client-connect")
            ready = asyncio.create_task(client.wait_until_ready(), name="standin-client-ready")
            done, _ = await asyncio.wait({ready, connect}, timeout=ready_timeout, return_when=asyncio.FIRST_COMPLETED)
            if ready not in done:
                ready.cancel()
                if connect in done:
                    connect.result()  # re-raises why the client stopped
                raise TimeoutError(f"client not ready after {ready_timeout}s; stand-in problems: {standin.problems()}")
            yield client
        finally:
            await client.close()
            if connect is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(connect, 5.0)
