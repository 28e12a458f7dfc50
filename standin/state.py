"""The Discord world the stand-in serves (users, guilds, roles, channels, members, messages) and its JSON shapes.

Payload builders follow Discord's documented object shapes closely enough that discord.py 2.7
parses them without special cases; fields discord.py reads with ``data[...]`` are always present.
"""

from __future__ import annotations

import datetime
import re
import time
from dataclasses import dataclass, field
from typing import Any

from .constants import ChannelType, MessageFlag, Perm

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000
USER_MENTION = re.compile(r"<@!?(\d{15,20})>")
ROLE_MENTION = re.compile(r"<@&(\d{15,20})>")
EVERYONE_MENTION = re.compile(r"@(everyone|here)\b")


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def iso(moment: datetime.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


class Snowflakes:
    """Discord-shaped ids (timestamp in the high bits) that are unique and increasing."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        candidate = ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (1 << 17)
        # Several ids inside one millisecond must still be distinct and ordered.
        self._last = max(candidate, self._last + 1)
        return self._last


@dataclass
class User:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> JSON:
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "primary_guild": None,
        }


@dataclass
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    managed_by_bot: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed_by_bot is not None,
            "mentionable": False,
            "flags": 0,
        }
        if self.managed_by_bot is not None:
            data["tags"] = {"bot_id": str(self.managed_by_bot)}
        return data


@dataclass
class Overwrite:
    id: int
    type: int  # 0 = role, 1 = member
    allow: int = 0
    deny: int = 0

    def payload(self) -> JSON:
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass
class Channel:
    id: int
    type: int
    name: str | None
    guild_id: int | None = None
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    recipient_ids: list[int] = field(default_factory=list)
    owner_id: int | None = None
    auto_archive_duration: int = 1440
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    rate_limit_per_user: int = 0
    last_message_id: int | None = None
    message_count: int = 0
    created_at: datetime.datetime = field(default_factory=utcnow)
    deleted: bool = False

    @property
    def is_thread(self) -> bool:
        return self.type in ChannelType.THREADS

    @property
    def is_dm(self) -> bool:
        return self.type == ChannelType.DM

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"


@dataclass
class Member:
    user: User
    guild_id: int
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: datetime.datetime = field(default_factory=utcnow)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return self.user.mention


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    locale: str = "en-US"
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    joined_at: datetime.datetime = field(default_factory=utcnow)

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]


@dataclass
class Attachment:
    """A file on a message; ``data`` holds the exact bytes the client uploaded."""

    id: int
    filename: str
    data: bytes
    url: str
    content_type: str | None = None
    description: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
        }
        if self.content_type:
            data["content_type"] = self.content_type
        if self.description:
            data["description"] = self.description
        return data


@dataclass
class Message:
    """Any message the stand-in knows: posted by the bot (``standin.messages``) or by a simulated user.

    Edits change the fields in place; earlier versions are kept in ``history``.
    """

    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    content: str = ""
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    tts: bool = False
    message_reference: JSON | None = None
    allowed_mentions: JSON | None = None
    kind: str = "channel"  # channel | callback | deferred | followup | user
    route: str = ""
    interaction_id: int | None = None
    webhook_id: int | None = None
    interaction_metadata: JSON | None = None
    nonce: str | int | None = None
    thread_id: int | None = None
    extra_mentions: list[int] = field(default_factory=list)  # e.g. the author of a message replied to with a ping
    reactions: list[str] = field(default_factory=list)
    created_at: datetime.datetime = field(default_factory=utcnow)
    edited_at: datetime.datetime | None = None
    deleted: bool = False
    history: list[JSON] = field(default_factory=list)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MessageFlag.EPHEMERAL)

    @property
    def loading(self) -> bool:
        """A deferred interaction's "is thinking..." placeholder that nothing has filled yet."""
        return bool(self.flags & MessageFlag.LOADING)

    def mentioned_user_ids(self) -> list[int]:
        found = [int(uid) for uid in USER_MENTION.findall(self.content)] + self.extra_mentions
        return list(dict.fromkeys(found))

    @property
    def reply_to(self) -> int | None:
        reference = self.message_reference or {}
        value = reference.get("message_id")
        return None if value is None else int(value)

    def text(self) -> str:
        """Content plus embed text, for assertions that should not care where words were put."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            for item in embed.get("fields") or []:
                parts += [item.get("name") or "", item.get("value") or ""]
            parts.append((embed.get("footer") or {}).get("text") or "")
            parts.append((embed.get("author") or {}).get("name") or "")
        return "\n".join(part for part in parts if part)

    def custom_ids(self) -> list[str]:
        found: list[str] = []

        def walk(components: list[Any]) -> None:
            for component in components:
                if not isinstance(component, dict):
                    continue
                if component.get("custom_id"):
                    found.append(component["custom_id"])
                walk(component.get("components") or [])
                for key in ("accessory", "component"):
                    if isinstance(component.get(key), dict):
                        walk([component[key]])

        walk(self.components)
        return found

    def snapshot(self) -> JSON:
        return {
            "content": self.content,
            "embeds": self.embeds,
            "components": self.components,
            "flags": self.flags,
            "attachments": [a.filename for a in self.attachments],
            "allowed_mentions": self.allowed_mentions,
        }


class World:
    """Everything the stand-in's Discord contains. Builders here are synchronous and emit no events;
    ``DiscordStandin`` wraps them to also tell a connected client (GUILD_CREATE, CHANNEL_DELETE...)."""

    def __init__(self, ids: Snowflakes, bot: User, application_id: int, bot_permissions: int) -> None:
        self.ids = ids
        self.bot = bot
        self.application_id = application_id
        self.bot_permissions = bot_permissions
        self.users: dict[int, User] = {bot.id: bot}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.dm_by_user: dict[int, int] = {}
        self.closed_dms: set[int] = set()
        self.attachment_base = ""  # set once the server knows its port

    # -- builders -------------------------------------------------------------------------------

    def add_user(self, username: str, *, user_id: int | None = None, bot: bool = False) -> User:
        user = User(id=user_id or self.ids.next(), username=username, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(
        self, name: str, *, owner_id: int | None = None, guild_id: int | None = None, locale: str = "en-US"
    ) -> Guild:
        guild_id = guild_id or self.ids.next()
        if owner_id is None:
            owner_id = self.add_user(f"{name.lower().replace(' ', '-')}-owner").id
        guild = Guild(id=guild_id, name=name, owner_id=owner_id, locale=locale)
        # Discord gives @everyone the guild's own id.
        guild.roles[guild_id] = Role(
            id=guild_id, guild_id=guild_id, name="@everyone", permissions=Perm.DEFAULT_EVERYONE
        )
        self.guilds[guild_id] = guild
        if owner_id in self.users:
            guild.members[owner_id] = Member(user=self.users[owner_id], guild_id=guild_id)
        # Joining through an invite gives the bot a managed role holding the invite's permissions.
        bot_role = self.add_role(guild_id, self.bot.username, self.bot_permissions)
        bot_role.managed_by_bot = self.bot.id
        guild.members[self.bot.id] = Member(user=self.bot, guild_id=guild_id, role_ids=[bot_role.id])
        return guild

    def add_role(self, guild_id: int, name: str, permissions: int = 0) -> Role:
        guild = self.guild(guild_id)
        role = Role(
            id=self.ids.next(), guild_id=guild_id, name=name, permissions=permissions, position=len(guild.roles)
        )
        guild.roles[role.id] = role
        return role

    def add_channel(
        self,
        guild_id: int,
        name: str,
        type: int = ChannelType.GUILD_TEXT,
        *,
        parent_id: int | None = None,
        topic: str | None = None,
    ) -> Channel:
        guild = self.guild(guild_id)
        channel = Channel(
            id=self.ids.next(),
            type=type,
            name=name,
            guild_id=guild_id,
            parent_id=parent_id,
            topic=topic,
            position=len(guild.channels),
        )
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        return channel

    def add_member(
        self,
        guild_id: int,
        username: str,
        roles: tuple[int, ...] | list[int] = (),
        permissions: int = 0,
        *,
        user_id: int | None = None,
        nick: str | None = None,
    ) -> Member:
        guild = self.guild(guild_id)
        user = self.users.get(user_id) if user_id else None
        if user is None:
            user = self.add_user(username, user_id=user_id)
        role_ids = [int(role) for role in roles]
        for role_id in role_ids:
            if role_id not in guild.roles:
                raise KeyError(f"role {role_id} is not in guild {guild_id}")
        if permissions:
            # Permissions always come from roles on Discord, so grant extra ones through a personal role.
            role_ids.append(self.add_role(guild_id, f"{username}-permissions", permissions).id)
        member = Member(user=user, guild_id=guild_id, role_ids=role_ids, nick=nick)
        guild.members[user.id] = member
        return member

    def add_thread(
        self,
        parent: Channel,
        name: str,
        *,
        type: int,
        owner_id: int,
        thread_id: int | None = None,
        auto_archive_duration: int = 1440,
        invitable: bool = True,
        rate_limit_per_user: int = 0,
    ) -> Channel:
        assert parent.guild_id is not None
        thread = Channel(
            id=thread_id or self.ids.next(),
            type=type,
            name=name,
            guild_id=parent.guild_id,
            parent_id=parent.id,
            owner_id=owner_id,
            auto_archive_duration=auto_archive_duration,
            invitable=invitable,
            rate_limit_per_user=rate_limit_per_user,
        )
        self.guild(parent.guild_id).channels[thread.id] = thread
        self.channels[thread.id] = thread
        return thread

    def shares_guild_with_bot(self, user_id: int) -> bool:
        return any(user_id in guild.members and self.bot.id in guild.members for guild in self.guilds.values())

    def dm_channel(self, user_id: int) -> Channel:
        if user_id not in self.users:
            raise KeyError(f"unknown user {user_id}")
        channel_id = self.dm_by_user.get(user_id)
        if channel_id is None:
            channel = Channel(id=self.ids.next(), type=ChannelType.DM, name=None, recipient_ids=[user_id])
            self.channels[channel.id] = channel
            self.dm_by_user[user_id] = channel.id
            return channel
        return self.channels[channel_id]

    def delete_channel(self, channel_id: int) -> Channel:
        channel = self.channel(channel_id)
        channel.deleted = True
        if channel.guild_id is not None:
            guild = self.guild(channel.guild_id)
            guild.channels.pop(channel_id, None)
            # Deleting a channel deletes its threads too.
            for thread in [c for c in guild.channels.values() if c.parent_id == channel_id and c.is_thread]:
                thread.deleted = True
                guild.channels.pop(thread.id, None)
        return channel

    # -- lookups --------------------------------------------------------------------------------

    def guild(self, guild_id: int) -> Guild:
        try:
            return self.guilds[int(guild_id)]
        except KeyError:
            raise KeyError(f"unknown guild {guild_id}") from None

    def channel(self, channel_id: int) -> Channel:
        try:
            return self.channels[int(channel_id)]
        except KeyError:
            raise KeyError(f"unknown channel {channel_id}") from None

    def live_channel(self, channel_id: int) -> Channel | None:
        channel = self.channels.get(channel_id)
        return None if channel is None or channel.deleted else channel

    def member(self, guild_id: int, user_id: int) -> Member:
        try:
            return self.guild(guild_id).members[int(user_id)]
        except KeyError:
            raise KeyError(f"user {user_id} is not a member of guild {guild_id}") from None

    # -- permissions (Discord's documented algorithm) -------------------------------------------

    def guild_permissions(self, guild: Guild, user_id: int) -> int:
        if user_id == guild.owner_id:
            return Perm.ALL
        member = guild.members.get(user_id)
        if member is None:
            return 0
        permissions = guild.everyone.permissions
        for role_id in member.role_ids:
            permissions |= guild.roles[role_id].permissions
        return Perm.ALL if permissions & Perm.ADMINISTRATOR else permissions

    def channel_permissions(self, channel: Channel, user_id: int) -> int:
        if channel.guild_id is None:
            return (
                Perm.VIEW_CHANNEL
                | Perm.SEND_MESSAGES
                | Perm.READ_MESSAGE_HISTORY
                | Perm.EMBED_LINKS
                | Perm.ATTACH_FILES
                | Perm.ADD_REACTIONS
                | Perm.USE_EXTERNAL_EMOJIS
            )
        guild = self.guild(channel.guild_id)
        permissions = self.guild_permissions(guild, user_id)
        if permissions & Perm.ADMINISTRATOR:
            return Perm.ALL
        # Threads have no overwrites of their own; they inherit the parent channel's.
        source = self.channels.get(channel.parent_id) if channel.is_thread and channel.parent_id else channel
        overwrites = source.overwrites if source is not None else {}
        if everyone := overwrites.get(guild.id):
            permissions = (permissions & ~everyone.deny) | everyone.allow
        member = guild.members.get(user_id)
        role_ids = set(member.role_ids) if member else set()
        allow = deny = 0
        for overwrite in overwrites.values():
            if overwrite.type == 0 and overwrite.id in role_ids:
                allow |= overwrite.allow
                deny |= overwrite.deny
        permissions = (permissions & ~deny) | allow
        if (own := overwrites.get(user_id)) and own.type == 1:
            permissions = (permissions & ~own.deny) | own.allow
        return permissions if permissions & Perm.VIEW_CHANNEL else 0

    # -- payloads -------------------------------------------------------------------------------

    def member_payload(self, member: Member, *, with_user: bool = True, permissions: int | None = None) -> JSON:
        data: JSON = {
            "nick": member.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(role_id) for role_id in member.role_ids],
            "joined_at": iso(member.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = member.user.payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data

    def channel_payload(self, channel: Channel) -> JSON:
        data: JSON = {
            "id": str(channel.id),
            "type": channel.type,
            "flags": 0,
            "last_message_id": None if channel.last_message_id is None else str(channel.last_message_id),
        }
        if channel.is_dm:
            data["recipients"] = [self.users[uid].payload() for uid in channel.recipient_ids]
            return data
        data.update(
            {
                "guild_id": str(channel.guild_id),
                "name": channel.name,
                "parent_id": None if channel.parent_id is None else str(channel.parent_id),
                "rate_limit_per_user": channel.rate_limit_per_user,
            }
        )
        if channel.is_thread:
            data.update(
                {
                    "owner_id": str(channel.owner_id),
                    "message_count": channel.message_count,
                    "member_count": 1,
                    "total_message_sent": channel.message_count,
                    "applied_tags": [],
                    "thread_metadata": {
                        "archived": channel.archived,
                        "auto_archive_duration": channel.auto_archive_duration,
                        "archive_timestamp": iso(channel.created_at),
                        "locked": channel.locked,
                        "invitable": channel.invitable,
                        "create_timestamp": iso(channel.created_at),
                    },
                }
            )
            return data
        data.update(
            {
                "position": channel.position,
                "permission_overwrites": [overwrite.payload() for overwrite in channel.overwrites.values()],
                "nsfw": False,
                "topic": channel.topic,
                "default_auto_archive_duration": 1440,
            }
        )
        if channel.type == ChannelType.GUILD_VOICE:
            data.update({"bitrate": 64000, "user_limit": 0, "rtc_region": None})
        if channel.type == ChannelType.GUILD_FORUM:
            data.update(
                {
                    "available_tags": [],
                    "default_reaction_emoji": None,
                    "default_sort_order": None,
                    "default_forum_layout": 0,
                    "default_thread_rate_limit_per_user": 0,
                }
            )
        return data

    def thread_member_payload(self, thread: Channel, user_id: int) -> JSON:
        return {"id": str(thread.id), "user_id": str(user_id), "join_timestamp": iso(thread.created_at), "flags": 0}

    def guild_payload(self, guild: Guild, *, members: list[Member] | None = None, full: bool = False) -> JSON:
        data: JSON = {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": guild.locale,
            "features": [],
            "roles": [role.payload() for role in guild.roles.values()],
            "emojis": [],
            "stickers": [],
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
        }
        if full:
            # Only GUILD_CREATE carries these.
            data.update(
                {
                    "joined_at": iso(guild.joined_at),
                    "large": False,
                    "unavailable": False,
                    "member_count": len(guild.members),
                    "members": [
                        self.member_payload(m) for m in (members if members is not None else guild.members.values())
                    ],
                    "channels": [self.channel_payload(c) for c in guild.channels.values() if not c.is_thread],
                    "threads": [
                        self.channel_payload(c) for c in guild.channels.values() if c.is_thread and not c.archived
                    ],
                    "voice_states": [],
                    "presences": [],
                    "stage_instances": [],
                    "guild_scheduled_events": [],
                    "soundboard_sounds": [],
                }
            )
        return data

    def message_payload(self, message: Message, *, blank: bool = False, with_reference: bool = True) -> JSON:
        """``blank`` empties what the Message Content intent gates (content, embeds, attachments, components)."""
        author = self.users[message.author_id]
        data: JSON = {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "author": author.payload(),
            "content": "" if blank else message.content,
            "timestamp": iso(message.created_at),
            "edited_timestamp": iso(message.edited_at),
            "tts": message.tts,
            "mention_everyone": bool(EVERYONE_MENTION.search(message.content)) and author.id != self.bot.id,
            "mentions": [
                self._mention_payload(uid, message.guild_id)
                for uid in message.mentioned_user_ids()
                if uid in self.users
            ],
            "mention_roles": list(dict.fromkeys(ROLE_MENTION.findall(message.content))),
            "attachments": [] if blank else [a.payload() for a in message.attachments],
            "embeds": [] if blank else [self._embed_out(e) for e in message.embeds],
            "components": [] if blank else message.components,
            "pinned": False,
            "type": message.type,
            "flags": message.flags,
        }
        if message.reactions:
            data["reactions"] = [
                {
                    "emoji": {"id": None, "name": emoji},
                    "count": 1,
                    "me": True,
                    "count_details": {"burst": 0, "normal": 1},
                    "burst_colors": [],
                    "me_burst": False,
                    "burst_me": False,
                    "burst_count": 0,
                }
                for emoji in dict.fromkeys(message.reactions)
            ]
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
            guild = self.guilds.get(message.guild_id)
            member = guild.members.get(author.id) if guild is not None else None
            if member is not None and message.webhook_id is None:
                data["member"] = self.member_payload(member, with_user=False)
        if message.nonce is not None:
            data["nonce"] = message.nonce
        if message.webhook_id is not None:
            data["webhook_id"] = str(message.webhook_id)
            data["application_id"] = str(self.application_id)
        if message.interaction_metadata is not None:
            data["interaction_metadata"] = message.interaction_metadata
        if message.message_reference is not None:
            data["message_reference"] = {"type": 0, **message.message_reference}
            if with_reference:
                referenced = self.messages.get(message.reply_to or 0)
                data["referenced_message"] = (
                    None
                    if referenced is None or referenced.deleted
                    else self.message_payload(referenced, with_reference=False)
                )
        if message.thread_id is not None and (thread := self.live_channel(message.thread_id)) is not None:
            data["thread"] = self.channel_payload(thread)
        return data

    def _mention_payload(self, user_id: int, guild_id: int | None) -> JSON:
        data = self.users[user_id].payload()
        guild = self.guilds.get(guild_id) if guild_id is not None else None
        if guild is not None and (member := guild.members.get(user_id)) is not None:
            data["member"] = self.member_payload(member, with_user=False)
        return data

    @staticmethod
    def _embed_out(embed: JSON) -> JSON:
        # Discord stamps every embed a bot sends as "rich".
        return {"type": "rich", **embed}
