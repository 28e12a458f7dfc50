"""Serving: a missing or damaged index is rebuilt; a broken knowledge file leaves the last good build serving."""

from __future__ import annotations

import gc
import logging
import weakref
from pathlib import Path

import pytest

from bot import serving
from bot.config import Settings
from knowledge.loader import KnowledgeError
from tests.fakes import FakeEncoder, mini_roadmap, write_mini_roadmap


@pytest.fixture
def settings(tmp_path: Path, monkeypatch) -> Settings:
    encoder = FakeEncoder()
    # The fake encoder stands in for every backend; nothing here needs the real model.
    monkeypatch.setattr(serving, "open_encoder", lambda settings, backend=None: encoder)
    monkeypatch.setattr(serving, "_exporter", lambda settings: None)
    write_mini_roadmap(tmp_path / "knowledge")
    return Settings.model_validate(
        {
            "data_dir": str(tmp_path / "data"),
            "knowledge": {"include_shipped": False, "dirs": [str(tmp_path / "knowledge")]},
        }
    )


def test_missing_then_damaged_index_is_rebuilt(settings: Settings) -> None:
    first = serving.open_answerer(settings)
    assert first.answer("emperor penguin").results[0].id == "emperor-penguin"
    (settings.index_dir / "current" / "documents.json").write_text("{broken")
    again = serving.open_answerer(settings)
    assert again.answer("emperor penguin").results[0].id == "emperor-penguin"


def test_broken_knowledge_at_start_serves_the_last_good_build(settings: Settings, tmp_path: Path, caplog) -> None:
    serving.open_answerer(settings)
    data = mini_roadmap()
    data["steps"][0]["topics"][0]["hours"] = "lots"
    write_mini_roadmap(tmp_path / "knowledge", data)
    with caplog.at_level(logging.ERROR):
        answerer = serving.open_answerer(settings)
    assert "mini.yaml: steps[0].topics[0].hours" in caplog.text and "last good index" in caplog.text
    assert answerer.answer("emperor penguin").results[0].id == "emperor-penguin"


def test_broken_knowledge_without_any_build_is_an_error(settings: Settings, tmp_path: Path) -> None:
    data = mini_roadmap()
    data["steps"][0]["topics"][0]["hours"] = "lots"
    write_mini_roadmap(tmp_path / "knowledge", data)
    with pytest.raises(KnowledgeError, match=r"steps\[0\]\.topics\[0\]\.hours"):
        serving.open_answerer(settings)


def test_a_failed_rebuild_keeps_the_old_index_serving(settings: Settings, tmp_path: Path) -> None:
    answerer = serving.open_answerer(settings)
    before = answerer.index
    data = mini_roadmap()
    data["steps"][1]["topics"][0]["prerequisites"] = ["nowhere"]
    write_mini_roadmap(tmp_path / "knowledge", data)
    with pytest.raises(KnowledgeError, match="unknown topic id 'nowhere'"):
        serving.rebuild(settings, answerer)
    assert answerer.index is before
    assert answerer.answer("magma chambers").results[0].id == "magma"


class _Cycle:
    """Garbage that only the cycle collector can free."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def unfrozen_afterwards():
    yield
    gc.unfreeze()


def test_a_serving_process_freezes_its_long_lived_objects_and_a_rebuild_lets_the_old_ones_go(
    settings: Settings, tmp_path: Path, unfrozen_afterwards: None
) -> None:
    answerer = serving.open_answerer(settings)
    old = _Cycle()
    old_alive = weakref.ref(old)
    serving.settle_long_lived_objects()
    assert gc.get_freeze_count() > 0
    del old
    gc.collect()
    assert old_alive() is not None, "a full collection still walks the objects alive at start-up"
    data = mini_roadmap()
    data["steps"][0]["topics"][0]["summary"] = "Penguins that dive deepest."
    write_mini_roadmap(tmp_path / "knowledge", data)
    serving.rebuild(settings, answerer)
    assert old_alive() is None, "the rebuild left the objects it replaced frozen for ever"
    assert gc.get_freeze_count() > 0, "the rebuild did not freeze the new index"


def test_a_starting_process_waits_for_another_building_the_shared_index(
    settings: Settings, monkeypatch, caplog
) -> None:
    import threading

    from indexer.build import build_lock

    monkeypatch.setattr(serving, "BUILD_WAIT_SECONDS", 0.05)
    holding, release = threading.Event(), threading.Event()

    def other_process() -> None:  # fcntl locks are per open file, so a thread stands in for another process
        with build_lock(settings.index_dir):
            holding.set()
            release.wait(10)

    other = threading.Thread(target=other_process)
    other.start()
    holding.wait(10)
    threading.Timer(0.3, release.set).start()
    with caplog.at_level(logging.WARNING):
        answerer = serving.open_answerer(settings)
    other.join()
    assert answerer.answer("emperor penguin").results[0].id == "emperor-penguin"
    assert "another process is building the index" in caplog.text
