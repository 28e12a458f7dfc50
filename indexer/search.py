"""Search a stored index: dense passage similarity aggregated per document, and BM25 over the same text."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import bm25s
import numpy as np

from indexer.documents import Document
from indexer.store import Manifest, StoredIndex, read_index

# bm25s sets its own logger to DEBUG when imported, which would print on every index load.
logging.getLogger("bm25s").setLevel(logging.WARNING)

_TOKEN = re.compile(r"[a-z0-9]+(?:[+#][+#]?)?")
# Words that carry no topic: question words, filler, and the chat register learners write in.
STOPWORDS = frozenset(
    """a an and are as at be been but by can could do does did for from how i if in into is it its me my of on or
    our should so than that the their them then there these they this to was we what when where which who why will
    with would you your yours im ive id dont doesnt whats hows pls plz please thanks thx hey hi hello explain tell
    about some any get got use using used vs versus between difference mean means like just really also one more""".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens without stop words, with a light plural fold (layers -> layer)."""
    tokens = []
    for token in _TOKEN.findall(text.lower()):
        if token in STOPWORDS:
            continue
        if len(token) > 4 and token.endswith("s") and not token.endswith("ss"):
            token = token[:-1]
        tokens.append(token)
    return tokens


class SearchIndex:
    """A loaded index, searchable by query vectors and by query words."""

    def __init__(self, stored: StoredIndex) -> None:
        self.path = stored.path
        self.manifest: Manifest = stored.manifest
        self.documents: list[Document] = stored.documents
        self._vectors = stored.vectors
        self._owners = stored.passage_documents
        self._bm25 = bm25s.BM25()
        corpus = [tokenize(" ".join([d.title, d.keywords, *d.passages])) or ["_"] for d in self.documents]
        self._bm25.index(corpus, show_progress=False)

    @classmethod
    def load(cls, index_dir: Path) -> SearchIndex:
        return cls(read_index(index_dir))

    def __len__(self) -> int:
        return len(self.documents)

    def dense_scores(self, query_vectors: np.ndarray, depth: int = 64) -> np.ndarray:
        """(queries x documents) best cosine similarity of any passage of each document; -1 where unseen."""
        query_vectors = np.ascontiguousarray(query_vectors, dtype=np.float32)
        depth = min(depth, self._vectors.ntotal)
        similarities, passages = self._vectors.search(query_vectors, depth)
        scores = np.full((len(query_vectors), len(self.documents)), -1.0, dtype=np.float32)
        for row in range(len(query_vectors)):
            found = passages[row] >= 0
            owners = self._owners[passages[row][found]]
            # Results come best first, so the first passage seen for a document is its best.
            np.maximum.at(scores[row], owners, similarities[row][found])
        return scores

    def lexical_scores(self, query: str) -> np.ndarray:
        tokens = tokenize(query)
        if not tokens:
            return np.zeros(len(self.documents), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
