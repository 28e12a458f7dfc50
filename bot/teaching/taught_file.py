"""The taught questions' file, `data_dir/taught.yaml`: read and checked like a knowledge file, written atomically.

It is the truth about what was taught: the bot and `roadmap-tutor teach` both read it, change it and write it back
under one lock, so neither loses what the other taught, and the bot re-reads it when it changes. A file that does
not pass its check is reported (file, field, reason) and never written over: fixing it is the operator's call.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Collection, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from knowledge.loader import KnowledgeError, knowledge_error, read_yaml
from knowledge.schema import TaughtQuestion, TaughtSet

TAUGHT_FILE_NAME = "taught.yaml"
HEADER = """\
# Questions admins taught Roadmap Tutor (/admin teach, roadmap-tutor teach): each is answered with the entry
# `answer` names (the id of a roadmap or its next steps, step, topic, concept, resource, weekly prompt or
# note), in the server `guild` only, or everywhere when there is no `guild`. The bot and the CLI write this
# file; you may edit it by hand: it is checked like any knowledge file, and the bot reads it again when it
# changes.
"""


class TaughtFileError(KnowledgeError):
    """The taught file cannot be used as it is; the message names the file, the field and the reason."""


def taught_path(data_dir: Path) -> Path:
    return data_dir / TAUGHT_FILE_NAME


def read_taught(path: Path, entries: Collection[str]) -> list[TaughtQuestion]:
    """The taught questions in `path` (none when it does not exist or is empty), each checked by the schema and
    against `entries`, the ids of the knowledge's entries; `TaughtFileError` naming the file and field if not."""
    if not path.exists():
        return []
    try:
        data = read_yaml(path)
    except KnowledgeError as error:
        raise TaughtFileError(error.path, error.field_path, error.reason) from None
    if data is None:
        return []
    if not isinstance(data, dict):
        raise TaughtFileError(path, "", "expected a mapping with 'taught', a list of questions")
    try:
        taught = TaughtSet.model_validate(data).taught
    except ValidationError as exc:
        error = knowledge_error(path, exc)
        raise TaughtFileError(error.path, error.field_path, error.reason) from None
    for number, question in enumerate(taught):
        if question.answer not in entries:
            raise TaughtFileError(path, f"taught[{number}].answer", f"unknown entry id {question.answer!r}")
    return taught


def _as_yaml(question: TaughtQuestion) -> dict[str, Any]:
    item: dict[str, Any] = {"q": question.q, "answer": question.answer}
    if question.guild is not None:
        item["guild"] = question.guild
    if question.taught_at is not None:
        item["taught_at"] = question.taught_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return item


def write_taught(path: Path, taught: list[TaughtQuestion]) -> None:
    """Write the taught questions aside, then move them over `path` in one rename: a crash leaves the old file
    or the new one, whole."""
    text = HEADER + yaml.safe_dump(
        {"taught": [_as_yaml(q) for q in taught]}, sort_keys=False, allow_unicode=True, width=120
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(aside, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(aside, path)
    except BaseException:
        with contextlib.suppress(OSError):
            aside.unlink()
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@contextlib.contextmanager
def taught_lock(path: Path) -> Iterator[None]:
    """One change of the taught file at a time, across processes (the bot and the CLI): read, change, write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def file_signature(path: Path) -> tuple[int, int, int] | None:
    """What changes when the file is written (by `write_taught` or by hand): None when there is none."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)
