"""The REST half of the stand-in: the routes discord.py calls, with Discord's checks and error bodies.

Every JSON response carries ``Content-Type: application/json`` exactly (discord.py treats anything
else, even with ``; charset=utf-8``, as text) and a ``Via`` header (discord.py only retries a 429
that has one; without it the 429 looks like a Cloudflare ban). Refusals raise :class:`ApiError`,
which the middleware turns into Discord's error body and records as a rejection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import traceback
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from . import limits
from .constants import CallbackType, ChannelType, ErrorCode, InteractionType, MessageFlag, Perm
from .records import Callback, InteractionRecord, RequestRecord, UnknownRoute
from .state import Attachment, Channel, Message, utcnow

if TYPE_CHECKING:
    from .server import DiscordStandin

log = logging.getLogger(__name__)

JSON = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

API_PREFIX = "/api/v10"
COMMON_HEADERS = {"Via": "1.1 google"}


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Built from bytes on purpose: aiohttp's json_response would append "; charset=utf-8".
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **COMMON_HEADERS, **(headers or {})},
    )


def no_content() -> web.Response:
    return web.Response(status=204, headers=COMMON_HEADERS)


class ApiError(Exception):
    """A refusal with Discord's status, JSON code and message; ``errors`` is the form-error tree."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        errors: limits.FormErrors | None = None,
        reason: str | None = None,
        record: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.reason = reason or (errors.reason if errors else message)
        self.record = record

    @classmethod
    def form(cls, errors: limits.FormErrors) -> ApiError:
        return cls(400, ErrorCode.INVALID_FORM_BODY, "Invalid Form Body", errors=errors)

    def body(self) -> JSON:
        body: JSON = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors.tree
        return body


def unknown_channel() -> ApiError:
    return ApiError(404, ErrorCode.UNKNOWN_CHANNEL, "Unknown Channel")


def unknown_message() -> ApiError:
    return ApiError(404, ErrorCode.UNKNOWN_MESSAGE, "Unknown Message")


def unknown_webhook() -> ApiError:
    return ApiError(404, ErrorCode.UNKNOWN_WEBHOOK, "Unknown Webhook")


def missing_permissions(reason: str) -> ApiError:
    return ApiError(403, ErrorCode.MISSING_PERMISSIONS, "Missing Permissions", reason=reason)


@dataclass(frozen=True)
class Upload:
    index: int
    filename: str
    data: bytes
    content_type: str | None


def _snowflake(request: web.Request, key: str) -> int:
    raw = request.match_info[key]
    if not raw.isdigit():
        errors = limits.FormErrors()
        errors.add((key,), "NUMBER_TYPE_COERCE", f'Value "{raw}" is not snowflake.')
        raise ApiError.form(errors)
    return int(raw)


class RestApi:
    def __init__(self, standin: DiscordStandin) -> None:
        self.standin = standin
        self.world = standin.world

    # -- plumbing -------------------------------------------------------------------------------

    def install(self, app: web.Application) -> None:
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/users/@me", self.get_me),
            ("POST", "/users/@me/channels", self.create_dm),
            ("GET", "/users/{user_id}", self.get_user),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_gateway_bot),
            ("GET", "/applications/{app_id}/commands", self.get_commands),
            ("PUT", "/applications/{app_id}/commands", self.put_commands),
            ("POST", "/applications/{app_id}/commands", self.upsert_command),
            ("GET", "/applications/{app_id}/commands/{command_id}", self.get_command),
            ("DELETE", "/applications/{app_id}/commands/{command_id}", self.delete_command),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self.get_commands),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self.put_commands),
            ("POST", "/applications/{app_id}/guilds/{guild_id}/commands", self.upsert_command),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands/{command_id}", self.get_command),
            ("DELETE", "/applications/{app_id}/guilds/{guild_id}/commands/{command_id}", self.delete_command),
            ("GET", "/channels/{channel_id}", self.get_channel),
            ("POST", "/channels/{channel_id}/messages", self.create_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message),
            ("POST", "/channels/{channel_id}/typing", self.typing),
            ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self.add_reaction),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self.remove_reaction),
            ("POST", "/channels/{channel_id}/messages/{message_id}/threads", self.thread_from_message),
            ("POST", "/channels/{channel_id}/threads", self.thread_without_message),
            ("PUT", "/channels/{channel_id}/thread-members/@me", self.join_thread),
            ("GET", "/guilds/{guild_id}", self.get_guild),
            ("GET", "/guilds/{guild_id}/channels", self.get_guild_channels),
            ("GET", "/guilds/{guild_id}/roles", self.get_roles),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self.interaction_callback),
            ("POST", "/webhooks/{app_id}/{token}", self.create_followup),
            ("GET", "/webhooks/{app_id}/{token}/messages/{message_id}", self.get_webhook_message),
            ("PATCH", "/webhooks/{app_id}/{token}/messages/{message_id}", self.edit_webhook_message),
            ("DELETE", "/webhooks/{app_id}/{token}/messages/{message_id}", self.delete_webhook_message),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, API_PREFIX + path, handler)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self.get_attachment)

    def install_fallback(self, app: web.Application) -> None:
        # Registered last so every real route wins; a wrong method on a real path lands here too.
        app.router.add_route("*", "/{tail:.*}", self.unknown_route)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        standin = self.standin
        path = request.path[len(API_PREFIX) :]
        record = RequestRecord(request.method, path)
        standin.requests.append(record)
        try:
            if standin.rest_latency:
                await asyncio.sleep(standin.rest_latency)
            response = await self._injected(request.method, path, record)
            if response is None:
                try:
                    response = await handler(request)
                except ApiError as error:
                    response = json_response(error.body(), error.status)
                    if error.record:
                        standin.record_rejection(request.method, path, error)
                except web.HTTPRequestEntityTooLarge:
                    response = json_response(
                        {"message": "Request entity too large", "code": ErrorCode.ENTITY_TOO_LARGE}, 413
                    )
                except Exception:
                    # A bug in the stand-in itself: surface it loudly instead of letting discord.py retry.
                    standin.internal_errors.append(traceback.format_exc())
                    log.exception("stand-in failed on %s %s", request.method, path)
                    response = json_response({"message": "stand-in internal error", "code": 0}, 500)
            record.status = response.status
            return response
        finally:
            record.duration = time.monotonic() - record.started
            standin.signal.notify()

    async def _injected(self, method: str, path: str, record: RequestRecord) -> web.Response | None:
        rule = self.standin.take_fault(method, path)
        if rule is None:
            return None
        if rule.delay:
            await asyncio.sleep(rule.delay)
        if rule.status is None:
            return None
        record.injected = True
        body = rule.body if rule.body is not None else _default_fault_body(rule.status)
        headers = dict(rule.headers)
        if rule.status == 429:
            headers = {**_rate_limit_headers(body), **headers}
        return json_response(body, rule.status, headers)

    def _require_auth(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        token = header[4:] if header.startswith("Bot ") else None
        if not self.standin.token_ok(token):
            raise ApiError(401, 0, "401: Unauthorized")

    def _require_app(self, request: web.Request) -> None:
        if _snowflake(request, "app_id") != self.world.application_id:
            raise ApiError(403, ErrorCode.MISSING_ACCESS, "Missing Access", reason="application id is not the bot's")

    async def _read(self, request: web.Request) -> tuple[JSON, list[Upload]]:
        """JSON body, or multipart with ``payload_json`` + ``files[n]`` as discord.py sends files."""
        if not request.body_exists:
            return {}, []
        if request.content_type == "multipart/form-data":
            payload: JSON = {}
            uploads: list[Upload] = []
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    continue  # nested multipart: discord.py never sends one
                name = part.name or ""
                raw = bytes(await part.read())
                content_type = part.headers.get("Content-Type")
                if name == "payload_json":
                    payload = self._parse_json(raw)
                elif name.startswith("files[") and name.endswith("]") and name[6:-1].isdigit():
                    index = int(name[6:-1])
                    uploads.append(Upload(index, part.filename or f"file{index}", raw, content_type))
                elif part.filename:
                    uploads.append(Upload(len(uploads), part.filename, raw, content_type))
            if len(uploads) > limits.MAX_ATTACHMENTS:
                errors = limits.FormErrors()
                errors.add(
                    ("attachments",), "BASE_TYPE_MAX_LENGTH", f"Must be {limits.MAX_ATTACHMENTS} or fewer in length."
                )
                raise ApiError.form(errors)
            limit = self.standin.attachment_size_limit
            if any(len(upload.data) > limit for upload in uploads):
                raise ApiError(
                    413,
                    ErrorCode.ENTITY_TOO_LARGE,
                    "Request entity too large",
                    reason=f"a file is larger than {limit} bytes",
                )
            return payload, uploads
        return self._parse_json(await request.read()), []

    @staticmethod
    def _parse_json(raw: bytes) -> JSON:
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            raise ApiError(400, ErrorCode.INVALID_JSON, "The request body contains invalid JSON.") from None
        if not isinstance(payload, (dict, list)):
            raise ApiError(400, ErrorCode.INVALID_JSON, "The request body contains invalid JSON.")
        return payload  # type: ignore[return-value]

    def _attachments(
        self, payload: JSON, uploads: list[Upload], channel_id: int, existing: list[Attachment] | None = None
    ) -> list[Attachment] | None:
        """The message's attachments after this request; None when an edit leaves them alone."""
        described = payload.get("attachments")
        if described is None:
            if not uploads:
                return None if existing is not None else []
            described = [{"id": upload.index} for upload in uploads]
        kept = {a.id: a for a in existing or []}
        by_index = {upload.index: upload for upload in uploads}
        result: list[Attachment] = []
        for position, entry in enumerate(described):
            raw_id = entry.get("id")
            try:
                attachment_id = int(raw_id)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                attachment_id = -1
            if attachment_id in kept:
                result.append(kept[attachment_id])
            elif attachment_id in by_index:
                upload = by_index.pop(attachment_id)
                result.append(
                    self.standin.new_attachment(
                        channel_id,
                        entry.get("filename") or upload.filename,
                        upload.data,
                        content_type=upload.content_type,
                        description=entry.get("description"),
                    )
                )
            else:
                errors = limits.FormErrors()
                errors.add(("attachments", position, "id"), "ATTACHMENT_NOT_FOUND", "Unknown attachment.")
                raise ApiError.form(errors)
        for upload in by_index.values():
            result.append(
                self.standin.new_attachment(channel_id, upload.filename, upload.data, content_type=upload.content_type)
            )
        return result

    def _channel(self, request: web.Request) -> Channel:
        channel = self.world.live_channel(_snowflake(request, "channel_id"))
        if channel is None:
            raise unknown_channel()
        return channel

    def _require(self, channel: Channel, needed: int, what: str) -> None:
        """Bot permission check in a channel: no VIEW_CHANNEL is 50001, anything else missing 50013."""
        if channel.is_dm:
            return
        granted = self.world.channel_permissions(channel, self.world.bot.id)
        if not granted & Perm.VIEW_CHANNEL:
            raise ApiError(
                403, ErrorCode.MISSING_ACCESS, "Missing Access", reason=f"bot cannot see channel {channel.id}"
            )
        if needed & ~granted:
            raise missing_permissions(f"bot lacks permissions {needed & ~granted:#x} to {what} in channel {channel.id}")

    def _message_in(self, channel: Channel, message_id: int) -> Message:
        message = self.world.messages.get(message_id)
        # An ephemeral message lives only in its member's client: channel routes never find it, only the
        # token of an interaction on it (webhooks/{app}/{token}/messages/...).
        if message is None or message.deleted or message.channel_id != channel.id or message.ephemeral:
            raise unknown_message()
        return message

    @staticmethod
    def _validate(payload: JSON, *, creating: bool, uploads: int, ephemeral_allowed: bool = False) -> None:
        errors = limits.validate_message(payload, ephemeral_allowed=ephemeral_allowed)
        if errors:
            raise ApiError.form(errors)
        if creating and limits.is_empty_message(payload, uploads):
            raise ApiError(400, ErrorCode.EMPTY_MESSAGE, "Cannot send an empty message")

    # -- users, application, gateway ------------------------------------------------------------

    async def get_me(self, request: web.Request) -> web.Response:
        self._require_auth(request)
        return json_response(
            {**self.world.bot.payload(), "verified": True, "mfa_enabled": False, "locale": "en-US", "email": None}
        )

    async def get_user(self, request: web.Request) -> web.Response:
        self._require_auth(request)
        user = self.world.users.get(_snowflake(request, "user_id"))
        if user is None:
            raise ApiError(404, ErrorCode.UNKNOWN_USER, "Unknown User")
        return json_response(user.payload())

    async def get_application(self, request: web.Request) -> web.Response:
        self._require_auth(request)
        standin = self.standin
        return json_response(
            {
                "id": str(self.world.application_id),
                "name": self.world.bot.username,
                "icon": None,
                "description": "",
                "summary": "",
                "rpc_origins": [],
                "bot_public": True,
                "bot_require_code_grant": False,
                "bot": self.world.bot.payload(),
                "owner": standin.app_owner.payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": standin.application_flags,
                "tags": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": len(self.world.guilds),
                "integration_types_config": {"0": {}},
            }
        )

    async def get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.standin.gateway_url})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        self._require_auth(request)
        return json_response(
            {
                "url": self.standin.gateway_url,
                "shards": self.standin.shard_count,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000 - len(self.standin.gateway.identifies),
                    "reset_after": 86_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def create_dm(self, request: web.Request) -> web.Response:
        self._require_auth(request)
        payload, _ = await self._read(request)
        try:
            channel = self.world.dm_channel(int(payload.get("recipient_id", 0)))
        except (KeyError, TypeError, ValueError):
            raise ApiError(404, ErrorCode.UNKNOWN_USER, "Unknown User") from None
        return json_response(self.world.channel_payload(channel))

    # -- application commands -------------------------------------------------------------------

    def _scope(self, request: web.Request) -> int | None:
        self._require_auth(request)
        self._require_app(request)
        if "guild_id" not in request.match_info:
            return None
        guild_id = _snowflake(request, "guild_id")
        if guild_id not in self.world.guilds:
            # What Discord says when the bot is not in the guild (or lacks applications.commands).
            raise ApiError(403, ErrorCode.MISSING_ACCESS, "Missing Access", reason=f"bot is not in guild {guild_id}")
        return guild_id

    async def get_commands(self, request: web.Request) -> web.Response:
        return json_response(self.standin.commands.get(self._scope(request), []))

    async def put_commands(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        payload, _ = await self._read(request)
        errors = limits.validate_commands(payload)
        if errors:
            raise ApiError.form(errors)
        stored = [self.standin.store_command(scope, command) for command in payload]  # type: ignore[union-attr]
        self.standin.commands[scope] = stored
        self.standin.command_syncs.append(scope)
        return json_response(stored)

    async def upsert_command(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        payload, _ = await self._read(request)
        errors = limits.FormErrors()
        limits.validate_command(errors, (), payload)
        if errors:
            raise ApiError.form(errors)
        current = [
            c
            for c in self.standin.commands.get(scope, [])
            if (c["type"], c["name"]) != (payload.get("type", 1), payload.get("name"))
        ]
        stored = self.standin.store_command(scope, payload)
        errors = limits.validate_commands([*current, stored])
        if errors:
            raise ApiError.form(errors)
        self.standin.commands[scope] = [*current, stored]
        return json_response(stored, 201)

    def _find_command(self, request: web.Request) -> tuple[int | None, JSON]:
        scope = self._scope(request)
        command_id = str(_snowflake(request, "command_id"))
        for command in self.standin.commands.get(scope, []):
            if command["id"] == command_id:
                return scope, command
        raise ApiError(404, ErrorCode.UNKNOWN_APPLICATION_COMMAND, "Unknown application command")

    async def get_command(self, request: web.Request) -> web.Response:
        return json_response(self._find_command(request)[1])

    async def delete_command(self, request: web.Request) -> web.Response:
        scope, command = self._find_command(request)
        self.standin.commands[scope] = [c for c in self.standin.commands[scope] if c is not command]
        return no_content()

    # -- channels and messages ------------------------------------------------------------------

    async def get_channel(self, request: web.Request) -> web.Response:
        self._require_auth(request)
        channel = self._channel(request)
        self._require(channel, Perm.VIEW_CHANNEL, "view")
        return json_response(self.world.channel_payload(channel))

    def _send_permissions(self, channel: Channel, attaching: bool) -> None:
        if channel.is_dm:
            recipient = channel.recipient_ids[0] if channel.recipient_ids else None
            if recipient in self.world.closed_dms:
                raise ApiError(
                    403, ErrorCode.CANNOT_DM_USER, "Cannot send messages to this user", reason="the user closed DMs"
                )
            if recipient is not None and not self.world.shares_guild_with_bot(recipient):
                raise ApiError(
                    403,
                    ErrorCode.CANNOT_DM_USER,
                    "Cannot send messages to this user",
                    reason="a bot can only DM users it shares a server with",
                )
            return
        if channel.type not in ChannelType.TEXT_LIKE:
            raise ApiError(400, ErrorCode.WRONG_CHANNEL_TYPE, "Cannot execute action on this channel type")
        needed = Perm.SEND_MESSAGES_IN_THREADS if channel.is_thread else Perm.SEND_MESSAGES
        if attaching:
            needed |= Perm.ATTACH_FILES
        self._require(channel, needed, "send messages")

    def _reference(self, payload: JSON, channel: Channel) -> JSON | None:
        reference = payload.get("message_reference")
        if not reference:
            return None
        target = self.world.messages.get(int(reference.get("message_id") or 0))
        target_channel = int(reference.get("channel_id") or channel.id)
        if target is None or target.deleted or target.channel_id != target_channel:
            if reference.get("fail_if_not_exists", True):
                errors = limits.FormErrors()
                errors.add(("message_reference",), "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
                raise ApiError.form(errors)
            return None
        return {
            "message_id": str(target.id),
            "channel_id": str(target.channel_id),
            **({"guild_id": str(target.guild_id)} if target.guild_id else {}),
        }

    async def create_message(self, request: web.Request) -> web.Response:
        self._require_auth(request)
        channel = self._channel(request)
        payload, uploads = await self._read(request)
        self._send_permissions(channel, bool(uploads))
        self._validate(payload, creating=True, uploads=len(uploads))
        reference = self._reference(payload, channel)
        message = Message(
            id=self.world.ids.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author_id=self.world.bot.id,
            content=payload.get("content") or "",
            embeds=payload.get("embeds") or [],
            components=payload.get("components") or [],
            flags=(payload.get("flags") or 0) & ~MessageFlag.EPHEMERAL,
            type=19 if reference else 0,
            tts=bool(payload.get("tts")),
            message_reference=reference,
            allowed_mentions=payload.get("allowed_mentions"),
            nonce=payload.get("nonce"),
            kind="channel",
            route=f"POST /channels/{channel.id}/messages",
        )
        message.attachments = self._attachments(payload, uploads, channel.id) or []
        self.standin.store_message(message)
        return json_response(self.world.message_payload(message))

    async def get_message(self, request: web.Request) -> web.Response:
        self._require_auth(request)
        channel = self._channel(request)
        self._require(channel, Perm.VIEW_CHANNEL | Perm.READ_MESSAGE_HISTORY, "read history")
        message = self._message_in(channel, _snowflake(request, "message_id"))
        # The Message Content intent gates REST reads too, not only gateway events.
        blank = not self.standin.content_visible(message, self.standin.current_intents)
        return json_response(self.world.message_payload(message, blank=blank))

    async def edit_message(self, request: web.Request) -> web.Response:
        self._require_auth(request)
        channel = self._channel(request)
        message = self._message_in(channel, _snowflake(request, "message_id"))
        payload, uploads = await self._read(request)
        if message.author_id != self.world.bot.id:
            raise ApiError(403, ErrorCode.CANNOT_EDIT_OTHERS_MESSAGE, "Cannot edit a message authored by another user")
        self._validate(payload, creating=False, uploads=len(uploads))
        self._apply_edit(message, payload, uploads)
        return json_response(self.world.message_payload(message))

    def _apply_edit(self, message: Message, payload: JSON, uploads: list[Upload]) -> None:
        message.history.append(message.snapshot())
        if "content" in payload:
            message.content = payload["content"] or ""
        if "embeds" in payload:
            message.embeds = payload["embeds"] or []
        if "components" in payload:
            message.components = payload["components"] or []
        if "allowed_mentions" in payload:
            message.allowed_mentions = payload["allowed_mentions"]
        if payload.get("flags") is not None:
            # Only embed suppression can be toggled; ephemeral and the rest are fixed at creation.
            message.flags = (message.flags & ~MessageFlag.SUPPRESS_EMBEDS) | (
                payload["flags"] & MessageFlag.SUPPRESS_EMBEDS
            )
        attachments = self._attachments(payload, uploads, message.channel_id, message.attachments)
        if attachments is not None:
            message.attachments = attachments
        message.flags &= ~MessageFlag.LOADING
        message.edited_at = utcnow()
        self.standin.message_updated(message)

    async def delete_message(self, request: web.Request) -> web.Response:
        self._require_auth(request)
        channel = self._channel(request)
        message = self._message_in(channel, _snowflake(request, "message_id"))
        if message.author_id != self.world.bot.id:
            self._require(channel, Perm.MANAGE_MESSAGES, "delete others' messages")
        self.standin.message_deleted(message)
        return no_content()

    async def typing(self, request: web.Request) -> web.Response:
        self._require_auth(request)
        channel = self._channel(request)
        self._send_permissions(channel, False)
        self.standin.typing.append(channel.id)
        return no_content()

    async def add_reaction(self, request: web.Request) -> web.Response:
        self._require_auth(request)
        channel = self._channel(request)
        self._require(channel, Perm.ADD_REACTIONS | Perm.READ_MESSAGE_HISTORY, "react")
        message = self._message_in(channel, _snowflake(request, "message_id"))
        message.reactions.append(urllib.parse.unquote(request.match_info["emoji"]))
        return no_content()

    async def remove_reaction(self, request: web.Request) -> web.Response:
        self._require_auth(request)
        channel = self._channel(request)
        message = self._message_in(channel, _snowflake(request, "message_id"))
        emoji = urllib.parse.unquote(request.match_info["emoji"])
        message.reactions = [r for r in message.reactions if r != emoji]
        return no_content()

    # -- threads --------------------------------------------------------------------------------

    async def thread_from_message(self, request: web.Request) -> web.Response:
        self._require_auth(request)
        channel = self._channel(request)
        if channel.type not in (ChannelType.GUILD_TEXT, ChannelType.GUILD_ANNOUNCEMENT):
            raise ApiError(400, ErrorCode.WRONG_CHANNEL_TYPE, "Cannot execute action on this channel type")
        message = self._message_in(channel, _snowflake(request, "message_id"))
        payload, _ = await self._read(request)
        self._require(channel, Perm.CREATE_PUBLIC_THREADS | Perm.READ_MESSAGE_HISTORY, "create threads")
        errors = limits.validate_thread(payload)
        if errors:
            raise ApiError.form(errors)
        if message.thread_id is not None:
            raise ApiError(400, ErrorCode.THREAD_ALREADY_CREATED, "A thread has already been created for this message")
        kind = (
            ChannelType.ANNOUNCEMENT_THREAD
            if channel.type == ChannelType.GUILD_ANNOUNCEMENT
            else ChannelType.PUBLIC_THREAD
        )
        # A thread started from a message shares the message's id.
        thread = self.world.add_thread(
            channel,
            payload["name"],
            type=kind,
            owner_id=self.world.bot.id,
            thread_id=message.id,
            auto_archive_duration=payload.get("auto_archive_duration") or 1440,
            rate_limit_per_user=payload.get("rate_limit_per_user") or 0,
        )
        message.thread_id = thread.id
        return json_response(self.standin.thread_created(thread), 201)

    async def thread_without_message(self, request: web.Request) -> web.Response:
        self._require_auth(request)
        channel = self._channel(request)
        payload, uploads = await self._read(request)
        errors = limits.validate_thread(payload)
        if errors:
            raise ApiError.form(errors)
        duration = payload.get("auto_archive_duration") or 1440
        if channel.type == ChannelType.GUILD_FORUM:
            return await self._forum_post(channel, payload, uploads, duration)
        if channel.type not in (ChannelType.GUILD_TEXT, ChannelType.GUILD_ANNOUNCEMENT):
            raise ApiError(400, ErrorCode.WRONG_CHANNEL_TYPE, "Cannot execute action on this channel type")
        # Discord's default when "type" is omitted is a private thread.
        kind = payload.get("type") or ChannelType.PRIVATE_THREAD
        if kind not in (ChannelType.ANNOUNCEMENT_THREAD, ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD):
            errors.add(("type",), "BASE_TYPE_CHOICES", "Value must be one of {10, 11, 12}.")
            raise ApiError.form(errors)
        needed = Perm.CREATE_PRIVATE_THREADS if kind == ChannelType.PRIVATE_THREAD else Perm.CREATE_PUBLIC_THREADS
        self._require(channel, needed, "create threads")
        thread = self.world.add_thread(
            channel,
            payload["name"],
            type=kind,
            owner_id=self.world.bot.id,
            auto_archive_duration=duration,
            invitable=payload.get("invitable", True),
            rate_limit_per_user=payload.get("rate_limit_per_user") or 0,
        )
        return json_response(self.standin.thread_created(thread), 201)

    async def _forum_post(self, forum: Channel, payload: JSON, uploads: list[Upload], duration: int) -> web.Response:
        self._require(forum, Perm.SEND_MESSAGES, "create forum posts")
        starter = payload.get("message")
        if not isinstance(starter, dict):
            errors = limits.FormErrors()
            errors.add(("message",), "BASE_TYPE_REQUIRED", "This field is required")
            raise ApiError.form(errors)
        self._validate(starter, creating=True, uploads=len(uploads))
        thread = self.world.add_thread(
            forum,
            payload["name"],
            type=ChannelType.PUBLIC_THREAD,
            owner_id=self.world.bot.id,
            auto_archive_duration=duration,
        )
        data = self.standin.thread_created(thread)
        message = Message(
            id=thread.id,
            channel_id=thread.id,
            guild_id=thread.guild_id,
            author_id=self.world.bot.id,
            content=starter.get("content") or "",
            embeds=starter.get("embeds") or [],
            components=starter.get("components") or [],
            allowed_mentions=starter.get("allowed_mentions"),
            flags=starter.get("flags") or 0,
            kind="channel",
            route=f"POST /channels/{forum.id}/threads",
        )
        message.attachments = self._attachments(starter, uploads, thread.id) or []
        self.standin.store_message(message)
        return json_response({**data, "message": self.world.message_payload(message)}, 201)

    async def join_thread(self, request: web.Request) -> web.Response:
        self._require_auth(request)
        channel = self._channel(request)
        if not channel.is_thread:
            raise ApiError(400, ErrorCode.WRONG_CHANNEL_TYPE, "Cannot execute action on this channel type")
        return no_content()

    # -- guilds ---------------------------------------------------------------------------------

    def _guild(self, request: web.Request) -> Any:
        self._require_auth(request)
        guild = self.world.guilds.get(_snowflake(request, "guild_id"))
        if guild is None:
            raise ApiError(404, ErrorCode.UNKNOWN_GUILD, "Unknown Guild")
        return guild

    async def get_guild(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        data = self.world.guild_payload(guild)
        if request.query.get("with_counts") in ("1", "true", "True"):
            data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return json_response(data)

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        return json_response([self.world.channel_payload(c) for c in guild.channels.values() if not c.is_thread])

    async def get_roles(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        return json_response([role.payload() for role in guild.roles.values()])

    async def get_member(self, request: web.Request) -> web.Response:
        guild = self._guild(request)
        member = guild.members.get(_snowflake(request, "user_id"))
        if member is None:
            raise ApiError(404, ErrorCode.UNKNOWN_MEMBER, "Unknown Member")
        return json_response(self.world.member_payload(member))

    # -- interactions ---------------------------------------------------------------------------

    async def interaction_callback(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        record = self.standin.interactions_by_id.get(_snowflake(request, "interaction_id"))
        if record is None or record.token != request.match_info["token"]:
            raise ApiError(
                404, ErrorCode.UNKNOWN_INTERACTION, "Unknown interaction", reason="no such interaction/token"
            )
        try:
            return await self._callback(request, record, arrived)
        except ApiError as error:
            if error.record:
                record.rejections.append(self.standin.rejection_of(request.method, request.path, error))
            raise

    async def _callback(self, request: web.Request, record: InteractionRecord, arrived: float) -> web.Response:
        payload, uploads = await self._read(request)
        sent_at = record.dispatched_at
        if sent_at is None or arrived - sent_at > record.deadline:
            late = "never dispatched" if sent_at is None else f"{arrived - sent_at:.3f}s after dispatch"
            raise ApiError(
                404,
                ErrorCode.UNKNOWN_INTERACTION,
                "Unknown interaction",
                reason=f"initial response {late} (deadline {record.deadline:.3f}s)",
            )
        if record.response is not None:
            raise ApiError(400, ErrorCode.ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")
        kind = payload.get("type")
        data = payload.get("data") or {}
        if kind not in CallbackType.ALLOWED.get(record.type, frozenset()):
            errors = limits.FormErrors()
            errors.add(
                ("type",),
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Callback type {kind!r} is not valid for interaction type {record.type}.",
            )
            raise ApiError.form(errors)
        if kind in (CallbackType.CHANNEL_MESSAGE, CallbackType.UPDATE_MESSAGE):
            self._validate(
                data, creating=kind == CallbackType.CHANNEL_MESSAGE, uploads=len(uploads), ephemeral_allowed=True
            )
        elif kind in (CallbackType.AUTOCOMPLETE_RESULT, CallbackType.MODAL):
            check = limits.validate_choices if kind == CallbackType.AUTOCOMPLETE_RESULT else limits.validate_modal
            if errors := check(data):
                raise ApiError.form(errors)
        record.response = Callback(kind, data, arrived)
        message = self._callback_message(record, kind, data, uploads)
        self.standin.signal.notify()
        body: JSON = {
            "interaction": {
                "id": str(record.id),
                "type": record.type,
                "response_message_id": None if message is None else str(message.id),
                "response_message_loading": kind == CallbackType.DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool(message is not None and message.ephemeral),
            }
        }
        resource: JSON = {"type": kind}
        if message is not None and kind != CallbackType.DEFERRED_UPDATE_MESSAGE:
            resource["message"] = self.world.message_payload(message)
        body["resource"] = resource
        if request.query.get("with_response") in ("1", "true", "True"):
            return json_response(body)
        return no_content()

    def _callback_message(
        self, record: InteractionRecord, kind: int, data: JSON, uploads: list[Upload]
    ) -> Message | None:
        clicked = record.payload.get("message")
        if kind in (CallbackType.DEFERRED_UPDATE_MESSAGE, CallbackType.UPDATE_MESSAGE) and clicked:
            # Updates act on the message the component sits on; @original then means that message.
            message = self.world.messages[int(clicked["id"])]
            record.original_id = message.id
            if kind == CallbackType.UPDATE_MESSAGE:
                self._apply_edit(message, data, uploads)
                if message not in record.messages:
                    record.messages.append(message)
            return message
        if kind == CallbackType.CHANNEL_MESSAGE:
            message = self._interaction_message(record, data, "callback", flags=data.get("flags") or 0)
        elif kind == CallbackType.DEFERRED_CHANNEL_MESSAGE:
            flags = MessageFlag.LOADING | ((data.get("flags") or 0) & MessageFlag.EPHEMERAL)
            message = self._interaction_message(record, {}, "deferred", flags=flags)
        else:
            return None
        message.attachments = self._attachments(data, uploads, record.channel_id) or []
        record.original_id = message.id
        record.messages.append(message)
        self.standin.store_message(message)
        return message

    def _interaction_message(self, record: InteractionRecord, data: JSON, kind: str, *, flags: int) -> Message:
        metadata: JSON = {
            "id": str(record.id),
            "type": record.type,
            "user": self.world.users[record.user_id].payload(),
            "authorizing_integration_owners": record.payload.get("authorizing_integration_owners", {}),
        }
        if record.type == InteractionType.APPLICATION_COMMAND:
            metadata.update(name=record.name, command_type=1)
        if record.original_id is not None:
            metadata["original_response_message_id"] = str(record.original_id)
        if record.payload.get("message"):
            metadata["interacted_message_id"] = record.payload["message"]["id"]
        return Message(
            id=self.world.ids.next(),
            channel_id=record.channel_id,
            guild_id=record.guild_id,
            author_id=self.world.bot.id,
            content=data.get("content") or "",
            embeds=data.get("embeds") or [],
            components=data.get("components") or [],
            flags=flags,
            tts=bool(data.get("tts")),
            type=20 if record.type == InteractionType.APPLICATION_COMMAND and kind != "followup" else 0,
            allowed_mentions=data.get("allowed_mentions"),
            kind=kind,
            route=f"interaction {record.id}",
            interaction_id=record.id,
            webhook_id=self.world.application_id,
            interaction_metadata=metadata,
        )

    def _webhook_record(self, request: web.Request) -> InteractionRecord:
        """The interaction behind a followup/edit token, checked the way Discord checks it."""
        if _snowflake(request, "app_id") != self.world.application_id:
            raise unknown_webhook()
        record = self.standin.interactions_by_token.get(request.match_info["token"])
        if record is None or record.response is None:
            raise unknown_webhook()
        sent_at = record.dispatched_at or 0.0
        if time.monotonic() - sent_at > self.standin.token_lifetime:
            raise ApiError(
                401, ErrorCode.INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token", reason="token expired (15 min)"
            )
        if record.response.type in (CallbackType.AUTOCOMPLETE_RESULT, CallbackType.MODAL):
            raise unknown_webhook()
        return record

    def _webhook_message(self, request: web.Request, record: InteractionRecord) -> Message:
        raw = request.match_info["message_id"]
        message_id = record.original_id if raw == "@original" else _snowflake(request, "message_id")
        message = self.world.messages.get(message_id or 0)
        if message is None or message.deleted or (message not in record.messages and message.id != record.original_id):
            raise unknown_message()
        return message

    async def create_followup(self, request: web.Request) -> web.Response:
        record = self._webhook_record(request)
        try:
            payload, uploads = await self._read(request)
            self._validate(payload, creating=True, uploads=len(uploads), ephemeral_allowed=True)
        except ApiError as error:
            record.rejections.append(self.standin.rejection_of(request.method, request.path, error))
            raise
        original = record.original
        if record.response_type == CallbackType.DEFERRED_CHANNEL_MESSAGE and original is not None and original.loading:
            # The first followup after a defer fills the "thinking..." message; the defer's flags decide
            # whether it is ephemeral, not the followup's.
            self._apply_edit(original, {k: v for k, v in payload.items() if k != "flags"}, uploads)
            message = original
        else:
            message = self._interaction_message(record, payload, "followup", flags=payload.get("flags") or 0)
            message.attachments = self._attachments(payload, uploads, record.channel_id) or []
            record.messages.append(message)
            self.standin.store_message(message)
        record.followup_ids.append(message.id)
        self.standin.signal.notify()
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(self.world.message_payload(message))
        return no_content()

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        record = self._webhook_record(request)
        return json_response(self.world.message_payload(self._webhook_message(request, record)))

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        record = self._webhook_record(request)
        message = self._webhook_message(request, record)
        try:
            payload, uploads = await self._read(request)
            self._validate(payload, creating=False, uploads=len(uploads), ephemeral_allowed=True)
        except ApiError as error:
            record.rejections.append(self.standin.rejection_of(request.method, request.path, error))
            raise
        self._apply_edit(message, payload, uploads)
        if message not in record.messages:
            record.messages.append(message)
        self.standin.signal.notify()
        return json_response(self.world.message_payload(message))

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        record = self._webhook_record(request)
        message = self._webhook_message(request, record)
        self.standin.message_deleted(message)
        return no_content()

    # -- files and fallbacks --------------------------------------------------------------------

    async def get_attachment(self, request: web.Request) -> web.Response:
        attachment = self.standin.attachments.get(int(request.match_info["attachment_id"]))
        if attachment is None:
            return web.Response(status=404, text="not found")
        return web.Response(body=attachment.data, content_type=attachment.content_type or "application/octet-stream")

    async def unknown_route(self, request: web.Request) -> web.Response:
        path = request.path[len(API_PREFIX) :] if request.path.startswith(API_PREFIX) else request.path
        self.standin.unknown_routes.append(UnknownRoute(request.method, path))
        log.warning("stand-in has no route for %s %s", request.method, path)
        return json_response({"message": "404: Not Found", "code": 0}, 404)


def _default_fault_body(status: int) -> JSON:
    if status == 429:
        return {"message": "You are being rate limited.", "retry_after": 0.2, "global": False}
    if status >= 500:
        return {"message": f"{status}: Internal Server Error", "code": 0}
    return {"message": f"{status}: injected failure", "code": 0}


def _rate_limit_headers(body: JSON) -> dict[str, str]:
    retry_after = float(body.get("retry_after", 0.2))
    headers = {
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Bucket": "standin-injected",
        "X-RateLimit-Scope": "global" if body.get("global") else "user",
    }
    if body.get("global"):
        headers["X-RateLimit-Global"] = "true"
    return headers
