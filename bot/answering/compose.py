"""Compose an answer from knowledge-base text only: where the topic sits, what it is, what to study."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from bot.answering.followup import AnswerContext
from bot.answering.question import Question
from bot.answering.retrieval import Result
from indexer.documents import Document, hours_text, symptom
from indexer.search import tokenize
from knowledge.loader import KnowledgeBase, TopicEntry
from knowledge.schema import Resource, Roadmap

# How close the second result must be to the first for a comparison to show both, when the question does not
# name the second ("L1 vs L2 regularization" names both, and shows both however far apart their scores are).
COMPARISON_MARGIN = 0.12
# A common problem of the answer's topics is shown when it shares this many of the question's topic words,
# and at least PROBLEM_MIN_SHARE of them: a described symptom, not a passing word ("pick alpha for Ridge").
PROBLEM_MIN_WORDS = 4
PROBLEM_MIN_SHARE = 0.4
# Whose problems are looked at: the topics of the best few results.
PROBLEM_TOPICS = 3


@dataclass(frozen=True)
class Link:
    title: str
    url: str
    description: str


@dataclass(frozen=True)
class TopicRef:
    id: str
    title: str
    step: int | None


@dataclass(frozen=True)
class Section:
    title: str
    text: str


@dataclass
class Answer:
    """What the tutor says, in parts for an embed and as one text for a terminal or JSON."""

    question: str
    abstained: bool
    headline: str
    results: list[Result]
    sections: list[Section] = field(default_factory=list)
    location: str | None = None
    key_points: list[str] = field(default_factory=list)
    resources: list[Link] = field(default_factory=list)
    next_topics: list[TopicRef] = field(default_factory=list)
    closest: list[TopicRef] = field(default_factory=list)
    topic_id: str | None = None
    notice: str | None = None
    reason: str | None = None
    explanation: str | None = None  # why the tutor declined, when it did
    log_key: str | None = None  # the question log's key for this answer: feedback on it is kept with the question
    context: AnswerContext | None = None  # what a follow-up of this answer leans on (None: no question in it)

    @property
    def text(self) -> str:
        return render_text(self)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "abstained": self.abstained,
            "answer": self.text,
            "results": [r.to_json() for r in self.results],
        }


def location_of(entry: TopicEntry) -> str:
    return f"{entry.roadmap.title} › Step {entry.step.number}: {entry.step.title} › {entry.topic.title}"


def next_topics(kb: KnowledgeBase, topic_id: str) -> list[TopicRef]:
    """Topics that list `topic_id` among their prerequisites, in roadmap order."""
    return [
        TopicRef(e.topic.id, e.topic.title, e.step.number)
        for e in kb.topics.values()
        if topic_id in e.topic.prerequisites
    ]


def topic_resources(kb: KnowledgeBase, entry: TopicEntry) -> list[Link]:
    links = []
    for resource_id in entry.topic.resources:
        resource = kb.resources[resource_id].resource
        links.append(Link(resource.title, str(resource.url), resource.description))
    return links


def _source_link(resource: Resource) -> str:
    """The roadmap's own link and why the tutor serves another, when it does; else nothing."""
    if resource.source_url is None:
        return ""
    return f"\nThe roadmap's own link: {resource.source_url}\n{resource.link_note}"


def closest_topics(kb: KnowledgeBase, results: list[Result], limit: int = 3) -> list[TopicRef]:
    seen: list[TopicRef] = []
    for result in results:
        entry = kb.topics.get(result.topic_id or "")
        if entry and all(ref.id != entry.topic.id for ref in seen):
            seen.append(TopicRef(entry.topic.id, entry.topic.title, entry.step.number))
    return seen[:limit]


def _problems_of(kb: KnowledgeBase, results: list[Result]) -> list[tuple[str, str]]:
    """(topic title, problem) for the common problems of the results' topics, best result first."""
    topics = dict.fromkeys(r.topic_id for r in results if r.topic_id in kb.topics)
    return [(kb.topics[t].topic.title, p) for t in topics for p in kb.topics[t].topic.common_problems]


@lru_cache(maxsize=4096)
def _symptom_words(problem: str) -> frozenset[str]:
    """The words of what a problem looks like to the learner: its symptom, not its cause and fix (a question
    about ReLU shares the fix's words of many problems without describing any of them)."""
    return frozenset(tokenize(symptom(problem) or problem.split(": ", 1)[0]))


def matching_problem(question: Question, problems: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The (topic, problem) whose symptom reads most like the question, if it shares enough of its words;
    on a tie, the earlier one (the better-ranked topic)."""
    asked = set(question.tokens)
    best, best_shared = None, 0
    for topic, problem in problems:
        shared = len(asked & _symptom_words(problem))
        if shared > best_shared:
            best, best_shared = (topic, problem), shared
    enough = best_shared >= PROBLEM_MIN_WORDS and best_shared >= PROBLEM_MIN_SHARE * len(asked)
    return best if enough else None


def _explain(kb: KnowledgeBase, document: Document) -> Section | None:
    """The knowledge text that explains one document."""
    if document.kind == "concept":
        entry = kb.concepts[document.id]
        return Section(entry.concept.title, entry.concept.explanation)
    if document.id in kb.topics:
        topic = kb.topics[document.id].topic
        return Section(topic.title, topic.explanation)
    if document.kind == "resource":
        resource = kb.resources[document.id].resource
        return Section(resource.title, f"{resource.description}\n{resource.url}{_source_link(resource)}")
    if document.kind == "roadmap":
        roadmap = kb.roadmap(document.roadmap or "")
        if roadmap is None:
            return None
        return _explain_next_steps(roadmap) if document.extra.get("next_steps") else _explain_roadmap(roadmap)
    if document.kind == "step":
        for roadmap in kb.roadmaps:
            for step in roadmap.steps:
                if step.id == document.id:
                    topics = "\n".join(f"• {t.title}: {t.summary}" for t in step.topics)
                    length = f"It takes {hours_text(step.hours)}."
                    return Section(f"Step {step.number}: {step.title}", f"{step.summary} {length}\n{topics}")
    prompt = kb.prompt(document.id)
    if prompt is not None:
        milestones = "\n".join(f"• {m}" for m in prompt.milestones)
        return Section(prompt.title, f"{prompt.brief}\n{milestones}")
    if document.kind == "note":
        return Section(document.title, str(document.extra.get("body", "")))
    return None


def _explain_roadmap(roadmap: Roadmap) -> Section:
    """A roadmap as a whole: what it is, what a learner will be able to do, what it builds on, its steps
    with their length and what comes after it."""
    lines = [roadmap.summary, "", "By the end of it you will:", *(f"• {goal}" for goal in roadmap.goals)]
    if roadmap.builds_on:
        lines += ["", f"Before you start: {roadmap.builds_on}"]
    lines += ["", f"Its steps ({hours_text(roadmap.hours)} in all):"]
    lines += [f"• Step {s.number}: {s.title} ({hours_text(s.hours)})" for s in roadmap.steps]
    if roadmap.next_roadmap:
        lines += ["", f"After it: {roadmap.next_roadmap.title}. {roadmap.next_roadmap.description}"]
    return Section(roadmap.title, "\n".join(lines))


def _explain_next_steps(roadmap: Roadmap) -> Section | None:
    """What comes after a roadmap, and what a learner should be able to do before moving on: its goals."""
    after = roadmap.next_roadmap
    if after is None:
        return None
    lines = [after.description, "", f"Ready to move on when, from the {roadmap.title}, you can:"]
    lines += [f"• {goal}" for goal in roadmap.goals]
    return Section(f"What comes after it: {after.title}", "\n".join(lines))


def compose_answer(
    kb: KnowledgeBase, asked: str, question: Question, results: list[Result], documents: dict[str, Document]
) -> Answer:
    """A full answer around the best result, with a second one when the question compares two. `asked` is
    the question as the learner wrote it, `question` as it was read for ranking."""
    top = documents[results[0].id]
    answer = Answer(question=asked, abstained=False, headline=top.title, results=results)
    first = _explain(kb, top)
    if first:
        answer.sections.append(first)
    if len(results) > 1 and question.intents.comparison:
        second = results[1]
        close = second.named or second.score >= results[0].score - COMPARISON_MARGIN
        if close and second.kind in {"concept", "topic"}:
            section = _explain(kb, documents[second.id])
            if section and section.title != (first.title if first else None):
                answer.sections.append(section)
                answer.headline = f"{top.title} and {documents[second.id].title}"
    entry = kb.topics.get(top.topic_id or "")
    if entry is not None:
        answer.topic_id = entry.topic.id
        answer.location = location_of(entry)
        problem = matching_problem(question, _problems_of(kb, results[:PROBLEM_TOPICS]))
        if problem is not None:  # the learner described a problem the knowledge knows: its fix comes first
            answer.sections.insert(0, Section(f"Sounds like a common problem ({problem[0]})", problem[1]))
        if top.kind == "concept":
            answer.sections.append(Section(f"Part of {entry.topic.title}", entry.topic.summary))
        answer.key_points = list(entry.topic.key_points)
        answer.resources = topic_resources(kb, entry)
        answer.next_topics = next_topics(kb, entry.topic.id)
    elif top.kind == "roadmap":
        roadmap = kb.roadmap(top.roadmap or "")
        answer.location = roadmap.title if roadmap is not None else top.title
    elif top.step is not None and top.roadmap is not None:
        roadmap = next(r for r in kb.roadmaps if r.id == top.roadmap)
        step = next(s for s in roadmap.steps if s.number == top.step)
        answer.location = f"{roadmap.title} › Step {step.number}: {step.title}"
        answer.resources = [Link(r.title, str(r.url), r.description) for r in step.resources]
    return answer


def not_covered_answer(
    kb: KnowledgeBase, asked: str, question: Question, results: list[Result], documents: dict[str, Document]
) -> Answer | None:
    """The answer to "does this roadmap cover X?" for a subject X beyond the roadmaps: the roadmap itself (of
    the best-ranked result whose roadmap lists subjects beyond it), saying X is not in it and what comes after
    it. None when the question names no such subject or no such roadmap is among the results."""
    if not question.beyond:
        return None
    subject = " ".join(question.typed[question.beyond[0].start : question.beyond[0].end])
    roadmaps = {r.id: r for r in kb.roadmaps}
    roadmap = next((roadmaps[r.roadmap] for r in results if r.roadmap in roadmaps and roadmaps[r.roadmap].beyond), None)
    if roadmap is None or roadmap.id not in documents:
        return None
    whole = documents[roadmap.id]
    first = Result(whole.id, whole.kind, whole.title, whole.step, whole.roadmap, results[0].score, whole.topic_id)
    answer = compose_answer(kb, asked, question, [first, *(r for r in results if r.id != whole.id)], documents)
    text = f"{roadmap.title} does not teach {subject}: it is beyond this roadmap."
    if roadmap.next_roadmap is not None:
        text += f" What comes after it: {roadmap.next_roadmap.description}"
    answer.sections.insert(0, Section("Not in this roadmap", text))
    return answer


def abstain_answer(kb: KnowledgeBase, question: str, results: list[Result], reason: str) -> Answer:
    closest = closest_topics(kb, results)
    explanation = ABSTAIN_EXPLANATIONS[reason]
    if reason == "empty":
        headline = "Ask me a question about the roadmap"
        example = next((t.title for r in kb.roadmaps for step in r.steps for t in step.topics), None)
        if example is not None:  # an example from the knowledge itself, whatever roadmap it holds
            explanation += f" Try something like: What is {example}, and when would I use it?"
    elif reason == "not_english":
        headline = "I can only read questions in English"
    elif reason == "beyond":
        headline = "That's beyond this roadmap"
        after = next((r.next_roadmap for r in kb.roadmaps if r.next_roadmap), None)
        if after is not None:
            explanation += f" What comes after this roadmap: {after.description}"
    else:
        headline = "I don't know that one"
    return Answer(
        question=question,
        abstained=True,
        headline=headline,
        results=results,
        closest=closest,
        reason=reason,
        explanation=explanation,
    )


ABSTAIN_EXPLANATIONS = {
    "empty": "Your message had no question in it.",
    "not_english": "I only understand questions written in English, so I would rather not guess at an answer.",
    "unknown": "That isn't covered by the roadmaps and notes I teach from, and I won't make up an answer.",
    "beyond": "The roadmaps I teach don't cover that subject, so I won't make up an answer.",
}


def render_text(answer: Answer) -> str:
    """The answer as plain Markdown, for a terminal, a DM or the JSON `answer` field."""
    lines: list[str] = []
    if answer.notice:
        lines += [f"_{answer.notice}_", ""]
    if answer.abstained:
        lines.append(f"**{answer.headline}.** {answer.explanation or ''}")
        if answer.closest:
            lines += ["", "The closest topics I do know:"]
            lines += [f"• {t.title} (step {t.step})" for t in answer.closest]
        return "\n".join(lines)
    lines.append(f"**{answer.headline}**")
    if answer.location:
        lines.append(f"Where it sits: {answer.location}")
    for section in answer.sections:
        lines += ["", f"__{section.title}__", section.text]
    if answer.key_points:
        lines += ["", "Key points:"] + [f"• {p}" for p in answer.key_points]
    if answer.resources:
        lines += ["", "Study with:"] + [f"• {r.title}: {r.url}" for r in answer.resources]
    if answer.next_topics:
        lines += ["", "Next: " + ", ".join(f"{t.title} (step {t.step})" for t in answer.next_topics)]
    return "\n".join(lines)
