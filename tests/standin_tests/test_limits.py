"""Discord's limits as the stand-in checks them, without a server."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from standin import limits
from standin.records import pings
from standin.state import Message

JSON = dict[str, Any]


def reasons(errors: limits.FormErrors) -> str:
    return errors.reason


def button(custom_id: str = "b", **extra: Any) -> JSON:
    return {"type": 2, "style": 1, "label": "Go", "custom_id": custom_id, **extra}


def command(name: str = "ask", **extra: Any) -> JSON:
    return {"type": 1, "name": name, "description": "Ask a question", **extra}


def option(name: str, kind: int = 3, **extra: Any) -> JSON:
    return {"type": kind, "name": name, "description": "An option", **extra}


@given(st.integers(min_value=0, max_value=2500))
def test_content_limit_is_2000_characters(length: int) -> None:
    errors = limits.validate_message({"content": "x" * length})
    assert bool(errors) == (length > 2000)


def test_embed_limits() -> None:
    assert "embeds.0.title" in reasons(limits.validate_message({"embeds": [{"title": "t" * 257}]}))
    assert "embeds.0.description" in reasons(limits.validate_message({"embeds": [{"description": "d" * 4097}]}))
    fields = [{"name": "n", "value": "v"}] * 26
    assert "embeds.0.fields" in reasons(limits.validate_message({"embeds": [{"fields": fields}]}))
    empty_value = [{"name": "n", "value": ""}]
    assert "embeds.0.fields.0.value" in reasons(limits.validate_message({"embeds": [{"fields": empty_value}]}))
    assert "footer" in reasons(limits.validate_message({"embeds": [{"footer": {"text": "f" * 2049}}]}))
    assert "author" in reasons(limits.validate_message({"embeds": [{"author": {"name": "a" * 257}}]}))
    assert "embeds" in reasons(limits.validate_message({"embeds": [{}] * 11}))


def test_embeds_share_a_6000_character_budget() -> None:
    embeds = [{"description": "d" * 4000}, {"description": "d" * 2000}]
    assert not limits.validate_message({"embeds": embeds})
    embeds[1]["title"] = "t"
    assert "6000" in reasons(limits.validate_message({"embeds": embeds}))


def test_component_limits() -> None:
    row = {"type": 1, "components": [button(f"b{i}") for i in range(5)]}
    assert not limits.validate_message({"components": [row]})
    six_wide = {"type": 1, "components": [button(f"b{i}") for i in range(6)]}
    assert reasons(limits.validate_message({"components": [six_wide]}))
    rows = [{"type": 1, "components": [button(f"r{i}")]} for i in range(6)]
    assert reasons(limits.validate_message({"components": rows}))
    for bad in (
        button("x" * 101),
        button(label="l" * 81),
        {"type": 2, "style": 5, "label": "Docs", "url": "https://example.org", "custom_id": "no"},
        {"type": 2, "style": 5, "label": "Docs"},
    ):
        assert reasons(limits.validate_message({"components": [{"type": 1, "components": [bad]}]})), bad
    duplicate = {"type": 1, "components": [button("same"), button("same")]}
    assert "duplicated" in reasons(limits.validate_message({"components": [duplicate]}))


def test_allowed_mentions_parse_and_list_are_exclusive() -> None:
    payload = {"content": "hi", "allowed_mentions": {"parse": ["users"], "users": ["1"]}}
    assert "mutually exclusive" in reasons(limits.validate_message(payload))


def test_command_rules() -> None:
    assert not limits.validate_commands([command(options=[option("topic", required=True), option("depth")])])
    assert "name" in reasons(limits.validate_commands([command("Ask")]))
    assert "description" in reasons(limits.validate_commands([command(description="")]))
    assert "description" in reasons(limits.validate_commands([command(description="d" * 101)]))
    assert reasons(limits.validate_commands([command(options=[option(f"o{i}") for i in range(26)])]))
    late_required = [option("a"), option("b", required=True)]
    assert "Required options" in reasons(limits.validate_commands([command(options=late_required)]))
    choices = [{"name": f"c{i}", "value": f"c{i}"} for i in range(26)]
    assert "choices" in reasons(limits.validate_commands([command(options=[option("a", choices=choices)])]))
    assert reasons(limits.validate_commands([command(f"c{i}") for i in range(101)]))
    assert "unique" in reasons(limits.validate_commands([command(), command()]))


def test_nested_subcommand_options_are_checked() -> None:
    bad_leaf = option("add", 1, options=[option("a"), option("b", required=True)])
    group = option("notes", 2, options=[bad_leaf])
    assert "options.0.options.0.options.1.required" in reasons(limits.validate_commands([command(options=[group])]))
    mixed = [option("add", 1), option("text")]
    assert "mixed" in reasons(limits.validate_commands([command(options=mixed)]))


def test_autocomplete_choices() -> None:
    assert not limits.validate_choices({"choices": [{"name": "a", "value": "a"}] * 25})
    assert reasons(limits.validate_choices({"choices": [{"name": "a", "value": "a"}] * 26}))
    assert reasons(limits.validate_choices({"choices": [{"name": "", "value": "a"}]}))
    assert reasons(limits.validate_choices({"choices": [{"name": "n" * 101, "value": "a"}]}))


def test_pings() -> None:
    def sent(content: str, allowed: JSON | None) -> Message:
        return Message(id=1, channel_id=2, guild_id=3, author_id=4, content=content, allowed_mentions=allowed)

    assert pings(sent("no mentions at all", None))  # no allowed_mentions: Discord would parse everything
    assert not pings(sent("@everyone <@&123456789012345678>", {"parse": []}))
    assert pings(sent("@everyone", {"parse": ["everyone"]}))
    assert pings(sent("<@123456789012345678>", {"parse": ["users"]}))
    assert not pings(sent("<@123456789012345678>", {"parse": ["users"]}), replied_user_id=123456789012345678)
    assert pings(sent("<@&123456789012345678>", {"parse": [], "roles": ["123456789012345678"]}))


def text_input(**extra: Any) -> JSON:
    return {"type": 4, "custom_id": "why", "style": 2, "label": "Why?", **extra}


def test_modal_text_inputs_are_checked_as_discord_does() -> None:
    def modal(*inputs: JSON) -> JSON:
        return {"title": "Feedback", "custom_id": "m", "components": [{"type": 1, "components": [i]} for i in inputs]}

    assert not limits.validate_modal(modal(text_input(max_length=200, required=False)))
    assert "label" in reasons(limits.validate_modal(modal(text_input(label=""))))
    assert "label" in reasons(limits.validate_modal(modal(text_input(label="x" * 46))))
    assert "style" in reasons(limits.validate_modal(modal(text_input(style=3))))
    assert "max_length" in reasons(limits.validate_modal(modal(text_input(max_length=4001))))
    assert "max_length" in reasons(limits.validate_modal(modal(text_input(min_length=10, max_length=5))))
    assert "min_length" in reasons(limits.validate_modal(modal(text_input(min_length=-1))))
    assert "title" in reasons(limits.validate_modal({**modal(text_input()), "title": "t" * 46}))
    assert "components" in reasons(limits.validate_modal(modal(*[text_input(custom_id=f"i{n}") for n in range(6)])))
    # Inside a Label (type 18) the text input carries no label of its own.
    labelled = {
        "title": "Feedback",
        "custom_id": "m",
        "components": [{"type": 18, "label": "Why?", "component": {"type": 4, "custom_id": "why", "style": 1}}],
    }
    assert not limits.validate_modal(labelled)
