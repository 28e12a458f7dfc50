"""General questions: questions from outside the knowledge, that scope is judged against.

A word trap reads like the knowledge in one word ("is the titanic movie worth watching tonight?" beside a
Titanic project) and like everyday questions in all the rest. Each build keeps, as general questions, the
declined questions it knows of (the loaded roadmaps' and the shipped ones, `knowledge.loader`) that lie far
from every passage of the knowledge's own text: for a web development roadmap "how do i center a div" is
its own subject and is left out, "how do i boil an egg" is kept whatever the roadmap. The scope model reads
how much closer a question is to the nearest of them than to the knowledge (`Evidence.general`).
"""

from __future__ import annotations

import hashlib

import numpy as np

from indexer.documents import Document
from knowledge.loader import KnowledgeBase, shipped_asked_files, shipped_declined_questions

# A declined question this close (cosine) to a passage of the knowledge's own text may be what it teaches.
FAR_FROM_KNOWLEDGE = 0.4


def candidates_digest() -> str:
    """What the candidates beyond the loaded knowledge's own declined questions depend on: the shipped asked
    files' bytes, hashed without parsing them (every start checks whether its index is current)."""
    digest = hashlib.sha256()
    for path in shipped_asked_files():
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def candidate_questions(kb: KnowledgeBase) -> list[str]:
    """The loaded roadmaps' declined questions and the shipped ones, each once; the shipped files are read
    again only when the knowledge did not load them."""
    loaded = set(kb.files)
    shipped = () if all(path in loaded for path in shipped_asked_files()) else shipped_declined_questions()
    return list(dict.fromkeys([*(d.q for d in kb.declined), *shipped]))


def own_passage_rows(documents: list[Document]) -> np.ndarray:
    """Per passage of `documents` (in their order), whether it is the knowledge's own text (`own_passages`)."""
    return np.concatenate(
        [np.arange(len(d.passages)) < len(d.own_passages) for d in documents] or [np.zeros(0, dtype=bool)]
    )


def best_own_cosine(questions: np.ndarray, passages: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Per question vector, its best cosine with a passage of the knowledge's own text (vectors normalised: the
    dot product); -1 when the knowledge has none."""
    own_vectors = passages[own]
    if not len(questions) or not len(own_vectors):
        return np.full(len(questions), -1.0, dtype=np.float32)
    return (questions @ own_vectors.T).max(axis=1)


def far_from_knowledge(best_own: np.ndarray) -> np.ndarray:
    """Whether each question, by its best cosine with the knowledge's own text, is far from all of it."""
    return np.asarray(best_own) < FAR_FROM_KNOWLEDGE
