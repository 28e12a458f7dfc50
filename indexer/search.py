"""Search a stored index: dense passage similarity per document, BM25, and names matched despite typos."""

from __future__ import annotations

import functools
import json
import logging
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import bm25s
import faiss
import numpy as np
from rapidfuzz.distance import OSA
from rapidfuzz.process import cdist

from indexer.documents import Document, distinct_passages
from indexer.store import (
    DECLINED_FILE,
    DECLINED_VECTORS_FILE,
    GENERAL_FILE,
    GENERAL_VECTORS_FILE,
    Manifest,
    StoredIndex,
    read_index,
)

# bm25s sets its own logger to DEBUG when imported, which would print on every index load.
logging.getLogger("bm25s").setLevel(logging.WARNING)

_TOKEN = re.compile(r"[a-z0-9]+(?:[+#][+#]?)?")
# Words that carry no topic: question words, filler, and the chat register learners write in.
STOPWORDS = frozenset(
    """a an and are as at be been but by can could do does did for from how i if in into is it its me my of on or
    our should so than that the their them then there these they this to was we what when where which who why will
    with would you your yours im ive id dont doesnt whats hows pls plz please thanks thx hey hi hello explain tell
    about some any get got use using used vs versus between difference mean means like just really also one more
    basically actually kinda sorta gonna wanna ok okay rn tbh idk imo btw lol wtf stuff thing things here even
    still always never good best better bad worth way want need know go going try trying simply quick quickly
    sure bunch lot lots bit much many new""".split()  # noqa: SIM905 (a word list reads better as text)
)
# Chat shorthand of the English that learners type anywhere, spelled out before a question is searched.
# Shorthand of a field ("lr", "nn") belongs to the roadmaps of that field: their `shorthand` (knowledge).
CHAT_SHORTHAND = {
    "fn": "function",
    "fns": "functions",
    "func": "function",
    "funcs": "functions",
    "fxn": "function",
    "param": "parameter",
    "params": "parameters",
    "algo": "algorithm",
    "algos": "algorithms",
    "img": "image",
    "imgs": "images",
    "pic": "picture",
    "pics": "pictures",
    "perf": "performance",
    "diff": "difference",
    "u": "you",
    "ur": "your",
    "tho": "though",
    "bc": "because",
    "lib": "library",
    "libs": "libraries",
    "dep": "dependency",
    "deps": "dependencies",
    "env": "environment",
    "envs": "environments",
    "prod": "production",
    "w/": "with",
    "w/o": "without",
}


class Shorthand:
    """Spells out shorthand in a question: chat English plus what the loaded roadmaps define.

    Not inside a dotted code name or a hyphenated word (the "nn" of "nn.Module" and the "u" of "U-Net" are
    names as typed), nor inside a name that contains a shorthand word ("elastic net" is no "elastic
    network").
    """

    def __init__(self, spelled: dict[str, str] | None = None, names: list[str] | tuple[str, ...] = ()) -> None:
        """`spelled`: a field's shorthand besides chat English; `names`: the knowledge's names, those that
        contain a shorthand word to be kept as typed. Names whose spelled-out words other names use
        ("neural net": "neural network basics") need no keeping."""
        self.spelled = {**CHAT_SHORTHAND, **{k.lower(): v for k, v in (spelled or {}).items()}}
        alternatives = "|".join(map(re.escape, sorted(self.spelled, key=len, reverse=True)))
        self.pattern = re.compile(r"(?<![\w.-])(" + alternatives + r")(?![\w]|[.-]\w)", re.I)
        self._kept: re.Pattern[str] | None = None
        known = " | ".join(" ".join(name_words(name)) for name in names)
        kept = [
            name
            for name in names
            if len(name_words(name)) > 1
            and self.pattern.search(name)
            and f" {' '.join(name_words(self.expand(name)))}" not in f" {known}"
        ]
        if kept:
            spelled = (r"\W+".join(map(re.escape, name_words(name))) for name in sorted(kept, key=len, reverse=True))
            self._kept = re.compile(r"(?<!\w)(" + "|".join(spelled) + r")(?!\w)", re.I)

    def expand(self, text: str) -> str:
        """The text with shorthand spelled out ("activation funcs" -> "activation functions")."""
        kept = [m.span() for m in self._kept.finditer(text)] if self._kept else []

        def spell_out(match: re.Match[str]) -> str:
            if any(start <= match.start() < end for start, end in kept):
                return match.group(0)
            return self.spelled[match.group(1).lower()]

        return self.pattern.sub(spell_out, text)


# British -ise spellings fold into -ize ones (regularisation, optimiser, memorising).
_BRITISH = re.compile(r"is(e|ed|es|er|ers|ing|ation|ations)$")
# Endings folded away so that word forms meet (pruning/pruned/prune, optimizer/optimization).
_SUFFIXES = ("ations", "ation", "ings", "ing", "ers", "er", "ed", "es", "s", "e")
# Longest name, in words, looked for in a question.
MAX_NAME_WORDS = 6
# A typed word or phrase this long (letters, spaces dropped) may carry typos when matched to a name or
# the vocabulary: one edit up to LONG_WORD characters, two beyond. Shorter ones must match exactly,
# because "relu"/"rely" or "lstm"/"list" are different words one edit apart.
FUZZY_MIN_CHARS = 5
# Common English words a typo away from the knowledge's words and names (`indexer.salience.everyday_words_near`),
# stored with each build: read as typed, never corrected to the knowledge's word or matched as a name.
EVERYDAY_WORDS_FILE = "everyday_words.json"
# Each roadmap's own word salience (`indexer.salience`), stored with each build: a question answered from one
# roadmap is judged by that roadmap's words, not by every word of every roadmap loaded beside it.
ROADMAP_SALIENCE_FILE = "roadmap_word_salience.json"
LONG_WORD = 9
# Shorter unknown words are left alone when correcting a question: too many real words lie one edit apart.
CORRECT_MIN_CHARS = 6
# How much a name matched with typos counts, against 1.0 for a name typed exactly.
FUZZY_MATCH = 0.85
# A name that more than this share of documents use, as typed ("loss", "accuracy", "neural net"), is an
# everyday word: it still ranks, but less than a specific name, and does not on its own show that a
# question is about the roadmap.
GENERIC_SHARE = 0.15


@functools.lru_cache(maxsize=1 << 16)  # the knowledge repeats its words: each is stemmed once at load
def _stem(token: str) -> str:
    if not token.isalpha():
        return token
    if len(token) <= 4:
        # Short plurals only (nets, gpus); "loss", "bias", "plus" and "axis" stay whole.
        return token[:-1] if len(token) == 4 and token.endswith("s") and token[-2] not in "suai" else token
    token = _BRITISH.sub(r"iz\1", token)
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 4 and not token.endswith("ss"):
            stem = token[: -len(suffix)]
            # English doubles a final consonant before -ing/-ed/-er ("cutting", "dropped", "stopping"): undo
            # it so that they meet "cut", "drop", "stop". Doubled l, s and z are part of the word ("fall").
            if stem[-1] == stem[-2] and stem[-1] not in "aeiouylsz":
                stem = stem[:-1]
            return stem
    return token


def plain(text: str) -> str:
    """Lower case without accents, so that "Géron" and "geron" are one word."""
    if text.isascii():  # most text: nothing to decompose
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def topic_words(typed: list[str] | tuple[str, ...]) -> list[str]:
    """The topic words among words as typed (`name_words`): no stop words, no lone letters ("x", the "s" of
    "chollet's")."""
    return [t for t in typed if t not in STOPWORDS and (len(t) > 1 or t.isdigit())]


def stems(topic: list[str] | tuple[str, ...]) -> list[str]:
    """Topic words stemmed lightly so that word forms meet (pruning/pruned, optimiser/optimizer)."""
    return [_stem(t) for t in topic]


def words(text: str) -> list[str]:
    """The topic words of a text as typed (see `topic_words`)."""
    return topic_words(name_words(text))


def tokenize(text: str) -> list[str]:
    """The topic words of a text, stemmed (see `stems`)."""
    return stems(words(text))


def name_words(text: str) -> list[str]:
    """Words of a name or question as typed (lower case, no punctuation), for matching names."""
    return _TOKEN.findall(plain(text))


def word_spans(folded: str) -> list[tuple[int, int]]:
    """Where each of `name_words` lies in a text already folded by `plain`, as character spans."""
    return [m.span() for m in _TOKEN.finditer(folded)]


def allowed_edits(length: int) -> int:
    if length < FUZZY_MIN_CHARS:
        return 0
    return 1 if length <= LONG_WORD else 2


def _is_typo(typed: list[str], name: tuple[str, ...], distance: int) -> bool:
    """Whether `typed` is `name` with a typo or two: word by word when both have as many words (so
    that "regression goes" is not "regression loss"), else one edit in all; never in the first letter."""
    if typed[0][0] != name[0][0]:
        return False
    if len(typed) == len(name):
        return all(
            OSA.distance(a, b) <= min(allowed_edits(len(a)), allowed_edits(len(b)))
            for a, b in zip(typed, name, strict=True)
        )
    key, other = "".join(typed), "".join(name)
    return distance <= min(1, allowed_edits(len(key)), allowed_edits(len(other)))


@dataclass(frozen=True)
class NameMatch:
    """A name found in a question: where (word span), for which target (document), how well (1.0 typed
    exactly), and whether the name is specific (several words, or a word few documents use) rather than an
    everyday word such as "loss" or "accuracy" that questions outside the roadmap use too."""

    start: int
    end: int
    document: int
    quality: float
    specific: bool = True


def name_scores(matches: list[NameMatch], count: int, specific_only: bool = False) -> np.ndarray:
    """Per document, the best quality of the names matched (0 where none), optionally specific names only."""
    scores = np.zeros(count, dtype=np.float32)
    for match in matches:
        if match.specific or not specific_only:
            scores[match.document] = max(scores[match.document], match.quality)
    return scores


class NameMatcher:
    """Finds names in questions: exactly, or with a typo or two in a long enough name.

    Names are compared with their spaces dropped, so "light gbm", "lightgbm" and "Light-GBM" meet.
    Each name stands for a target number (a document position, or any label a caller chooses).
    """

    def __init__(
        self,
        names: list[tuple[str, int]],
        generic: set[str] | frozenset[str] = frozenset(),
        everyday: frozenset[str] = frozenset(),
    ) -> None:
        """`everyday`: words typed as they are meant (`EVERYDAY_WORDS_FILE`), never read as a name's typo."""
        self._everyday = everyday
        self._targets: dict[str, list[int]] = defaultdict(list)
        self._words: dict[str, tuple[str, ...]] = {}
        self._specific: dict[str, bool] = {}
        for name, target in names:
            parts = tuple(name_words(name))
            key = "".join(parts)
            if key and target not in self._targets[key]:
                self._targets[key].append(target)
                self._words.setdefault(key, parts)
                self._specific[key] = self._specific.get(key, True) and name not in generic
        # What a typed key stands for (`_key`): each name as typed, then its plural ("GANs" for GAN), then its
        # singular ("unit test" for Unit Tests), where a form of one name is also a form or a name of another.
        self._forms: dict[str, str] = {k[:-1]: k for k in self._targets if k.endswith("s") and len(k) > 4}
        self._forms.update((k + "s", k) for k in self._targets if len(k) > 2)
        self._forms.update((k, k) for k in self._targets)
        # A typo is never forgiven in the first letter (`_is_typo`): typed phrases are compared only with the
        # names that start as they do.
        self._fuzzy_keys: dict[str, list[str]] = defaultdict(list)
        for key in self._targets:
            if len(key) >= FUZZY_MIN_CHARS:
                self._fuzzy_keys[key[0]].append(key)

    def _key(self, key: str) -> str | None:
        """The name a typed key stands for: itself, its singular ("GANs", "LSTMs", "transformers") or its plural
        ("unit test" of "Unit Tests")."""
        return self._forms.get(key)

    def __contains__(self, name: str) -> bool:
        """Whether `name` is one of the names, as typed (case, punctuation and a plural s aside)."""
        return self._key("".join(name_words(name))) is not None

    def matches(self, query: str) -> list[NameMatch]:
        """Names the question contains, longest match winning: a match inside a longer one is dropped
        ("gradient descent" inside "stochastic gradient descent")."""
        words = name_words(query)
        found: dict[tuple[int, int, int], NameMatch] = {}
        fuzzy_spans = []
        for start in range(len(words)):
            for end in range(start + 1, min(start + MAX_NAME_WORDS, len(words)) + 1):
                key = "".join(words[start:end])
                name = self._key(key)
                for target in self._targets[name] if name else ():
                    found[start, end, target] = NameMatch(start, end, target, 1.0, self._specific[name])
                # A typo'd name neither starts nor ends with a filler word or a lone letter ("the training"
                # is not "pre-training", the "s step 1" of "what's step 1" is not "step 1" misspelt).
                edges = (words[start], words[end - 1])
                plain = not set(edges) & STOPWORDS and min(map(len, edges)) > 1
                if name is None and allowed_edits(len(key)) and plain and key not in self._everyday:
                    fuzzy_spans.append((start, end, key))
        by_letter: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        for span in fuzzy_spans:
            if span[2][0] in self._fuzzy_keys:
                by_letter[span[2][0]].append(span)
        for letter, spans in by_letter.items():
            # One C call compares the phrases with every name that starts with the same letter.
            names = self._fuzzy_keys[letter]
            distances = cdist([k for _, _, k in spans], names, scorer=OSA.distance, score_cutoff=2)
            for row, column in zip(*np.nonzero(distances <= 2), strict=True):
                start, end, key = spans[row]
                name = names[column]
                if _is_typo(words[start:end], self._words[name], int(distances[row, column])):
                    for target in self._targets[name]:
                        match = NameMatch(start, end, target, FUZZY_MATCH, self._specific[name])
                        found.setdefault((start, end, target), match)
        matches = list(found.values())
        return [
            m
            for m in matches
            if not any(o.start <= m.start and m.end <= o.end and (o.end - o.start) > (m.end - m.start) for o in matches)
        ]


def _phrase_key(parts: list[str] | tuple[str, ...]) -> str:
    """A phrase as names are keyed (spaces dropped), its plural s dropped so that "optimizers" and
    "optimizer" count as one."""
    key = "".join(parts)
    return key[:-1] if len(key) > 3 and key.endswith("s") else key


def _phrase_frequency(texts: list[str], keys: set[str]) -> Counter[str]:
    """How many texts use each of the phrase `keys` (`_phrase_key`, up to MAX_NAME_WORDS words), as typed
    (not stemmed: "optimizer" is a rarer word than the "optimization" it shares a stem with).

    Only phrases that can still grow into a key are followed, so start-up does not count every phrase of
    every text."""
    prefixes = {key[:i] for key in keys for i in range(1, len(key) + 1)}
    frequency: Counter[str] = Counter()
    for text in texts:
        parts = name_words(text)
        found = set()
        for start in range(len(parts)):
            joined = ""
            for end in range(start, min(start + MAX_NAME_WORDS, len(parts))):
                joined += parts[end]
                if joined not in prefixes and joined[:-1] not in keys:
                    break
                key = _phrase_key([joined])
                if key in keys:
                    found.add(key)
        frequency.update(found)
    return frequency


@dataclass(frozen=True)
class _PassageRows:
    """A set of passage rows, with what a flat index needs to take each document's best among them in one
    `np.maximum.reduceat`: the rows in order, where each document's run starts, and its document (`starts`
    is None when passages are not stored document by document)."""

    mask: np.ndarray
    rows: np.ndarray
    starts: np.ndarray | None
    documents: np.ndarray

    @classmethod
    def of(cls, mask: np.ndarray, owners: np.ndarray, grouped: bool) -> _PassageRows:
        rows = np.flatnonzero(mask)
        kept = owners[rows]
        starts = np.flatnonzero(np.r_[True, kept[1:] != kept[:-1]]) if len(rows) else np.zeros(0, dtype=np.int64)
        return cls(mask, rows, starts if grouped else None, kept[starts])


@dataclass(frozen=True)
class DenseScores:
    """(queries x documents) best cosine similarity per document, -1 where none, among three sets of passages:
    `ranked`, the knowledge's text with the symptoms of common problems; `own`, without the symptoms, for
    judging confidence; `asked`, only the questions learners asked that the document answers."""

    ranked: np.ndarray
    own: np.ndarray
    asked: np.ndarray


class SearchIndex:
    """A loaded index, searchable by query vectors, by query words and by the names a question mentions."""

    def __init__(self, stored: StoredIndex) -> None:
        self.path = stored.path
        self.manifest: Manifest = stored.manifest
        self.documents: list[Document] = stored.documents
        self._owners = stored.passage_documents
        # A flat index is small enough to hold as one matrix: one product scores every passage exactly. It
        # holds each distinct passage once (an asked question is a passage of every entry that answers it),
        # and the FAISS index itself is let go.
        self._vectors: faiss.Index | None = stored.vectors
        self._matrix: np.ndarray | None = None
        if isinstance(stored.vectors, faiss.IndexFlat) and stored.vectors.ntotal:
            first, numbers = distinct_passages([p for d in self.documents for p in d.passages])
            self._matrix = stored.vectors.reconstruct_batch(np.asarray(first, dtype=np.int64))
            self._matrix_row = np.asarray(numbers, dtype=np.int64)
            self._vectors = None
        # How much each word of the knowledge belongs to its field (`indexer.salience`), stored with the build.
        salience_file = stored.path / "word_salience.json"
        self._salience: dict[str, float] = (
            json.loads(salience_file.read_text(encoding="utf-8")) if salience_file.exists() else {}
        )
        # An index built before them has no roadmaps' own tables: every roadmap is judged by the one above.
        roadmap_salience_file = stored.path / ROADMAP_SALIENCE_FILE
        self._roadmap_salience: dict[str, dict[str, float]] = (
            json.loads(roadmap_salience_file.read_text(encoding="utf-8")) if roadmap_salience_file.exists() else {}
        )
        everyday_file = stored.path / EVERYDAY_WORDS_FILE
        self._everyday: frozenset[str] = frozenset(
            json.loads(everyday_file.read_text(encoding="utf-8")) if everyday_file.exists() else ()
        )
        # Questions the roadmaps do not answer, as learners asked them, with the roadmap that declines each
        # (`DECLINED_FILE`); an index built before them has none.
        self.declined_roadmaps: list[str] = []
        self._declined = np.zeros((0, stored.manifest.dimension), dtype=np.float32)
        if (stored.path / DECLINED_FILE).exists():
            examples = json.loads((stored.path / DECLINED_FILE).read_text(encoding="utf-8"))
            self.declined_roadmaps = [example["roadmap"] for example in examples]
            self._declined = np.load(stored.path / DECLINED_VECTORS_FILE, allow_pickle=False).astype(np.float32)
        # Questions from outside the knowledge (`indexer.general`), kept among every candidate the build judged;
        # an index built before them has none.
        self._general = np.zeros((0, stored.manifest.dimension), dtype=np.float32)
        if (stored.path / GENERAL_FILE).exists():
            marked = json.loads((stored.path / GENERAL_FILE).read_text(encoding="utf-8"))
            kept = np.asarray([bool(candidate["general"]) for candidate in marked], dtype=bool)
            candidates = np.load(stored.path / GENERAL_VECTORS_FILE, allow_pickle=False)
            self._general = np.ascontiguousarray(candidates[kept], dtype=np.float32)
        self._bm25 = bm25s.BM25()
        # Symptom passages repeat words of their problems; counted twice they would only skew BM25. Asked
        # questions are learners' words, not the knowledge's: they would teach BM25 and the typo corrector
        # every learner's slip.
        texts = [d.own_text for d in self.documents]
        corpus = [tokenize(text) or ["_"] for text in texts]
        self._bm25.index(corpus, show_progress=False)
        self._vocabulary_set = frozenset(token for tokens in corpus for token in tokens)
        # The words as written, for forgiving typos in words the stems do not meet ("tunning").
        self._typed_vocabulary = sorted({word for text in texts for word in words(text)})
        self._first_letters = np.asarray([w[0] for w in self._typed_vocabulary])
        common = GENERIC_SHARE * len(self.documents)
        frequency = _phrase_frequency(texts, {_phrase_key(name_words(n)) for d in self.documents for n in d.names})
        generic = {
            name for d in self.documents for name in d.names if frequency[_phrase_key(name_words(name))] > common
        }
        self.names = NameMatcher(
            [(name, position) for position, d in enumerate(self.documents) for name in d.names], generic, self._everyday
        )
        spelled = {k: v for d in self.documents for k, v in d.extra.get("shorthand", {}).items()}
        self.shorthand = Shorthand(spelled, [name for d in self.documents for name in d.names])
        # Each document's passages end with its symptoms, then its asked questions (`Document`).
        symptom_rows = np.zeros(len(self._owners), dtype=bool)
        asked_rows = np.zeros(len(self._owners), dtype=bool)
        end = 0
        for document in self.documents:
            end += len(document.passages)
            asked_start = end - document.asked_passages
            asked_rows[asked_start:end] = True
            symptom_rows[asked_start - document.symptom_passages : asked_start] = True
        # Passages are stored document by document, so in a flat index each document's best passage among
        # some rows is one `np.maximum.reduceat` over them (see `_best_per_document`).
        grouped = bool(np.all(np.diff(self._owners) >= 0))
        self._own_rows = _PassageRows.of(~(symptom_rows | asked_rows), self._owners, grouped)
        self._ranked_rows = _PassageRows.of(~asked_rows, self._owners, grouped)
        self._asked_rows = _PassageRows.of(asked_rows, self._owners, grouped)

    @classmethod
    def load(cls, index_dir: Path) -> SearchIndex:
        return cls(read_index(index_dir))

    def __len__(self) -> int:
        return len(self.documents)

    def dense_scores(self, query_vectors: np.ndarray, depth: int = 64, symptoms: bool = True) -> np.ndarray:
        """(queries x documents) best cosine similarity of any passage of each document; -1 where unseen.

        Asked questions are left out: this is the knowledge's own text against the question.
        `symptoms=False` leaves out the short symptom passages (see `indexer.documents.symptom`) too: they
        rank well, but their few words also resemble questions from outside the knowledge now and then.
        """
        similarities, rows = self._passage_similarities(query_vectors, depth)
        return self._best_per_document(similarities, rows, self._ranked_rows if symptoms else self._own_rows)

    def dense_scores_for_ranking(self, query_vectors: np.ndarray, depth: int = 64) -> DenseScores:
        """Every dense signal the hybrid ranking reads, from one search (see `DenseScores`)."""
        similarities, rows = self._passage_similarities(query_vectors, depth)
        return DenseScores(
            ranked=self._best_per_document(similarities, rows, self._ranked_rows),
            own=self._best_per_document(similarities, rows, self._own_rows),
            asked=self._best_per_document(similarities, rows, self._asked_rows),
        )

    def declined_scores(self, query_vectors: np.ndarray) -> np.ndarray:
        """(queries x declined examples) cosine similarity of each question to each declined example, in the
        order of `declined_roadmaps`."""
        return np.ascontiguousarray(query_vectors, dtype=np.float32) @ self._declined.T

    def general_scores(self, query_vectors: np.ndarray) -> np.ndarray:
        """Per question, the cosine similarity of the general question most like it (`indexer.general`); 0 when
        the index holds none."""
        if not len(self._general):
            return np.zeros(len(query_vectors), dtype=np.float32)
        return (np.ascontiguousarray(query_vectors, dtype=np.float32) @ self._general.T).max(axis=1)

    def _passage_similarities(self, query_vectors: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """(queries x passages) cosine similarities and the passage rows they belong to (-1: none found):
        every passage of a flat index, the `depth` nearest of an approximate one."""
        query_vectors = np.ascontiguousarray(query_vectors, dtype=np.float32)
        if self._matrix is not None:
            similarities = (query_vectors @ self._matrix.T)[:, self._matrix_row]
            return similarities, np.broadcast_to(np.arange(len(self._owners)), similarities.shape)
        assert self._vectors is not None  # an approximate index
        return self._vectors.search(query_vectors, min(depth, self._vectors.ntotal))

    def _best_per_document(self, similarities: np.ndarray, rows: np.ndarray, counted: _PassageRows) -> np.ndarray:
        """Each document's best similarity among the passages found that are `counted`; -1 where none."""
        scores = np.full((len(similarities), len(self.documents)), -1.0, dtype=np.float32)
        if self._matrix is not None and counted.starts is not None:  # every passage scored, in document order
            if len(counted.rows):
                best = np.maximum.reduceat(similarities[:, counted.rows], counted.starts, axis=1)
                scores[:, counted.documents] = best
            return scores
        found = rows >= 0
        found[found] = counted.mask[rows[found]]
        queries, places = np.nonzero(found)
        np.maximum.at(scores, (queries, self._owners[rows[queries, places]]), similarities[queries, places])
        return scores

    def lexical_scores(self, tokens: tuple[str, ...] | list[str]) -> np.ndarray:
        """BM25 of every document for a question's stemmed topic words (`tokenize`)."""
        if not tokens:
            return np.zeros(len(self.documents), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(list(tokens)), dtype=np.float32)

    def name_matches(self, query: str) -> list[NameMatch]:
        """The document names a question contains (see `NameMatcher.matches`)."""
        return self.names.matches(query)

    def _near_words(self, unknown: list[str]) -> np.ndarray:
        """(unknown words x vocabulary) edit distances, 99 where a word is not a typo of a known word:
        too many edits for its length, or a different first letter (typos rarely hit the first)."""
        distances = cdist(unknown, self._typed_vocabulary, scorer=OSA.distance, score_cutoff=2)
        allowed = np.asarray([allowed_edits(len(w)) for w in unknown])[:, None]
        first = np.asarray([w[0] for w in unknown])[:, None] == self._first_letters[None, :]
        return np.where((distances <= allowed) & (allowed > 0) & first, distances, 99)

    def spell_out(self, query: str) -> str:
        """The question with shorthand spelled out, but not inside the names that use it."""
        return self.shorthand.expand(query)

    def correct(self, query: str) -> str:
        """The question with misspelt words replaced by the knowledge's nearest word ("regularisaton")."""
        unknown = [
            w
            for w in dict.fromkeys(_TOKEN.findall(plain(query)))
            if len(w) >= CORRECT_MIN_CHARS
            and w not in STOPWORDS
            and _stem(w) not in self._vocabulary_set
            and w not in self._everyday
        ]
        if not unknown or not self._typed_vocabulary:
            return query
        distances = self._near_words(unknown)
        nearest = distances.argmin(axis=1)
        fixes = {w: self._typed_vocabulary[nearest[row]] for row, w in enumerate(unknown) if distances[row].min() < 99}
        if not fixes:
            return query
        pattern = re.compile(r"\b(" + "|".join(map(re.escape, fixes)) + r")\b", re.I)
        return pattern.sub(lambda m: fixes[plain(m.group(1))], query)

    def salience(self, typed: tuple[str, ...] | list[str], roadmap: str | None = None) -> list[float]:
        """How much each word (as `words` reads them) belongs to the knowledge's field, from -2 (a word the
        knowledge never uses) to 4: the field of `roadmap`'s knowledge where given, else of all the knowledge
        loaded; every word counts 0 when the index has no salience table."""
        table = self._roadmap_salience.get(roadmap, self._salience) if roadmap is not None else self._salience
        if not table:
            return [0.0] * len(typed)
        return [table.get(word, -2.0) for word in typed]

    def uses_all_words(self, text: str) -> bool:
        """Whether every topic word of `text` occurs in the knowledge as typed (word forms aside)."""
        return all(_stem(w) in self._vocabulary_set for w in words(text))

    def coverage(self, typed: tuple[str, ...] | list[str]) -> float:
        """Share of a question's topic words as typed (`words`) that the knowledge uses (typos forgiven);
        1.0 with none."""
        if not typed:
            return 1.0
        unknown = [w for w in typed if _stem(w) not in self._vocabulary_set]
        misspelt = int((self._near_words(unknown) < 99).any(axis=1).sum()) if unknown and self._typed_vocabulary else 0
        return (len(typed) - len(unknown) + misspelt) / len(typed)
