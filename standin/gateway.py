"""The gateway (websocket) half of the stand-in.

A *session* outlives the websocket it was identified on, as on Discord: dispatches made while the
client is disconnected are buffered and RESUME replays everything after the client's last sequence
number, then sends RESUMED. Each dispatch is filtered per session by the intents it identified with.
Protocol mistakes close the socket with Discord's 4xxx codes and are kept in ``errors``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .constants import GatewayClose, Intent

if TYPE_CHECKING:
    from .server import DiscordStandin

log = logging.getLogger(__name__)

JSON = dict[str, Any]

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_VOICE_STATE_UPDATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

REPLAY_BUFFER = 2000


@dataclass(eq=False)
class Dispatch:
    """One op-0 event of a session; ``sent`` resolves with the monotonic time it hit the socket."""

    seq: int
    event: str
    data: JSON
    sent: asyncio.Future[float]

    @property
    def sent_at(self) -> float | None:
        return self.sent.result() if self.sent.done() and not self.sent.cancelled() else None

    def frame(self) -> str:
        return json.dumps({"op": OP_DISPATCH, "t": self.event, "s": self.seq, "d": self.data})


@dataclass(frozen=True)
class IdentifyRecord:
    session_id: str
    intents: int
    properties: JSON
    shard: tuple[int, int] | None
    compress: str | None
    path: str
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class ResumeRecord:
    session_id: str
    seq: int | None
    ok: bool
    replayed: int
    path: str
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class GatewayError:
    """A close the stand-in initiated because the client broke the protocol (or was told to leave)."""

    code: int
    reason: str
    at: float = field(default_factory=time.monotonic)


class Session:
    def __init__(self, session_id: str, intents: int, shard: tuple[int, int] | None) -> None:
        self.id = session_id
        self.intents = intents
        self.shard = shard
        self.seq = 0
        self.buffer: deque[Dispatch] = deque(maxlen=REPLAY_BUFFER)
        self.connection: Connection | None = None
        self.invalidated = False

    def has(self, intent: int) -> bool:
        return bool(self.intents & intent)

    def dispatch(self, event: str, data: JSON) -> Dispatch:
        self.seq += 1
        item = Dispatch(self.seq, event, data, asyncio.get_running_loop().create_future())
        self.buffer.append(item)
        if self.connection is not None:
            self.connection.send(item.frame(), item)
        return item

    def owns_guild(self, guild_id: int) -> bool:
        if self.shard is None:
            return True
        shard_id, shard_count = self.shard
        return (guild_id >> 22) % shard_count == shard_id


class Connection:
    """One websocket. Frames go through a queue so synchronous code (state builders) can dispatch."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, *, compress: bool) -> None:
        self.ws = ws
        self.request = request
        self.path = request.path
        self.compress = compress
        self.session: Session | None = None
        self.closing = False
        self.finished = asyncio.Event()
        self._queue: asyncio.Queue[tuple[str, Dispatch | None]] = asyncio.Queue()
        self._compressor = zlib.compressobj()
        self._writer = asyncio.create_task(self._write_loop(), name="standin-gateway-writer")

    def send(self, text: str, dispatch: Dispatch | None = None) -> None:
        if not self.closing:
            self._queue.put_nowait((text, dispatch))

    def send_op(self, op: int, data: Any) -> None:
        self.send(json.dumps({"op": op, "d": data, "s": None, "t": None}))

    def detach(self) -> None:
        """Stops routing the session's dispatches here; unsent ones stay buffered for a RESUME."""
        if self.session is not None and self.session.connection is self:
            self.session.connection = None

    async def _write_loop(self) -> None:
        while True:
            text, dispatch = await self._queue.get()
            if self.compress:
                # zlib-stream: one shared deflate context per connection, each frame sync-flushed.
                data = self._compressor.compress(text.encode()) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(data)
            else:
                await self.ws.send_str(text)
            if dispatch is not None and not dispatch.sent.done():
                dispatch.sent.set_result(time.monotonic())

    async def stop_writing(self) -> None:
        self.closing = True
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, RuntimeError):
            await self._writer

    async def close(self, code: int, reason: str) -> None:
        self.detach()
        await self.stop_writing()
        if not self.ws.closed:
            await self.ws.close(code=code, message=reason.encode())

    def abort(self) -> None:
        """Drops the TCP connection without a close frame (what a network failure looks like)."""
        self.detach()
        self.closing = True
        self._writer.cancel()
        if self.request.transport is not None:
            self.request.transport.abort()


class Gateway:
    def __init__(self, standin: DiscordStandin) -> None:
        self._standin = standin
        self.connections: list[Connection] = []
        self.sessions: dict[str, Session] = {}
        self.identifies: list[IdentifyRecord] = []
        self.resumes: list[ResumeRecord] = []
        self.heartbeats: list[float] = []
        self.errors: list[GatewayError] = []
        self.presence_updates: list[JSON] = []
        self.member_requests: list[JSON] = []
        self._background: set[asyncio.Task[None]] = set()

    # -- dispatching ----------------------------------------------------------------------------

    def live_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if not s.invalidated]

    def dispatch(self, event: str, build: Callable[[Session], JSON | None]) -> list[Dispatch]:
        """Sends ``event`` to every live session for which ``build`` returns data (None = filtered out)."""
        sent = []
        for session in self.live_sessions():
            data = build(session)
            if data is not None:
                sent.append(session.dispatch(event, data))
        return sent

    def dispatch_guild(self, event: str, guild_id: int, data: JSON, intent: int = Intent.GUILDS) -> list[Dispatch]:
        return self.dispatch(event, lambda s: data if s.has(intent) and s.owns_guild(guild_id) else None)

    # -- connection handling --------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=4 * 1024 * 1024)
        await ws.prepare(request)
        compress = request.query.get("compress") == "zlib-stream" and self._standin.gateway_compression
        connection = Connection(ws, request, compress=compress)
        self.connections.append(connection)
        self._standin.signal.notify()
        try:
            if request.query.get("v") != "10":
                await self._refuse(connection, GatewayClose.INVALID_API_VERSION, "Invalid API version.")
                return ws
            if request.query.get("encoding", "json") != "json":
                await self._refuse(connection, GatewayClose.DECODE_ERROR, "Only encoding=json is supported.")
                return ws
            connection.send_op(
                OP_HELLO, {"heartbeat_interval": self._standin.heartbeat_interval, "_trace": ['["standin-gateway"]']}
            )
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    await self._receive(connection, message.data)
                else:
                    await self._refuse(connection, GatewayClose.DECODE_ERROR, "Expected JSON text frames.")
                if connection.closing:
                    break
        finally:
            await self._finish(connection)
        return ws

    async def _finish(self, connection: Connection) -> None:
        connection.detach()
        await connection.stop_writing()
        session = connection.session
        # A client that closes with 1000/1001 ends its session, as on Discord.
        if session is not None and not connection.closing and connection.ws.close_code in (1000, 1001):
            session.invalidated = True
        if connection in self.connections:
            self.connections.remove(connection)
        connection.finished.set()
        self._standin.signal.notify()

    async def _refuse(self, connection: Connection, code: int, reason: str) -> None:
        self.errors.append(GatewayError(code, reason))
        log.warning("stand-in gateway closes with %s: %s", code, reason)
        await connection.close(code, reason)
        self._standin.signal.notify()

    async def _receive(self, connection: Connection, text: str) -> None:
        try:
            payload = json.loads(text)
            op = payload["op"]
            data = payload.get("d")
        except (ValueError, KeyError, TypeError):
            await self._refuse(connection, GatewayClose.DECODE_ERROR, "Error while decoding payload.")
            return
        if op == OP_HEARTBEAT:
            self.heartbeats.append(time.monotonic())
            connection.send_op(OP_HEARTBEAT_ACK, None)
        elif op == OP_IDENTIFY:
            await self._identify(connection, data or {})
        elif op == OP_RESUME:
            await self._resume(connection, data or {})
        elif connection.session is None:
            await self._refuse(connection, GatewayClose.NOT_AUTHENTICATED, "Not authenticated.")
        elif op == OP_PRESENCE_UPDATE:
            self.presence_updates.append(data)
        elif op == OP_VOICE_STATE_UPDATE:
            pass  # the bot has no voice features; accepted and ignored
        elif op == OP_REQUEST_GUILD_MEMBERS:
            self._request_members(connection.session, data or {})
        else:
            await self._refuse(connection, GatewayClose.UNKNOWN_OPCODE, f"Unknown opcode {op}.")
        self._standin.signal.notify()

    async def _identify(self, connection: Connection, data: JSON) -> None:
        standin = self._standin
        if connection.session is not None:
            await self._refuse(connection, GatewayClose.ALREADY_AUTHENTICATED, "Already authenticated.")
            return
        if not standin.token_ok(data.get("token")):
            await self._refuse(connection, GatewayClose.AUTHENTICATION_FAILED, "Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int):
            await self._refuse(connection, 4013, "Invalid intent(s).")
            return
        if intents & Intent.PRIVILEGED & ~standin.allowed_privileged_intents:
            await self._refuse(connection, GatewayClose.DISALLOWED_INTENTS, "Disallowed intent(s).")
            return
        shard = tuple(data["shard"]) if data.get("shard") else None
        for old in self.sessions.values():
            if old.shard == shard:
                old.invalidated = True  # a fresh IDENTIFY replaces the shard's previous session
        session = Session(uuid.uuid4().hex, intents, shard)  # type: ignore[arg-type]
        self.sessions[session.id] = session
        connection.session = session
        session.connection = connection
        self.identifies.append(
            IdentifyRecord(
                session.id,
                intents,
                dict(data.get("properties") or {}),
                session.shard,
                connection.request.query.get("compress"),
                connection.path,
            )
        )
        world = standin.world
        guilds = [g for g in world.guilds.values() if session.owns_guild(g.id)]
        ready: JSON = {
            "v": 10,
            "user": {**world.bot.payload(), "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": standin.resume_gateway_url,
            "application": {"id": str(world.application_id), "flags": standin.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["standin"],
            "user_settings": {},
            "_trace": ['["standin-gateway"]'],
        }
        if shard is not None:
            ready["shard"] = list(shard)
        session.dispatch("READY", ready)
        if session.has(Intent.GUILDS):
            for guild in guilds:
                session.dispatch("GUILD_CREATE", standin.guild_create_payload(guild, session))

    async def _resume(self, connection: Connection, data: JSON) -> None:
        if connection.session is not None:
            await self._refuse(connection, GatewayClose.ALREADY_AUTHENTICATED, "Already authenticated.")
            return
        if not self._standin.token_ok(data.get("token")):
            await self._refuse(connection, GatewayClose.AUTHENTICATION_FAILED, "Authentication failed.")
            return
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq")
        last = seq if isinstance(seq, int) else 0
        missing_history = session is not None and bool(session.buffer) and session.buffer[0].seq > last + 1
        if session is None or session.invalidated or missing_history:
            self.resumes.append(ResumeRecord(str(data.get("session_id")), seq, False, 0, connection.path))
            # d=false: not resumable, the client must IDENTIFY again.
            connection.send_op(OP_INVALID_SESSION, False)
            return
        previous = session.connection
        if previous is not None and previous is not connection:
            previous.detach()
            # Not awaited: the old client may never answer the close handshake.
            task = asyncio.create_task(previous.close(GatewayClose.UNKNOWN_ERROR, "Session resumed elsewhere."))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        missed = [item for item in session.buffer if item.seq > last]
        for item in missed:
            connection.send(item.frame(), item)
        connection.session = session
        session.connection = connection
        self.resumes.append(ResumeRecord(session.id, seq, True, len(missed), connection.path))
        session.dispatch("RESUMED", {"_trace": ['["standin-gateway"]']})

    def _request_members(self, session: Session, data: JSON) -> None:
        self.member_requests.append(data)
        guild = self._standin.world.guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        members = list(guild.members.values())
        user_ids = {int(uid) for uid in data.get("user_ids") or []}
        if user_ids:
            members = [m for m in members if m.id in user_ids]
        elif not session.has(Intent.GUILD_MEMBERS):
            members = []  # listing members needs the privileged Server Members intent
        elif query := data.get("query"):
            members = [m for m in members if m.user.username.lower().startswith(str(query).lower())]
        if limit := data.get("limit"):
            members = members[:limit]
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": [self._standin.world.member_payload(m) for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [str(uid) for uid in user_ids - {m.id for m in members}],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        session.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    # -- faults ---------------------------------------------------------------------------------

    async def drop(
        self, code: int = GatewayClose.UNKNOWN_ERROR, *, abrupt: bool = False, resumable: bool = True
    ) -> None:
        connections = list(self.connections)
        for connection in connections:
            connection.detach()
        if not resumable:
            for session in self.sessions.values():
                session.invalidated = True
        for connection in connections:
            if abrupt:
                connection.abort()
            else:
                await connection.close(code, "Dropped by the stand-in.")
        if connections:
            await asyncio.wait([asyncio.create_task(c.finished.wait()) for c in connections], timeout=5)

    def request_reconnect(self) -> None:
        for connection in self.connections:
            connection.send_op(OP_RECONNECT, None)

    async def close_all(self) -> None:
        for connection in list(self.connections):
            await connection.close(1001, "Stand-in shutting down.")
