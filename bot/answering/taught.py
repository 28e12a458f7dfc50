"""Questions admins taught, as answering holds them: each one's vector, the entry it answers with and the server it
applies in, scored against the questions being answered in one matrix product.

A taught question is an asked question (`indexer.documents.Document.asked_passages`) with a scope: it lifts the entry
it names the way asked questions do, but only for questions asked where it was taught (`guild`; None is every
server, direct messages and the console). Beyond that lift, a question that reads as the taught one asked again
(`TAUGHT_MATCH`) is answered with its entry first, with the confidence of that match: an admin's teaching is the
strongest evidence there is that the knowledge answers it. Taught questions live beside the index, not in it, so
teaching one embeds that question alone and swaps in a new `TaughtPassages` in one assignment.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

# The cosine (all-MiniLM-L6-v2) at which a question counts as the taught one asked again: confidence 0.5 there,
# rising fast above it. Measured against "where can i rent a gpu cheaply": the same question re-typed or
# re-punctuated 0.97-0.99 ("where can I rent a cheap GPU?", "cheapest place to rent a gpu"), close paraphrases
# 0.91-0.92 ("where could i rent gpus cheaply", "any cheap places to rent gpus"), a related but different question
# 0.75 ("how much does a gpu cost") and 0.57 ("where can i rent a car cheaply"); "which artist painted the Mona
# Lisa" against "who painted the Mona Lisa?" 0.90, against "who painted the starry night" 0.46. Below the match a
# taught question still lifts its entry as any asked question does (`with_asked`), without deciding the answer.
TAUGHT_MATCH = 0.8
# How fast confidence rises around the match: 0.83 gives 0.73, 0.77 gives 0.27.
TAUGHT_SPREAD = 0.03
NO_MATCH = -1.0


def taught_confidence(similarity: float) -> float:
    """How sure a taught match makes the tutor that it can answer: 0..1, 0.5 at `TAUGHT_MATCH`."""
    if similarity <= NO_MATCH:
        return 0.0
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, (similarity - TAUGHT_MATCH) / TAUGHT_SPREAD))))


@dataclass(frozen=True)
class TaughtPassage:
    """One taught question as answering reads it: its text as ranking reads it, the entry id it answers with,
    the server it applies in (None: everywhere)."""

    text: str
    answer: str
    guild: int | None


@dataclass(frozen=True)
class TaughtPassages:
    """Every taught question with its vector (normalised, one row each, in the same order)."""

    passages: tuple[TaughtPassage, ...] = ()
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))

    def __post_init__(self) -> None:
        if len(self.passages) != len(self.vectors):
            raise ValueError(f"{len(self.passages)} taught questions but {len(self.vectors)} vectors")

    def __len__(self) -> int:
        return len(self.passages)

    def in_scope(self, guild: int | None) -> np.ndarray:
        """Which taught questions apply to a question asked in `guild` (None: outside any server)."""
        return np.asarray([p.guild is None or p.guild == guild for p in self.passages], dtype=bool)

    def best_per_document(
        self, query_vectors: np.ndarray, guild: int | None, positions: Mapping[str, int], documents: int
    ) -> np.ndarray | None:
        """(queries x documents) best cosine of the taught questions in scope that each document answers,
        `NO_MATCH` where none; None when no taught question applies (nothing to add)."""
        rows = [
            (i, positions[p.answer])
            for i, (p, applies) in enumerate(zip(self.passages, self.in_scope(guild), strict=True))
            if applies and p.answer in positions
        ]
        if not rows:
            return None
        taught, documents_of = (np.asarray(column, dtype=np.int64) for column in zip(*rows, strict=True))
        similarities = np.ascontiguousarray(query_vectors, dtype=np.float32) @ self.vectors[taught].T
        best = np.full((len(query_vectors), documents), NO_MATCH, dtype=np.float32)
        for column, document in enumerate(documents_of):
            np.maximum(best[:, document], similarities[:, column], out=best[:, document])
        return best
