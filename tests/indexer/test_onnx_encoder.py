"""The ONNX query encoder: same vectors as sentence-transformers, no torch, exported and kept with each build."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from bot import serving
from bot.answering import Answerer
from bot.config import Settings
from indexer.build import build_index
from indexer.encoders import (
    BUNDLED_MODEL_NAME,
    QUERY_ENCODER_DIR,
    Encoder,
    EncoderUnavailable,
    SentenceTransformerEncoder,
    load_encoder,
)
from indexer.onnx_encoder import RECORD_FILE, OnnxEncoder
from indexer.onnx_export import export_onnx, file_sha256
from indexer.search import SearchIndex
from indexer.store import read_manifest
from knowledge.loader import load_knowledge
from tests.fakes import FakeEncoder, mini_roadmap, write_mini_roadmap

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parents[2]
PARAGRAPH = (
    "Retrieval-augmented generation pairs a language model with a search step: the question is embedded, "
    "the nearest passages are found in a vector index, and the model answers from them, citing what it used. "
) * 6 + "Anything after the first 256 tokens is cut off, exactly as sentence-transformers does it."
VARIED_TEXTS = [
    "",
    "embeddings",
    "   Tokenizer   ",
    PARAGRAPH,
    "how do i trian a nueral netwrok wiht pytorhc??",
    "Wie funktioniert die Aufmerksamkeit in einem Transformer?",
    "¿Qué es un modelo de lenguaje?",
    "注意力机制是如何工作的？",
    "Что такое векторная база данных?",
    "I finished step 3 🎉🚀 what next? 🤔",
    "SELECT * FROM vectors WHERE cosine > 0.8; -- is this RAG?",
]


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The bundled model exported once for the whole run."""
    directory = tmp_path_factory.mktemp("export") / QUERY_ENCODER_DIR
    return directory, export_onnx("bundled", directory)


@pytest.fixture(scope="session")
def onnx_encoder(exported: tuple[Path, dict[str, Any]]) -> OnnxEncoder:
    return OnnxEncoder(exported[0])


class CopyExport:
    """Stands in for `export_onnx` in builds: copies the session's export, counting the calls."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.calls = 0

    def __call__(self, directory: Path) -> dict[str, Any]:
        self.calls += 1
        shutil.copytree(self.source, directory)
        return json.loads((directory / RECORD_FILE).read_text())


@pytest.fixture
def mini_kb(tmp_path: Path):
    write_mini_roadmap(tmp_path / "knowledge")
    return load_knowledge([tmp_path / "knowledge"], include_shipped=False)


def _build(kb, index_dir: Path, export=None, model: str = BUNDLED_MODEL_NAME, force: bool = False):
    encoder = FakeEncoder()
    return build_index(kb, index_dir, model, lambda: encoder, force=force, export_query_encoder=export)


def test_onnx_and_sentence_transformers_agree_on_varied_text(onnx_encoder: OnnxEncoder, real_encoder: Encoder) -> None:
    expected = real_encoder.encode(VARIED_TEXTS)
    batched = onnx_encoder.encode(VARIED_TEXTS)
    one_by_one = np.vstack([onnx_encoder.encode([text]) for text in VARIED_TEXTS])
    assert batched.dtype == np.float32 and batched.shape == (len(VARIED_TEXTS), 384)
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    for vectors in (batched, one_by_one):
        cosines = (vectors * expected).sum(axis=1)
        assert cosines.min() >= 0.99999, dict(zip(VARIED_TEXTS, cosines.round(7), strict=True))
    assert onnx_encoder.encode([]).shape == (0, 384)


def test_long_text_is_truncated_at_the_models_length_not_the_tokenizer_files(onnx_encoder: OnnxEncoder) -> None:
    tokens = len(onnx_encoder._tokenizer.encode(PARAGRAPH).ids)
    assert tokens == 256  # tokenizer.json alone would stop at 128
    assert len(onnx_encoder._tokenizer.encode("short").ids) == 3  # and pad nothing on its own


def test_the_export_records_model_check_embedding_and_file_hash(exported: tuple[Path, dict[str, Any]]) -> None:
    directory, record = exported
    assert record["model"] == BUNDLED_MODEL_NAME and record["dimension"] == 384
    assert len(record["check_embedding"]) == 384 and record["check_sentence"]
    assert record["onnx_sha256"] == file_sha256(directory / "model.onnx")
    assert json.loads((directory / RECORD_FILE).read_text()) == record
    for file in ("tokenizer.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json"):
        assert (directory / file).is_file()


def test_an_export_that_does_not_reproduce_its_check_embedding_is_refused(
    exported: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    directory = tmp_path / "tampered"
    shutil.copytree(exported[0], directory, copy_function=lambda src, dst: Path(dst).symlink_to(src))
    record = dict(exported[1])
    record["check_embedding"] = list(np.roll(record["check_embedding"], 1))
    (directory / RECORD_FILE).unlink()
    (directory / RECORD_FILE).write_text(json.dumps(record))
    with pytest.raises(EncoderUnavailable, match="check embedding"):
        OnnxEncoder(directory)


def test_answering_with_the_export_never_imports_torch(exported: tuple[Path, dict[str, Any]], mini_kb, tmp_path):
    _build(mini_kb, tmp_path / "index", CopyExport(exported[0]))
    script = textwrap.dedent(
        f"""
        import sys
        from indexer.encoders import load_encoder
        from indexer.onnx_encoder import OnnxEncoder
        direct = OnnxEncoder({str(exported[0])!r}).encode(["what is a vector database?"])
        chosen = load_encoder("bundled", backend="auto", index_dir={str(tmp_path / "index")!r})
        assert type(chosen).__name__ == "OnnxEncoder", chosen
        assert chosen.encode(["what is a vector database?"]).shape == direct.shape == (1, 384)
        print(sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_auto_uses_the_current_builds_export(exported, mini_kb, tmp_path: Path) -> None:
    _build(mini_kb, tmp_path / "index", CopyExport(exported[0]))
    for backend in ("auto", "onnx"):
        encoder = load_encoder("bundled", backend=backend, index_dir=tmp_path / "index")
        assert isinstance(encoder, OnnxEncoder) and encoder.name == BUNDLED_MODEL_NAME


def test_auto_falls_back_to_sentence_transformers_without_an_export(mini_kb, tmp_path: Path, caplog) -> None:
    _build(mini_kb, tmp_path / "index")
    with caplog.at_level(logging.INFO, logger="indexer.encoders"):
        encoder = load_encoder("bundled", backend="auto", index_dir=tmp_path / "index")
    assert isinstance(encoder, SentenceTransformerEncoder)
    fallbacks = [r for r in caplog.records if r.getMessage().startswith("using sentence-transformers")]
    assert len(fallbacks) == 1 and "no ONNX export" in fallbacks[0].getMessage()
    with pytest.raises(EncoderUnavailable, match="no ONNX export"):
        load_encoder("bundled", backend="onnx", index_dir=tmp_path / "index")
    with pytest.raises(EncoderUnavailable):
        load_encoder("bundled", backend="onnx", index_dir=None)
    assert isinstance(load_encoder("bundled", backend="sentence-transformers"), SentenceTransformerEncoder)


def test_an_export_of_another_model_is_not_used(exported, mini_kb, tmp_path: Path) -> None:
    _build(mini_kb, tmp_path / "index", CopyExport(exported[0]))
    with pytest.raises(EncoderUnavailable, match="export is of"):
        load_encoder("some/other-model", backend="onnx", index_dir=tmp_path / "index")


def test_a_build_exports_into_itself_and_records_the_export(exported, mini_kb, tmp_path: Path) -> None:
    export = CopyExport(exported[0])
    manifest = _build(mini_kb, tmp_path / "index", export).manifest
    recorded = manifest.extra["query_encoder"]
    assert export.calls == 1
    assert recorded["model"] == BUNDLED_MODEL_NAME and recorded["path"] == QUERY_ENCODER_DIR
    assert recorded["check_embedding"] == exported[1]["check_embedding"]
    assert recorded["onnx_sha256"] == file_sha256(tmp_path / "index" / "current" / QUERY_ENCODER_DIR / "model.onnx")
    assert read_manifest(tmp_path / "index") == manifest


def test_new_documents_keep_the_export_and_a_new_model_exports_again(exported, mini_kb, tmp_path: Path) -> None:
    export = CopyExport(exported[0])
    first = _build(mini_kb, tmp_path / "index", export)
    data = mini_roadmap()
    data["steps"][0]["topics"][0]["summary"] = "Penguins, revised for a new edition of the roadmap."
    write_mini_roadmap(tmp_path / "knowledge", data)
    changed = load_knowledge([tmp_path / "knowledge"], include_shipped=False)
    second = _build(changed, tmp_path / "index", export)
    assert not second.reused and export.calls == 1
    assert second.manifest.extra["query_encoder"] == first.manifest.extra["query_encoder"]
    assert isinstance(load_encoder("bundled", backend="onnx", index_dir=tmp_path / "index"), OnnxEncoder)

    _build(changed, tmp_path / "index", export, model="another-model")
    assert export.calls == 2


def test_a_failed_export_leaves_a_sound_index_without_it(mini_kb, tmp_path: Path, caplog) -> None:
    def fail(directory: Path) -> dict[str, Any]:
        directory.mkdir(parents=True)
        (directory / "model.onnx").write_bytes(b"half written")
        raise RuntimeError("this model cannot be traced")

    with caplog.at_level(logging.WARNING, logger="indexer.build"):
        report = _build(mini_kb, tmp_path / "index", fail)
    assert "query_encoder" not in report.manifest.extra
    assert not (tmp_path / "index" / "current" / QUERY_ENCODER_DIR).exists()
    assert any("cannot be traced" in r.message for r in caplog.records)


def test_a_previous_export_that_fails_its_check_is_exported_again(exported, mini_kb, tmp_path: Path) -> None:
    export = CopyExport(exported[0])
    _build(mini_kb, tmp_path / "index", export)
    record_file = tmp_path / "index" / "current" / QUERY_ENCODER_DIR / RECORD_FILE
    record = json.loads(record_file.read_text())
    record["check_embedding"] = [-x for x in record["check_embedding"]]
    record_file.write_text(json.dumps(record))
    _build(mini_kb, tmp_path / "index", export, force=True)
    assert export.calls == 2
    assert isinstance(load_encoder("bundled", backend="onnx", index_dir=tmp_path / "index"), OnnxEncoder)


@pytest.fixture(scope="session")
def onnx_data_dir(tmp_path_factory: pytest.TempPathFactory, shipped_kb, real_encoder, exported) -> Path:
    """The shipped knowledge's index with its ONNX export, as `index build` leaves it."""
    data_dir = tmp_path_factory.mktemp("onnx-data")
    build_index(
        shipped_kb,
        data_dir / "index",
        real_encoder.name,
        lambda: real_encoder,
        export_query_encoder=CopyExport(exported[0]),
    )
    return data_dir


def _question_set() -> list[str]:
    questions = []
    for name in ("dev.yaml", "heldout.yaml"):
        items = yaml.safe_load((ROOT / "eval" / name).read_text(encoding="utf-8"))["items"]
        questions += [str(item["q"]) for item in items]
    return questions


def test_both_backends_retrieve_the_same_top_five_for_every_question(
    onnx_data_dir: Path, shipped_kb, real_encoder: Encoder, onnx_encoder: OnnxEncoder
) -> None:
    index = SearchIndex.load(onnx_data_dir / "index")
    questions = _question_set()
    assert len(questions) >= 200
    with_torch = Answerer(shipped_kb, index, real_encoder).answer_batch(questions)
    without = Answerer(shipped_kb, index, onnx_encoder).answer_batch(questions)
    differing = [
        q
        for q, a, b in zip(questions, with_torch, without, strict=True)
        if [r.id for r in a.results] != [r.id for r in b.results] or a.abstained != b.abstained
    ]
    assert not differing


def test_roadmap_tutor_ask_in_a_fresh_process_never_imports_torch(onnx_data_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(onnx_data_dir)}))
    script = textwrap.dedent(
        f"""
        import sys
        from bot.cli import main
        code = main(["ask", "--json", "what is the adam optimizer", "--config", {str(config)!r}])
        loaded = sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules)
        print("LOADED", loaded, code)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.splitlines()[0])
    assert answer["results"][0]["id"] == "adam"
    assert result.stdout.splitlines()[-1] == "LOADED [] 0"


def test_start_up_after_a_knowledge_change_loads_the_query_encoder_once(
    onnx_data_dir: Path, exported: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(onnx_data_dir, data_dir, symlinks=True)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "meetup.md").write_text("---\ntitle: Study group\ntopics: [regularization]\n---\nFridays at 18:00 UTC.\n")
    settings = Settings.model_validate({"data_dir": str(data_dir), "knowledge": {"dirs": [str(notes)]}})
    loads: list[str | None] = []
    real_open_encoder = serving.open_encoder

    def counting(settings: Settings, backend: str | None = None):
        loads.append(backend)
        return real_open_encoder(settings, backend)

    monkeypatch.setattr(serving, "open_encoder", counting)
    monkeypatch.setattr(serving, "_exporter", lambda settings: CopyExport(exported[0]))
    answerer = serving.open_answerer(settings)
    assert read_manifest(data_dir / "index").documents > read_manifest(onnx_data_dir / "index").documents
    assert isinstance(answerer.encoder, OnnxEncoder)
    assert loads == ["auto"], "the encoder that embedded the new note was loaded again to answer"
