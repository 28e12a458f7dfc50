"""Recommend a member's next topics from the roadmap's prerequisites and what they have finished."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from knowledge.loader import KnowledgeBase, TopicEntry


@dataclass(frozen=True)
class Recommendation:
    entry: TopicEntry
    reason: str


def _titles(kb: KnowledgeBase, topic_ids: list[str]) -> str:
    titles = [kb.topics[t].topic.title for t in topic_ids]
    return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]


def recommend_next(kb: KnowledgeBase, completed: Collection[str], limit: int = 3) -> list[Recommendation]:
    """Unfinished topics whose prerequisites are all finished, in roadmap order, with the reason."""
    done = set(completed)
    picks: list[Recommendation] = []
    for entry in kb.topics.values():  # roadmap order: roadmaps, then steps, then topics
        topic = entry.topic
        if topic.id in done or not all(p in done for p in topic.prerequisites):
            continue
        if topic.prerequisites:
            reason = f"you finished {_titles(kb, list(topic.prerequisites))}, which {topic.title} needs"
        elif any(e.step.number < entry.step.number for e in kb.topics.values() if e.roadmap is entry.roadmap):
            reason = f"{topic.title} needs nothing else first"
        else:
            reason = f"{topic.title} is where step {entry.step.number} starts and needs nothing else first"
        picks.append(Recommendation(entry, reason))
        if len(picks) == limit:
            break
    return picks


def topics_after(kb: KnowledgeBase, finished: Collection[str], limit: int = 2) -> list[str]:
    """What to study after `finished`, for a learner who followed the roadmap that far.

    Everything up to the last finished topic, in roadmap order, counts as done, so "I finished Keras"
    leads on from Keras rather than back to the roadmap's first topic that needs nothing. What follows is
    taken from the roadmap of that last topic: other roadmaps loaded beside it are not where it leads.
    """
    known = [t for t in finished if t in kb.topics]
    if not known:
        return []
    order = list(kb.topics)
    last = max(known, key=order.index)
    roadmap = kb.topics[last].roadmap.id
    own = [t for t in order if kb.topics[t].roadmap.id == roadmap]
    done = set(own[: own.index(last) + 1]) | {t for t in order if kb.topics[t].roadmap.id != roadmap}
    # The topic the roadmap lists next comes first, as the roadmap's author ordered it; then what the
    # prerequisites open up.
    following = own[own.index(last) + 1 : own.index(last) + 2]
    picks = [pick.entry.topic.id for pick in recommend_next(kb, done, limit)]
    return list(dict.fromkeys([*following, *picks]))[:limit]
