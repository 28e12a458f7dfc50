"""Parsed knowledge kept between starts: unchanged files are not parsed again, and nothing else changes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import knowledge.loader
from knowledge.loader import KnowledgeError, load_knowledge
from tests.fakes import mini_roadmap, write_mini_roadmap

ASKED = "asked:\n  - q: why do the birds stand so close\n    answers: [penguins]\n"


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The YAML texts the loader parses, in order."""
    seen: list[str] = []
    real = yaml.load

    def counting(text: str, Loader: type) -> object:
        seen.append(text)
        return real(text, Loader=Loader)

    monkeypatch.setattr(knowledge.loader.yaml, "load", counting)
    return seen


def test_unchanged_files_load_from_the_cache_as_they_were_parsed(tmp_path: Path, parses: list[str]) -> None:
    source, cache = tmp_path / "knowledge", tmp_path / "cache"
    write_mini_roadmap(source)
    (source / "asked.yaml").write_text(ASKED, encoding="utf-8")
    first = load_knowledge([source], include_shipped=False, cache_dir=cache)
    assert len(parses) == 2 and len(list(cache.glob("*.json"))) == 2

    second = load_knowledge([source], include_shipped=False, cache_dir=cache)
    assert len(parses) == 2, "an unchanged file was parsed again"
    assert second == first
    assert second == load_knowledge([source], include_shipped=False)  # the same as without a cache


def test_an_edited_file_is_parsed_and_checked_again(tmp_path: Path, parses: list[str]) -> None:
    source, cache = tmp_path / "knowledge", tmp_path / "cache"
    write_mini_roadmap(source)
    asked = source / "asked.yaml"
    asked.write_text(ASKED, encoding="utf-8")
    load_knowledge([source], include_shipped=False, cache_dir=cache)

    asked.write_text(ASKED.replace("penguins", "volcanoes"), encoding="utf-8")
    kb = load_knowledge([source], include_shipped=False, cache_dir=cache)
    assert kb.asked[0].answers == ["volcanoes"]
    assert len(list(cache.glob("*.json"))) == 2, "the edited file's earlier entry was kept"

    asked.write_text(ASKED.replace("penguins", "unicorns"), encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"asked\[0\]\.answers\[0\]: unknown entry id 'unicorns'"):
        load_knowledge([source], include_shipped=False, cache_dir=cache)
    asked.write_text(ASKED, encoding="utf-8")  # back to a version cached before: still validated, still good
    assert load_knowledge([source], include_shipped=False, cache_dir=cache).asked[0].answers == ["penguins"]


def test_a_damaged_cache_entry_is_parsed_afresh(tmp_path: Path, parses: list[str]) -> None:
    source, cache = tmp_path / "knowledge", tmp_path / "cache"
    write_mini_roadmap(source)
    first = load_knowledge([source], include_shipped=False, cache_dir=cache)
    [entry] = cache.glob("*.json")
    entry.write_text('{"steps": [', encoding="utf-8")
    assert load_knowledge([source], include_shipped=False, cache_dir=cache) == first
    assert len(parses) == 2


def test_data_json_would_change_is_not_cached(tmp_path: Path, parses: list[str]) -> None:
    """YAML reads an unquoted date as a date and `1:` as an int key; JSON would give back strings."""
    source, cache = tmp_path / "knowledge", tmp_path / "cache"
    path = write_mini_roadmap(source, mini_roadmap())
    path.write_text(path.read_text(encoding="utf-8") + "x-dated: 2026-12-06\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="x-dated"):  # an unknown field, whatever its type
        load_knowledge([source], include_shipped=False, cache_dir=cache)
    assert not list(cache.glob("*.json"))


def test_an_unwritable_cache_does_not_stop_loading(tmp_path: Path) -> None:
    source = tmp_path / "knowledge"
    write_mini_roadmap(source)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory would be", encoding="utf-8")
    kb = load_knowledge([source], include_shipped=False, cache_dir=blocked / "cache")
    assert [r.id for r in kb.roadmaps] == ["mini"]
