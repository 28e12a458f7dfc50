"""Builds INTERACTION_CREATE payloads the way Discord's client and API would: slash commands typed
against the *synced* command schema, autocomplete with a focused option, component clicks and
modal submissions.

The builders refuse what a real user could not do (a command that was never synced, an option it
does not have, a missing required option, a choice not offered, a button that is not on the message)
by raising ``ValueError``/``LookupError``/``PermissionError`` in the test, before anything is sent.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from . import limits
from .constants import InteractionType, OptionType, Perm
from .state import Attachment, Channel, Message, World

JSON = dict[str, Any]

_SNOWFLAKE_OPTIONS = (
    OptionType.USER,
    OptionType.CHANNEL,
    OptionType.ROLE,
    OptionType.MENTIONABLE,
    OptionType.ATTACHMENT,
)


def _id_of(value: Any) -> int:
    """Accepts an id or anything with an ``id`` (stand-in users, members, roles, channels)."""
    return int(getattr(value, "id", value))


class InteractionBuilder:
    def __init__(
        self,
        world: World,
        commands: Mapping[int | None, list[JSON]],
        *,
        attachment_size_limit: int,
        new_attachment: Any,
    ) -> None:
        self.world = world
        self.commands = commands
        self.attachment_size_limit = attachment_size_limit
        self._new_attachment = new_attachment

    # -- common envelope ------------------------------------------------------------------------

    def envelope(
        self, kind: int, guild_id: int | None, channel_id: int | None, user_id: int, *, locale: str = "en-US"
    ) -> tuple[JSON, Channel]:
        world = self.world
        if user_id not in world.users:
            raise LookupError(f"unknown user {user_id}")
        if guild_id is None:
            channel = world.dm_channel(user_id) if channel_id is None else world.channel(channel_id)
            if not channel.is_dm or user_id not in channel.recipient_ids:
                raise ValueError(f"channel {channel.id} is not the DM of user {user_id}")
        else:
            guild = world.guild(guild_id)
            if user_id not in guild.members:
                raise LookupError(f"user {user_id} is not a member of guild {guild_id}")
            if channel_id is None:
                raise ValueError("a guild interaction needs a channel_id")
            channel = world.channel(channel_id)
            if channel.deleted or channel.guild_id != guild_id:
                raise LookupError(f"channel {channel_id} does not exist in guild {guild_id}")
        payload: JSON = {
            "id": str(world.ids.next()),
            "application_id": str(world.application_id),
            "type": kind,
            "token": "standin." + secrets.token_urlsafe(48),
            "version": 1,
            "channel_id": str(channel.id),
            "app_permissions": str(world.channel_permissions(channel, world.bot.id)),
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": self.attachment_size_limit,
        }
        channel_payload = world.channel_payload(channel)
        if guild_id is None:
            payload["user"] = world.users[user_id].payload()
            payload["context"] = 1  # BOT_DM
            payload["authorizing_integration_owners"] = {"0": "0"}
        else:
            guild = world.guild(guild_id)
            member_permissions = world.channel_permissions(channel, user_id)
            channel_payload["permissions"] = str(member_permissions)
            payload.update(
                {
                    "guild_id": str(guild_id),
                    "guild": {"id": str(guild_id), "locale": guild.locale, "features": []},
                    "guild_locale": guild.locale,
                    "member": world.member_payload(guild.members[user_id], permissions=member_permissions),
                    "context": 0,  # GUILD
                    "authorizing_integration_owners": {"0": str(guild_id)},
                }
            )
        payload["channel"] = channel_payload
        return payload, channel

    # -- application commands -------------------------------------------------------------------

    def find_command(self, name: str, guild_id: int | None, kind: int = 1) -> tuple[JSON, int | None]:
        scopes: list[int | None] = [guild_id, None] if guild_id is not None else [None]
        for scope in scopes:
            for command in self.commands.get(scope, []):
                if command["name"] == name and command.get("type", 1) == kind:
                    return command, scope
        synced = {scope: [c["name"] for c in commands] for scope, commands in self.commands.items()}
        raise LookupError(f"/{name} is not synced for guild {guild_id} (synced: {synced or 'nothing'})")

    def _check_usable(self, command: JSON, scope: int | None, guild_id: int | None, user_id: int) -> None:
        """What decides whether Discord's client even offers the command to this user here."""
        contexts = command.get("contexts")
        if guild_id is None:
            if (
                scope is not None
                or command.get("dm_permission") is False
                or (contexts is not None and 1 not in contexts)
            ):
                raise PermissionError(f"/{command['name']} is not available in DMs")
            return
        if contexts is not None and 0 not in contexts:
            raise PermissionError(f"/{command['name']} is not available in guilds")
        required = command.get("default_member_permissions")
        if required is not None:
            granted = self.world.guild_permissions(self.world.guild(guild_id), user_id)
            # "0" hides the command from everyone but administrators.
            needed = int(required) or Perm.ADMINISTRATOR
            if needed & ~granted and not granted & Perm.ADMINISTRATOR:
                raise PermissionError(f"/{command['name']} needs permissions {needed:#x}; user {user_id} lacks them")

    def command(
        self,
        kind: int,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        name: str,
        options: Mapping[str, Any] | None,
        subcommand: str | None,
        *,
        focused: str | None = None,
        locale: str = "en-US",
        force: bool = False,
    ) -> JSON:
        command, scope = self.find_command(name, guild_id)
        if not force:
            self._check_usable(command, scope, guild_id, user_id)
        payload, _ = self.envelope(kind, guild_id, channel_id, user_id, locale=locale)
        resolved: JSON = {}
        schema_options: list[JSON] = command.get("options") or []
        path = subcommand.split() if subcommand else []
        autocomplete = kind == InteractionType.AUTOCOMPLETE
        if path:
            built = self._subcommand(
                name, schema_options, path, options or {}, resolved, guild_id, focused, autocomplete
            )
        elif any(o["type"] in (OptionType.SUB_COMMAND, OptionType.SUB_COMMAND_GROUP) for o in schema_options):
            raise ValueError(f"/{name} has subcommands {[o['name'] for o in schema_options]}; pass subcommand=")
        else:
            built = self._options(
                schema_options,
                options or {},
                resolved,
                guild_id,
                focused=focused,
                autocomplete=autocomplete,
                where=f"/{name}",
            )
        data: JSON = {"id": command["id"], "name": name, "type": 1, "options": built}
        if scope is not None:
            data["guild_id"] = str(scope)
        if resolved:
            data["resolved"] = resolved
        payload["data"] = data
        return payload

    def _subcommand(
        self,
        name: str,
        options: list[JSON],
        path: list[str],
        values: Mapping[str, Any],
        resolved: JSON,
        guild_id: int | None,
        focused: str | None,
        autocomplete: bool,
    ) -> list[JSON]:
        head, rest = path[0], path[1:]
        option = limits.find_option(options, head)
        if option is None or option["type"] not in (OptionType.SUB_COMMAND, OptionType.SUB_COMMAND_GROUP):
            raise ValueError(f"/{name} has no subcommand {head!r}")
        if option["type"] == OptionType.SUB_COMMAND_GROUP:
            if not rest:
                raise ValueError(f"/{name} {head} is a group; name one of its subcommands")
            inner = self._subcommand(
                f"{name} {head}", option.get("options") or [], rest, values, resolved, guild_id, focused, autocomplete
            )
        else:
            if rest:
                raise ValueError(f"/{name} {head} has no subcommands")
            inner = self._options(
                option.get("options") or [],
                values,
                resolved,
                guild_id,
                focused=focused,
                autocomplete=autocomplete,
                where=f"/{name} {head}",
            )
        return [{"name": head, "type": option["type"], "options": inner}]

    def _options(
        self,
        schema: list[JSON],
        values: Mapping[str, Any],
        resolved: JSON,
        guild_id: int | None,
        *,
        focused: str | None,
        autocomplete: bool,
        where: str,
    ) -> list[JSON]:
        built: list[JSON] = []
        for name, value in values.items():
            option = limits.find_option(schema, name)
            if option is None:
                raise ValueError(f"{where} has no option {name!r} (it has {[o['name'] for o in schema]})")
            if name == focused:
                if not option.get("autocomplete"):
                    raise ValueError(f"{where} option {name!r} does not use autocomplete")
                # Discord sends whatever has been typed so far, as a string, unvalidated.
                built.append({"name": name, "type": option["type"], "value": str(value), "focused": True})
                continue
            built.append(
                {"name": name, "type": option["type"], "value": self._value(option, value, resolved, guild_id, where)}
            )
        if focused is not None and focused not in values:
            raise ValueError(f"the focused option {focused!r} needs a value (the text typed so far)")
        if not autocomplete:
            missing = [o["name"] for o in schema if o.get("required") and o["name"] not in values]
            if missing:
                raise ValueError(f"{where} requires {missing}")
        return built

    def _value(self, option: JSON, value: Any, resolved: JSON, guild_id: int | None, where: str) -> Any:
        kind = option["type"]
        name = f"{where} {option['name']}"
        if kind == OptionType.STRING:
            if not isinstance(value, str):
                raise ValueError(f"{name} takes a string")
            low, high = option.get("min_length", 0), option.get("max_length", 6000)
            if not low <= len(value) <= high:
                raise ValueError(f"{name} must be {low}..{high} characters")
        elif kind in (OptionType.INTEGER, OptionType.NUMBER):
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or (kind == OptionType.INTEGER and not isinstance(value, int))
            ):
                raise ValueError(f"{name} takes {'an integer' if kind == OptionType.INTEGER else 'a number'}")
            if option.get("min_value") is not None and value < option["min_value"]:
                raise ValueError(f"{name} must be >= {option['min_value']}")
            if option.get("max_value") is not None and value > option["max_value"]:
                raise ValueError(f"{name} must be <= {option['max_value']}")
        elif kind == OptionType.BOOLEAN:
            if not isinstance(value, bool):
                raise ValueError(f"{name} takes a bool")
        elif kind in _SNOWFLAKE_OPTIONS:
            return self._resolve(kind, option, value, resolved, guild_id, name)
        choices = option.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise ValueError(f"{name} must be one of {[c['value'] for c in choices]}")
        return value

    def _resolve(self, kind: int, option: JSON, value: Any, resolved: JSON, guild_id: int | None, name: str) -> str:
        world = self.world
        if kind == OptionType.ATTACHMENT:
            filename, data = value
            attachment: Attachment = self._new_attachment(0, filename, data)
            resolved.setdefault("attachments", {})[str(attachment.id)] = attachment.payload()
            return str(attachment.id)
        target = _id_of(value)
        guild = world.guild(guild_id) if guild_id is not None else None
        if kind in (OptionType.USER, OptionType.MENTIONABLE) and target in world.users:
            resolved.setdefault("users", {})[str(target)] = world.users[target].payload()
            if guild is not None and target in guild.members:
                member = world.member_payload(
                    guild.members[target], with_user=False, permissions=world.guild_permissions(guild, target)
                )
                resolved.setdefault("members", {})[str(target)] = member
            return str(target)
        if kind in (OptionType.ROLE, OptionType.MENTIONABLE) and guild is not None and target in guild.roles:
            resolved.setdefault("roles", {})[str(target)] = guild.roles[target].payload()
            return str(target)
        if (
            kind == OptionType.CHANNEL
            and (channel := world.live_channel(target)) is not None
            and channel.guild_id == guild_id
        ):
            allowed = option.get("channel_types")
            if allowed and channel.type not in allowed:
                raise ValueError(f"{name} accepts channel types {allowed}, not {channel.type}")
            entry: JSON = {
                "id": str(channel.id),
                "name": channel.name,
                "type": channel.type,
                "permissions": str(world.channel_permissions(channel, world.bot.id)),
            }
            if channel.is_thread:
                entry.update(
                    parent_id=str(channel.parent_id), thread_metadata=world.channel_payload(channel)["thread_metadata"]
                )
            resolved.setdefault("channels", {})[str(channel.id)] = entry
            return str(channel.id)
        raise ValueError(f"{name}: {target} is not a valid {_KIND_NAMES.get(kind, 'value')} here")

    # -- components and modals ------------------------------------------------------------------

    def click(
        self, message: Message, custom_id: str, user_id: int, values: list[str] | None, *, force: bool = False
    ) -> JSON:
        if message.ephemeral and not force:
            # Only the member an ephemeral message was shown to has it in their client to click.
            shown_to = int(((message.interaction_metadata or {}).get("user") or {}).get("id", 0))
            if user_id != shown_to:
                raise PermissionError(f"message {message.id} is ephemeral: only user {shown_to} sees it")
        component = find_component(message.components, custom_id)
        if component is None:
            raise LookupError(f"message {message.id} has no component {custom_id!r} (it has {message.custom_ids()})")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled")
        kind = component["type"]
        data: JSON = {"custom_id": custom_id, "component_type": kind}
        if component.get("id") is not None:
            data["id"] = component["id"]
        if kind == 3:
            offered = [o["value"] for o in component.get("options") or []]
            chosen = list(values or [])
            low, high = component.get("min_values", 1), component.get("max_values", 1)
            if not low <= len(chosen) <= high or any(v not in offered for v in chosen):
                raise ValueError(f"select {custom_id!r} takes {low}..{high} of {offered}, got {chosen}")
            data["values"] = chosen
        elif kind in (5, 6, 7, 8):
            data["values"] = [str(v) for v in values or []]
        elif values:
            raise ValueError(f"component {custom_id!r} is a button; it takes no values")
        payload, _ = self.envelope(InteractionType.MESSAGE_COMPONENT, message.guild_id, message.channel_id, user_id)
        payload["data"] = data
        payload["message"] = self.world.message_payload(message)
        return payload

    def modal_submit(
        self,
        modal: JSON,
        values: Mapping[str, str],
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        message: Message | None,
    ) -> JSON:
        components: list[JSON] = []
        known: set[str] = set()
        for component in modal.get("components") or []:
            inputs = [c for c in limits.modal_inputs([component]) if c.get("type") == 4]
            for text_input in inputs:
                custom_id = text_input["custom_id"]
                known.add(custom_id)
                value = values.get(custom_id, "")
                if text_input.get("required", True) and not value:
                    raise ValueError(f"modal input {custom_id!r} is required")
                low, high = text_input.get("min_length", 0), text_input.get("max_length", 4000)
                if value and not low <= len(value) <= high:
                    raise ValueError(f"modal input {custom_id!r} takes {low}..{high} characters")
                submitted = {"type": 4, "custom_id": custom_id, "value": value, "id": text_input.get("id", 0)}
                if component.get("type") == 18:
                    components.append({"type": 18, "id": component.get("id", 0), "component": submitted})
                else:
                    components.append({"type": 1, "id": component.get("id", 0), "components": [submitted]})
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"modal has no inputs {sorted(unknown)} (it has {sorted(known)})")
        payload, _ = self.envelope(InteractionType.MODAL_SUBMIT, guild_id, channel_id, user_id)
        payload["data"] = {"custom_id": modal["custom_id"], "components": components}
        if message is not None:
            payload["message"] = self.world.message_payload(message)
        return payload


_KIND_NAMES = {
    OptionType.USER: "user",
    OptionType.CHANNEL: "channel",
    OptionType.ROLE: "role",
    OptionType.MENTIONABLE: "user or role",
}


def find_component(components: list[Any], custom_id: str) -> JSON | None:
    for component in components:
        if not isinstance(component, dict):
            continue
        if component.get("custom_id") == custom_id:
            return component
        nested = [
            *(component.get("components") or []),
            *[component[key] for key in ("accessory", "component") if isinstance(component.get(key), dict)],
        ]
        if (found := find_component(nested, custom_id)) is not None:
            return found
    return None
