"""With the real model, a roadmap an admin adds (no asked or declined questions of its own) declines a question
that reads like the general questions (`indexer.general`) more than like its knowledge, and still answers its
own subjects, including those that share words with the trap."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.answering import Answerer
from bot.answering.retrieval import confidence
from indexer.build import build_index
from indexer.encoders import Encoder
from indexer.search import SearchIndex
from knowledge.loader import load_knowledge

BEGINNER_ROADMAP = Path(__file__).resolve().parents[2] / "roadmaps" / "beginner-ai" / "knowledge"
# A subject next to the roadmap's field (it teaches neural networks, not generative models).
NEAR_MISS = "how do diffusion models make pictures out of noise"


@pytest.fixture(scope="module")
def beginner_alone(tmp_path_factory: pytest.TempPathFactory, real_encoder: Encoder) -> Answerer:
    kb = load_knowledge([BEGINNER_ROADMAP], include_shipped=False)
    assert not kb.declined and not kb.asked
    index_dir = tmp_path_factory.mktemp("beginner") / "index"
    build_index(kb, index_dir, real_encoder.name, lambda: real_encoder)
    return Answerer(kb, SearchIndex.load(index_dir), real_encoder)


def test_a_question_closer_to_the_general_questions_than_to_an_admins_roadmap_is_declined(
    beginner_alone: Answerer,
) -> None:
    retriever = beginner_alone._snapshot.retriever
    [found] = retriever.retrieve([NEAR_MISS], k=3)
    assert not found.evidence.examples and found.evidence.general > found.evidence.dense
    assert found.confidence < 0.5 and beginner_alone.answer(NEAR_MISS).abstained
    # Ranked the same without its closeness to the general questions, it would be judged far likelier in scope
    # (0.48 against 0.09 with the shipped calibration).
    vectors = retriever.encoder.encode([found.question.text])
    dense = retriever.index.dense_scores_for_ranking(vectors)
    without_general = retriever.rank(found.question, dense.ranked[0], dense.own[0], k=3).confidence
    assert without_general >= found.confidence + 0.25


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("predict who survived the titanic with logistic regression, which columns should i use", "titanic"),
        ("how do i predict house prices from the size and number of rooms", "house-prices"),
        # Derivatives and gradients are both concepts of Calculus: the topic or either concept answers.
        ("what is a derivative and why does gradient descent need it", "calculus"),
    ],
)
def test_the_roadmaps_own_questions_are_still_answered(beginner_alone: Answerer, question: str, entry: str) -> None:
    answer = beginner_alone.answer(question)
    first = answer.results[0]
    assert not answer.abstained and entry in (first.topic_id or first.id)


@pytest.mark.parametrize(
    "question",
    [
        "i finished everything, what now?",
        "i only know excel and never coded, is this roadmap ok for me?",
        "zero programming experience, i weld for a living. can i really start this?",
    ],
)
def test_a_question_about_the_roadmap_itself_is_answered_whatever_its_words(
    beginner_alone: Answerer, question: str
) -> None:
    answer = beginner_alone.answer(question)
    assert not answer.abstained and answer.results[0].id in {"beginner-ai", "beginner-ai/next-steps"}
    # Its words alone are nobody's field: judged by them, it would be declined.
    retriever = beginner_alone._snapshot.retriever
    [found] = retriever.retrieve([question], k=3)
    assert found.evidence.roadmap_itself
    calibration = retriever.calibration
    plain = replace(found.evidence, roadmap_itself=False)
    assert confidence("hybrid", plain, calibration.scope, calibration.fallback) < 0.5


def test_choosing_among_the_roadmaps_projects_is_answered_by_the_step_that_lists_them(beginner_alone: Answerer) -> None:
    question = (
        "i sort parcels at a depot and log each parcel's weight and route. "
        "which project of this roadmap is closest to predicting late deliveries?"
    )
    answer = beginner_alone.answer(question)
    retriever = beginner_alone._snapshot.retriever
    first = retriever.positions[answer.results[0].id]
    assert not answer.abstained and retriever.layout.project_steps[first]
    # The story's words are nobody's field: judged by them, it would be declined.
    [found] = retriever.retrieve([question], k=3)
    assert found.evidence.roadmap_itself
    calibration = retriever.calibration
    plain = replace(found.evidence, roadmap_itself=False)
    assert confidence("hybrid", plain, calibration.scope, calibration.fallback) < 0.5


@pytest.mark.parametrize(
    "question",
    [
        "finished my lasagna, what now?",
        "need a roadmap for a road trip from berlin to rome, which route",
        "can i really start my car when it is minus 20 outside?",
    ],
)
def test_a_question_that_asks_nothing_of_the_roadmap_is_still_declined(beginner_alone: Answerer, question: str) -> None:
    assert beginner_alone.answer(question).abstained
