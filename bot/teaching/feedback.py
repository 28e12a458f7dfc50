"""What members' feedback shows admins to teach: the answers marked unhelpful and the questions the tutor declined,
grouped by the entry each reached, the same question asked several times counted once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.storage.base import QuestionFeedback
from bot.teaching.teacher import same_question
from knowledge.loader import Entry

DECLINED = "declined"  # the group of questions the tutor declined


@dataclass
class FeedbackQuestion:
    """One question, however many times it was asked (`count`), newest wording first; what members said they were
    looking for; the newest asking's log key."""

    text: str
    count: int
    last_at: datetime
    answer_key: str | None
    looking_for: list[str] = field(default_factory=list)
    unhelpful: int = 0  # how many of the askings were marked unhelpful


@dataclass(frozen=True)
class FeedbackGroup:
    """The questions that reached one entry (`entry_id`), or that the tutor declined (`entry_id` is `DECLINED`)."""

    entry_id: str
    title: str
    questions: list[FeedbackQuestion]

    @property
    def count(self) -> int:
        """Askings in the group, repeats included."""
        return sum(q.count for q in self.questions)

    @property
    def declined(self) -> bool:
        return self.entry_id == DECLINED


def group_feedback(records: list[QuestionFeedback], entries: Mapping[str, Entry]) -> list[FeedbackGroup]:
    """Group by the entry the answer led with (declined questions together), the biggest group first; within a
    group the most asked question first, then the newest. `records` are newest first (`Store.feedback_summary`)."""
    groups: dict[str, dict[str, FeedbackQuestion]] = {}
    for record in records:
        entry_id = DECLINED if record.declined else (record.top_result_id or record.top_topic_id or DECLINED)
        same = groups.setdefault(entry_id, {})
        key = same_question(record.question)
        question = same.get(key)
        if question is None:
            question = same[key] = FeedbackQuestion(record.question, 0, record.asked_at, record.answer_key)
        question.count += 1
        question.unhelpful += record.helpful is False
        if record.looking_for and record.looking_for not in question.looking_for:
            question.looking_for.append(record.looking_for)
    found = [
        FeedbackGroup(
            entry_id,
            "Declined: no answer given" if entry_id == DECLINED else _title(entries, entry_id),
            sorted(questions.values(), key=lambda q: (-q.count, -q.last_at.timestamp())),
        )
        for entry_id, questions in groups.items()
    ]
    return sorted(found, key=lambda g: (-g.count, -max(q.last_at for q in g.questions).timestamp(), g.entry_id))


def _title(entries: Mapping[str, Entry], entry_id: str) -> str:
    entry = entries.get(entry_id)
    return f"{entry.title} ({entry_id})" if entry is not None else f"{entry_id} (no longer in the knowledge)"
