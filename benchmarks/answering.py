"""Warm, in-process answering latency over eval/dev.yaml, beside the bare encoder call it is built on."""

from __future__ import annotations

import logging
import time

import yaml

from benchmarks.measure import JSON, ROOT, Workspace, encoder_backend, ms, percentile, target
from bot.answering import Answerer

log = logging.getLogger(__name__)

DEV_QUESTIONS = ROOT / "eval" / "dev.yaml"
# Only the development set: the held-out set stays unseen by anything that could steer tuning.
WARM_UP = 20
RATIO_LIMIT = 1.5


def dev_questions() -> list[str]:
    items = yaml.safe_load(DEV_QUESTIONS.read_text(encoding="utf-8"))["items"]
    return [str(item["q"]) for item in items]


BACKENDS = ("onnx", "sentence-transformers")


def run(workspace: Workspace, quick: bool) -> JSON:
    """Both query backends side by side; the served one (ONNX) carries the target."""
    figures = {backend: measure(workspace.answerer_with(backend), quick) for backend in BACKENDS}
    targets = {
        f"{backend}.{name}": value for backend in BACKENDS for name, value in figures[backend].pop("targets").items()
    }
    return {"backends": figures, "targets": targets}


def measure(answerer: Answerer, quick: bool) -> JSON:
    encoder = answerer.encoder
    questions = dev_questions()
    if quick:
        questions = questions[:40]
    log.info("answering: warming up, then %d questions from %s", len(questions), DEV_QUESTIONS.name)
    for question in questions[:WARM_UP]:
        encoder.encode([question])
        answerer.answer(question)
    encode_seconds, answer_seconds = [], []
    # Interleaved, so that load from elsewhere on the machine falls on both measurements alike.
    for question in questions:
        started = time.perf_counter()
        encoder.encode([question])
        encoded = time.perf_counter()
        answerer.answer(question)
        answered = time.perf_counter()
        encode_seconds.append(encoded - started)
        answer_seconds.append(answered - encoded)
    answer_p50, encode_p50 = percentile(answer_seconds, 50), percentile(encode_seconds, 50)
    ratio = round(answer_p50 / encode_p50, 2)
    return {
        "questions": len(questions),
        "question_set": "eval/dev.yaml",
        "encoder_backend": encoder_backend(encoder),
        "model": encoder.name,
        "answer_ms": {"p50": ms(answer_p50), "p99": ms(percentile(answer_seconds, 99)), "max": ms(max(answer_seconds))},
        "encode_ms": {"p50": ms(encode_p50), "p99": ms(percentile(encode_seconds, 99)), "max": ms(max(encode_seconds))},
        "targets": {"answer_p50_over_encode_p50": target(ratio, RATIO_LIMIT, "x")},
    }
