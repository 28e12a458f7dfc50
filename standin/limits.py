"""Discord's documented size and shape limits, checked the way Discord checks them (400, code 50035).

Each validator adds problems to a :class:`FormErrors`, which renders Discord's nested
``errors`` object (``{"content": {"_errors": [{"code": ..., "message": ...}]}}``) so that
discord.py's ``HTTPException`` text looks like what production would print.
These functions are pure so that they can be unit-tested without a server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .constants import MessageFlag, OptionType

JSON = dict[str, Any]

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_ACTION_ROWS = 5
MAX_ROW_WIDTH = 5
MAX_V2_COMPONENTS = 40
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
MAX_GLOBAL_COMMANDS = 100
MAX_CONTEXT_MENUS = 5
MAX_OPTIONS = 25
MAX_CHOICES = 25
MAX_COMMAND_CHARS = 4000
MAX_THREAD_NAME = 100
MAX_ATTACHMENTS = 10  # files on one message

COMMAND_NAME = re.compile(r"^[-_a-z0-9]{1,32}$")
_URL = re.compile(r"^(https?|attachment)://\S+$")
_SELECT_TYPES = frozenset({3, 5, 6, 7, 8})
_ARCHIVE_DURATIONS = frozenset({60, 1440, 4320, 10080})
_MESSAGE_FLAGS_ALLOWED = (
    MessageFlag.SUPPRESS_EMBEDS
    | MessageFlag.EPHEMERAL
    | MessageFlag.SUPPRESS_NOTIFICATIONS
    | MessageFlag.IS_COMPONENTS_V2
)

Path = tuple[str | int, ...]


class FormErrors:
    """Accumulates problems at JSON paths; truthy when there is at least one."""

    def __init__(self) -> None:
        self.tree: JSON = {}
        self.reasons: list[str] = []

    def add(self, path: Path, code: str, message: str) -> None:
        node = self.tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})
        self.reasons.append(f"{'.'.join(map(str, path)) or '<body>'}: {message}")

    def __bool__(self) -> bool:
        return bool(self.reasons)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


# -- small shared checks ------------------------------------------------------------------------


def _max_len(errors: FormErrors, path: Path, value: Any, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _length_between(errors: FormErrors, path: Path, value: Any, low: int, high: int) -> None:
    if not isinstance(value, str):
        errors.add(path, "BASE_TYPE_REQUIRED", "This field is required")
    elif not low <= len(value) <= high:
        errors.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")


def _list(errors: FormErrors, path: Path, value: Any, limit: int) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add(path, "LIST_TYPE_CONVERT", "Must be an array.")
        return []
    if len(value) > limit:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    return value


def _url(errors: FormErrors, path: Path, value: Any, *, required: bool = False) -> None:
    if value is None:
        if required:
            errors.add(path, "BASE_TYPE_REQUIRED", "This field is required")
        return
    if not isinstance(value, str) or not _URL.match(value):
        errors.add(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")


# -- messages -----------------------------------------------------------------------------------


def embed_length(embed: Mapping[str, Any]) -> int:
    """Characters Discord counts towards the 6000 total of a message's embeds."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for field in embed.get("fields") or []:
        total += len(field.get("name") or "") + len(field.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def validate_embed(errors: FormErrors, path: Path, embed: Any) -> None:
    if not isinstance(embed, dict):
        errors.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    _max_len(errors, (*path, "title"), embed.get("title"), 256)
    _max_len(errors, (*path, "description"), embed.get("description"), 4096)
    _url(errors, (*path, "url"), embed.get("url"))
    color = embed.get("color")
    if color is not None and not (isinstance(color, int) and 0 <= color <= 0xFFFFFF):
        errors.add((*path, "color"), "NUMBER_TYPE_MAX", "int value should be <= 16777215 and >= 0.")
    fields = _list(errors, (*path, "fields"), embed.get("fields"), 25)
    for index, field in enumerate(fields):
        field_path = (*path, "fields", index)
        # Empty names/values are a classic production-only failure (e.g. joining an empty list).
        _length_between(errors, (*field_path, "name"), field.get("name"), 1, 256)
        _length_between(errors, (*field_path, "value"), field.get("value"), 1, 1024)
    if (footer := embed.get("footer")) is not None:
        _length_between(errors, (*path, "footer", "text"), footer.get("text"), 1, 2048)
    if (author := embed.get("author")) is not None:
        _length_between(errors, (*path, "author", "name"), author.get("name"), 1, 256)
        _url(errors, (*path, "author", "url"), author.get("url"))
    for key in ("image", "thumbnail"):
        if (media := embed.get(key)) is not None:
            _url(errors, (*path, key, "url"), media.get("url"), required=True)


def validate_button(errors: FormErrors, path: Path, button: JSON, custom_ids: set[str]) -> None:
    style = button.get("style")
    if style not in (1, 2, 3, 4, 5, 6):
        errors.add((*path, "style"), "BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3, 4, 5, 6).")
        return
    label = button.get("label")
    _max_len(errors, (*path, "label"), label, MAX_BUTTON_LABEL)
    if style == 5:
        # Link buttons open a URL; Discord never sends an interaction for them.
        _url(errors, (*path, "url"), button.get("url"), required=True)
        if button.get("custom_id") is not None:
            errors.add((*path, "custom_id"), "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED", "A custom id cannot be set.")
    elif style == 6:
        if button.get("sku_id") is None:
            errors.add((*path, "sku_id"), "BASE_TYPE_REQUIRED", "This field is required")
    else:
        if button.get("url") is not None:
            errors.add((*path, "url"), "BUTTON_COMPONENT_URL_NOT_ALLOWED", "A url cannot be set.")
        _custom_id(errors, path, button.get("custom_id"), custom_ids)
    if style != 6 and not label and not button.get("emoji"):
        errors.add(path, "BUTTON_COMPONENT_INVALID", "A label or an emoji is required.")


def _custom_id(errors: FormErrors, path: Path, custom_id: Any, custom_ids: set[str]) -> None:
    _length_between(errors, (*path, "custom_id"), custom_id, 1, MAX_CUSTOM_ID)
    if isinstance(custom_id, str):
        if custom_id in custom_ids:
            errors.add(
                (*path, "custom_id"), "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
            )
        custom_ids.add(custom_id)


def validate_select(errors: FormErrors, path: Path, select: JSON, custom_ids: set[str]) -> None:
    _custom_id(errors, path, select.get("custom_id"), custom_ids)
    _max_len(errors, (*path, "placeholder"), select.get("placeholder"), 150)
    min_values = select.get("min_values", 1)
    max_values = select.get("max_values", 1)
    if not 0 <= min_values <= 25:
        errors.add((*path, "min_values"), "NUMBER_TYPE_MAX", "int value should be <= 25 and >= 0.")
    if not 1 <= max_values <= 25:
        errors.add((*path, "max_values"), "NUMBER_TYPE_MAX", "int value should be <= 25 and >= 1.")
    if min_values > max_values:
        errors.add((*path, "min_values"), "SELECT_COMPONENT_MIN_GREATER_THAN_MAX", "min_values exceeds max_values")
    if select.get("type") == 3:
        options = select.get("options")
        if not isinstance(options, list) or not 1 <= len(options) <= 25:
            errors.add((*path, "options"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length.")
            return
        if max_values > len(options):
            errors.add(
                (*path, "max_values"), "SELECT_COMPONENT_MAX_VALUES_EXCEEDS_OPTIONS", "max_values exceeds options"
            )
        for index, option in enumerate(options):
            option_path = (*path, "options", index)
            _length_between(errors, (*option_path, "label"), option.get("label"), 1, 100)
            _length_between(errors, (*option_path, "value"), option.get("value"), 1, 100)
            _max_len(errors, (*option_path, "description"), option.get("description"), 100)


def count_components(components: Iterable[Any]) -> int:
    """All components, nested ones included (the Components V2 limit counts every one)."""
    total = 0
    for component in components:
        if not isinstance(component, dict):
            continue
        total += 1
        total += count_components(component.get("components") or [])
        if isinstance(component.get("accessory"), dict):
            total += 1
        if isinstance(component.get("component"), dict):
            total += 1
    return total


def _validate_interactive(errors: FormErrors, path: Path, component: JSON, custom_ids: set[str]) -> None:
    kind = component.get("type")
    if kind == 2:
        validate_button(errors, path, component, custom_ids)
    elif kind in _SELECT_TYPES:
        validate_select(errors, path, component, custom_ids)


def _walk_v2(errors: FormErrors, path: Path, components: list[Any], custom_ids: set[str]) -> None:
    for index, component in enumerate(components):
        if not isinstance(component, dict):
            continue
        here = (*path, index)
        _validate_interactive(errors, here, component, custom_ids)
        if component.get("type") == 10:
            _max_len(errors, (*here, "content"), component.get("content"), 4000)
        _walk_v2(errors, (*here, "components"), component.get("components") or [], custom_ids)
        if isinstance(accessory := component.get("accessory"), dict):
            _validate_interactive(errors, (*here, "accessory"), accessory, custom_ids)


def validate_components(errors: FormErrors, components: Any, *, v2: bool) -> None:
    if components is None:
        return
    if not isinstance(components, list):
        errors.add(("components",), "LIST_TYPE_CONVERT", "Must be an array.")
        return
    custom_ids: set[str] = set()
    if v2:
        if count_components(components) > MAX_V2_COMPONENTS:
            errors.add(("components",), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_V2_COMPONENTS} or fewer in length.")
        _walk_v2(errors, ("components",), components, custom_ids)
        return
    if len(components) > MAX_ACTION_ROWS:
        errors.add(("components",), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_ACTION_ROWS} or fewer in length.")
    for row_index, row in enumerate(components):
        path: Path = ("components", row_index)
        if not isinstance(row, dict) or row.get("type") != 1:
            errors.add(path, "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "Top-level components must be action rows.")
            continue
        children = row.get("components") or []
        if not 1 <= len(children) <= MAX_ROW_WIDTH:
            errors.add((*path, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
        if any(child.get("type") in _SELECT_TYPES for child in children) and len(children) > 1:
            errors.add(
                (*path, "components"),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        for index, child in enumerate(children):
            _validate_interactive(errors, (*path, "components", index), child, custom_ids)


def validate_allowed_mentions(errors: FormErrors, allowed: Any) -> None:
    if allowed is None:
        return
    if not isinstance(allowed, dict):
        errors.add(("allowed_mentions",), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    parse = allowed.get("parse") or []
    for index, value in enumerate(parse):
        if value not in ("roles", "users", "everyone"):
            errors.add(
                ("allowed_mentions", "parse", index),
                "BASE_TYPE_CHOICES",
                "Value must be one of ('roles', 'users', 'everyone').",
            )
    for kind in ("users", "roles"):
        listed = _list(errors, ("allowed_mentions", kind), allowed.get(kind), 100)
        if listed and kind in parse:
            # Discord refuses the ambiguous combination rather than guessing.
            errors.add(
                ("allowed_mentions", "parse"),
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )


def validate_message(payload: Mapping[str, Any], *, ephemeral_allowed: bool = False) -> FormErrors:
    """Checks a message body (create, edit, interaction message or followup)."""
    errors = FormErrors()
    content = payload.get("content")
    if content is not None and not isinstance(content, str):
        errors.add(("content",), "STRING_TYPE_CONVERT", "Could not interpret value as string.")
    _max_len(errors, ("content",), content, MAX_CONTENT)
    flags = payload.get("flags") or 0
    allowed_flags = _MESSAGE_FLAGS_ALLOWED if ephemeral_allowed else _MESSAGE_FLAGS_ALLOWED & ~MessageFlag.EPHEMERAL
    if flags & ~allowed_flags:
        errors.add(("flags",), "MESSAGE_INVALID_FLAGS", f"Invalid flags {flags & ~allowed_flags}.")
    v2 = bool(flags & MessageFlag.IS_COMPONENTS_V2)
    embeds = _list(errors, ("embeds",), payload.get("embeds"), MAX_EMBEDS)
    if v2 and (content or embeds):
        errors.add(
            ("content",),
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used when using MessageFlags.IS_COMPONENTS_V2",
        )
    for index, embed in enumerate(embeds):
        validate_embed(errors, ("embeds", index), embed)
    total = sum(embed_length(embed) for embed in embeds if isinstance(embed, dict))
    if total > MAX_EMBED_TOTAL:
        errors.add(("embeds",), "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}")
    validate_components(errors, payload.get("components"), v2=v2)
    validate_allowed_mentions(errors, payload.get("allowed_mentions"))
    return errors


def is_empty_message(payload: Mapping[str, Any], file_count: int) -> bool:
    """Discord answers 50006 when a new message would have nothing to show."""
    return not (
        payload.get("content")
        or payload.get("embeds")
        or payload.get("components")
        or payload.get("sticker_ids")
        or payload.get("poll")
        or file_count
    )


# -- interaction answers ------------------------------------------------------------------------


def validate_choices(data: Mapping[str, Any]) -> FormErrors:
    """Autocomplete result (callback type 8)."""
    errors = FormErrors()
    choices = data.get("choices")
    if not isinstance(choices, list):
        errors.add(("data", "choices"), "BASE_TYPE_REQUIRED", "This field is required")
        return errors
    if len(choices) > MAX_CHOICES:
        errors.add(("data", "choices"), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CHOICES} or fewer in length.")
    for index, choice in enumerate(choices):
        _length_between(errors, ("data", "choices", index, "name"), choice.get("name"), 1, 100)
        value = choice.get("value")
        if isinstance(value, str):
            _max_len(errors, ("data", "choices", index, "value"), value, 100)
        elif not isinstance(value, (int, float)) or isinstance(value, bool):
            errors.add(("data", "choices", index, "value"), "BASE_TYPE_REQUIRED", "This field is required")
    return errors


def validate_modal(data: Mapping[str, Any]) -> FormErrors:
    """Modal (callback type 9): title, custom id and 1-5 top-level components."""
    errors = FormErrors()
    _length_between(errors, ("data", "title"), data.get("title"), 1, 45)
    _length_between(errors, ("data", "custom_id"), data.get("custom_id"), 1, MAX_CUSTOM_ID)
    components = data.get("components")
    if not isinstance(components, list) or not 1 <= len(components) <= 5:
        errors.add(("data", "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
        return errors
    labelled = {id(c["component"]) for c in components if isinstance(c, dict) and isinstance(c.get("component"), dict)}
    for index, inner in enumerate(modal_inputs(components)):
        path: Path = ("data", "components", index)
        if inner.get("type") == 4:
            _length_between(errors, (*path, "custom_id"), inner.get("custom_id"), 1, MAX_CUSTOM_ID)
            if id(inner) in labelled:  # inside a Label (type 18) the label is the Label's
                _max_len(errors, (*path, "label"), inner.get("label"), 45)
            else:
                _length_between(errors, (*path, "label"), inner.get("label"), 1, 45)
            if inner.get("style") not in (1, 2):
                errors.add((*path, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2}.")
            _max_len(errors, (*path, "placeholder"), inner.get("placeholder"), 100)
            _max_len(errors, (*path, "value"), inner.get("value"), 4000)
            low, high = inner.get("min_length", 0), inner.get("max_length", 4000)
            if not (isinstance(low, int) and 0 <= low <= 4000):
                errors.add((*path, "min_length"), "NUMBER_TYPE_MAX", "Must be between 0 and 4000.")
            if not (isinstance(high, int) and 1 <= high <= 4000) or (isinstance(low, int) and high < low):
                errors.add(
                    (*path, "max_length"), "NUMBER_TYPE_MAX", "Must be between 1 and 4000, and min_length or more."
                )
    return errors


def modal_inputs(components: list[Any]) -> list[JSON]:
    """Flattens action rows (type 1) and labels (type 18) to their input components."""
    inputs: list[JSON] = []
    for component in components:
        if not isinstance(component, dict):
            continue
        if component.get("type") == 1:
            inputs.extend(c for c in component.get("components") or [] if isinstance(c, dict))
        elif component.get("type") == 18 and isinstance(component.get("component"), dict):
            inputs.append(component["component"])
        else:
            inputs.append(component)
    return inputs


# -- threads ------------------------------------------------------------------------------------


def validate_thread(payload: Mapping[str, Any]) -> FormErrors:
    errors = FormErrors()
    _length_between(errors, ("name",), payload.get("name"), 1, MAX_THREAD_NAME)
    duration = payload.get("auto_archive_duration")
    if duration is not None and duration not in _ARCHIVE_DURATIONS:
        errors.add(("auto_archive_duration",), "BASE_TYPE_CHOICES", "Value must be one of {60, 1440, 4320, 10080}.")
    return errors


# -- application commands -----------------------------------------------------------------------


def command_characters(command: Mapping[str, Any]) -> int:
    """Characters Discord counts towards a command's 4000 limit (names, descriptions, choices)."""
    total = len(command.get("name") or "") + len(command.get("description") or "")
    for option in command.get("options") or []:
        total += command_characters(option)
        for choice in option.get("choices") or []:
            total += len(str(choice.get("name") or "")) + len(str(choice.get("value") or ""))
    return total


def _validate_option(errors: FormErrors, path: Path, option: JSON, depth: int) -> None:
    kind = option.get("type")
    name = option.get("name")
    if not isinstance(name, str) or not COMMAND_NAME.match(name):
        errors.add((*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}")
    _length_between(errors, (*path, "description"), option.get("description"), 1, 100)
    if kind not in range(1, 12):
        errors.add((*path, "type"), "BASE_TYPE_CHOICES", "Value must be one of 1..11.")
        return
    if kind in (OptionType.SUB_COMMAND, OptionType.SUB_COMMAND_GROUP):
        if kind == OptionType.SUB_COMMAND_GROUP and depth > 0:
            errors.add((*path, "type"), "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Groups cannot be nested.")
        if kind == OptionType.SUB_COMMAND and depth > 1:
            errors.add((*path, "type"), "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Subcommands cannot be this deep.")
        children = option.get("options") or []
        if kind == OptionType.SUB_COMMAND_GROUP and any(c.get("type") != OptionType.SUB_COMMAND for c in children):
            errors.add(
                (*path, "options"), "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "A group may only contain subcommands."
            )
        _validate_options(errors, path, children, depth + 1)
        return
    choices = option.get("choices")
    if choices is not None:
        if kind not in (OptionType.STRING, OptionType.INTEGER, OptionType.NUMBER):
            errors.add(
                (*path, "choices"),
                "APPLICATION_COMMAND_OPTION_CHOICES_NOT_ALLOWED",
                "Choices are not allowed for this type.",
            )
        if len(choices) > MAX_CHOICES:
            errors.add((*path, "choices"), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CHOICES} or fewer in length.")
        for index, choice in enumerate(choices):
            _length_between(errors, (*path, "choices", index, "name"), choice.get("name"), 1, 100)
            _max_len(errors, (*path, "choices", index, "value"), choice.get("value"), 100)
        if option.get("autocomplete"):
            errors.add(
                (*path, "autocomplete"),
                "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                "Autocomplete and choices are mutually exclusive.",
            )
    if option.get("autocomplete") and kind not in (OptionType.STRING, OptionType.INTEGER, OptionType.NUMBER):
        errors.add(
            (*path, "autocomplete"),
            "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
            "Autocomplete is not allowed for this type.",
        )
    for key in ("min_length", "max_length"):
        value = option.get(key)
        if value is not None and not (0 if key == "min_length" else 1) <= value <= 6000:
            errors.add((*path, key), "NUMBER_TYPE_MAX", "int value should be <= 6000.")
    low, high = option.get("min_value"), option.get("max_value")
    if low is not None and high is not None and low > high:
        errors.add((*path, "min_value"), "NUMBER_TYPE_MIN", "min_value exceeds max_value.")


def _validate_options(errors: FormErrors, path: Path, options: Any, depth: int) -> None:
    options = _list(errors, (*path, "options"), options, MAX_OPTIONS)
    names: set[str] = set()
    seen_optional = False
    kinds = {option.get("type") for option in options}
    if kinds & {1, 2} and kinds - {1, 2}:
        errors.add(
            (*path, "options"),
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Subcommands and groups cannot be mixed with other options.",
        )
    for index, option in enumerate(options):
        option_path = (*path, "options", index)
        if not isinstance(option, dict):
            errors.add(option_path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            continue
        name = option.get("name")
        if name in names:
            errors.add(
                (*option_path, "name"),
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique.",
            )
        names.add(name)
        if option.get("type") not in (1, 2):
            if option.get("required"):
                if seen_optional:
                    errors.add(
                        (*option_path, "required"),
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                seen_optional = True
        _validate_option(errors, option_path, option, depth)


def validate_command(errors: FormErrors, path: Path, command: Any) -> None:
    if not isinstance(command, dict):
        errors.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    kind = command.get("type", 1)
    name = command.get("name")
    if kind == 1:
        if not isinstance(name, str) or not COMMAND_NAME.match(name):
            errors.add((*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}")
        _length_between(errors, (*path, "description"), command.get("description"), 1, 100)
        _validate_options(errors, path, command.get("options"), 0)
    elif kind in (2, 3):
        _length_between(errors, (*path, "name"), name, 1, 32)
        if command.get("description"):
            errors.add(
                (*path, "description"),
                "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
                "Context menu commands cannot have a description.",
            )
        if command.get("options"):
            errors.add(
                (*path, "options"),
                "APPLICATION_COMMAND_CONTEXT_MENU_OPTIONS",
                "Context menu commands cannot have options.",
            )
    else:
        errors.add((*path, "type"), "BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3, 4).")
        return
    if command_characters(command) > MAX_COMMAND_CHARS:
        errors.add(path, "APPLICATION_COMMAND_TOO_LARGE", f"Command exceeds maximum size ({MAX_COMMAND_CHARS})")


def validate_commands(commands: Any) -> FormErrors:
    """A bulk overwrite (PUT) of global or guild commands."""
    errors = FormErrors()
    if not isinstance(commands, list):
        errors.add((), "LIST_TYPE_CONVERT", "Must be an array.")
        return errors
    seen: set[tuple[int, str]] = set()
    per_type: dict[int, int] = {}
    for index, command in enumerate(commands):
        validate_command(errors, (index,), command)
        if not isinstance(command, dict):
            continue
        kind = command.get("type", 1)
        key = (kind, str(command.get("name")))
        if key in seen:
            errors.add(
                (index, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                f"Application command names must be unique: {key[1]}",
            )
        seen.add(key)
        per_type[kind] = per_type.get(kind, 0) + 1
    if per_type.get(1, 0) > MAX_GLOBAL_COMMANDS:
        errors.add((), "BASE_TYPE_MAX_LENGTH", f"Maximum number of chat input commands ({MAX_GLOBAL_COMMANDS}) reached")
    for kind in (2, 3):
        if per_type.get(kind, 0) > MAX_CONTEXT_MENUS:
            errors.add(
                (), "BASE_TYPE_MAX_LENGTH", f"Maximum number of type {kind} commands ({MAX_CONTEXT_MENUS}) reached"
            )
    return errors


def find_option(options: Sequence[JSON], name: str) -> JSON | None:
    return next((option for option in options if option.get("name") == name), None)
