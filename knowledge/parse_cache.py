"""Parsed knowledge files kept as JSON, so that a start does not parse unchanged YAML again.

PyYAML builds its Python objects in Python even with libyaml's parser: the shipped asked questions (thousands
of lines) take about half a second to read, more than everything else a cold `ask` does on a built index.
JSON of the same data loads some twenty times faster. An entry is keyed by the file's path and the exact
bytes it was parsed from, so an edited file is parsed afresh and its old entry removed; the data is then
validated as if it had just been parsed, so a file is checked the same with or without the cache.

Only data that JSON keeps exactly is cached (YAML's dates and non-string keys are not): such a file is
parsed each time. A cache that cannot be read or written is passed over; it never stops knowledge loading.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CACHE_FORMAT = "1"
"""Part of every key: a change of what is stored makes earlier entries unreachable."""


class ParseCache:
    """Parsed YAML data per file in `directory`, one JSON file per knowledge file."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def read(self, path: Path, data: bytes, parse: Callable[[], Any]) -> Any:
        """The data `parse()` returns for `path` holding `data`: from the cache when these bytes were parsed
        before, else parsed now and kept."""
        prefix = self._prefix(path)
        entry = self.directory / f"{prefix}-{hashlib.sha256(CACHE_FORMAT.encode() + data).hexdigest()[:32]}.json"
        try:
            return json.loads(entry.read_bytes())
        except (OSError, ValueError):
            pass
        parsed = parse()
        self._keep(prefix, entry, parsed)
        return parsed

    def _prefix(self, path: Path) -> str:
        return hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:16]

    def _keep(self, prefix: str, entry: Path, parsed: Any) -> None:
        try:
            text = json.dumps(parsed, ensure_ascii=False)
            if json.loads(text) != parsed:  # dates, non-string keys: JSON would not give the same data back
                return
        except (TypeError, ValueError):
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for stale in self.directory.glob(f"{prefix}-*.json"):  # this file's entries for earlier contents
                with contextlib.suppress(OSError):
                    stale.unlink()
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
        except OSError as exc:
            log.debug("parsed knowledge not cached in %s: %s", self.directory, exc)
            return
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, entry)  # readers see a whole entry or none
        except OSError as exc:
            log.debug("parsed knowledge not cached in %s: %s", self.directory, exc)
            with contextlib.suppress(OSError):
                os.unlink(temporary)
