"""Find topics and roadmaps by what a member types: typo-tolerant, from memory, fast enough for every key press."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from knowledge.loader import KnowledgeBase, TopicEntry
from knowledge.schema import Roadmap

MAX_CHOICES = 25  # Discord's limit for autocomplete answers
MATCH_THRESHOLD = 60  # loose enough to suggest while typing
RESOLVE_THRESHOLD = 85  # strict enough to act on text typed without picking a suggestion


@dataclass(frozen=True)
class Choice:
    name: str  # shown to the member, at most 100 characters
    value: str  # the topic id


class TopicFinder:
    """Every topic under all its names (title, aliases, id, concepts), matched with rapidfuzz."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._kb = kb
        self._labels: list[str] = []
        self._owners: list[str] = []
        for entry in kb.topics.values():
            topic = entry.topic
            names = [topic.title, topic.id, *topic.aliases]
            names += [n for c in topic.concepts for n in (c.title, *c.aliases)]
            for name in names:
                self._labels.append(name)
                self._owners.append(topic.id)
        self._order = list(kb.topics)

    def label(self, entry: TopicEntry) -> str:
        """How a topic is listed; with several roadmaps loaded, its roadmap's title first."""
        where = f"{entry.roadmap.title} · " if len(self._kb.roadmaps) > 1 else ""
        return f"{where}Step {entry.step.number}: {entry.topic.title}"[:100]

    def _first(self, ranked: list[str], prefer: str | None) -> list[str]:
        """`ranked` with the topics of roadmap `prefer` first, each group in its order."""
        if prefer is None:
            return ranked
        return sorted(ranked, key=lambda t: self._kb.topics[t].roadmap.id != prefer)

    def _ranked(self, typed: str, among: set[str] | None, prefer: str | None = None) -> list[tuple[str, float]]:
        """(topic id, best score) for every topic matching `typed` above MATCH_THRESHOLD, best first; on equal
        scores, a topic of roadmap `prefer` first (two roadmaps may both have an "Overfitting")."""
        matches = process.extract(typed, self._labels, scorer=fuzz.WRatio, processor=utils.default_process, limit=None)
        ranked: list[tuple[str, float]] = []
        seen: set[str] = set()
        for _, score, position in sorted(matches, key=lambda m: (-m[1], m[2])):
            owner = self._owners[position]
            if score < MATCH_THRESHOLD or owner in seen or (among is not None and owner not in among):
                continue
            seen.add(owner)
            ranked.append((owner, score))
        if prefer is not None:
            ranked.sort(key=lambda pair: (-pair[1], self._kb.topics[pair[0]].roadmap.id != prefer))
        return ranked

    def choices(
        self, typed: str, among: set[str] | None = None, limit: int = MAX_CHOICES, prefer: str | None = None
    ) -> list[Choice]:
        """Best matches for `typed` (roadmap order when empty, roadmap `prefer` first), optionally only among
        some topic ids."""
        limit = min(limit, MAX_CHOICES)
        if typed.strip():
            ranked = [topic_id for topic_id, _ in self._ranked(typed, among, prefer)]
        else:
            ranked = self._first(self._order if among is None else [t for t in self._order if t in among], prefer)
        return [Choice(self.label(self._kb.topics[t]), t) for t in ranked[:limit]]

    def resolve(self, typed: str, prefer: str | None = None) -> TopicEntry | None:
        """The topic a member meant: an exact id, or a close match to one of its names (roadmap `prefer`'s
        on a tie)."""
        typed = typed.strip()
        if typed in self._kb.topics:
            return self._kb.topics[typed]
        ranked = self._ranked(typed, None, prefer) if typed else []
        if ranked and ranked[0][1] >= RESOLVE_THRESHOLD:
            return self._kb.topics[ranked[0][0]]
        return None


def _matching_roadmaps(kb: KnowledgeBase, typed: str) -> list[tuple[float, Roadmap]]:
    """(score, roadmap) for each loaded roadmap whose title, id or an alias matches `typed`, best first."""
    scored = []
    for roadmap in kb.roadmaps:
        names = [roadmap.title, roadmap.id, *roadmap.aliases]
        best = max(fuzz.WRatio(typed, name, processor=utils.default_process) for name in names)
        if best >= MATCH_THRESHOLD:
            scored.append((best, roadmap))
    return sorted(scored, key=lambda pair: -pair[0])  # stable: loading order on equal scores


def roadmap_choices(kb: KnowledgeBase, typed: str, limit: int = MAX_CHOICES) -> list[Choice]:
    """Loaded roadmaps matching `typed` (all, in loading order, when nothing is typed)."""
    found = [r for _, r in _matching_roadmaps(kb, typed)] if typed.strip() else kb.roadmaps
    return [Choice(r.title[:100], r.id) for r in found][: min(limit, MAX_CHOICES)]


def resolve_roadmap(kb: KnowledgeBase, typed: str) -> Roadmap | None:
    """The roadmap a member meant: its id, or a close match to its title or one of its aliases."""
    typed = typed.strip()
    if (exact := kb.roadmap(typed)) is not None:
        return exact
    found = _matching_roadmaps(kb, typed) if typed else []
    return found[0][1] if found and found[0][0] >= RESOLVE_THRESHOLD else None
