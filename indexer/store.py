"""The on-disk index: FAISS vectors, documents and a JSON manifest, swapped into place atomically.

Layout under the index directory::

    current -> builds/<name>     a symlink, replaced in one rename when a build completes
    builds/<name>/index.faiss    passage vectors (inner product over normalised vectors)
    builds/<name>/documents.json documents and the passage -> document map
    builds/<name>/manifest.json  model, dimension, counts, content hash, build time, versions
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from indexer.documents import Document

log = logging.getLogger(__name__)

FORMAT_VERSION = 5  # 2: word salience and the calibration kept with each build; 3: the everyday words;
# 4: the general questions (`indexer.general`); 5: every candidate of them, marked
MANIFEST_FILE = "manifest.json"
VECTORS_FILE = "index.faiss"
DOCUMENTS_FILE = "documents.json"
# The declined examples (`knowledge.loader.DeclinedExample`): their questions and roadmaps, and their vectors.
DECLINED_FILE = "declined.json"
DECLINED_VECTORS_FILE = "declined.npy"
# The general questions' candidates (`indexer.general`): each question, whether it is a general question, and
# their vectors.
GENERAL_FILE = "general.json"
GENERAL_VECTORS_FILE = "general.npy"
CURRENT_LINK = "current"
BUILDS_DIR = "builds"
# Exact search is fast enough below this many passages; above it an HNSW graph keeps search in milliseconds.
EXACT_SEARCH_LIMIT = 20_000
HNSW_NEIGHBOURS = 32
HNSW_EF_SEARCH = 128


class IndexUnavailable(RuntimeError):
    """The index is missing or damaged; the message says how to rebuild it."""


@dataclass(frozen=True)
class Manifest:
    model: str
    dimension: int
    documents: int
    passages: int
    content_hash: str
    built_at: str
    build_seconds: float
    index_type: str
    versions: dict[str, str] = field(default_factory=dict)
    format: int = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class StoredIndex:
    """An index read back from disk."""

    path: Path
    manifest: Manifest
    documents: list[Document]
    passage_documents: np.ndarray  # passage row -> document position
    vectors: faiss.Index


def library_versions() -> dict[str, str]:
    versions = {}
    for package in ("roadmap-tutor", "faiss-cpu", "sentence-transformers", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def make_vector_index(vectors: np.ndarray) -> tuple[faiss.Index, str]:
    """Exact inner-product search for small sets, HNSW above `EXACT_SEARCH_LIMIT` passages."""
    dimension = vectors.shape[1]
    if len(vectors) <= EXACT_SEARCH_LIMIT:
        index: faiss.Index = faiss.IndexFlatIP(dimension)
        kind = "flat-ip"
    else:
        index = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = HNSW_EF_SEARCH
        kind = f"hnsw{HNSW_NEIGHBOURS}-ip"
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index, kind


def current_path(index_dir: Path) -> Path | None:
    link = index_dir / CURRENT_LINK
    if not link.is_symlink() and not link.exists():
        return None
    return link.resolve()


def _write_json(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())


def write_index(
    index_dir: Path,
    documents: list[Document],
    passage_documents: np.ndarray,
    vectors: np.ndarray,
    *,
    model: str,
    content_hash: str,
    started: float,
    extra: dict[str, Any] | None = None,
    extra_files: Callable[[Path], dict[str, Any]] | None = None,
) -> Manifest:
    """Write a complete build beside the current one, then point `current` at it in one rename.

    `started` is the `time.monotonic()` at which the whole build began, for the manifest.
    `extra_files`, when given, writes more files into the unfinished build directory and returns what
    to add to the manifest's `extra`.
    """
    builds = index_dir / BUILDS_DIR
    builds.mkdir(parents=True, exist_ok=True)
    index, index_type = make_vector_index(vectors)
    name = f"{time.time_ns():020d}-{content_hash[:12]}"  # sorts by age, unique per build
    partial = builds / f"{name}.partial"
    partial.mkdir()
    try:
        faiss.write_index(index, str(partial / VECTORS_FILE))
        _write_json(
            partial / DOCUMENTS_FILE,
            {"documents": [d.to_json() for d in documents], "passage_documents": passage_documents.tolist()},
        )
        extra = {**(extra or {}), **(extra_files(partial) if extra_files is not None else {})}
        manifest = Manifest(
            model=model,
            dimension=int(vectors.shape[1]),
            documents=len(documents),
            passages=len(vectors),
            content_hash=content_hash,
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            build_seconds=round(time.monotonic() - started, 3),
            index_type=index_type,
            versions=library_versions(),
            extra=extra or {},
        )
        # The manifest is written last: a build directory without one was never finished.
        _write_json(partial / MANIFEST_FILE, manifest.to_json())
        final = builds / name
        os.replace(partial, final)
        _point_current_at(index_dir, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    _remove_old_builds(index_dir)
    return manifest


def _point_current_at(index_dir: Path, build: Path) -> None:
    link = index_dir / CURRENT_LINK
    temporary = index_dir / f".{CURRENT_LINK}.{os.getpid()}"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    os.symlink(Path(BUILDS_DIR) / build.name, temporary)
    os.replace(temporary, link)
    directory = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _remove_old_builds(index_dir: Path, keep: int = 2) -> None:
    """Keep the current build and the one before it; drop abandoned partial builds."""
    current = current_path(index_dir)
    builds = sorted((index_dir / BUILDS_DIR).iterdir(), key=lambda p: p.name, reverse=True)
    kept = 0
    for build in builds:
        if build == current:
            continue
        if build.name.endswith(".partial"):
            # Another process may be writing it right now; only old ones are abandoned.
            if time.time() - build.stat().st_mtime < 3600:
                continue
        elif kept < keep - 1:
            kept += 1
            continue
        shutil.rmtree(build, ignore_errors=True)


def read_manifest(index_dir: Path) -> Manifest | None:
    path = current_path(index_dir)
    if path is None:
        return None
    try:
        return Manifest(**json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def read_index(index_dir: Path) -> StoredIndex:
    """Load the current build, checking that its parts agree; raise IndexUnavailable if not."""
    hint = "rebuild it with `roadmap-tutor index build`"
    path = current_path(index_dir)
    if path is None or not path.is_dir():
        raise IndexUnavailable(f"no index in {index_dir}; {hint}")
    try:
        manifest = Manifest(**json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8")))
        stored = json.loads((path / DOCUMENTS_FILE).read_text(encoding="utf-8"))
        documents = [Document.from_json(d) for d in stored["documents"]]
        passage_documents = np.asarray(stored["passage_documents"], dtype=np.int64)
        vectors = faiss.read_index(str(path / VECTORS_FILE))
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise IndexUnavailable(f"the index in {path} is damaged ({exc}); {hint}") from None
    if manifest.format != FORMAT_VERSION:
        raise IndexUnavailable(f"the index in {path} has format {manifest.format}, expected {FORMAT_VERSION}; {hint}")
    if (
        vectors.ntotal != manifest.passages
        or len(passage_documents) != manifest.passages
        or len(documents) != manifest.documents
        or vectors.d != manifest.dimension
        or (len(passage_documents) and int(passage_documents.max()) >= len(documents))
    ):
        raise IndexUnavailable(f"the index in {path} does not match its manifest; {hint}")
    return StoredIndex(path, manifest, documents, passage_documents, vectors)
