"""Quiz files: a valid one loads beside its roadmap, a broken one names its file, field and reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from indexer.build import build_index
from indexer.documents import build_documents
from knowledge.loader import KnowledgeError, load_knowledge, quiz_key
from tests.fakes import FakeEncoder, mini_quiz, write_mini_quiz, write_mini_roadmap


def _load_with(tmp_path: Path, quiz: dict[str, Any]) -> Path:
    write_mini_roadmap(tmp_path)
    return write_mini_quiz(tmp_path, quiz)


def _error(tmp_path: Path, quiz: dict[str, Any]) -> str:
    path = _load_with(tmp_path, quiz)
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge([tmp_path], include_shipped=False)
    assert caught.value.path == path
    return str(caught.value)


def test_a_valid_quiz_file_loads_its_questions_by_topic(tmp_path: Path) -> None:
    _load_with(tmp_path, mini_quiz())
    kb = load_knowledge([tmp_path], include_shipped=False)
    assert sorted(kb.quizzes) == ["penguins", "volcanoes"]
    first = kb.quizzes["penguins"][0]
    assert first.item.answer == 0 and first.item.concept == "emperor-penguin"
    assert kb.quiz_question(first.key) is first
    assert first.key == quiz_key("penguins", "How do emperor penguins survive the winter storms?")


def test_the_key_of_a_question_ignores_spacing_but_not_wording() -> None:
    assert quiz_key("t", "What  is\nthis?") == quiz_key("t", "What is this?")
    assert quiz_key("t", "What is this?") != quiz_key("t", "What is that?")
    assert quiz_key("t", "What is this?") != quiz_key("u", "What is this?")


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (lambda q: q.update(tempting=0), "topics.penguins[1].tempting", "must be a wrong one"),
        (lambda q: q.update(answer=3), "topics.penguins[1].answer", "0 to 2, got 3"),
        (lambda q: q.update(tempting=-1), "topics.penguins[1].tempting", "0 to 2, got -1"),
        (lambda q: q.update(choices=["Yes", "No"]), "topics.penguins[1].choices", "at least 3"),
        (lambda q: q.update(choices=["a", "b", "c", "d", "e", "f"]), "topics.penguins[1].choices", "at most 5"),
        (lambda q: q.update(choices=["Huddle", "Fly", " huddle "]), "topics.penguins[1].choices", "0 and 2 are"),
        (lambda q: q.update(choices=["x" * 201, "b", "c"]), "topics.penguins[1].choices", "1 to 200 characters"),
        (lambda q: q.update(question="Why?"), "topics.penguins[1].question", "at least 15"),
        (lambda q: q.update(why="Because."), "topics.penguins[1].why", "at least 20"),
        (lambda q: q.update(why_not="x" * 601), "topics.penguins[1].why_not", "at most 600"),
        (lambda q: q.pop("why_not"), "topics.penguins[1].why_not", "Field required"),
        (lambda q: q.update(hint="think"), "topics.penguins[1].hint", "unknown field"),
        (lambda q: q.update(concept="magma"), "topics.penguins[1].concept", "not a concept of topic 'penguins'"),
    ],
)
def test_a_broken_question_names_its_file_and_field(tmp_path: Path, change: Any, field: str, reason: str) -> None:
    quiz = mini_quiz()
    change(quiz["topics"]["penguins"][1])
    message = _error(tmp_path, quiz)
    assert f": {field}: " in message and reason in message and "Value error" not in message, message


def test_an_unknown_topic_or_roadmap_is_refused(tmp_path: Path) -> None:
    quiz = mini_quiz()
    quiz["topics"]["unicorns"] = quiz["topics"].pop("volcanoes")
    assert "topics.unicorns: not a topic of roadmap 'mini'" in _error(tmp_path, quiz)
    quiz = mini_quiz("elsewhere")
    assert "roadmap: unknown roadmap id 'elsewhere' (loaded: mini)" in _error(tmp_path, quiz)


def test_a_topic_without_questions_and_a_question_asked_twice_are_refused(tmp_path: Path) -> None:
    quiz = mini_quiz()
    quiz["topics"]["volcanoes"] = []
    assert "topics.volcanoes: List should have at least 1 item" in _error(tmp_path, quiz)
    quiz = mini_quiz()
    quiz["topics"]["penguins"].append(dict(quiz["topics"]["penguins"][0]))
    assert "topics.penguins[2].question: the same question as topics.penguins[0]" in _error(tmp_path, quiz)


def test_quizzes_are_not_documents_and_changing_them_does_not_rebuild_the_index(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    write_mini_roadmap(knowledge)
    encoder = FakeEncoder()
    built = build_index(load_knowledge([knowledge], False), tmp_path / "index", encoder.name, lambda: encoder)
    assert not built.reused
    path = write_mini_quiz(knowledge)
    kb = load_knowledge([knowledge], False)
    passages = " ".join(p for d in build_documents(kb) for p in d.passages)
    assert kb.quizzes and "minus forty" not in passages and "Glaciers" not in passages
    assert build_index(kb, tmp_path / "index", encoder.name, lambda: encoder).reused
    path.write_text(path.read_text().replace("minus forty", "minus fifty"))
    assert build_index(load_knowledge([knowledge], False), tmp_path / "index", encoder.name, lambda: encoder).reused


def test_every_topic_of_the_shipped_roadmap_has_at_least_six_questions() -> None:
    kb = load_knowledge()
    topics = [t.id for s in kb.roadmaps[0].steps for t in s.topics]
    assert len(topics) == 21
    assert {topic: len(kb.quizzes.get(topic, ())) for topic in topics if len(kb.quizzes.get(topic, ())) < 6} == {}
