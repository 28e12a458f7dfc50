"""Export a sentence-transformers model's transformer to ONNX for `OnnxEncoder`; needs torch and `onnx`.

torch is imported inside `export_onnx`, so importing this module costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from indexer.encoders import BUNDLED_MODEL, EncoderUnavailable, normalise, resolve_model
from indexer.onnx_encoder import CHECK_COSINE, MODEL_FILE, RECORD_FILE, TOKENIZER_FILE, OnnxEncoder

log = logging.getLogger(__name__)

OPSET = 17
CHECK_SENTENCE = "How do I start learning about embeddings and vector search for a tutor bot?"
# A padded batch of unlike texts: a trace that lost the attention mask would fail on it.
VERIFY_TEXTS = [
    "",
    "tokenizer",
    "Wie funktioniert die Aufmerksamkeit in einem Transformer? 🤖",
    "retreival augmented genration with a vectr databse, explained step by step " * 12,
]
CONFIG_FILES = ["modules.json", "sentence_bert_config.json", "config.json"]
SUPPORTED_MODULES = (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"])


class ExportFailed(RuntimeError):
    """The model cannot be exported, or its export does not reproduce it."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _model_directory(target: str) -> Path:
    """The local directory of the model's files: the path itself, or the hub cache it was loaded from."""
    if Path(target).is_dir():
        return Path(target)
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(target, local_files_only=True))


def _versions() -> dict[str, str]:
    versions = {}
    for package in ("torch", "onnx", "onnxruntime", "sentence-transformers", "transformers", "tokenizers"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def export_onnx(model_name_or_path: str, out_dir: Path) -> dict[str, Any]:
    """Write the model's transformer as ONNX plus its tokenizer and configuration into `out_dir`.

    Returns the export record (also written to `out_dir/export.json`): the model's display name, its
    dimension, a check sentence with the embedding sentence-transformers gives it, the ONNX file's
    sha256 and the library versions. Raises ExportFailed when the export does not reproduce the model.
    """
    name, target = resolve_model(model_name_or_path)
    if model_name_or_path == BUNDLED_MODEL or Path(target).exists():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import onnx  # noqa: F401  torch's exporter needs it; fail before spending seconds on the model
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ExportFailed(f"exporting to ONNX needs the `embed` extra (roadmap-tutor[embed]): {exc}") from exc

    out_dir = Path(out_dir)
    try:
        model = SentenceTransformer(target, device="cpu")
        source = _model_directory(target)
        modules = json.loads((source / "modules.json").read_text(encoding="utf-8"))
    except Exception as exc:
        raise ExportFailed(f"cannot load {model_name_or_path!r} for export: {exc}") from exc
    kinds = [module["type"].rsplit(".", 1)[-1] for module in modules]
    if kinds not in SUPPORTED_MODULES:
        raise ExportFailed(f"{name} has modules {kinds}; only Transformer, Pooling[, Normalize] export")

    out_dir.mkdir(parents=True, exist_ok=True)
    _export_transformer(model, out_dir / MODEL_FILE, torch)
    _weights_beside(out_dir / MODEL_FILE)
    for file in CONFIG_FILES:
        if (source / file).is_file():
            shutil.copy2(source / file, out_dir / file)
    pooling = source / modules[1]["path"] / "config.json"
    (out_dir / modules[1]["path"]).mkdir(parents=True, exist_ok=True)
    shutil.copy2(pooling, out_dir / modules[1]["path"] / "config.json")
    if (source / TOKENIZER_FILE).is_file():
        shutil.copy2(source / TOKENIZER_FILE, out_dir / TOKENIZER_FILE)
    else:  # a model that ships only a vocabulary: its fast tokenizer serialises the same pipeline
        model.tokenizer.backend_tokenizer.save(str(out_dir / TOKENIZER_FILE))

    check = model.encode([CHECK_SENTENCE], convert_to_numpy=True, show_progress_bar=False)[0]
    record = {
        "model": name,
        "dimension": int(check.shape[0]),
        "max_seq_length": int(model.max_seq_length),
        "check_sentence": CHECK_SENTENCE,
        "check_embedding": [round(float(x), 7) for x in check],
        "onnx_file": MODEL_FILE,
        "onnx_sha256": file_sha256(out_dir / MODEL_FILE),
        "weights_sha256": file_sha256(out_dir / WEIGHTS_FILE),
        "opset": OPSET,
        "exported_with": _versions(),
    }
    (out_dir / RECORD_FILE).write_text(json.dumps(record, indent=1), encoding="utf-8")
    _verify(model, out_dir)
    log.info("exported %s to ONNX in %s", name, out_dir)
    return record


WEIGHTS_FILE = MODEL_FILE + ".data"


def _weights_beside(path: Path) -> None:
    """Move the weights out of the graph file: onnxruntime memory-maps external weights instead of copying
    them out of the parsed protobuf, which keeps about 70 MB less resident in the running bot."""
    import onnx

    graph = onnx.load(str(path))
    onnx.save_model(
        graph,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=WEIGHTS_FILE,
        size_threshold=1024,
    )
    # onnx writes the weights owner-only; a bot running as another user than the build must read them.
    path.with_name(WEIGHTS_FILE).chmod(0o644)


def _export_transformer(model: Any, path: Path, torch: Any) -> None:
    """Trace the transformer with the legacy (TorchScript) exporter, batch and sequence length dynamic."""

    class Transformer(torch.nn.Module):
        # Keyword arguments: positional ones no longer line up with transformers' `forward`.
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            output = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return output.last_hidden_state

    # Texts of unequal length, so the traced graph keeps the attention mask's padding path.
    texts = ["a question", "a somewhat longer question about vectors"]
    example = model.tokenizer(texts, padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    inputs = tuple(example.get(key, torch.zeros_like(example["input_ids"])) for key in names)
    axes = {key: {0: "batch", 1: "sequence"} for key in names}
    axes["last_hidden_state"] = {0: "batch", 1: "sequence"}
    wrapped = Transformer(model[0].auto_model).eval()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer and deprecation warnings about the legacy exporter
            torch.onnx.export(
                wrapped,
                inputs,
                str(path),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
    except Exception as exc:
        raise ExportFailed(f"torch.onnx.export failed: {exc}") from exc


def _verify(model: Any, out_dir: Path) -> None:
    """Load the export as the bot would and compare it with sentence-transformers on a padded batch."""
    try:
        encoder = OnnxEncoder(out_dir)
    except EncoderUnavailable as exc:
        raise ExportFailed(str(exc)) from exc
    expected = normalise(model.encode(VERIFY_TEXTS, convert_to_numpy=True, show_progress_bar=False))
    cosines = (encoder.encode(VERIFY_TEXTS) * expected).sum(axis=1)
    if float(np.min(cosines)) < CHECK_COSINE:
        raise ExportFailed(f"the ONNX export disagrees with sentence-transformers (cosines {cosines.round(6)})")
