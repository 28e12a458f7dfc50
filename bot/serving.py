"""Load the knowledge, keep its index current and hand out an Answerer; rebuild it in place."""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import dataclass
from functools import partial

from bot.answering import Answerer
from bot.answering.calibration import SHIPPED_CALIBRATION
from bot.config import Settings
from bot.teaching import Teacher, taught_path
from indexer.build import BuildInProgress, BuildReport, build_index, snapshot_dir
from indexer.encoders import Encoder, display_name, load_encoder
from indexer.onnx_export import export_onnx
from indexer.search import SearchIndex
from indexer.store import IndexUnavailable, read_manifest
from knowledge.loader import KnowledgeBase, KnowledgeError, load_knowledge

log = logging.getLogger(__name__)


def load_settings_knowledge(settings: Settings) -> KnowledgeBase:
    return load_knowledge(
        settings.knowledge.dirs, settings.knowledge.include_shipped, cache_dir=settings.knowledge_cache_dir
    )


def model_name(settings: Settings) -> str:
    """The model's display name, known without loading it."""
    return display_name(settings.model.name)


def open_encoder(settings: Settings, backend: str | None = None) -> Encoder:
    """The configured backend: ONNX from the current build when present (`auto`), else sentence-transformers."""
    return load_encoder(
        settings.model.name,
        batch_size=settings.model.batch_size,
        backend=backend or settings.model.backend,
        index_dir=settings.index_dir,
    )


class LazyEncoder:
    """Loads the model on first use, so that a current index costs no model load to check."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._encoder: Encoder | None = None

    def serves_queries(self) -> Encoder | None:
        """The encoder loaded for the build when it is also the one to answer with, so start-up after a
        knowledge change loads the model once: the ONNX export (a build reuses it while the model is the
        same), or sentence-transformers when that backend is chosen outright."""
        if self._encoder is None:
            return None
        from indexer.onnx_encoder import OnnxEncoder  # onnxruntime: imported only once a model is loaded

        if self._settings.model.backend == "sentence-transformers" or isinstance(self._encoder, OnnxEncoder):
            return self._encoder
        return None

    def get(self) -> Encoder:
        if self._encoder is None:
            # Building may use the current build's ONNX export; with none, sentence-transformers.
            backend = "sentence-transformers" if self._settings.model.backend == "sentence-transformers" else "auto"
            self._encoder = open_encoder(self._settings, backend)
        return self._encoder


def _exporter(settings: Settings):  # type: ignore[no-untyped-def]
    """Export the query encoder with each build, unless sentence-transformers is chosen outright."""
    if settings.model.backend == "sentence-transformers":
        return None
    return partial(export_onnx, settings.model.name)


def build(settings: Settings, kb: KnowledgeBase, encoder: LazyEncoder | Encoder, force: bool = False) -> BuildReport:
    """Build (or reuse) the index of `kb` with the configured model, exporting its query encoder."""
    load = encoder.get if isinstance(encoder, LazyEncoder) else (lambda: encoder)
    return build_index(
        kb,
        settings.index_dir,
        model_name(settings),
        load,
        force=force,
        export_query_encoder=_exporter(settings),
        calibration=SHIPPED_CALIBRATION,
    )


@dataclass(frozen=True)
class RebuildReport:
    documents: int
    seconds: float
    reused: bool


def open_answerer(settings: Settings) -> Answerer:
    """Knowledge, index and model ready to answer; builds or refreshes the index when needed.

    With a broken knowledge file the last good build keeps serving (with the knowledge it was made
    from), and the error naming the file is logged; without a good build the error is raised.
    """
    reused = None
    try:
        kb = load_settings_knowledge(settings)
    except KnowledgeError as error:
        kb, index = last_good_build(settings, error)
    else:
        lazy = LazyEncoder(settings)
        index = current_index(settings, kb, lazy)
        reused = lazy.serves_queries()
    # The query encoder is chosen after the build: a build may just have exported the ONNX model.
    query_encoder = reused or open_encoder(settings)
    return Answerer(
        kb, index, query_encoder, top_k=settings.retrieval.top_k, min_confidence=settings.retrieval.min_confidence
    )


def open_teacher(settings: Settings, answerer: Answerer) -> Teacher:
    """The questions admins taught (`data_dir/taught.yaml`), loaded and served by `answerer`. A broken file is
    logged and left as it is; answering goes on without it (see `Teacher.load`)."""
    teacher = Teacher(taught_path(settings.data_dir), lambda: answerer.kb, answerer)
    teacher.load()
    return teacher


BUILD_WAIT_SECONDS = 2.0
"""How often a starting process looks again while another process builds the index it shares."""


def current_index(settings: Settings, kb: KnowledgeBase, encoder: LazyEncoder) -> SearchIndex:
    """The index of `kb`: reused when up to date, built when missing, changed or damaged."""
    if read_manifest(settings.index_dir) is None:
        log.warning("no index in %s yet: building it now (a one-off of about a minute)", settings.index_dir)
    build_when_free(settings, kb, encoder)
    try:
        return SearchIndex.load(settings.index_dir)
    except IndexUnavailable as exc:
        log.warning("rebuilding the index: %s", exc)
        build_when_free(settings, kb, encoder, force=True)
        return SearchIndex.load(settings.index_dir)


def build_when_free(settings: Settings, kb: KnowledgeBase, encoder: LazyEncoder, force: bool = False) -> BuildReport:
    """`build`, waiting while another process builds the same index directory (shard processes sharing a data
    volume start together: the first builds, the others then find it current). Blocks: call it off the loop."""
    waiting = False
    while True:
        try:
            return build(settings, kb, encoder, force=force)
        except BuildInProgress:
            if not waiting:
                log.warning("another process is building the index in %s; waiting for it", settings.index_dir)
            waiting = True
            time.sleep(BUILD_WAIT_SECONDS)


def last_good_build(settings: Settings, error: KnowledgeError) -> tuple[KnowledgeBase, SearchIndex]:
    """The current build and the knowledge snapshot it was made from, or `error` if there is none."""
    try:
        index = SearchIndex.load(settings.index_dir)
        kb = load_knowledge([snapshot_dir(index.path)], include_shipped=False)
    except (IndexUnavailable, KnowledgeError):
        raise error from None
    log.error("%s; serving the last good index (built %s) until it is fixed", error, index.manifest.built_at)
    return kb, index


def rebuild(settings: Settings, answerer: Answerer, force: bool = False) -> RebuildReport:
    """Reload the knowledge, rebuild the index aside and swap both in; on any error the old ones keep serving."""
    started = time.monotonic()
    kb = load_settings_knowledge(settings)
    report = build(settings, kb, answerer.encoder, force=force)
    answerer.swap(kb, SearchIndex.load(settings.index_dir))
    if gc.get_freeze_count():  # a serving process: the old index leaves the frozen set, the new one enters it
        gc.unfreeze()
        settle_long_lived_objects()
    return RebuildReport(report.manifest.documents, time.monotonic() - started, report.reused)


def settle_long_lived_objects() -> None:
    """Take what is alive now (knowledge, index, model just loaded) out of the garbage collector's sight.

    A serving process keeps these objects for its whole life, yet every full collection walked all of
    them while holding up the event loop: 25-80 ms pauses during bursts of questions. Frozen objects are
    still freed by reference counting; `rebuild` unfreezes them so the old index's cycles are collected.
    """
    gc.collect()
    gc.freeze()
