"""What admins see about their server: activity, most asked topics, quiz results by topic, and what the tutor
could not answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.storage.base import LoggedQuestion, Store
from knowledge.loader import KnowledgeBase

NO_TOPIC = "No close topic"


@dataclass(frozen=True)
class GuildStats:
    since: datetime
    active_members: int
    topics_completed: int
    questions_asked: int
    unanswered: int
    top_topics: list[tuple[str, int]]  # (title, answered questions), most asked first
    quiz_topics: list[TopicQuizResults] = field(default_factory=list)  # hardest first


@dataclass(frozen=True)
class TopicQuizResults:
    """Quiz answers on one topic: how many, and the share answered right."""

    topic_id: str
    title: str
    attempts: int
    right: int

    @property
    def share_right(self) -> float:
        return self.right / self.attempts if self.attempts else 0.0


@dataclass(frozen=True)
class UnansweredGroup:
    """Unanswered questions whose closest topic is the same: what a note about that topic should cover."""

    topic_id: str | None
    title: str
    questions: list[LoggedQuestion]  # newest first


async def guild_stats(store: Store, kb: KnowledgeBase, guild_id: int, since: datetime) -> GuildStats:
    activity = await store.guild_activity(guild_id, since)
    questions = await store.question_stats(guild_id, since)
    quizzes = [
        TopicQuizResults(s.topic_id, _title(kb, s.topic_id), s.attempts, s.right)
        for s in await store.quiz_stats(guild_id, since)
    ]
    # The topics the community struggles with first: the lowest share right, then the most answered.
    quizzes.sort(key=lambda t: (t.share_right, -t.attempts, t.title))
    return GuildStats(
        since=since,
        active_members=activity.active_members,
        topics_completed=activity.topics_completed,
        questions_asked=questions.asked,
        unanswered=questions.unanswered,
        top_topics=[(_title(kb, topic_id), count) for topic_id, count in questions.top_topics],
        quiz_topics=quizzes,
    )


def group_unanswered(questions: list[LoggedQuestion], kb: KnowledgeBase) -> list[UnansweredGroup]:
    """Group by closest topic; the biggest group first, then the most recently asked."""
    groups: dict[str | None, list[LoggedQuestion]] = {}
    for question in questions:
        groups.setdefault(question.top_topic_id, []).append(question)
    ordered = sorted(
        groups.items(),
        key=lambda item: (-len(item[1]), -max(q.at for q in item[1]).timestamp(), item[0] or ""),
    )
    return [
        UnansweredGroup(
            topic_id,
            _title(kb, topic_id) if topic_id else NO_TOPIC,
            sorted(group, key=lambda q: q.at, reverse=True),
        )
        for topic_id, group in ordered
    ]


def _title(kb: KnowledgeBase, topic_id: str) -> str:
    """A topic's title; documents that are not topics (notes, concepts) and removed topics keep their id."""
    if topic_id in kb.topics:
        return kb.topics[topic_id].topic.title
    if topic_id in kb.concepts:
        return kb.concepts[topic_id].concept.title
    return topic_id
