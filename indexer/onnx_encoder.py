"""A query encoder on onnxruntime and `tokenizers` alone, so answering needs neither torch nor transformers.

It reads a directory written by `indexer.onnx_export.export_onnx`: the transformer as `model.onnx`, the
tokenizer and the sentence-transformers configuration files, and `export.json` with a check embedding
that the sentence-transformers model gave; a load that does not reproduce it is refused.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from indexer.encoders import EncoderUnavailable, normalise

log = logging.getLogger(__name__)

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
RECORD_FILE = "export.json"
CHECK_COSINE = 0.9999
DEFAULT_MAX_SEQ_LENGTH = 256
# The bot's machines have 2 cores; one question is a tiny batch, and more threads than cores only contend.
MAX_THREADS = 2
_POOLING_FLAGS = {
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
}


def read_record(model_dir: Path) -> dict[str, Any]:
    """The export record: model name, dimension, check sentence and its embedding."""
    path = Path(model_dir) / RECORD_FILE
    if not path.is_file():
        raise EncoderUnavailable(f"there is no ONNX export in {model_dir}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EncoderUnavailable(f"no usable ONNX export in {model_dir} ({exc})") from None


def _read_json(path: Path, default: Any = None) -> Any:
    if not path.is_file():
        return default
    return json.loads(path.read_text(encoding="utf-8"))


def _pipeline(model_dir: Path) -> tuple[str, bool, int, bool]:
    """(pooling mode, normalise?, max sequence length, lowercase?) as the sentence-transformers files say."""
    modules = _read_json(model_dir / "modules.json")
    if not modules:
        raise EncoderUnavailable(f"{model_dir} has no modules.json")
    kinds = [module["type"].rsplit(".", 1)[-1] for module in modules]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise EncoderUnavailable(f"the ONNX encoder supports Transformer, Pooling[, Normalize], not {kinds}")
    pooling_config = _read_json(model_dir / modules[1]["path"] / "config.json", {})
    # sentence-transformers writes `pooling_mode`; older releases wrote one flag per mode.
    mode = pooling_config.get("pooling_mode") or next(
        (mode for flag, mode in _POOLING_FLAGS.items() if pooling_config.get(flag)), "mean"
    )
    if mode not in ("mean", "cls", "max"):
        raise EncoderUnavailable(f"the ONNX encoder supports mean, cls and max pooling, not {mode!r}")
    config = _read_json(model_dir / "sentence_bert_config.json", {})
    max_length = int(config.get("max_seq_length") or DEFAULT_MAX_SEQ_LENGTH)
    return mode, kinds[-1] == "Normalize", max_length, bool(config.get("do_lower_case", False))


def session_options(threads: int | None = None) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or max(1, min(MAX_THREADS, os.cpu_count() or 1))
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Spinning threads would keep a core busy between questions, next to the bot's event loop.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class OnnxEncoder:
    """The exported transformer plus the sentence-transformers pooling and normalisation, in numpy."""

    def __init__(self, model_dir: Path, batch_size: int = 32, threads: int | None = None) -> None:
        model_dir = Path(model_dir)
        self._record = read_record(model_dir)
        try:
            self._pooling, self._normalise, max_length, self._lowercase = _pipeline(model_dir)
            self._name = str(self._record["model"])
            self._dimension = int(self._record["dimension"])
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise EncoderUnavailable(f"the ONNX export in {model_dir} is incomplete ({exc!r})") from None
        try:
            self._tokenizer = Tokenizer.from_file(str(model_dir / TOKENIZER_FILE))
            self._session = ort.InferenceSession(
                str(model_dir / MODEL_FILE), sess_options=session_options(threads), providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise EncoderUnavailable(f"cannot load the ONNX export in {model_dir}: {exc}") from exc
        # The shipped tokenizer.json truncates at 128 and pads every text to 128 tokens; sentence-transformers
        # truncates at max_seq_length and pads to the longest text of the batch, so do the same.
        self._tokenizer.enable_truncation(max_length)
        pad_id = self._tokenizer.padding["pad_id"] if self._tokenizer.padding else 0
        pad_token = self._tokenizer.padding["pad_token"] if self._tokenizer.padding else "[PAD]"
        self._tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._batch_size = batch_size
        self._check()
        log.info("loaded ONNX encoder for %s (dimension %d) from %s", self._name, self._dimension, model_dir)

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def record(self) -> dict[str, Any]:
        return dict(self._record)

    def _check(self) -> None:
        """Refuse an export whose output differs from what sentence-transformers gave at export."""
        expected = normalise(np.asarray([self._record["check_embedding"]], dtype=np.float32))
        actual = self.encode([self._record["check_sentence"]])
        if actual.shape != expected.shape:
            raise EncoderUnavailable(f"the ONNX export gives dimension {actual.shape[1]}, expected {expected.shape[1]}")
        cosine = float(actual[0] @ expected[0])
        if cosine < CHECK_COSINE:
            raise EncoderUnavailable(
                f"the ONNX export of {self._name} does not reproduce its check embedding "
                f"(cosine {cosine:.6f} < {CHECK_COSINE}); rebuild the index to export it again"
            )

    def encode(self, texts: list[str]) -> np.ndarray:
        texts = [text.lower() for text in texts] if self._lowercase else list(texts)
        vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        # Texts of similar length share a batch, so little time goes on padding.
        order = np.argsort([-len(text) for text in texts], kind="stable")
        for start in range(0, len(texts), self._batch_size):
            rows = order[start : start + self._batch_size]
            vectors[rows] = self._encode_batch([texts[row] for row in rows])
        return np.ascontiguousarray(normalise(vectors) if self._normalise else vectors)

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        features = {
            "input_ids": np.asarray([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.asarray([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.asarray([e.type_ids for e in encodings], dtype=np.int64),
        }
        tokens = self._session.run(None, {k: v for k, v in features.items() if k in self._inputs})[0]
        mask = features["attention_mask"][..., None].astype(np.float32)
        if self._pooling == "cls":
            return tokens[:, 0]
        if self._pooling == "max":
            return np.where(mask > 0, tokens, -1e9).max(axis=1)
        return (tokens * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
