"""Retrieve, decide, compose: the tutor's answering, runnable without Discord."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from bot.answering.calibration import CALIBRATION_FILE, SHIPPED_CALIBRATION, Calibration, load_calibration
from bot.answering.compose import Answer, abstain_answer, compose_answer, not_covered_answer
from bot.answering.followup import AnswerContext, retrieve_in_context
from bot.answering.normalise import MAX_QUESTION_CHARS, clean_question
from bot.answering.retrieval import DEFAULT_MIN_CONFIDENCE, Mode, Retriever
from bot.answering.taught import TaughtPassages
from bot.progress.recommend import topics_after
from indexer.documents import Document
from indexer.encoders import Encoder
from indexer.search import SearchIndex
from knowledge.loader import KnowledgeBase

log = logging.getLogger(__name__)


def calibration_of(index: SearchIndex) -> Calibration:
    """The calibration an index was built with (kept in its folder), else the shipped one."""
    recorded = index.path / CALIBRATION_FILE
    return load_calibration(recorded if recorded.exists() else SHIPPED_CALIBRATION)


@dataclass(frozen=True)
class Snapshot:
    """Knowledge and the index built from it, always replaced together."""

    kb: KnowledgeBase
    retriever: Retriever
    documents: dict[str, Document]


class Answerer:
    """Answers questions from one knowledge snapshot; `swap` replaces it in a single assignment.

    `taught` holds the questions admins taught (`bot.teaching`), beside the snapshot: a reindex keeps them, and
    teaching one replaces them in a single assignment too."""

    def __init__(
        self,
        kb: KnowledgeBase,
        index: SearchIndex,
        encoder: Encoder,
        top_k: int = 5,
        min_confidence: float | None = None,
    ) -> None:
        self.top_k = top_k
        self.min_confidence = DEFAULT_MIN_CONFIDENCE if min_confidence is None else min_confidence
        self.encoder = encoder
        # `roadmap-tutor eval --mode` ranks with one signal alone to show what each adds; serving is hybrid.
        self.retrieval_mode: Mode = "hybrid"
        self._snapshot = self._snapshot_of(kb, index)
        self.taught = TaughtPassages()

    def _snapshot_of(self, kb: KnowledgeBase, index: SearchIndex) -> Snapshot:
        retriever = Retriever(
            index, self.encoder, kb.beyond, after=partial(topics_after, kb), calibration=calibration_of(index)
        )
        return Snapshot(kb, retriever, {d.id: d for d in index.documents})

    @property
    def kb(self) -> KnowledgeBase:
        return self._snapshot.kb

    @property
    def index(self) -> SearchIndex:
        return self._snapshot.retriever.index

    def swap(self, kb: KnowledgeBase, index: SearchIndex) -> None:
        """Serve a freshly built index; questions already running finish on the old one."""
        self._snapshot = self._snapshot_of(kb, index)

    def answer(
        self,
        question: str,
        k: int | None = None,
        roadmap: str | None = None,
        guild: int | None = None,
        context: AnswerContext | None = None,
    ) -> Answer:
        return self.answer_batch([question], k, roadmap, guild, [context])[0]

    def answer_batch(
        self,
        questions: list[str],
        k: int | None = None,
        roadmap: str | None = None,
        guild: int | None = None,
        contexts: Sequence[AnswerContext | None] | None = None,
    ) -> list[Answer]:
        """Answer several questions with one encoder call (CPU-bound: call it off the event loop).

        `roadmap`: the id of the roadmap the asking member follows; where roadmaps overlap, its entries
        answer first. `guild`: the server asked in, whose taught questions count (with those taught for every
        server); None outside any server. `contexts`: per question, the context of the answer it may follow up
        (`Answer.context` of an earlier answer; None for a question of its own)."""
        snapshot = self._snapshot
        k = k or self.top_k
        contexts = list(contexts) if contexts is not None else [None] * len(questions)
        if len(contexts) != len(questions):
            raise ValueError(f"{len(contexts)} contexts for {len(questions)} questions")
        cleaned = [clean_question(q) for q in questions]
        searchable = [i for i, c in enumerate(cleaned) if c.problem != "empty"]
        texts = [cleaned[i].text for i in searchable]
        readings = retrieve_in_context(
            snapshot.retriever,
            texts,
            [contexts[i] for i in searchable],
            k,
            self.retrieval_mode,
            roadmap,
            taught=self.taught,
            guild=guild,
        )
        by_position = dict(zip(searchable, readings, strict=True))
        answers = []
        for position, question in enumerate(questions):
            clean = cleaned[position]
            reading = by_position.get(position)
            if reading is None or not reading.retrieval.results:
                answers.append(abstain_answer(snapshot.kb, question, [], "empty"))
                continue
            retrieval = reading.retrieval
            sure = retrieval.confidence
            if clean.problem == "not_english":
                answer = abstain_answer(snapshot.kb, question, retrieval.results, "not_english")
            elif retrieval.confidence < self.min_confidence:
                covered = None
                if retrieval.evidence.beyond and retrieval.question.intents.about_roadmap:
                    # "Does this roadmap cover reinforcement learning?" is a question about the roadmap, which
                    # knows the answer: no, and what comes after it.
                    covered = not_covered_answer(
                        snapshot.kb, question, retrieval.question, retrieval.results, snapshot.documents
                    )
                reason = "beyond" if retrieval.evidence.beyond else "unknown"
                answer = covered or abstain_answer(snapshot.kb, question, retrieval.results, reason)
                if covered is not None:  # the roadmap answered it: a follow-up leans on an answer in scope
                    sure = max(sure, self.min_confidence)
            else:
                answer = compose_answer(
                    snapshot.kb, question, retrieval.question, retrieval.results, snapshot.documents
                )
            if clean.truncated:
                answer.notice = f"Your question was long, so I read its first {MAX_QUESTION_CHARS} characters."
            answer.context = AnswerContext(
                question=reading.context_question,
                document=None if answer.abstained else answer.results[0].id,
                confidence=sure,
                answered=not answer.abstained,
            )
            answers.append(answer)
        return answers

    def read_questions(self, questions: list[str]) -> list[str]:
        """Questions as answering reads them before embedding (cleaned, shorthand spelled out, typos corrected):
        a taught question is embedded from this text, so that the same question asked again meets it at cosine 1."""
        retriever = self._snapshot.retriever
        return [retriever.read(clean_question(q).text).text for q in questions]
