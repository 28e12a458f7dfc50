"""Turn the knowledge base into searchable documents: steps, topics, concepts, resources, projects, notes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from knowledge.loader import KnowledgeBase

DocumentKind = Literal["step", "topic", "concept", "resource", "project", "note"]


@dataclass(frozen=True)
class Document:
    """One searchable unit. `passages` are what gets embedded; `topic_id` ties it to a topic."""

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

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["passages"] = list(self.passages)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Document:
        return cls(**{**data, "passages": tuple(data["passages"])})


def _names(title: str, aliases: tuple[str, ...] | list[str]) -> str:
    return "; ".join([title, *aliases])


def build_documents(kb: KnowledgeBase) -> list[Document]:
    """Every document, in a stable order so that identical knowledge gives an identical index."""
    docs: list[Document] = []
    for roadmap in kb.roadmaps:
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
                    passages=(f"{roadmap.title}, step {step.number}: {step.title}. {step.summary} Topics: {topic_titles}.",),
                    keywords=f"step {step.number} {step.title} {topic_titles}",
                )
            )
            for topic in step.topics:
                names = _names(topic.title, topic.aliases)
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
                            f"{topic.title}: {topic.explanation}",
                        ),
                        keywords=" ".join([names, topic.summary, *(c.title for c in topic.concepts), *(a for c in topic.concepts for a in c.aliases)]),
                    )
                )
                for concept in topic.concepts:
                    names = _names(concept.title, concept.aliases)
                    docs.append(
                        Document(
                            id=concept.id,
                            kind="concept",
                            title=concept.title,
                            roadmap=roadmap.id,
                            step=step.number,
                            topic_id=topic.id,
                            passages=(f"{names} ({topic.title})", f"{concept.title}: {concept.explanation}"),
                            keywords=f"{names} {topic.title}",
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
                        passages=(f"{resource.title} ({resource.kind}) for learning {served}. {resource.description}",),
                        keywords=f"{resource.title} {resource.kind} {served} resource",
                        url=str(resource.url),
                    )
                )
    for prompt in kb.prompts:
        topics = ", ".join(kb.topics[t].topic.title for t in prompt.topics)
        docs.append(
            Document(
                id=prompt.id,
                kind="project",
                title=prompt.title,
                roadmap=None,
                step=None,
                topic_id=prompt.topics[0],
                passages=(f"Project idea: {prompt.title}. Practises {topics}. {prompt.brief}",),
                keywords=f"project idea {prompt.title} {topics}",
                extra={"weekly_prompt": True},
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
            )
        )
    return docs


def _chunks(text: str, words: int = 150) -> list[str]:
    """Split long note bodies so that each chunk fits the encoder's window."""
    tokens = text.split()
    return [" ".join(tokens[i : i + words]) for i in range(0, len(tokens), words)] or [text]
