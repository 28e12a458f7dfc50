"""Test doubles shared by the suites: a tiny deterministic encoder and a small valid roadmap."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from knowledge.loader import KnowledgeBase, check_quizzes
from knowledge.schema import QuizSet


class FakeEncoder:
    """Hashes words into a small vector: texts sharing words are similar, and it needs no model."""

    name = "fake-hash-encoder"
    dimension = 64

    def __init__(self) -> None:
        self.calls = 0
        self.texts_encoded = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts_encoded += len(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                slot = int(hashlib.blake2b(word.encode(), digest_size=4).hexdigest(), 16) % self.dimension
                vectors[row, slot] += 1.0
            vectors[row, -1] += 0.01  # never all zero
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def without_asked(kb: KnowledgeBase) -> KnowledgeBase:
    """The knowledge without its asked questions, for indexes built with `FakeEncoder`: to a word-hashing
    encoder the thousands of learners' questions resemble any question through its "what is" and "how do
    i", which would make its rankings noise."""
    return replace(kb, asked=[], declined=[])


def _explanation(subject: str) -> str:
    sentence = f"{subject} is explained here with enough words to satisfy the schema of the knowledge base. "
    return sentence * 7


def mini_roadmap(roadmap_id: str = "mini", prefix: str = "") -> dict[str, Any]:
    """A valid two-step roadmap about penguins and volcanoes, far from the real roadmap's words."""

    def topic(topic_id: str, title: str, prerequisites: list[str], concepts: list[tuple[str, str]]) -> dict:
        return {
            "id": prefix + topic_id,
            "title": title,
            "summary": f"All about {title.lower()} for the test roadmap.",
            "explanation": _explanation(title),
            "key_points": [f"{title} point one", f"{title} point two"],
            "aliases": [title.lower() + " stuff"],
            "prerequisites": [prefix + p for p in prerequisites],
            "hours": 2,
            "resources": [prefix + "field-guide"] if topic_id == "penguins" else [],
            "concepts": [
                {"id": prefix + cid, "title": ctitle, "aliases": [], "explanation": _explanation(ctitle)}
                for cid, ctitle in concepts
            ],
        }

    return {
        "id": roadmap_id,
        "title": "Mini Roadmap",
        "level": "beginner",
        "summary": "A tiny roadmap used by the tests.",
        "goals": ["Know penguins and volcanoes"],
        "steps": [
            {
                "number": 1,
                "id": prefix + "birds",
                "title": "Birds of the south",
                "summary": "Penguins and their habits in the cold south.",
                "topics": [
                    topic("penguins", "Penguins", [], [("emperor-penguin", "Emperor Penguin")]),
                    topic("albatross", "Albatross", ["penguins"], []),
                ],
                "resources": [
                    {
                        "id": prefix + "field-guide",
                        "title": "Field Guide to Penguins",
                        "url": "https://example.org/penguins",
                        "kind": "book",
                        "description": "A field guide that shows every penguin species with photographs and maps.",
                        "serves": [prefix + "penguins"],
                    }
                ],
            },
            {
                "number": 2,
                "id": prefix + "geology",
                "title": "Volcanoes",
                "summary": "How volcanoes erupt and where magma comes from.",
                "topics": [topic("volcanoes", "Volcanoes", ["albatross"], [("magma", "Magma Chambers")])],
            },
        ],
    }


def write_mini_roadmap(directory: Path, data: dict[str, Any] | None = None, name: str = "mini.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(yaml.safe_dump(data or mini_roadmap(), sort_keys=False), encoding="utf-8")
    return path


def second_roadmap() -> dict:
    """The mini roadmap, renamed, with a topic that shares its title with one of the shipped roadmap's."""
    data = mini_roadmap("second", "s-")
    data["title"] = "Second Roadmap"
    data["aliases"] = ["the penguin roadmap"]
    data["steps"][1]["topics"][0]["title"] = "Regularization"  # the shipped roadmap has one too
    return data


def second_prompts() -> dict:
    return {
        "prompts": [
            {
                "id": "s-penguin-census",
                "title": "Count the penguins",
                "difficulty": "easy",
                "brief": "Count the penguins of one colony from photographs, and report how the count changed "
                "over three seasons.",
                "milestones": ["Collect photographs", "Count each season", "Write the report"],
                "datasets": ["Your own photographs"],
                "stretch_goals": ["Count albatrosses too"],
                "topics": ["s-penguins"],
            }
        ]
    }


def write_second_roadmap(directory: Path) -> Path:
    """A knowledge folder holding `second_roadmap` and its weekly prompt, to load beside the shipped roadmap."""
    write_mini_roadmap(directory, second_roadmap(), "second.yaml")
    (directory / "second-prompts.yaml").write_text(yaml.safe_dump(second_prompts()), encoding="utf-8")
    return directory


def mini_quiz(roadmap_id: str = "mini") -> dict[str, Any]:
    """A valid quiz file for `mini_roadmap`: two questions on penguins, one on volcanoes."""

    def question(text: str, concept: str | None = None) -> dict[str, Any]:
        item: dict[str, Any] = {
            "question": text,
            "choices": ["They huddle together", "They fly north", "They dig burrows in the ice"],
            "answer": 0,
            "why": "Huddling shares body heat, so the group loses less of it to the wind.",
            "tempting": 1,
            "why_not": "Penguins cannot fly; they stay and breed through the winter.",
        }
        if concept:
            item["concept"] = concept
        return item

    return {
        "roadmap": roadmap_id,
        "topics": {
            "penguins": [
                question("How do emperor penguins survive the winter storms?", "emperor-penguin"),
                question("What do penguins do when the wind blows at minus forty?"),
            ],
            "volcanoes": [
                {
                    "question": "Where does the molten rock of an eruption wait before it rises?",
                    "choices": ["In a magma chamber", "In the ocean", "In the clouds", "In a glacier"],
                    "answer": 0,
                    "why": "Magma collects in a chamber under the volcano until pressure pushes it up.",
                    "tempting": 3,
                    "why_not": "Glaciers sit on some volcanoes, but they hold ice, not molten rock.",
                    "concept": "magma",
                }
            ],
        },
    }


def write_mini_quiz(directory: Path, data: dict[str, Any] | None = None, name: str = "quiz.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(yaml.safe_dump(data or mini_quiz(), sort_keys=False), encoding="utf-8")
    return path


TEST_QUIZZES = Path(__file__).resolve().parent / "quizzes" / "intermediate.yaml"


def with_test_quizzes(kb: KnowledgeBase, path: Path = TEST_QUIZZES) -> KnowledgeBase:
    """The knowledge with the test quiz questions only, checked against its roadmaps: tests count on exactly
    these, whatever the shipped quiz file holds."""
    quiz = QuizSet.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    return replace(kb, quizzes=check_quizzes(kb.roadmaps, [(path, quiz)]))
