"""Forced builds of the shipped knowledge's index: the real command, then the same builds phase by phase.

A first build (empty directory) loads the model with torch, embeds and exports the ONNX query encoder;
a rebuild over an existing index embeds with that export and keeps it. Both are timed. The phases run
as `python -m benchmarks.index_build CONFIG`: what `roadmap-tutor index build --force` does, through the
same `bot.serving.build`, with the model load and the embedding timed apart.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.measure import JSON, Workspace, encoder_backend, roadmap_tutor, run_child, target
from bot.config import Settings, load_settings
from bot.serving import LazyEncoder, build, load_settings_knowledge
from indexer.encoders import Encoder

log = logging.getLogger(__name__)

BUILD_LIMIT_SECONDS = 30.0
# A note an admin adds (`knowledge.dirs`): what the unforced rebuild embeds.
NOTE = """---
title: Booking the club's GPU
topics: [pytorch]
aliases: [gpu booking]
---
Members book the club's GPU machine in the #gpu-booking channel, two hours at a time. Say which notebook you
will run and free the slot when you finish early.
"""


def _timed_build(config: Path) -> JSON:
    """A forced build in a fresh process, phase by phase."""
    child = run_child([sys.executable, "-m", "benchmarks.index_build", str(config)]).check()
    phases: JSON = json.loads(child.stdout)
    # What the build itself does not account for: interpreter start-up and imports.
    phases["process_start_and_imports"] = round(child.seconds - phases["build_total"], 2)
    return phases


def run(workspace: Workspace, quick: bool) -> JSON:
    """Two forced builds with the real command: into an empty directory, then over that index; then an
    unforced one after a note is added."""
    config = workspace.write_config()
    command = [*roadmap_tutor(), "index", "build", "--force", "--config", str(config)]
    results: JSON = {"command": "roadmap-tutor index build --force"}
    for case in ("first_build", "rebuild"):
        log.info("index build: %s, with the command", case)
        child = run_child(command).check()
        results[case] = {
            "wall_seconds": round(child.seconds, 2),
            "cpu_seconds": child.cpu_seconds,
            "peak_rss_mb": child.peak_rss_mb,
        }
    # An admin's note added, then an unforced build over that index: only the note's passages are embedded.
    notes = workspace.root / "notes"
    notes.mkdir(exist_ok=True)
    (notes / "gpu-booking.md").write_text(NOTE, encoding="utf-8")
    with_note = workspace.write_config("config-note.yaml", knowledge={"dirs": [str(notes)]})
    log.info("index build: rebuild after a note is added, with the command")
    child = run_child([*roadmap_tutor(), "index", "build", "--config", str(with_note)]).check()
    results["rebuild_after_a_note"] = {
        "command": "roadmap-tutor index build (a note added, not forced)",
        "wall_seconds": round(child.seconds, 2),
        "cpu_seconds": child.cpu_seconds,
        "peak_rss_mb": child.peak_rss_mb,
    }
    # The same two builds again in a directory of their own, timed phase by phase.
    phases_config = workspace.write_config("config-phases.yaml", data_dir=workspace.root / "phases-data")
    for case in ("first_build", "rebuild"):
        log.info("index build: %s, phase by phase", case)
        results[case]["phases_seconds"] = _timed_build(phases_config)
    results["targets"] = {
        f"{case}_wall": target(results[case]["wall_seconds"], BUILD_LIMIT_SECONDS, "s")
        for case in ("first_build", "rebuild", "rebuild_after_a_note")
    }
    return results


class _TimedEncoder:
    """Passes calls through to an encoder, adding up the time spent encoding."""

    def __init__(self, encoder: Encoder) -> None:
        self.inner = encoder
        self.seconds = 0.0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode(self, texts: list[str]) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self.inner.encode(texts)
        finally:
            self.seconds += time.perf_counter() - started


class _TimedLazyEncoder(LazyEncoder):
    """The build's lazy model loader, timing the load and every encode."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.timed: _TimedEncoder | None = None
        self.load_seconds = 0.0

    def get(self) -> Encoder:
        if self.timed is None:
            started = time.perf_counter()
            self.timed = _TimedEncoder(super().get())
            self.load_seconds = time.perf_counter() - started
        return self.timed


def build_phases(config: Path) -> JSON:
    """In the child: the forced build, timed by phase."""
    started = time.perf_counter()
    settings = load_settings(config)
    kb = load_settings_knowledge(settings)
    loaded_knowledge = time.perf_counter()
    encoder = _TimedLazyEncoder(settings)
    report = build(settings, kb, encoder, force=True)
    finished = time.perf_counter()
    embedding = encoder.timed.seconds if encoder.timed is not None else 0.0
    return {
        "load_knowledge": round(loaded_knowledge - started, 2),
        "model_load": round(encoder.load_seconds, 2),
        "embedding": round(embedding, 2),
        # The rest: documents, FAISS, the ONNX export (or linking the previous one) and writing the files.
        "export_faiss_and_write": round(finished - loaded_knowledge - encoder.load_seconds - embedding, 2),
        "build_total": round(finished - started, 2),
        "documents": report.manifest.documents,
        "passages": report.manifest.passages,
        "index_type": report.manifest.index_type,
        "encoder_backend": encoder_backend(encoder.timed.inner) if encoder.timed is not None else None,
    }


if __name__ == "__main__":
    print(json.dumps(build_phases(Path(sys.argv[1]))))
