"""How a taught question ranks, with the real model: the question and close paraphrases get the taught entry first
and are answered (a declined question too), in the server that taught it; nothing else changes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.answering import Answerer
from bot.answering.taught import TAUGHT_MATCH
from bot.teaching import Teacher
from indexer.encoders import Encoder
from indexer.search import SearchIndex
from knowledge.loader import KnowledgeBase

pytestmark = [pytest.mark.model]

HERE, ELSEWHERE = 111, 222
DECLINED = "where can i rent a gpu cheaply"
ENTRY = "aws-sagemaker"  # not the first result before teaching: Cloud Platforms is
PARAPHRASES = ["where can I rent a cheap GPU?", "where could i rent gpus cheaply", "any cheap places to rent gpus"]
UNRELATED = ["what is lasso", "how do i rent a car cheaply", "who painted the Mona Lisa?", "adam vs sgd"]


@pytest.fixture
def answerer(shipped_kb: KnowledgeBase, real_encoder: Encoder, real_data_dir: Path) -> Answerer:
    """An answerer of its own: what is taught here must not reach the answerer other tests share."""
    return Answerer(shipped_kb, SearchIndex.load(real_data_dir / "index"), real_encoder)


def confidence(answerer: Answerer, question: str, guild: int | None) -> tuple[float, float]:
    retriever = answerer._snapshot.retriever
    (found,) = retriever.retrieve([question], 5, "hybrid", None, answerer.taught, guild)
    return found.confidence, found.evidence.taught


def test_a_question_taught_in_a_server_is_answered_there_with_its_entry_and_nowhere_else(
    answerer: Answerer, tmp_path: Path
) -> None:
    before = {
        (q, guild): answerer.answer(q, guild=guild)
        for q in [DECLINED, *PARAPHRASES, *UNRELATED]
        for guild in (HERE, ELSEWHERE, None)
    }
    # Declined until the declined examples (issue 13) placed it among the asked questions about cloud GPUs;
    # it is answered with Cloud Platforms since. Either way, not with the entry taught below.
    assert before[DECLINED, HERE].results[0].id != ENTRY

    Teacher(tmp_path / "taught.yaml", lambda: answerer.kb, answerer).teach(DECLINED, ENTRY, HERE, datetime.now(UTC))

    taught = answerer.answer(DECLINED, guild=HERE)
    assert not taught.abstained and taught.results[0].id == ENTRY and taught.headline == "AWS SageMaker"
    score, match = confidence(answerer, DECLINED, HERE)
    assert match > 0.99 and score > 0.99  # the confidence says why: a taught match in this server
    for paraphrase in PARAPHRASES:
        answer = answerer.answer(paraphrase, guild=HERE)
        assert not answer.abstained and answer.results[0].id == ENTRY, paraphrase
        assert confidence(answerer, paraphrase, HERE)[1] > TAUGHT_MATCH
    for (question, guild), earlier in before.items():
        if guild == HERE and question in (DECLINED, *PARAPHRASES):
            continue
        now = answerer.answer(question, guild=guild)
        assert (now.abstained, [r.id for r in now.results]) == (
            earlier.abstained,
            [r.id for r in earlier.results],
        ), (question, guild)
    assert confidence(answerer, DECLINED, ELSEWHERE)[1] == -1.0  # nothing taught applies there


def test_a_question_taught_for_every_server_applies_everywhere(answerer: Answerer, tmp_path: Path) -> None:
    Teacher(tmp_path / "taught.yaml", lambda: answerer.kb, answerer).teach(DECLINED, ENTRY, None, datetime.now(UTC))
    for guild in (HERE, ELSEWHERE, 0, None):
        answer = answerer.answer(DECLINED, guild=guild)
        assert not answer.abstained and answer.results[0].id == ENTRY, guild
