"""``DiscordStandin``: a local Discord (gateway + REST) that the real discord.py client talks to.

It owns the aiohttp server, the world model, the records tests assert on, and the helpers that act
as Discord's users (slash commands, clicks, messages). Point discord.py at it with
``discord.http.Route.BASE = standin.api_base_url`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(standin.gateway_url)``
(or ``standin.harness.pointed_at``).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import mimetypes
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from .constants import ChannelType, GatewayClose, Intent, InteractionType, Perm
from .gateway import Dispatch, Gateway, Session
from .interactions import InteractionBuilder
from .records import (
    FaultRule,
    InteractionRecord,
    Rejection,
    RequestRecord,
    Signal,
    UnknownRoute,
    pings,
)
from .rest import API_PREFIX, ApiError, RestApi
from .state import Attachment, Channel, Guild, Member, Message, Overwrite, Role, Snowflakes, User, World

log = logging.getLogger(__name__)

JSON = dict[str, Any]
T = TypeVar("T")

# Application flags Discord reports for an unverified bot allowed each privileged intent.
_PRIVILEGED_APP_FLAGS = {
    Intent.GUILD_PRESENCES: 1 << 13,
    Intent.GUILD_MEMBERS: 1 << 15,
    Intent.MESSAGE_CONTENT: 1 << 19,
}


class DiscordStandin:
    """A faithful, strict, observable stand-in for Discord, served on 127.0.0.1.

    Knobs are plain attributes so a test can change them mid-run (``interaction_deadline``,
    ``rest_latency``...). Builders (``add_guild``...) also notify a connected bot, as Discord would.
    """

    def __init__(
        self,
        *,
        valid_token: str = "standin-token",
        bot_id: int | None = None,
        application_id: int | None = None,
        bot_name: str = "Roadmap Tutor",
        heartbeat_interval: int = 41250,
        interaction_deadline: float = 3.0,
        token_lifetime: float = 15 * 60.0,
        attachment_size_limit: int = 10 * 1024 * 1024,
        bot_permissions: int = Perm.DEFAULT_BOT,
        allowed_privileged_intents: int = Intent.PRIVILEGED,
        gateway_compression: bool = True,
        rest_latency: float = 0.0,
        shard_count: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.valid_token = valid_token
        self.heartbeat_interval = heartbeat_interval
        self.interaction_deadline = interaction_deadline
        self.token_lifetime = token_lifetime
        self.attachment_size_limit = attachment_size_limit
        self.allowed_privileged_intents = allowed_privileged_intents
        self.gateway_compression = gateway_compression
        self.rest_latency = rest_latency
        # What GET /gateway/bot recommends. Sessions that IDENTIFY with [shard_id, shard_count] get the guilds
        # with (guild_id >> 22) % shard_count == shard_id; direct messages go to shard 0, as on Discord.
        self.shard_count = shard_count
        self.host = host
        self._requested_port = port
        self.port: int | None = None

        self.ids = Snowflakes()
        bot_id = bot_id or self.ids.next()
        bot = User(id=bot_id, username=bot_name, bot=True)
        self.world = World(self.ids, bot, application_id or bot_id, bot_permissions)
        self.app_owner = self.world.add_user("app-owner")
        self.signal = Signal()
        self.gateway = Gateway(self)
        self.rest = RestApi(self)

        # -- records (append-only while running; see clear_records) --
        self.messages: list[Message] = []
        self.user_messages: list[Message] = []
        self.rejections: list[Rejection] = []
        self.unknown_routes: list[UnknownRoute] = []
        self.requests: list[RequestRecord] = []
        self.internal_errors: list[str] = []
        self.interactions: list[InteractionRecord] = []
        self.interactions_by_id: dict[int, InteractionRecord] = {}
        self.interactions_by_token: dict[str, InteractionRecord] = {}
        self.commands: dict[int | None, list[JSON]] = {}
        self.command_syncs: list[int | None] = []
        self.threads: list[Channel] = []
        self.typing: list[int] = []
        self.attachments: dict[int, Attachment] = {}
        self.faults: list[FaultRule] = []
        # Embeds showing attachment://NAME where no file of that name is on the message: Discord sends them
        # without complaint and the picture silently does not show.
        self.broken_references: list[str] = []
        self._command_ids: dict[tuple[int | None, int, str], int] = {}
        self._command_versions: dict[int, int] = {}

        self.builder = InteractionBuilder(
            self.world, self.commands, attachment_size_limit=attachment_size_limit, new_attachment=self.new_attachment
        )
        self._runner: web.AppRunner | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("stand-in already started")
        app = web.Application(
            middlewares=[self.rest.middleware], client_max_size=self.attachment_size_limit * 11 + 1024 * 1024
        )
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/resume-gateway", self.gateway.handle)
        self.rest.install(app)
        self.rest.install_fallback(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        self.port = runner.addresses[0][1]
        self.world.attachment_base = f"{self.base_url}/attachments"
        log.info("Discord stand-in listening on %s", self.base_url)

    async def stop(self) -> None:
        if self._runner is None:
            return
        await self.gateway.close_all()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> DiscordStandin:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("stand-in not started")
        return f"http://{self.host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        # A distinct path, so tests can see that the client resumed where READY told it to.
        return f"ws://{self.host}:{self.port}/resume-gateway"

    @property
    def bot(self) -> User:
        return self.world.bot

    @property
    def bot_id(self) -> int:
        return self.world.bot.id

    @property
    def application_id(self) -> int:
        return self.world.application_id

    @property
    def application_flags(self) -> int:
        return sum(flag for intent, flag in _PRIVILEGED_APP_FLAGS.items() if self.allowed_privileged_intents & intent)

    def token_ok(self, token: object) -> bool:
        return isinstance(token, str) and token == self.valid_token

    # -- world builders (each tells a connected bot, as Discord would) ---------------------------

    def add_user(self, username: str, *, user_id: int | None = None) -> User:
        """A user who shares no guild with the bot (yet); e.g. someone who only DMs it."""
        return self.world.add_user(username, user_id=user_id)

    def add_guild(
        self, name: str, *, owner_id: int | None = None, guild_id: int | None = None, locale: str = "en-US"
    ) -> Guild:
        guild = self.world.add_guild(name, owner_id=owner_id, guild_id=guild_id, locale=locale)
        self.gateway.dispatch(
            "GUILD_CREATE",
            lambda s: self.guild_create_payload(guild, s) if s.has(Intent.GUILDS) and s.owns_guild(guild.id) else None,
        )
        return guild

    def add_channel(
        self,
        guild_id: int,
        name: str,
        type: int = ChannelType.GUILD_TEXT,
        *,
        parent_id: int | None = None,
        topic: str | None = None,
    ) -> Channel:
        channel = self.world.add_channel(guild_id, name, type, parent_id=parent_id, topic=topic)
        self.gateway.dispatch_guild("CHANNEL_CREATE", guild_id, self.world.channel_payload(channel))
        return channel

    def add_role(self, guild_id: int, name: str, permissions: int = 0) -> Role:
        role = self.world.add_role(guild_id, name, permissions)
        self.gateway.dispatch_guild("GUILD_ROLE_CREATE", guild_id, {"guild_id": str(guild_id), "role": role.payload()})
        return role

    def add_member(
        self,
        guild_id: int,
        username: str,
        roles: Iterable[int | Role] = (),
        permissions: int = 0,
        *,
        user_id: int | None = None,
        nick: str | None = None,
    ) -> Member:
        """``permissions`` is granted through a personal role: on Discord permissions only come from roles."""
        role_ids = [role.id if isinstance(role, Role) else int(role) for role in roles]
        member = self.world.add_member(guild_id, username, role_ids, permissions, user_id=user_id, nick=nick)
        self.gateway.dispatch_guild(
            "GUILD_MEMBER_ADD",
            guild_id,
            {**self.world.member_payload(member), "guild_id": str(guild_id)},
            intent=Intent.GUILD_MEMBERS,
        )
        return member

    def dm_channel(self, user_id: int | User | Member) -> Channel:
        return self.world.dm_channel(int(getattr(user_id, "id", user_id)))

    def delete_channel(self, channel_id: int) -> None:
        channel = self.world.channel(channel_id)
        if channel.guild_id is None:
            raise ValueError("DM channels cannot be deleted")
        threads = [
            c for c in self.world.channels.values() if c.parent_id == channel.id and c.is_thread and not c.deleted
        ]
        self.world.delete_channel(channel_id)
        for thread in threads:
            self.gateway.dispatch_guild(
                "THREAD_DELETE",
                channel.guild_id,
                {
                    "id": str(thread.id),
                    "guild_id": str(channel.guild_id),
                    "parent_id": str(channel.id),
                    "type": thread.type,
                },
            )
        event = "THREAD_DELETE" if channel.is_thread else "CHANNEL_DELETE"
        self.gateway.dispatch_guild(event, channel.guild_id, self.world.channel_payload(channel))
        self.signal.notify()

    def deny_bot(self, channel_id: int, permissions: int = Perm.SENDING) -> None:
        """Adds a member overwrite denying the bot ``permissions`` (default: everything that posts)."""
        channel = self.world.channel(channel_id)
        if channel.guild_id is None:
            raise ValueError("permission overwrites only exist in guild channels")
        current = channel.overwrites.get(self.bot_id) or Overwrite(self.bot_id, 1)
        current.deny |= permissions
        current.allow &= ~permissions
        channel.overwrites[self.bot_id] = current
        self.gateway.dispatch_guild("CHANNEL_UPDATE", channel.guild_id, self.world.channel_payload(channel))

    def allow_bot(self, channel_id: int) -> None:
        channel = self.world.channel(channel_id)
        channel.overwrites.pop(self.bot_id, None)
        if channel.guild_id is not None:
            self.gateway.dispatch_guild("CHANNEL_UPDATE", channel.guild_id, self.world.channel_payload(channel))

    def close_dms(self, user_id: int) -> None:
        """The user blocks DMs from server members: the bot's DMs then fail with 403, code 50007."""
        self.world.closed_dms.add(int(user_id))

    def open_dms(self, user_id: int) -> None:
        self.world.closed_dms.discard(int(user_id))

    def dms_to(self, user_id: int | User | Member) -> list[Message]:
        """The messages the bot sent to a user's DMs, oldest first."""
        channel_id = self.world.dm_by_user.get(int(getattr(user_id, "id", user_id)))
        return [m for m in self.messages if channel_id is not None and m.channel_id == channel_id and not m.deleted]

    def guild_create_payload(self, guild: Guild, session: Session) -> JSON:
        # Without the Presence intent Discord only includes the bot itself (and voice members) here.
        members = list(guild.members.values()) if session.has(Intent.GUILD_PRESENCES) else [guild.members[self.bot_id]]
        return self.world.guild_payload(guild, members=members, full=True)

    # -- acting as Discord's users --------------------------------------------------------------

    async def slash(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        name: str,
        options: Mapping[str, Any] | None = None,
        subcommand: str | None = None,
        *,
        locale: str = "en-US",
        force: bool = False,
    ) -> InteractionRecord:
        """A user runs ``/name [subcommand] options...``; returns once the bot's socket has the event.

        Options are typed against the synced schema; user/channel/role values may be ids or stand-in
        objects and get ``resolved`` data; attachment values are ``(filename, bytes)``.
        ``force`` skips the client-side checks (permissions, contexts) to simulate a forged request.
        """
        payload = self.builder.command(
            InteractionType.APPLICATION_COMMAND,
            guild_id,
            channel_id,
            user_id,
            name,
            options,
            subcommand,
            locale=locale,
            force=force,
        )
        return await self._dispatch_interaction(payload, name)

    async def autocomplete(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        name: str,
        focused: str,
        value: str = "",
        options: Mapping[str, Any] | None = None,
        subcommand: str | None = None,
        *,
        locale: str = "en-US",
        force: bool = False,
    ) -> InteractionRecord:
        """The user has typed ``value`` into option ``focused``; the answer is ``record.choices``.

        ``force`` skips the client-side checks (permissions, contexts), as a forged request would."""
        typed = {**(options or {}), focused: value}
        payload = self.builder.command(
            InteractionType.AUTOCOMPLETE,
            guild_id,
            channel_id,
            user_id,
            name,
            typed,
            subcommand,
            focused=focused,
            locale=locale,
            force=force,
        )
        return await self._dispatch_interaction(payload, name)

    async def click(
        self,
        message: Message | int,
        custom_id: str,
        user_id: int,
        *,
        values: list[str] | None = None,
        force: bool = False,
    ) -> InteractionRecord:
        """A user presses a button (or picks ``values`` in a select) on a message the bot sent.

        An ephemeral message can only be clicked by the member it was shown to; ``force`` sends the click
        anyway, as a forged request would."""
        target = message if isinstance(message, Message) else self.world.messages[int(message)]
        if target.deleted:
            raise LookupError(f"message {target.id} was deleted")
        payload = self.builder.click(target, custom_id, user_id, values, force=force)
        return await self._dispatch_interaction(payload, custom_id)

    async def submit_modal(
        self, shown: InteractionRecord, values: Mapping[str, str], *, user_id: int | None = None
    ) -> InteractionRecord:
        """The user fills in the modal the bot answered ``shown`` with and presses Submit."""
        modal = shown.modal
        if modal is None:
            raise ValueError(f"{shown.describe()} was not answered with a modal")
        source = shown.payload.get("message")
        message = self.world.messages.get(int(source["id"])) if source else None
        payload = self.builder.modal_submit(
            modal, values, shown.guild_id, shown.channel_id, user_id or shown.user_id, message
        )
        return await self._dispatch_interaction(payload, modal["custom_id"])

    async def user_message(
        self,
        channel_id: int,
        user_id: int,
        content: str = "",
        mentions_bot: bool = False,
        *,
        reply_to: Message | int | None = None,
        ping_reply: bool = True,
        attachments: Iterable[tuple[str, bytes]] = (),
        embeds: list[JSON] | None = None,
    ) -> Message:
        """A user posts a message; the bot gets MESSAGE_CREATE filtered by its intents.

        In guilds the content (and embeds, attachments) arrives blank unless the bot has the Message
        Content intent or the message mentions it (``mentions_bot`` prepends the mention, and a
        pinging reply to the bot counts). In DMs content is always delivered.
        """
        world = self.world
        channel = world.live_channel(int(channel_id))
        if channel is None:
            raise LookupError(f"channel {channel_id} does not exist")
        if channel.is_dm:
            if user_id not in channel.recipient_ids:
                raise ValueError(f"user {user_id} is not in DM channel {channel.id}")
        else:
            needed = Perm.VIEW_CHANNEL | (Perm.SEND_MESSAGES_IN_THREADS if channel.is_thread else Perm.SEND_MESSAGES)
            if needed & ~world.channel_permissions(channel, user_id):
                raise PermissionError(f"user {user_id} cannot post in channel {channel.id}")
        mention = f"<@{self.bot_id}>"
        if mentions_bot and mention not in content and f"<@!{self.bot_id}>" not in content:
            content = f"{mention} {content}".rstrip()
        reference: JSON | None = None
        extra_mentions: list[int] = []
        if reply_to is not None:
            target = world.messages.get(int(getattr(reply_to, "id", reply_to)))
            if target is None or target.deleted or target.channel_id != channel.id:
                raise LookupError(f"cannot reply to message {reply_to!r} in channel {channel.id}")
            reference = {
                "message_id": str(target.id),
                "channel_id": str(channel.id),
                **({"guild_id": str(channel.guild_id)} if channel.guild_id else {}),
            }
            if ping_reply:
                extra_mentions.append(target.author_id)
        message = Message(
            id=self.ids.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author_id=user_id,
            content=content,
            embeds=list(embeds or []),
            type=19 if reference else 0,
            message_reference=reference,
            extra_mentions=extra_mentions,
            kind="user",
            route="user",
        )
        message.attachments = [self.new_attachment(channel.id, name, data) for name, data in attachments]
        self.user_messages.append(message)
        dispatches = self._store(message)
        await self._delivered(dispatches)
        return message

    async def user_thread(self, message: Message | int, user_id: int, name: str) -> Channel:
        """A user starts a public thread on a message, as Discord's "Create Thread" on a message does: the
        thread shares the message's id and the bot gets THREAD_CREATE."""
        starter = self.world.messages.get(int(getattr(message, "id", message)))
        if starter is None or starter.deleted:
            raise LookupError(f"no message {message!r} to start a thread on")
        channel = self.world.channel(starter.channel_id)
        if channel.type not in (ChannelType.GUILD_TEXT, ChannelType.GUILD_ANNOUNCEMENT):
            raise ValueError(f"channel {channel.id} cannot have threads")
        if Perm.CREATE_PUBLIC_THREADS & ~self.world.channel_permissions(channel, user_id):
            raise PermissionError(f"user {user_id} cannot create threads in channel {channel.id}")
        if starter.thread_id is not None:
            raise ValueError(f"message {starter.id} already has a thread")
        thread = self.world.add_thread(
            channel, name, type=ChannelType.PUBLIC_THREAD, owner_id=user_id, thread_id=starter.id
        )
        starter.thread_id = thread.id
        self.threads.append(thread)
        data = {**self.world.channel_payload(thread), "newly_created": True}  # the bot is not a member of it
        await self._delivered(self.gateway.dispatch_guild("THREAD_CREATE", thread.guild_id, data))
        self.signal.notify()
        return thread

    # -- gateway control ------------------------------------------------------------------------

    async def drop_gateway(
        self, code: int = GatewayClose.UNKNOWN_ERROR, *, abrupt: bool = False, resumable: bool = True
    ) -> None:
        """Closes every gateway connection (``abrupt``: TCP reset, no close frame). Dispatches made
        until the bot resumes are buffered and replayed; ``resumable=False`` forces a new IDENTIFY."""
        await self.gateway.drop(code, abrupt=abrupt, resumable=resumable)

    def request_reconnect(self) -> None:
        """Sends op 7 RECONNECT, as Discord does before moving a session."""
        self.gateway.request_reconnect()

    @property
    def identify_count(self) -> int:
        return len(self.gateway.identifies)

    @property
    def resume_count(self) -> int:
        return sum(1 for r in self.gateway.resumes if r.ok)

    @property
    def intents(self) -> int | None:
        """Intents of the latest IDENTIFY (None before any)."""
        return self.gateway.identifies[-1].intents if self.gateway.identifies else None

    @property
    def current_intents(self) -> int:
        sessions = self.gateway.live_sessions()
        return sessions[-1].intents if sessions else 0

    @property
    def heartbeat_gaps(self) -> list[float]:
        """Seconds between consecutive heartbeats; a gap far above ``heartbeat_interval`` means the
        bot's event loop was blocked (discord.py's heartbeat thread needs the loop to send)."""
        beats = self.gateway.heartbeats
        return [later - earlier for earlier, later in itertools.pairwise(beats)]

    @property
    def connected(self) -> bool:
        return any(c.session is not None and c.session.connection is c for c in self.gateway.connections)

    async def wait_identified(self, count: int = 1, timeout: float = 5.0) -> None:
        await self.wait_for(lambda: self.identify_count >= count, timeout, f"{count} IDENTIFY")

    async def wait_resumed(self, count: int = 1, timeout: float = 5.0) -> None:
        await self.wait_for(lambda: self.resume_count >= count, timeout, f"{count} successful RESUME")

    # -- observing ------------------------------------------------------------------------------

    async def wait_for(self, check: Callable[[], T], timeout: float = 5.0, what: str = "a condition") -> T:
        return await self.signal.wait_until(check, timeout, what)

    async def wait_for_message(
        self, predicate: Callable[[Message], bool] | None = None, timeout: float = 5.0
    ) -> Message:
        """The first message the bot posted (not deleted, not an unfilled "thinking..." placeholder)
        satisfying ``predicate``, waiting for it if needed."""

        def find() -> Message | None:
            return next(
                (m for m in self.messages if not m.deleted and not m.loading and (predicate is None or predicate(m))),
                None,
            )

        return await self.signal.wait_until(find, timeout, "a bot message matching the predicate")

    def pings(self, message: Message) -> bool:
        """Could this message, as sent, ping anyone beyond the user it replies to?"""
        replied = self.world.messages.get(message.reply_to or 0)
        return pings(message, replied.author_id if replied else None)

    def content_visible(self, message: Message, intents: int) -> bool:
        """Whether Discord shows this bot the message's content (Message Content intent rules)."""
        return bool(
            intents & Intent.MESSAGE_CONTENT
            or message.guild_id is None
            or message.author_id == self.bot_id
            or self.bot_id in message.mentioned_user_ids()
        )

    def problems(self) -> list[str]:
        found = [f"rejected {r.method} {r.route}: {r.status}/{r.code} {r.reason}" for r in self.rejections]
        found += [f"unknown route {u.method} {u.path}" for u in self.unknown_routes]
        found += [f"gateway closed the bot with {e.code}: {e.reason}" for e in self.gateway.errors]
        found += [f"stand-in internal error:\n{e}" for e in self.internal_errors]
        found += self.broken_references
        return found

    def assert_clean(self) -> None:
        """Fails if anything the bot did would have been refused (or crashed the stand-in)."""
        if problems := self.problems():
            raise AssertionError("the bot did things Discord would refuse:\n" + "\n".join(problems))

    def clear_records(self) -> None:
        """Forgets what was observed so far (world and synced commands stay), e.g. between benchmark rounds."""
        for records in (
            self.messages,
            self.user_messages,
            self.rejections,
            self.unknown_routes,
            self.requests,
            self.internal_errors,
            self.interactions,
            self.threads,
            self.typing,
            self.gateway.errors,
            self.broken_references,
        ):
            records.clear()

    # -- fault injection ------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        json_body: JSON | None = None,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
    ) -> FaultRule:
        """The next ``times`` REST calls matching (method or "*", regex searched in the path after
        /api/v10) get ``status`` instead. A 429 gets Discord's body and X-RateLimit-*/Retry-After headers."""
        rule = FaultRule(method.upper(), re.compile(path_regex), status, json_body, dict(headers or {}), times)
        self.faults.append(rule)
        return rule

    def delay_next(self, method: str, path_regex: str, seconds: float, times: int = 1) -> FaultRule:
        """The next ``times`` matching REST calls are answered ``seconds`` late (then normally)."""
        rule = FaultRule(method.upper(), re.compile(path_regex), None, None, {}, times, delay=seconds)
        self.faults.append(rule)
        return rule

    def take_fault(self, method: str, path: str) -> FaultRule | None:
        for rule in self.faults:
            if rule.matches(method, path):
                rule.hits += 1
                return rule
        return None

    # -- hooks used by the REST layer -----------------------------------------------------------

    def rejection_of(self, method: str, path: str, error: ApiError) -> Rejection:
        route = path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path
        return Rejection(method, route, error.status, error.code, error.reason, error.body())

    def record_rejection(self, method: str, path: str, error: ApiError) -> Rejection:
        rejection = self.rejection_of(method, path, error)
        self.rejections.append(rejection)
        log.warning("stand-in refused %s %s: %s/%s %s", method, rejection.route, error.status, error.code, error.reason)
        return rejection

    def new_attachment(
        self,
        channel_id: int,
        filename: str,
        data: bytes,
        *,
        content_type: str | None = None,
        description: str | None = None,
    ) -> Attachment:
        attachment_id = self.ids.next()
        url = f"{self.world.attachment_base}/{channel_id}/{attachment_id}/{urllib.parse.quote(filename)}"
        attachment = Attachment(
            attachment_id,
            filename,
            bytes(data),
            url,
            content_type=content_type or mimetypes.guess_type(filename)[0],
            description=description,
        )
        self.attachments[attachment_id] = attachment
        return attachment

    def store_message(self, message: Message) -> None:
        """A message the bot created (REST or interaction)."""
        self.messages.append(message)
        self._check_references(message)
        self._store(message)

    def _check_references(self, message: Message) -> None:
        attached = {a.filename for a in message.attachments}
        for embed in message.embeds:
            for key in ("image", "thumbnail"):
                url = (embed.get(key) or {}).get("url") or ""
                if url.startswith("attachment://") and url.removeprefix("attachment://") not in attached:
                    self.broken_references.append(
                        f"message {message.id} shows {url} but has no such file (it has {sorted(attached)})"
                    )

    def message_updated(self, message: Message) -> None:
        self._check_references(message)
        if not message.ephemeral:
            self._dispatch_message("MESSAGE_UPDATE", message)
        self.signal.notify()

    def message_deleted(self, message: Message) -> None:
        message.deleted = True
        if not message.ephemeral:
            data = {
                "id": str(message.id),
                "channel_id": str(message.channel_id),
                **({"guild_id": str(message.guild_id)} if message.guild_id else {}),
            }
            self.gateway.dispatch("MESSAGE_DELETE", lambda s: data if self._wants_message(s, message) else None)
        self.signal.notify()

    def thread_created(self, thread: Channel) -> JSON:
        self.threads.append(thread)
        assert thread.guild_id is not None
        data = {
            **self.world.channel_payload(thread),
            "newly_created": True,
            "member": self.world.thread_member_payload(thread, self.bot_id),
        }
        self.gateway.dispatch_guild("THREAD_CREATE", thread.guild_id, data)
        self.signal.notify()
        return data

    def store_command(self, scope: int | None, command: JSON) -> JSON:
        """Gives a synced command its id; ids stay stable across re-syncs, as on Discord."""
        kind = command.get("type", 1)
        key = (scope, kind, command["name"])
        command_id = self._command_ids.setdefault(key, self.ids.next())
        self._command_versions[command_id] = self.ids.next()
        stored: JSON = {
            "id": str(command_id),
            "application_id": str(self.application_id),
            "version": str(self._command_versions[command_id]),
            "type": kind,
            "name": command["name"],
            "name_localizations": command.get("name_localizations"),
            "description": command.get("description", ""),
            "description_localizations": command.get("description_localizations"),
            "options": command.get("options") or [],
            "default_member_permissions": command.get("default_member_permissions"),
            "nsfw": bool(command.get("nsfw", False)),
            "contexts": command.get("contexts"),
            "integration_types": command.get("integration_types") or [0],
        }
        if scope is None:
            stored["dm_permission"] = command.get("dm_permission", True)
        else:
            stored["guild_id"] = str(scope)
        return stored

    # -- internals ------------------------------------------------------------------------------

    def _store(self, message: Message) -> list[Dispatch]:
        self.world.messages[message.id] = message
        channel = self.world.channels.get(message.channel_id)
        if channel is not None:
            channel.last_message_id = message.id
            channel.message_count += 1
        dispatches = [] if message.ephemeral else self._dispatch_message("MESSAGE_CREATE", message)
        self.signal.notify()
        return dispatches

    def _wants_message(self, session: Session, message: Message) -> bool:
        if message.guild_id is None:
            return session.has(Intent.DIRECT_MESSAGES) and _receives_dms(session)
        return session.has(Intent.GUILD_MESSAGES) and session.owns_guild(message.guild_id)

    def _dispatch_message(self, event: str, message: Message) -> list[Dispatch]:
        def build(session: Session) -> JSON | None:
            if not self._wants_message(session, message):
                return None
            return self.world.message_payload(message, blank=not self.content_visible(message, session.intents))

        return self.gateway.dispatch(event, build)

    async def _dispatch_interaction(self, payload: JSON, name: str) -> InteractionRecord:
        guild_id = int(payload["guild_id"]) if payload.get("guild_id") else None
        live = self.gateway.live_sessions()
        sessions = [s for s in live if (_receives_dms(s) if guild_id is None else s.owns_guild(guild_id))]
        if not sessions:
            raise RuntimeError("the bot has no gateway session; nothing would receive this interaction")
        user = payload.get("member", {}).get("user") or payload["user"]
        record = InteractionRecord(
            id=int(payload["id"]),
            token=payload["token"],
            type=payload["type"],
            name=name,
            payload=payload,
            user_id=int(user["id"]),
            guild_id=guild_id,
            channel_id=int(payload["channel_id"]),
            deadline=self.interaction_deadline,
            signal=self.signal,
        )
        self.interactions.append(record)
        self.interactions_by_id[record.id] = record
        self.interactions_by_token[record.token] = record
        # Discord delivers an interaction to one session only (the shard owning the guild).
        record.dispatch = sessions[-1].dispatch("INTERACTION_CREATE", payload)
        await self._delivered([record.dispatch])
        self.signal.notify()
        return record

    async def _delivered(self, dispatches: list[Dispatch], timeout: float = 5.0) -> None:
        """Waits until connected sessions have the frames; buffered ones (bot offline) are not awaited."""
        pending = [d.sent for d in dispatches if not d.sent.done() and self._is_connected_for(d)]
        if pending:
            await asyncio.wait_for(asyncio.gather(*(asyncio.shield(f) for f in pending)), timeout)

    def _is_connected_for(self, dispatch: Dispatch) -> bool:
        return any(s.connection is not None and dispatch in s.buffer for s in self.gateway.live_sessions())


def _receives_dms(session: Session) -> bool:
    """Discord sends direct messages (and DM interactions) to shard 0 only."""
    return session.shard is None or session.shard[0] == 0
