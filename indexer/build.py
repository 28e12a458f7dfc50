"""Build the index from the knowledge base: documents, embeddings, FAISS, manifest; skip unchanged work."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexer.documents import Document, build_documents, distinct_passages
from indexer.encoders import QUERY_ENCODER_DIR, Encoder, EncoderUnavailable
from indexer.general import (
    best_own_cosine,
    candidate_questions,
    candidates_digest,
    far_from_knowledge,
    own_passage_rows,
)
from indexer.salience import WORD_SALIENCE_FILE, everyday_words_near, word_salience
from indexer.search import EVERYDAY_WORDS_FILE, ROADMAP_SALIENCE_FILE, name_words, words
from indexer.store import (
    DECLINED_FILE,
    DECLINED_VECTORS_FILE,
    FORMAT_VERSION,
    GENERAL_FILE,
    GENERAL_VECTORS_FILE,
    Manifest,
    current_path,
    read_index,
    read_manifest,
    write_index,
)
from knowledge.loader import DeclinedExample, KnowledgeBase

log = logging.getLogger(__name__)

# The file name a build keeps its calibration under (the bot reads it back: `bot.answering.calibration`).
CALIBRATION_FILE = "calibration.yaml"


class BuildInProgress(RuntimeError):
    """Another build of the same index is running."""


@dataclass(frozen=True)
class BuildReport:
    manifest: Manifest
    reused: bool
    seconds: float


def content_hash(
    documents: list[Document],
    model: str,
    calibration: str = "",
    declined: list[DeclinedExample] | None = None,
    general: str = "",
) -> str:
    """What the index depends on: the documents, the declined examples, the general questions' candidates
    (`general`, `indexer.general.candidates_digest`), the model, the calibration and the on-disk format."""
    digest = hashlib.sha256()
    digest.update(f"format={FORMAT_VERSION}\nmodel={model}\ncalibration={calibration}\n".encode())
    for document in documents:
        digest.update(json.dumps(document.to_json(), sort_keys=True, ensure_ascii=False).encode())
    if declined:
        digest.update(json.dumps([[d.q, d.roadmap] for d in declined], ensure_ascii=False).encode())
    if general:
        digest.update(f"general={general}\n".encode())
    return digest.hexdigest()


def passages_of(documents: list[Document]) -> tuple[list[str], np.ndarray]:
    texts: list[str] = []
    owners: list[int] = []
    for position, document in enumerate(documents):
        for passage in document.passages:
            texts.append(passage)
            owners.append(position)
    return texts, np.asarray(owners, dtype=np.int64)


def encode_once(encoder: Encoder, texts: list[str], known: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """One vector per text, each distinct text encoded once (see `distinct_passages`), and not at all when
    `known` holds its vector already (`embedded_by_current`)."""
    known = known or {}
    first, numbers = distinct_passages(texts)
    distinct = [texts[row] for row in first]
    missing = [text for text in distinct if text not in known]
    encoded = encoder.encode(missing) if missing else np.zeros((0, encoder.dimension), dtype=np.float32)
    if encoded.shape != (len(missing), encoder.dimension):
        raise RuntimeError(f"the encoder returned shape {encoded.shape} for {len(missing)} texts")
    found = dict(zip(missing, encoded, strict=True))
    vectors = np.zeros((len(distinct), encoder.dimension), dtype=np.float32)
    for row, text in enumerate(distinct):
        vectors[row] = found[text] if text in found else known[text]
    return vectors[numbers]


def embedded_by_current(index_dir: Path) -> dict[str, np.ndarray]:
    """The vectors of the current build by text: its passages, declined and general questions; nothing when
    it cannot be read whole (a build then embeds everything, as a first one does)."""
    try:
        stored = read_index(index_dir)
        texts = [passage for document in stored.documents for passage in document.passages]
        vectors = stored.vectors.reconstruct_n(0, stored.vectors.ntotal)
        known = dict(zip(texts, vectors, strict=True))
        for questions_file, vectors_file in (
            (DECLINED_FILE, DECLINED_VECTORS_FILE),
            (GENERAL_FILE, GENERAL_VECTORS_FILE),
        ):
            if (stored.path / vectors_file).exists():
                questions = json.loads((stored.path / questions_file).read_text(encoding="utf-8"))
                saved = np.load(stored.path / vectors_file, allow_pickle=False)
                texts = [question["q"] for question in questions]
                known.update(zip(texts, saved, strict=True))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as error:  # IndexUnavailable is a RuntimeError
        # An index of an older format, or a damaged one: nothing is wrong with the build under way.
        log.info("embedding everything: the current index's vectors cannot be reused (%s)", error)
        return {}
    return known


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time per index directory, across processes."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".build.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildInProgress(f"an index build is already running in {index_dir}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_index(
    kb: KnowledgeBase,
    index_dir: Path,
    model: str,
    load_encoder: Callable[[], Encoder],
    force: bool = False,
    export_query_encoder: Callable[[Path], dict[str, Any]] | None = None,
    calibration: Path | None = None,
) -> BuildReport:
    """Embed the knowledge and swap the new index in; reuse the current one when nothing changed.

    `model` is the model's display name, known without loading it, so an unchanged index costs no
    model load at all.

    `export_query_encoder(directory)`, when given, writes the model as an ONNX query encoder into the new
    build and returns its record (`indexer.onnx_export.export_onnx` does); a build of the same model as
    the current one copies the current export instead. If the export fails the index is built without it.

    `calibration`, a file of the ranking's fitted numbers (`bot.answering.calibration`), is copied into the
    build, so that the numbers an index answers with are recorded with it. Each build also stores how much
    each word of the knowledge belongs to its field (`indexer.salience`).
    """
    started = time.monotonic()
    documents = build_documents(kb)
    calibration_text = calibration.read_text(encoding="utf-8") if calibration is not None else ""
    digest = content_hash(documents, model, calibration_text, kb.declined, candidates_digest())
    with build_lock(index_dir):
        current = read_manifest(index_dir)
        if not force and current is not None and current.content_hash == digest:
            log.info("index is up to date (%d documents), nothing to embed", current.documents)
            return BuildReport(current, reused=True, seconds=time.monotonic() - started)
        encoder = load_encoder()
        texts, owners = passages_of(documents)
        candidates = candidate_questions(kb)
        # What the current build embedded with the same model is kept, unless a forced build re-embeds it all.
        known = {} if force or current is None or current.model != model else embedded_by_current(index_dir)
        log.info(
            "embedding %d passages of %d documents with %s (%d texts embedded before)",
            len(texts),
            len(documents),
            encoder.name,
            len(known),
        )
        # One encoder call for the passages and the general questions' candidates, among which are the
        # declined questions (an asked question that is a passage too is embedded once).
        embedded = encode_once(encoder, [*texts, *candidates], known)
        vectors, candidate_vectors = embedded[: len(texts)], embedded[len(texts) :]
        declined = [d.q for d in kb.declined]
        row_of = {question: row for row, question in enumerate(candidates)}
        declined_vectors = candidate_vectors[[row_of[question] for question in declined]]
        far = far_from_knowledge(best_own_cosine(candidate_vectors, vectors, own_passage_rows(documents)))
        general = [question for question, kept in zip(candidates, far, strict=True) if kept]
        add_export = None
        if export_query_encoder is not None:
            previous = current_path(index_dir) if current is not None and current.model == model else None
            add_export = functools.partial(_add_query_encoder, model, export_query_encoder, previous)

        def extra_files(build: Path) -> dict[str, Any]:
            _add_knowledge_snapshot(kb.files, build)
            texts = [d.own_text for d in documents]
            salience = word_salience(texts)
            (build / WORD_SALIENCE_FILE).write_text(json.dumps(salience, sort_keys=True), encoding="utf-8")
            own = {
                roadmap.id: word_salience([d.own_text for d in documents if d.roadmap == roadmap.id])
                for roadmap in kb.roadmaps
            }
            (build / ROADMAP_SALIENCE_FILE).write_text(json.dumps(own, sort_keys=True), encoding="utf-8")
            known = {w for text in texts for w in words(text)} | {
                "".join(name_words(name)) for d in documents for name in d.names
            }
            everyday = everyday_words_near(known)
            (build / EVERYDAY_WORDS_FILE).write_text(json.dumps(everyday), encoding="utf-8")
            recorded: dict[str, Any] = {
                "word_salience": len(salience),
                "roadmap_word_salience": {roadmap: len(table) for roadmap, table in own.items()},
                "everyday_words": len(everyday),
                "declined": len(declined),
                "general": len(general),
            }
            examples = [{"q": d.q, "roadmap": d.roadmap} for d in kb.declined]
            (build / DECLINED_FILE).write_text(json.dumps(examples, ensure_ascii=False), encoding="utf-8")
            with open(build / DECLINED_VECTORS_FILE, "wb") as handle:
                np.save(handle, declined_vectors.astype(np.float32), allow_pickle=False)
            # Every candidate, with whether it is a general question: the next build reuses their vectors.
            marked = [{"q": q, "general": bool(kept)} for q, kept in zip(candidates, far, strict=True)]
            (build / GENERAL_FILE).write_text(json.dumps(marked, ensure_ascii=False), encoding="utf-8")
            with open(build / GENERAL_VECTORS_FILE, "wb") as handle:
                np.save(handle, candidate_vectors.astype(np.float32), allow_pickle=False)
            if calibration is not None:
                (build / CALIBRATION_FILE).write_text(calibration_text, encoding="utf-8")
                recorded["calibration"] = hashlib.sha256(calibration_text.encode()).hexdigest()[:16]
            return {**recorded, **(add_export(build) if add_export is not None else {})}

        manifest = write_index(
            index_dir,
            documents,
            owners,
            vectors,
            model=model,
            content_hash=digest,
            started=started,
            extra_files=extra_files,
        )
    log.info("index built: %d documents in %.1f s", manifest.documents, manifest.build_seconds)
    return BuildReport(manifest, reused=False, seconds=time.monotonic() - started)


KNOWLEDGE_SNAPSHOT_DIR = "knowledge"


def _add_knowledge_snapshot(files: list[Path], build: Path) -> None:
    """Keep the knowledge files a build was made from, so a broken edit cannot take the tutor down.

    Each file gets a numbered folder of its own: load order is kept and file names (which give notes
    their ids) stay as they were.
    """
    for number, source in enumerate(files):
        folder = build / KNOWLEDGE_SNAPSHOT_DIR / f"{number:04d}"
        folder.mkdir(parents=True)
        shutil.copy2(source, folder / source.name)


def snapshot_dir(build: Path) -> Path:
    return build / KNOWLEDGE_SNAPSHOT_DIR


def _add_query_encoder(
    model: str, export: Callable[[Path], dict[str, Any]], previous: Path | None, build: Path
) -> dict[str, Any]:
    """Put the ONNX query encoder into a new build: the previous build's when it still loads, else a new export."""
    target = build / QUERY_ENCODER_DIR
    record = _previous_export(previous, model)
    if record is not None:
        # Never written after an export, so the builds can share the files.
        shutil.copytree(previous / QUERY_ENCODER_DIR, target, copy_function=_link_or_copy)
        log.info("query encoder: kept the ONNX export of %s from the previous build", model)
    else:
        log.info("query encoder: exporting %s to ONNX", model)
        try:
            record = export(target)
        except Exception as exc:  # anything an export raises leaves a sound index without it
            shutil.rmtree(target, ignore_errors=True)
            log.warning("no ONNX query encoder in this build, answering will load torch: %s", exc)
            return {}
    return {"query_encoder": {**record, "path": QUERY_ENCODER_DIR}}


def _previous_export(previous: Path | None, model: str) -> dict[str, Any] | None:
    """The record of the previous build's export if it is of `model` and still passes its check."""
    if previous is None:
        return None
    from indexer.onnx_encoder import OnnxEncoder

    try:
        encoder = OnnxEncoder(previous / QUERY_ENCODER_DIR)
    except EncoderUnavailable as exc:
        log.info("query encoder: not reusing the previous export: %s", exc)
        return None
    return encoder.record if encoder.name == model else None


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)
