"""Turn the knowledge base into searchable documents: steps, topics, concepts, resources, projects, notes."""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from knowledge.loader import KnowledgeBase
from knowledge.schema import Concept, Roadmap

DocumentKind = Literal["roadmap", "step", "topic", "concept", "resource", "project", "note"]


@dataclass(frozen=True)
class Document:
    """One searchable unit. `passages` are what gets embedded; `topic_id` ties it to a topic.

    `names` are the words a learner would type to name this document (its title and aliases), matched
    against questions word for word and with typos; a name that belongs to one of a topic's concepts is
    left off the topic, so that a question naming the concept finds the concept first.
    """

    id: str
    kind: DocumentKind
    title: str
    roadmap: str | None
    step: int | None
    topic_id: str | None
    passages: tuple[str, ...]
    keywords: str = ""
    url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    names: tuple[str, ...] = ()
    # How many of the passages, before the asked ones, are symptoms of common problems: they rank, but
    # confidence is judged without them (see SearchIndex.dense_scores).
    symptom_passages: int = 0
    # How many of the passages, at the end, are questions learners asked that this document answers
    # (`knowledge.schema.AskedQuestion`): a new question worded like one of them gains rank, never
    # confidence, and never BM25 weight (see SearchIndex.dense_scores and bot.answering.retrieval).
    asked_passages: int = 0

    @property
    def own_passages(self) -> tuple[str, ...]:
        """The passages written about the document itself: neither symptoms nor asked questions."""
        return self.passages[: len(self.passages) - self.symptom_passages - self.asked_passages]

    @property
    def own_text(self) -> str:
        """Everything written about the document itself, in one text: its title, keywords and own passages. The
        knowledge's words (BM25, the typo corrector, word salience, the everyday words) are read from it."""
        return " ".join([self.title, self.keywords, *self.own_passages])

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["passages"] = list(self.passages)
        data["names"] = list(self.names)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Document:
        return cls(**{**data, "passages": tuple(data["passages"]), "names": tuple(data.get("names", ()))})


def distinct_passages(texts: list[str]) -> tuple[list[int], list[int]]:
    """Where each distinct text first occurs, and each text's number among the distinct ones: an asked
    question that several entries answer is a passage of each, yet embedded and held once."""
    number: dict[str, int] = {}
    first: list[int] = []
    numbers = []
    for row, text in enumerate(texts):
        if text not in number:
            number[text] = len(first)
            first.append(row)
        numbers.append(number[text])
    return first, numbers


def _names(title: str, aliases: tuple[str, ...] | list[str]) -> str:
    return "; ".join([title, *aliases])


def _unique(names: list[str], taken: Collection[str] = ()) -> tuple[str, ...]:
    """Names without repeats (ignoring case), leaving out those in `taken`."""
    seen = {n.casefold() for n in taken}
    kept = []
    for name in names:
        if name.strip() and name.casefold() not in seen:
            seen.add(name.casefold())
            kept.append(name)
    return tuple(kept)


# A problem's symptom ends at the first ": " that does not follow an error's class name ("RuntimeError: ...").
_CAUSE = re.compile(r"(?<!Error)(?<!Warning)(?<!Exception): ")
# A shorter lead is an error's name or a label, not a symptom a learner would describe.
SYMPTOM_MIN_WORDS = 4


def symptom(problem: str) -> str | None:
    """What a common problem looks like to the learner: its text before the cause ("Loss becomes nan after a
    few batches" of "Loss becomes nan after a few batches: usually the learning rate ..."); None when it has
    no separate symptom."""
    parts = _CAUSE.split(problem, maxsplit=1)
    if len(parts) < 2 or len(parts[0].split()) < SYMPTOM_MIN_WORDS:
        return None
    return parts[0]


def _problem_passages(title: str, problems: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A passage per problem, so that a learner's description meets the entry that names it, and one per
    problem's symptom alone, which the cause and fix would otherwise drown for the encoder (a paraphrase of
    "the classifier predicts only the majority class" scores 0.40 against the whole problem)."""
    return (
        tuple(f"{title}: {problem}" for problem in problems),
        tuple(f"{title}: {lead}" for lead in map(symptom, problems) if lead),
    )


_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
_CARDINALS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _step_numbers(number: int) -> list[str]:
    """How learners name step 3: "step 3", "step three", "the third step"."""
    if not 1 <= number <= len(_ORDINALS):
        return [f"step {number}"]
    return [f"step {number}", f"step {_CARDINALS[number - 1]}", f"{_ORDINALS[number - 1]} step"]


def hours_text(hours: float) -> str:
    """A duration as learners say it: "about 36 hours"."""
    return f"about {hours:g} hours"


def _roadmap_document(roadmap: Roadmap) -> Document:
    """The roadmap as a whole: what it is, its goals, what it builds on and its steps' lengths, each a passage,
    so that "what will I be able to do after this" or "how long is the whole thing" finds it. What comes after
    it is an entry of its own (`_next_steps_document`). It carries the roadmap's shorthand for the index (see
    `SearchIndex`)."""
    # Steps by number only: their titles' words belong to the steps, not to the roadmap as a whole.
    steps = "; ".join(f"step {s.number}, {hours_text(s.hours)}" for s in roadmap.steps)
    passages = [
        f"{_names(roadmap.title, roadmap.aliases)}. {roadmap.summary}",
        f"{roadmap.title}, goals: by the end of this roadmap you will: " + " ".join(roadmap.goals),
        f"{roadmap.title}, how long it takes, {hours_text(roadmap.hours)} in all: {steps}.",
    ]
    if roadmap.builds_on:
        passages.append(f"{roadmap.title}, before you start, what it builds on and assumes: {roadmap.builds_on}")
    return Document(
        id=roadmap.id,
        kind="roadmap",
        title=roadmap.title,
        roadmap=roadmap.id,
        step=None,
        topic_id=None,
        passages=tuple(passages),
        keywords=" ".join([roadmap.title, *roadmap.aliases, "roadmap goals"]),
        names=_unique([roadmap.title, *_short_titles(roadmap.title), *roadmap.aliases]),
        extra={"shorthand": dict(roadmap.shorthand)} if roadmap.shorthand else {},
    )


def _next_steps_document(roadmap: Roadmap) -> Document | None:
    """What comes after a roadmap, an entry of its own as it is a section of its own in a roadmap's text:
    "is there an advanced roadmap?" or "finished all the steps, what now?" is answered by what follows, not
    by the overview. Named by the next roadmap's title; `extra["next_steps"]` marks it for ranking. None when
    nothing comes after the roadmap."""
    after, entry_id, title = roadmap.next_roadmap, roadmap.next_steps_id, roadmap.next_steps_title
    if after is None or entry_id is None or title is None:
        return None
    return Document(
        id=entry_id,
        kind="roadmap",
        title=title,
        roadmap=roadmap.id,
        step=None,
        topic_id=None,
        passages=(
            f"{roadmap.title}, next steps, what comes after this roadmap: {after.title}. {after.description}",
            f"Finished every step of the {roadmap.title}? What to learn next: the {after.title}.",
        ),
        keywords=" ".join([after.title, "next steps"]),
        names=_unique([after.title, *_short_titles(after.title)]),
        extra={"next_steps": True},
    )


def _short_titles(title: str) -> list[str]:
    """What learners call a roadmap for short: its title before " for " or a colon ("Beginner Roadmap" of
    "Beginner Roadmap for AI Engineering")."""
    short = re.split(r"\s+for\s+|:\s*", title, maxsplit=1)[0].strip()
    return [short] if short and short != title and len(short.split()) >= 2 else []


def build_documents(kb: KnowledgeBase) -> list[Document]:
    """Every document, in a stable order so that identical knowledge gives an identical index."""
    docs: list[Document] = []
    for roadmap in kb.roadmaps:
        docs.append(_roadmap_document(roadmap))
        if (after := _next_steps_document(roadmap)) is not None:
            docs.append(after)
        for step in roadmap.steps:
            topic_titles = ", ".join(t.title for t in step.topics)
            docs.append(
                Document(
                    id=step.id,
                    kind="step",
                    title=f"Step {step.number}: {step.title}",
                    roadmap=roadmap.id,
                    step=step.number,
                    topic_id=None,
                    passages=(
                        f"{roadmap.title}, step {step.number}: {step.title}. {step.summary} Topics: {topic_titles}.",
                        f"How long step {step.number} ({step.title}) takes: {hours_text(step.hours)}.",
                    ),
                    keywords=" ".join([f"step {step.number}", step.title, *step.aliases, topic_titles]),
                    names=_unique([*_step_numbers(step.number), step.title, *step.aliases]),
                )
            )
            for topic in step.topics:
                names = _names(topic.title, topic.aliases)
                concept_names = {n for c in topic.concepts for n in (c.title, *c.aliases)}
                problems, symptoms = _problem_passages(topic.title, topic.common_problems)
                docs.append(
                    Document(
                        id=topic.id,
                        kind="project" if topic.kind == "project" else "topic",
                        title=topic.title,
                        roadmap=roadmap.id,
                        step=step.number,
                        topic_id=topic.id,
                        passages=(
                            f"{names}. {topic.summary}",
                            f"{topic.title}. " + " ".join(topic.key_points),
                            *_sentence_chunks(topic.title, topic.explanation),
                            *problems,
                            *symptoms,  # last: see Document.symptom_passages
                        ),
                        keywords=" ".join(
                            [
                                names,
                                topic.summary,
                                *(c.title for c in topic.concepts),
                                *(a for c in topic.concepts for a in c.aliases),
                            ]
                        ),
                        names=_unique([topic.title, *topic.aliases], concept_names),
                        # A tutorial topic is a step-by-step guide: material, when a question asks for some.
                        extra={"tutorial": True} if topic.kind == "tutorial" else {},
                        symptom_passages=len(symptoms),
                    )
                )
                for concept in topic.concepts:
                    names = _names(concept.title, concept.aliases)
                    # The topic's problems that name this concept answer for it too.
                    concept_problems, concept_symptoms = _problem_passages(
                        concept.title, [p for p in topic.common_problems if _names_in(p, concept)]
                    )
                    docs.append(
                        Document(
                            id=concept.id,
                            kind="concept",
                            title=concept.title,
                            roadmap=roadmap.id,
                            step=step.number,
                            topic_id=topic.id,
                            passages=(
                                f"{names} ({topic.title})",
                                *_sentence_chunks(concept.title, concept.explanation),
                                *concept_problems,
                                *concept_symptoms,
                            ),
                            keywords=f"{names} {topic.title}",
                            names=_unique([concept.title, *concept.aliases]),
                            symptom_passages=len(concept_symptoms),
                        )
                    )
            for resource in step.resources:
                served = ", ".join(kb.topics[t].topic.title for t in resource.serves if t in kb.topics)
                docs.append(
                    Document(
                        id=resource.id,
                        kind="resource",
                        title=resource.title,
                        roadmap=roadmap.id,
                        step=step.number,
                        topic_id=resource.serves[0] if resource.serves else None,
                        # The note on a replaced link answers "the roadmap's link is broken".
                        passages=(
                            f"{resource.title} ({resource.kind}) for learning {served}. {resource.description}"
                            + (f" {resource.link_note}" if resource.link_note else ""),
                        ),
                        keywords=f"{resource.title} {resource.kind} {served} resource",
                        url=str(resource.url),
                        # Every topic it serves and its kind, so that a request for material ("a book on
                        # ensembles") can reach it through any of them and prefer the kind asked for.
                        extra={"serves": list(resource.serves), "resource_kind": resource.kind},
                        names=_unique(
                            [*_resource_names(resource.title, resource.kind, resource.description), *resource.aliases]
                        ),
                    )
                )
    for prompt in kb.prompts:
        topics = ", ".join(kb.topics[t].topic.title for t in prompt.topics)
        summary = prompt.id.replace("-", " ")
        docs.append(
            Document(
                id=prompt.id,
                kind="project",
                title=prompt.title,
                # A weekly prompt belongs to the roadmap whose topics it practises.
                roadmap=kb.prompt_roadmap(prompt).id,
                step=None,
                topic_id=prompt.topics[0],
                # Like a topic's names passage, a short passage of what the project is, so that a
                # short request ("a tabular project") is not diluted by the brief. The id is a
                # hand-written summary of the prompt ("tabular-tuning-and-ensembles").
                passages=(
                    f"Project idea: {prompt.title} ({summary}). Practises {topics}.",
                    f"Project idea: {prompt.title}. Practises {topics}. {prompt.brief}",
                ),
                keywords=f"project idea {prompt.title} {summary} {topics}",
                extra={"weekly_prompt": True, "serves": list(prompt.topics)},
                names=(prompt.title,),
            )
        )
    for note in kb.notes:
        topic = kb.topics.get(note.topics[0]) if note.topics else None
        step = note.step if note.step is not None else (topic.step.number if topic else None)
        roadmap = note.roadmap or (topic.roadmap.id if topic else None)
        docs.append(
            Document(
                id=note.id,
                kind="note",
                title=note.title,
                roadmap=roadmap,
                step=step,
                topic_id=note.topics[0] if note.topics else None,
                passages=(f"{_names(note.title, note.aliases)}", *_chunks(note.body)),
                keywords=_names(note.title, note.aliases),
                extra={"body": note.body},
                names=_unique([note.title, *note.aliases]),
            )
        )
    return _with_asked_questions(docs, kb)


def _with_asked_questions(docs: list[Document], kb: KnowledgeBase) -> list[Document]:
    """The documents with the questions that each answers appended as its last passages."""
    asked: dict[str, list[str]] = {}
    for question in kb.asked:
        for answer in dict.fromkeys(question.answers):
            asked.setdefault(answer, []).append(question.q)
    return [
        replace(d, passages=(*d.passages, *asked[d.id]), asked_passages=len(asked[d.id])) if d.id in asked else d
        for d in docs
    ]


# Learners call a book by its author ("the Chollet book", "Géron's book"): the surname in "François
# Chollet's book" at the start of its description, or in "... by Ian Goodfellow" in its title.
_AUTHOR = re.compile(r"\b([A-Z][^\W\d_]+)'s\b|\bby (?:[A-Z][^\W\d_]+ )*([A-Z][^\W\d_]+)$")


# What a title adds after the work's own name: a closing parenthesis ("Pro Git (book)", "... (Coursera)") and
# its author ("Python for Data Analysis by Wes McKinney").
_PARENTHESIS_AFTER = re.compile(r"\s*\([^()]*\)\s*$")
_BY_AUTHOR = re.compile(r"\s+by\s+[A-Z][^\W\d_]+\.?(?:\s+[A-Z][^\W\d_]+\.?)+\s*$")


def _resource_names(title: str, kind: str, description: str) -> tuple[str, ...]:
    """A resource's title, its short name before a colon ("CS231n"), the work's name without what the title adds
    after it ("Pro Git", "Python for Data Analysis"), and a book's author's surname."""
    names = [title]
    if ":" in title:
        names.append(title.split(":", 1)[0])
    work = _BY_AUTHOR.sub("", _PARENTHESIS_AFTER.sub("", title))
    if work and work != title:
        names.append(work)
    if kind == "book":
        for text in (title, description.split(".")[0]):
            names += [a or b for a, b in _AUTHOR.findall(text)]
    return _unique(names)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(])")
# The encoder reads about 128 word pieces well (it was trained on short texts) and cuts inputs at 256,
# so a long explanation is embedded as several sentence groups of at most this many words, each led by
# its subject, so that a question about its third sentence still finds it.
CHUNK_WORDS = 80


def _names_in(text: str, concept: Concept) -> bool:
    """Whether `text` names the concept (its title or an alias, as a whole word, any case)."""
    return bool(_name_pattern((concept.title, *concept.aliases)).search(text))


@functools.lru_cache(maxsize=1024)
def _name_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for all of a concept's names, compiled once: start-up builds the documents every time."""
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?!\w)", re.IGNORECASE)


def _sentence_chunks(subject: str, text: str, words: int = CHUNK_WORDS) -> list[str]:
    """Whole sentences grouped up to `words` words, each group prefixed with `subject`."""
    chunks: list[str] = []
    current: list[str] = []
    for sentence in _SENTENCE_END.split(" ".join(text.split())):
        if current and len(" ".join([*current, sentence]).split()) > words:
            chunks.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        chunks.append(" ".join(current))
    return [f"{subject}: {chunk}" for chunk in chunks]


def _chunks(text: str, words: int = 150) -> list[str]:
    """Split long note bodies so that each chunk fits the encoder's window."""
    tokens = text.split()
    return [" ".join(tokens[i : i + words]) for i in range(0, len(tokens), words)] or [text]
