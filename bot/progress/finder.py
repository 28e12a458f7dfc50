"""Find topics by what a member types: typo-tolerant, from memory, fast enough for every key press."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from knowledge.loader import KnowledgeBase, TopicEntry

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
        return f"Step {entry.step.number}: {entry.topic.title}"[:100]

    def _ranked(self, typed: str, among: set[str] | None) -> list[tuple[str, float]]:
        """(topic id, best score) for every topic matching `typed` above MATCH_THRESHOLD, best first."""
        matches = process.extract(typed, self._labels, scorer=fuzz.WRatio, processor=utils.default_process, limit=None)
        ranked: list[tuple[str, float]] = []
        seen: set[str] = set()
        for _, score, position in sorted(matches, key=lambda m: (-m[1], m[2])):
            owner = self._owners[position]
            if score < MATCH_THRESHOLD or owner in seen or (among is not None and owner not in among):
                continue
            seen.add(owner)
            ranked.append((owner, score))
        return ranked

    def choices(self, typed: str, among: set[str] | None = None, limit: int = MAX_CHOICES) -> list[Choice]:
        """Best matches for `typed` (roadmap order when empty), optionally only among some topic ids."""
        limit = min(limit, MAX_CHOICES)
        if typed.strip():
            ranked = [topic_id for topic_id, _ in self._ranked(typed, among)]
        else:
            ranked = self._order if among is None else [t for t in self._order if t in among]
        return [Choice(self.label(self._kb.topics[t]), t) for t in ranked[:limit]]

    def resolve(self, typed: str) -> TopicEntry | None:
        """The topic a member meant: an exact id, or a close match to one of its names."""
        typed = typed.strip()
        if typed in self._kb.topics:
            return self._kb.topics[typed]
        ranked = self._ranked(typed, None) if typed else []
        if ranked and ranked[0][1] >= RESOLVE_THRESHOLD:
            return self._kb.topics[ranked[0][0]]
        return None
