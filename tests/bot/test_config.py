"""Settings: defaults, the example file, errors that name the key, and the token kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings, with_shard_ids

ROOT = Path(__file__).resolve().parents[2]


def test_example_config_is_valid_and_equals_the_defaults() -> None:
    assert load_settings(ROOT / "config.example.yaml", environ={}) == load_settings(None, environ={})


def test_defaults_without_a_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.data_dir == Path("data") and settings.discord.token is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("discord:\n  tokn: abc\n", "discord.tokn: unknown key"),
        ("data_dri: ./x\n", "data_dri: unknown key"),
        ("retrieval:\n  top_k: many\n", "retrieval.top_k: Input should be a valid integer"),
        ("discord:\n  guild_ids: [abc]\n", "discord.guild_ids.0"),
        ("discord:\n  api_base_url: localhost:8080\n", "discord.api_base_url"),
        ("- just\n- a list\n", "top level must be a mapping"),
        ("model: [unclosed\n", "not valid YAML"),
        ("discord:\n  shard_count: 0\n", "discord.shard_count: Input should be greater than or equal to 1"),
        (
            "discord:\n  shard_count: 2\n  shard_ids: [0, 2]\n",
            "discord.shard_ids: Value error, shard id 2 is outside 0..1",
        ),
        ("discord:\n  shard_ids: [0]\n", "discord.shard_ids: Value error, needs discord.shard_count"),
        ("discord:\n  shard_count: 2\n  shard_ids: [1, 1]\n", "discord.shard_ids: Value error, lists a shard id twice"),
        ("discord:\n  shard_count: 2\n  shard_ids: some\n", "discord.shard_ids"),
        ("discord:\n  shards: 2\n", "discord.shards: unknown key"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_environment_token_wins_and_never_shows(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("discord:\n  token: from-file\n")
    settings = load_settings(path, environ={"DISCORD_TOKEN": "secret-from-env"})
    assert settings.discord.token is not None
    assert settings.discord.token.get_secret_value() == "secret-from-env"
    assert "secret-from-env" not in repr(settings) and "secret-from-env" not in str(settings.model_dump())


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.yaml", environ={})


def test_shard_settings_choose_this_process_shards(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("discord:\n  shard_count: 4\n  shard_ids: [3, 1]\n")
    assert load_settings(path, environ={}).discord.own_shard_ids == [1, 3]
    path.write_text("discord:\n  shard_count: 3\n  shard_ids: auto\n")
    assert load_settings(path, environ={}).discord.own_shard_ids == [0, 1, 2]
    path.write_text("discord:\n  shard_ids: auto\n")
    auto = load_settings(path, environ={}).discord
    assert auto.sharded and auto.own_shard_ids is None  # discord.py asks Discord how many
    unsharded = load_settings(None, environ={}).discord
    assert not unsharded.sharded and unsharded.own_shard_ids is None


def test_shard_ids_from_the_command_line_are_validated_like_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("discord:\n  shard_count: 2\n")
    settings = load_settings(path, environ={"DISCORD_TOKEN": "secret"})
    second = with_shard_ids(settings, "1")
    assert second.discord.own_shard_ids == [1] and second.discord.token.get_secret_value() == "secret"
    assert with_shard_ids(settings, "auto").discord.own_shard_ids == [0, 1]
    with pytest.raises(ConfigError, match=r"--shard-ids: discord.shard_ids: Value error, shard id 2 is outside 0..1"):
        with_shard_ids(settings, "0,2")
