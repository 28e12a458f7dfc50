"""Hybrid retrieval: dense similarity and BM25 fused per document, with a confidence for abstaining."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indexer.documents import Document
from indexer.encoders import Encoder
from indexer.search import SearchIndex

# Weight of the lexical signal (BM25 scaled to 0..1 by the query's best document) in the fused score.
LEXICAL_WEIGHT = 0.25
# Below this fused confidence the tutor declines to answer; calibrated on the development question set.
DEFAULT_MIN_CONFIDENCE = 0.42
# BM25 score that counts as lexical evidence on its own (several rare query words matched).
LEXICAL_EVIDENCE = 4.0


@dataclass(frozen=True)
class Result:
    """One ranked document, as the answer and the JSON output show it."""

    id: str
    kind: str
    title: str
    step: int | None
    roadmap: str | None
    score: float
    topic_id: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "step": self.step,
            "roadmap": self.roadmap,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class Retrieval:
    results: list[Result]
    confidence: float


class Retriever:
    """Ranks documents for questions; holds no state besides the index and the encoder."""

    def __init__(self, index: SearchIndex, encoder: Encoder) -> None:
        self.index = index
        self.encoder = encoder

    def retrieve(self, questions: list[str], k: int) -> list[Retrieval]:
        if not questions:
            return []
        dense = self.index.dense_scores(self.encoder.encode(questions))
        return [self._rank(question, dense[row], k) for row, question in enumerate(questions)]

    def _rank(self, question: str, dense: np.ndarray, k: int) -> Retrieval:
        lexical = self.index.lexical_scores(question)
        best_lexical = float(lexical.max()) if len(lexical) else 0.0
        lexical_scaled = lexical / best_lexical if best_lexical > 0 else lexical
        fused = dense + LEXICAL_WEIGHT * lexical_scaled
        order = np.argsort(-fused, kind="stable")[:k]
        documents: list[Document] = self.index.documents
        results = [
            Result(
                id=documents[i].id,
                kind=documents[i].kind,
                title=documents[i].title,
                step=documents[i].step,
                roadmap=documents[i].roadmap,
                score=float(fused[i]),
                topic_id=documents[i].topic_id,
            )
            for i in order
        ]
        top_dense = float(dense[order[0]]) if len(order) else 0.0
        lexical_support = min(best_lexical / LEXICAL_EVIDENCE, 1.0)
        confidence = max(top_dense, 0.0) + 0.15 * lexical_support
        return Retrieval(results, confidence)
