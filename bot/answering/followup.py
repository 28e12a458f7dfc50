"""Follow-up questions: a question read in the context of the answer it follows.

Learners ask on from an answer in fragments: "and L2?", "example in pytorch?", "why is that?", "any book on
it?". A follow-up with few subject words of its own leans on the answer before it: it is ranked with the
earlier question's words before its own (its own names first) and with the answered topic's family
preferred, and its requests (material, a project, what next, a comparison) apply to that subject. A
follow-up with a subject of its own is read alone, like any question.

Context never makes the tutor answer what it would decline. Only a follow-up that brings no subject of its
own the tutor does not know (no subject beyond the roadmaps, no word the knowledge never uses unless it
points back with "it", "that", "one"...) borrows the confidence of the answer it follows, and it borrows
that answer's own confidence: a follow-up of a declined question is declined too.

Everything here is general English and the knowledge's own word salience; nothing names a roadmap's subject.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.answering.normalise import MAX_QUESTION_CHARS
from bot.answering.question import Intents, Question
from bot.answering.retrieval import FIELD_WORD, NEVER_USED, Mode, Retrieval, Retriever
from bot.answering.taught import TaughtPassages

# Words that point back at what was said before.
REFERRING_WORDS = frozenset(
    "it its itself that this these those they them their one ones same".split()  # noqa: SIM905 (a word list)
)
# "This roadmap", "the whole roadmap": words that point at the roadmap, not back at the answer.
_ROADMAP_PHRASE = re.compile(r"\b(this|that|the|these|those)\s+(\w+\s+)?roadmaps?\b")
# A follow-up with this many subject words (the field's own, or words the knowledge never uses) is a question
# of its own; with fewer it leans on the answer before it.
COMPLETE_SUBJECT_WORDS = 3
# A context keeps the latest this many characters of the questions a conversation leaned on.
CONTEXT_CHARS = MAX_QUESTION_CHARS


@dataclass(frozen=True)
class AnswerContext:
    """What a follow-up of an answer leans on. Small and plain, so a bot can keep one per recent answer, and
    read again at each follow-up, so a rebuilt index reads it with its own names."""

    question: str  # the question answered, after the questions it leaned on
    document: str | None  # the id of the entry that answered it; None when the tutor declined
    confidence: float  # how sure the tutor was that the knowledge answers it
    answered: bool  # False when the tutor declined

    @classmethod
    def shown(cls, title: str, document: str) -> AnswerContext:
        """The context of an entry the tutor showed unasked (a weekly project it posted): in scope."""
        return cls(question=title, document=document, confidence=1.0, answered=True)


@dataclass(frozen=True)
class Leaning:
    """How a follow-up stands to the answer before it."""

    leans: bool  # says something, with too few subject words to be a question of its own
    joins: bool  # leans and names nothing specific: read with the earlier question's words before its own
    borrows: bool  # leans, and brings no subject the tutor does not know: may take the earlier confidence
    names: bool  # names an entry of the knowledge ("and L2?", "in keras?")


@dataclass(frozen=True)
class FollowUpRetrieval:
    """A question's retrieval, and what a follow-up of its answer will lean on."""

    retrieval: Retrieval
    context_question: str  # the question as a follow-up of it reads it: with what it leaned on, if it did


def subject_words(question: Question, salience: Sequence[float]) -> list[str]:
    """The words that carry a subject: the field's own, and words the knowledge never uses (a subject it
    does not teach); everyday words ("example", "free", "why") carry none."""
    return [w for w, s in zip(question.words, salience, strict=True) if s >= FIELD_WORD or s <= NEVER_USED]


def _requests(intents: Intents) -> bool:
    return (
        intents.material
        or intents.project
        or intents.what_next
        or intents.what_now
        or intents.comparison
        or intents.about_roadmap
    )


def leaning_of(question: Question, salience: Sequence[float]) -> Leaning:
    """How a follow-up, read alone, stands to the answer before it (`salience`: of `question.words`).

    It leans when it says something (a word of a subject or a request, or a word pointing back: not "ok" or
    "thanks") with fewer than `COMPLETE_SUBJECT_WORDS` subject words. A word the knowledge never uses is a
    subject of its own ("and GANs?", "what about baking?") unless the follow-up points back at the answer
    ("is there a video that shows it visually?"): only then may it borrow the earlier confidence."""
    subjects = subject_words(question, salience)
    refers_back = any(word in REFERRING_WORDS for word in question.typed)
    unknown = any(s <= NEVER_USED for s in salience)
    says_something = bool(question.words) or refers_back or _requests(question.intents)
    leans = says_something and len(subjects) < COMPLETE_SUBJECT_WORDS
    specific = any(m.specific for m in question.names)
    return Leaning(
        leans=leans,
        joins=leans and not specific,
        borrows=leans and (refers_back or not unknown),
        names=bool(question.names),
    )


def turns_to_the_roadmap(question: Question, earlier: Question) -> bool:
    """Whether a follow-up turns from the earlier subject to the roadmap as a whole ("btw, what comes after
    this whole roadmap?" after a question on CNNs): it is read alone. One that points back at the earlier
    subject ("is that covered in the roadmap?") still leans; "this roadmap" points at the roadmap."""
    if not question.intents.about_roadmap or earlier.intents.about_roadmap:
        return False
    words = _ROADMAP_PHRASE.sub(" ", " ".join(question.typed)).split()
    return not any(word in REFERRING_WORDS for word in words)


def joined(earlier: Question, question: Question) -> Question:
    """A follow-up read with the earlier question: the earlier words before its own for the encoder and BM25,
    but only the follow-up's own names, requests and subjects beyond the roadmaps. The earlier subject counts
    through the words and the preference for the answered entry (`Retriever.rank`'s `towards`); its names
    would outweigh the follow-up's ("and lasso?" after a question on ridge). The roadmap as a whole stays
    the subject when the earlier question was about it ("how long is the whole roadmap?" "what comes after
    it?"), and what comes next is asked when the earlier question said what was finished ("I finished step
    2." "What do I do now?")."""
    about_roadmap = question.intents.about_roadmap or earlier.intents.about_roadmap
    # "I finished step 2." "What do I do now?": the finishing was said before, the asking now.
    what_next = question.intents.what_next or (question.intents.what_now and earlier.intents.finished)
    return replace(
        question,
        text=f"{earlier.text} {question.text}",
        tokens=earlier.tokens + question.tokens,
        words=earlier.words + question.words,
        intents=replace(question.intents, about_roadmap=about_roadmap, what_next=what_next),
    )


def follow_up_confidence(leaning: Leaning, alone: float, beyond: bool, earlier: AnswerContext) -> float:
    """A follow-up's confidence: its own unless it borrows (never with a subject beyond the roadmaps); a
    borrowed one is the earlier answer's, or its own when it names an entry and is surer alone ("and what is
    xgboost?" after a declined question)."""
    if beyond or not leaning.borrows:
        return alone
    return max(alone, earlier.confidence) if leaning.names else earlier.confidence


def _latest(text: str) -> str:
    """The last `CONTEXT_CHARS` characters of a conversation's questions, cut at a word."""
    if len(text) <= CONTEXT_CHARS:
        return text
    cut = text[-CONTEXT_CHARS:]
    return cut.split(" ", 1)[1] if " " in cut[:40] else cut


def retrieve_in_context(
    retriever: Retriever,
    questions: Sequence[str],
    contexts: Sequence[AnswerContext | None],
    k: int,
    mode: Mode = "hybrid",
    roadmap: str | None = None,
    taught: TaughtPassages | None = None,
    guild: int | None = None,
) -> list[FollowUpRetrieval]:
    """Retrieve for questions, each read as a follow-up of the answer whose context it has (None: a question
    of its own), with one encoder call for all of them (CPU-bound: call it off the event loop).

    A follow-up that leans is ranked with a preference for the answered entry and its topic family, with the
    earlier question's words before its own unless it names an entry specifically ("how do I stop
    overfitting?" after a question on Docker is about overfitting); its requests apply to the earlier
    subject. One that does not lean is read exactly as it would be alone. `taught` and `guild`: the taught
    questions that count, as in `Retriever.retrieve`."""
    alone = [retriever.read(q, mode) for q in questions]
    readings: list[Question] = []
    towards: list[str | None] = []
    leanings: dict[int, Leaning] = {}
    for row, (question, context) in enumerate(zip(alone, contexts, strict=True)):
        if context is None or not (leaning := leaning_of(question, retriever.index.salience(question.words))).leans:
            readings.append(question)
            towards.append(None)
            continue
        earlier = retriever.read(context.question, mode)
        if turns_to_the_roadmap(question, earlier):
            readings.append(question)
            towards.append(None)
            continue
        leanings[row] = leaning
        readings.append(joined(earlier, question) if leaning.joins else question)
        towards.append(context.document)
    # A follow-up read with the earlier words is ranked alone too: its own confidence, and whether it names a
    # subject beyond the roadmaps, are judged on its own words.
    joins = [row for row, leaning in leanings.items() if leaning.joins]
    retrievals = retriever.retrieve_read(
        readings + [alone[row] for row in joins],
        k,
        mode,
        roadmap,
        towards + [None] * len(joins),
        taught=taught,
        guild=guild,
    )
    own_rows = {row: len(readings) + i for i, row in enumerate(joins)}
    found = []
    for row, (text, context) in enumerate(zip(questions, contexts, strict=True)):
        retrieval = retrievals[row]
        if row not in leanings or context is None:
            found.append(FollowUpRetrieval(retrieval, text))
            continue
        own = retrievals[own_rows.get(row, row)]
        confidence = follow_up_confidence(leanings[row], own.confidence, own.evidence.beyond, context)
        found.append(
            FollowUpRetrieval(replace(retrieval, confidence=confidence), _latest(f"{context.question} {text}"))
        )
    return found
