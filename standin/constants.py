"""Numbers Discord's API uses (intents, permission bits, channel types, error codes), named once."""

from __future__ import annotations

from typing import Final


class Intent:
    """Gateway intent bits a client sends in IDENTIFY."""

    GUILDS: Final = 1 << 0
    GUILD_MEMBERS: Final = 1 << 1
    GUILD_PRESENCES: Final = 1 << 8
    GUILD_MESSAGES: Final = 1 << 9
    GUILD_MESSAGE_REACTIONS: Final = 1 << 10
    DIRECT_MESSAGES: Final = 1 << 12
    MESSAGE_CONTENT: Final = 1 << 15

    PRIVILEGED: Final = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


class Perm:
    """Permission bits (only the ones the stand-in reasons about are named)."""

    CREATE_INSTANT_INVITE: Final = 1 << 0
    KICK_MEMBERS: Final = 1 << 1
    BAN_MEMBERS: Final = 1 << 2
    ADMINISTRATOR: Final = 1 << 3
    MANAGE_CHANNELS: Final = 1 << 4
    MANAGE_GUILD: Final = 1 << 5
    ADD_REACTIONS: Final = 1 << 6
    VIEW_CHANNEL: Final = 1 << 10
    SEND_MESSAGES: Final = 1 << 11
    MANAGE_MESSAGES: Final = 1 << 13
    EMBED_LINKS: Final = 1 << 14
    ATTACH_FILES: Final = 1 << 15
    READ_MESSAGE_HISTORY: Final = 1 << 16
    MENTION_EVERYONE: Final = 1 << 17
    USE_EXTERNAL_EMOJIS: Final = 1 << 18
    CONNECT: Final = 1 << 20
    SPEAK: Final = 1 << 21
    MANAGE_ROLES: Final = 1 << 28
    USE_APPLICATION_COMMANDS: Final = 1 << 31
    MANAGE_THREADS: Final = 1 << 34
    CREATE_PUBLIC_THREADS: Final = 1 << 35
    CREATE_PRIVATE_THREADS: Final = 1 << 36
    SEND_MESSAGES_IN_THREADS: Final = 1 << 38

    # Every bit Discord currently defines; owners and administrators get all of them.
    ALL: Final = (1 << 51) - 1

    # What a fresh guild's @everyone role gets from Discord.
    DEFAULT_EVERYONE: Final = (
        CREATE_INSTANT_INVITE
        | ADD_REACTIONS
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | USE_EXTERNAL_EMOJIS
        | CONNECT
        | SPEAK
        | USE_APPLICATION_COMMANDS
        | CREATE_PUBLIC_THREADS
        | CREATE_PRIVATE_THREADS
        | SEND_MESSAGES_IN_THREADS
    )

    # What an invite link for a tutor bot would typically grant its managed role.
    DEFAULT_BOT: Final = (
        VIEW_CHANNEL
        | SEND_MESSAGES
        | SEND_MESSAGES_IN_THREADS
        | CREATE_PUBLIC_THREADS
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | ADD_REACTIONS
        | USE_EXTERNAL_EMOJIS
        | USE_APPLICATION_COMMANDS
    )

    # What `deny_bot` takes away by default: everything that posts into the channel.
    SENDING: Final = SEND_MESSAGES | SEND_MESSAGES_IN_THREADS | CREATE_PUBLIC_THREADS | CREATE_PRIVATE_THREADS


class ChannelType:
    GUILD_TEXT: Final = 0
    DM: Final = 1
    GUILD_VOICE: Final = 2
    GUILD_CATEGORY: Final = 4
    GUILD_ANNOUNCEMENT: Final = 5
    ANNOUNCEMENT_THREAD: Final = 10
    PUBLIC_THREAD: Final = 11
    PRIVATE_THREAD: Final = 12
    GUILD_FORUM: Final = 15

    THREADS: Final = frozenset({10, 11, 12})
    TEXT_LIKE: Final = frozenset({0, 1, 2, 5, 10, 11, 12})


class MessageFlag:
    SUPPRESS_EMBEDS: Final = 1 << 2
    EPHEMERAL: Final = 1 << 6
    LOADING: Final = 1 << 7
    SUPPRESS_NOTIFICATIONS: Final = 1 << 12
    IS_COMPONENTS_V2: Final = 1 << 15


class InteractionType:
    PING: Final = 1
    APPLICATION_COMMAND: Final = 2
    MESSAGE_COMPONENT: Final = 3
    AUTOCOMPLETE: Final = 4
    MODAL_SUBMIT: Final = 5


class CallbackType:
    PONG: Final = 1
    CHANNEL_MESSAGE: Final = 4
    DEFERRED_CHANNEL_MESSAGE: Final = 5
    DEFERRED_UPDATE_MESSAGE: Final = 6
    UPDATE_MESSAGE: Final = 7
    AUTOCOMPLETE_RESULT: Final = 8
    MODAL: Final = 9

    # Which answers Discord accepts for which kind of interaction.
    ALLOWED: Final = {
        InteractionType.APPLICATION_COMMAND: frozenset({4, 5, 9}),
        InteractionType.MESSAGE_COMPONENT: frozenset({4, 5, 6, 7, 9}),
        InteractionType.AUTOCOMPLETE: frozenset({8}),
        InteractionType.MODAL_SUBMIT: frozenset({4, 5, 6, 7}),
    }


class OptionType:
    SUB_COMMAND: Final = 1
    SUB_COMMAND_GROUP: Final = 2
    STRING: Final = 3
    INTEGER: Final = 4
    BOOLEAN: Final = 5
    USER: Final = 6
    CHANNEL: Final = 7
    ROLE: Final = 8
    MENTIONABLE: Final = 9
    NUMBER: Final = 10
    ATTACHMENT: Final = 11


class ErrorCode:
    """JSON error codes Discord puts in error bodies (with the message it uses)."""

    UNKNOWN_CHANNEL: Final = 10003
    UNKNOWN_GUILD: Final = 10004
    UNKNOWN_MEMBER: Final = 10007
    UNKNOWN_MESSAGE: Final = 10008
    UNKNOWN_USER: Final = 10013
    UNKNOWN_WEBHOOK: Final = 10015
    UNKNOWN_INTERACTION: Final = 10062
    UNKNOWN_APPLICATION_COMMAND: Final = 10063
    ENTITY_TOO_LARGE: Final = 40005
    ALREADY_ACKNOWLEDGED: Final = 40060
    MISSING_ACCESS: Final = 50001
    CANNOT_EDIT_OTHERS_MESSAGE: Final = 50005
    EMPTY_MESSAGE: Final = 50006
    CANNOT_DM_USER: Final = 50007
    MISSING_PERMISSIONS: Final = 50013
    WRONG_CHANNEL_TYPE: Final = 50024
    INVALID_WEBHOOK_TOKEN: Final = 50027
    INVALID_FORM_BODY: Final = 50035
    INVALID_JSON: Final = 50109
    THREAD_ALREADY_CREATED: Final = 160004


class GatewayClose:
    """Close codes the gateway sends (4000-4014) for protocol mistakes."""

    UNKNOWN_ERROR: Final = 4000
    UNKNOWN_OPCODE: Final = 4001
    DECODE_ERROR: Final = 4002
    NOT_AUTHENTICATED: Final = 4003
    AUTHENTICATION_FAILED: Final = 4004
    ALREADY_AUTHENTICATED: Final = 4005
    INVALID_API_VERSION: Final = 4012
    DISALLOWED_INTENTS: Final = 4014
