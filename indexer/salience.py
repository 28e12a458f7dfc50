"""How much each word of the knowledge belongs to its field: its frequency there against general English.

"Regularization" is a hundred thousand times likelier in the knowledge than in everyday English, "apple"
barely appears in it at all: a question made of the field's words is about what the knowledge teaches, one
that shares a single word with it ("prune my apple trees") is not. Computed at index build, where the
`embed` extra brings `wordfreq`, and stored with the index; answering only reads the table.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable

import numpy as np
from rapidfuzz.distance import OSA
from rapidfuzz.process import cdist

from indexer.search import FUZZY_MIN_CHARS, allowed_edits, words

log = logging.getLogger(__name__)

WORD_SALIENCE_FILE = "word_salience.json"
# Salience is log10(knowledge frequency / English frequency), clipped to this range; a word the knowledge
# never uses gets the lowest value.
LOWEST, HIGHEST = -2.0, 4.0
# English frequency of a word wordfreq does not know (zipf 1: about once in a thousand million words).
RAREST_ZIPF = 1.0
# A word at least this common in general English (Zipf 3: once in a million words, "jupiter", "flash",
# "tenor") is what the learner meant when they typed it, not a typo of a word of the knowledge.
EVERYDAY_ZIPF = 3.0
# The commonest English words looked at for that (wordfreq's list, most frequent first).
EVERYDAY_CANDIDATES = 60000


def word_salience(texts: Iterable[str]) -> dict[str, float]:
    """Per word of the texts (as `words` reads them), its salience; {} when wordfreq is not installed."""
    try:
        from wordfreq import zipf_frequency
    except ImportError:
        log.warning("wordfreq is not installed (the `embed` extra): answering judges scope without word salience")
        return {}
    counts = Counter(word for text in texts for word in words(text))
    total = sum(counts.values()) or 1
    salience = {}
    for word, count in counts.items():
        english = 10 ** (max(zipf_frequency(word, "en"), RAREST_ZIPF) - 9)
        value = math.log10((count / total) / english)
        salience[word] = round(min(HIGHEST, max(LOWEST, value)), 2)
    return salience


def everyday_words_near(known: Iterable[str]) -> list[str]:
    """The common English words (`EVERYDAY_ZIPF`) that the knowledge does not use and that lie a typo away from
    a word or name it does (`known`: words as `words` reads them, names with their spaces dropped): "how long
    to fly to jupiter" is about the planet, not a misspelt Jupyter. Answering reads them as typed, never as
    the knowledge's word. Sorted; [] when wordfreq is not installed."""
    try:
        from wordfreq import top_n_list, zipf_frequency
    except ImportError:
        return []
    known = set(known)
    candidates = [
        word
        for word in top_n_list("en", EVERYDAY_CANDIDATES)
        if word.isascii() and word.isalpha() and len(word) >= FUZZY_MIN_CHARS and word not in known
        if zipf_frequency(word, "en") >= EVERYDAY_ZIPF
    ]
    by_letter: dict[str, list[str]] = {}
    for word in known:
        if word:
            by_letter.setdefault(word[0], []).append(word)
    near = []
    for letter in sorted({w[0] for w in candidates}):
        typed = [w for w in candidates if w[0] == letter]
        targets = by_letter.get(letter, [])
        if not targets:
            continue
        distances = cdist(typed, targets, scorer=OSA.distance, score_cutoff=2)
        allowed = np.asarray([allowed_edits(len(w)) for w in typed])[:, None]
        near += [w for w, row in zip(typed, (distances <= allowed).any(axis=1), strict=True) if row]
    return sorted(near)
