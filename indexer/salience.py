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

from indexer.search import words

log = logging.getLogger(__name__)

WORD_SALIENCE_FILE = "word_salience.json"
# Salience is log10(knowledge frequency / English frequency), clipped to this range; a word the knowledge
# never uses gets the lowest value.
LOWEST, HIGHEST = -2.0, 4.0
# English frequency of a word wordfreq does not know (zipf 1: about once in a thousand million words).
RAREST_ZIPF = 1.0


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
