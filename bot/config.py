"""Typed settings for Roadmap Tutor, read from a YAML file plus the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

DEFAULT_CONFIG_FILE = Path("config.yaml")
DISCORD_API_BASE = "https://discord.com/api/v10"
DISCORD_GATEWAY = "wss://gateway.discord.gg"
BUNDLED_MODEL = "bundled"


class ConfigError(Exception):
    """A configuration problem, phrased for the person who wrote the file."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class KnowledgeSettings(_Section):
    include_shipped: bool = True
    """Index the roadmaps and prompts that ship with Roadmap Tutor."""
    dirs: list[Path] = Field(default_factory=list)
    """Extra directories of roadmap YAML, prompt YAML and Markdown notes, indexed with the rest."""


class ModelSettings(_Section):
    name: str = BUNDLED_MODEL
    """`bundled` for the packaged all-MiniLM-L6-v2, or any sentence-transformers model name or path."""
    backend: Literal["auto", "onnx", "sentence-transformers"] = "auto"
    batch_size: Annotated[int, Field(ge=1, le=1024)] = 32


class RetrievalSettings(_Section):
    top_k: Annotated[int, Field(ge=1, le=25)] = 5
    min_confidence: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    """Override the calibrated abstention threshold (0..1); leave empty for the default."""


class CooldownSettings(_Section):
    rate: Annotated[int, Field(ge=1, le=100)] = 4
    per_seconds: Annotated[float, Field(gt=0, le=3600)] = 60.0


class DiscordSettings(_Section):
    token: SecretStr | None = None
    api_base_url: str = DISCORD_API_BASE
    gateway_url: str = DISCORD_GATEWAY
    guild_ids: list[int] = Field(default_factory=list)
    message_content: bool = False
    """Needs the privileged Message Content intent; lets the bot answer in admin-set ask channels."""
    admin_role_ids: list[int] = Field(default_factory=list)
    ask_cooldown: CooldownSettings = Field(default_factory=CooldownSettings)
    # A direct message this many minutes or less after the tutor's last answer to that member is read as a
    # follow-up of it (0: never).
    follow_up_minutes: Annotated[float, Field(ge=0, le=1440)] = 5.0
    shard_count: Annotated[int, Field(ge=1, le=65536)] | None = None
    """How many shards the bot runs over in all (every process alike); empty: one process, no sharding."""
    shard_ids: list[Annotated[int, Field(ge=0)]] | Literal["auto"] | None = None
    """The shards this process runs, each in 0..shard_count-1; `auto` (or empty with shard_count): all of them."""

    @field_validator("api_base_url", "gateway_url")
    @classmethod
    def _is_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://", "ws://", "wss://")):
            raise ValueError("must start with http://, https://, ws:// or wss://")
        return value.rstrip("/")

    @field_validator("shard_ids")
    @classmethod
    def _shards_in_range(cls, value: list[int] | str | None, info: ValidationInfo) -> list[int] | str | None:
        if not isinstance(value, list):
            return value
        if not value:
            raise ValueError("must list at least one shard id, or be auto")
        if len(set(value)) != len(value):
            raise ValueError("lists a shard id twice")
        count = info.data.get("shard_count")
        if count is None:
            raise ValueError("needs discord.shard_count too (how many shards the bot runs over in all)")
        outside = [i for i in value if i >= count]
        if outside:
            listed = ", ".join(map(str, outside))
            raise ValueError(f"shard id {listed} is outside 0..{count - 1} (discord.shard_count is {count})")
        return value

    @property
    def sharded(self) -> bool:
        """Whether to run as an AutoShardedBot (any shard key set)."""
        return self.shard_count is not None or self.shard_ids is not None

    @property
    def own_shard_ids(self) -> list[int] | None:
        """The shards this process runs; None: every shard (`auto`, or discord.py asks Discord how many)."""
        if isinstance(self.shard_ids, list):
            return sorted(self.shard_ids)
        if self.shard_count is not None:
            return list(range(self.shard_count))
        return None


class PrivacySettings(_Section):
    question_log_days: Annotated[int, Field(ge=0, le=3650)] = 90
    """Days a logged question is kept before it is deleted (0 keeps none)."""
    quiz_answer_days: Annotated[int, Field(ge=0, le=3650)] = 90
    """Days a quiz answer is kept for /admin stats before it is deleted (0 keeps none); review schedules stay."""


class StorageSettings(_Section):
    url: SecretStr | None = None
    """Where progress and settings are kept: a SQLite file path, ``sqlite:///path`` or ``postgresql://...``.
    Empty: ``data_dir/tutor.sqlite3``. A secret, like the token: a PostgreSQL URL may carry a password."""
    pool_size: Annotated[int, Field(ge=1, le=100)] = 10
    """PostgreSQL only: the most connections this process holds."""

    @field_validator("url")
    @classmethod
    def _is_store_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        # Imported here: reading settings must not load the storage package for commands that never use it.
        from bot.storage.errors import UnsupportedStoreError
        from bot.storage.urls import parse_store_url

        try:
            parse_store_url(value.get_secret_value())
        except UnsupportedStoreError as exc:
            # The message names what is wrong without repeating the password.
            raise PydanticCustomError("store_url", str(exc)) from None
        return value


class Settings(_Section):
    data_dir: Path = Path("data")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    model: ModelSettings = Field(default_factory=ModelSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def knowledge_cache_dir(self) -> Path:
        """Parsed knowledge files, kept so that a start does not parse unchanged YAML again."""
        return self.data_dir / "cache" / "knowledge"

    @property
    def database_path(self) -> Path:
        """The SQLite file used when `storage.url` is not set."""
        return self.data_dir / "tutor.sqlite3"

    @property
    def store_url(self) -> str:
        """What `open_store` opens: `storage.url`, or the SQLite file in `data_dir`."""
        if self.storage.url is not None:
            return self.storage.url.get_secret_value()
        return str(self.database_path)


def _describe(error: ValidationError, source: str) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        reason = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        lines.append(f"{source}: {key}: {reason}")
    return "\n".join(lines)


def _yaml_problem(error: yaml.YAMLError) -> str:
    """One line: where the YAML broke and why (PyYAML's own text spans several and quotes "<unicode string>")."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark is not None else problem


def load_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read settings from `path` (or ./config.yaml when present) and the environment.

    Relative paths in the file are taken from the current directory, as on the command line.

    `DISCORD_TOKEN` in the environment wins over `discord.token` in the file.
    """
    environ = os.environ if environ is None else environ
    if path is None and DEFAULT_CONFIG_FILE.is_file():
        path = DEFAULT_CONFIG_FILE
    raw: Any = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {_yaml_problem(exc)}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of keys")
    token = environ.get("DISCORD_TOKEN")
    if token:
        discord = raw.setdefault("discord", {})
        if not isinstance(discord, dict):
            raise ConfigError(f"{source}: discord: must be a mapping of keys")
        discord["token"] = token
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None
    return settings


def with_shard_ids(settings: Settings, text: str) -> Settings:
    """`settings` with `discord.shard_ids` from the command line (`0`, `2,3` or `auto`), validated like the file's."""
    value: str | list[str] = "auto" if text.strip() == "auto" else [part.strip() for part in text.split(",")]
    raw = settings.model_dump()
    raw["discord"]["shard_ids"] = value
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, "--shard-ids")) from None
