"""Hybrid retrieval: dense similarity, BM25 and named documents fused per topic, with a confidence for abstaining."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from bot.answering.calibration import Calibration, Scope, Weights
from bot.answering.question import Question, read_question
from bot.answering.taught import NO_MATCH, TaughtPassages, taught_confidence
from indexer.documents import Document
from indexer.encoders import Encoder
from indexer.search import NameMatcher, SearchIndex

Mode = Literal["hybrid", "dense", "lexical"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "lexical")

# The weights of the ranking's signals and the model that decides when to decline come from data: see
# `bot.answering.calibration` and `roadmap-tutor calibrate`. What stays here is how they are read.
# BM25 enters scaled by the query's best document, but never by less than LEXICAL_FLOOR, so that a
# query whose words barely occur anywhere cannot turn a weak match into a full-strength signal.
LEXICAL_FLOOR = 4.0
# "I finished X, what next?" leads on from the topics it names at least this clearly (exact name 1.0,
# an everyday name after the subject its generic share).
NAMED_FOR_FOLLOW_UP = 0.5
# Below this confidence the tutor declines to answer. Confidence is on a 0..1 scale in every mode (see
# `confidence`), so one threshold, and the settings' override, fits them all.
DEFAULT_MIN_CONFIDENCE = 0.5
# A subject beyond the roadmap is declined unless the question also names something the roadmap teaches
# whose passages are at least this close to the question ("GAN training with weight decay" 0.35; the Keras
# fine-tuning tutorial for "fine-tune llama 3 with LoRA" 0.22).
TAUGHT_NAME_MIN_COSINE = 0.3
# A word at least ten times likelier in the knowledge than in everyday English is the field's own; the
# lowest salience is a word the knowledge never uses (`indexer.salience`).
FIELD_WORD = 1.0
NEVER_USED = -2.0
# One signal alone cannot meet both abstention targets on dev; these cuts minimise the sum of the
# false-abstain rate and the out-of-scope answer rate there.
DENSE_CUT = 0.40
LEXICAL_CUT = 3.0
# How fast confidence moves from 0 to 1 around the cut (in units of the evidence).
CONFIDENCE_SPREAD = 0.05
# A question is about the roadmaps of this many of its closest documents (by cosine, with the asked questions'
# lift, before any roadmap is preferred): only their declined examples count against it.
CANDIDATE_DOCUMENTS = 3


@dataclass(frozen=True)
class Result:
    """One ranked document, as the answer and the JSON output show it."""

    id: str
    kind: str
    title: str
    step: int | None
    roadmap: str | None
    score: float
    topic_id: str | None
    named: bool = False  # the question names it: its title or an alias, typos forgiven (`Question.names`)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "step": self.step,
            "roadmap": self.roadmap,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class Evidence:
    """What a question's confidence is judged from."""

    dense: float  # best cosine similarity of any passage
    lexical: float  # best BM25 score
    named: float  # best match of a specific name (1.0 typed exactly), 0 when none
    coverage: float  # share of the question's topic words the knowledge uses
    beyond: bool  # names a subject beyond the roadmap, and nothing taught that reads like the question
    agree: bool = False  # the best dense and the best BM25 document share a topic family
    # Share of the topic words outside the names it matched that the knowledge uses: "throw a lasso like a
    # cowboy" names Lasso in words the knowledge never uses; 1.0 when the names are all there is.
    context: float = 1.0
    # How much the question's words belong to the knowledge's field (`SearchIndex.salience`): the share of
    # its words that are the field's own and the share the knowledge never uses, and the same among the
    # words outside the names matched (the whole question's when the names are all there is).
    domain: float = 0.0
    unknown: float = 0.0
    context_domain: float = 0.0
    context_unknown: float = 0.0
    # Best cosine of a question taught where it was asked (`bot.answering.taught`); not a scope feature: a match
    # decides on its own (`confidence`). `NO_MATCH` when none applies.
    taught: float = NO_MATCH
    # The roadmaps' examples (`Scope`'s `EXAMPLE_FEATURES`): the best cosine of an asked question and of a
    # declined one, among the examples of the roadmaps the question is about (the roadmaps of its
    # `CANDIDATE_DOCUMENTS` closest documents) that have declined examples, of the one most willing to answer
    # it. `examples`: some such roadmap has them (else the fallback scope model judges); `unexampled`: the
    # closest roadmap has none, nor has the roadmap of the best-ranked document, and it may teach what the others
    # decline (the fallback is heard too).
    asked: float = 0.0
    declined: float = 0.0
    # Best cosine of a general question (`indexer.general`): questions from outside the knowledge, from
    # everyday life to subjects next to its field. A word trap reads more like them than like the knowledge.
    general: float = 0.0
    examples: bool = False
    unexampled: bool = False
    # The question asks about the roadmap itself, what comes after it ("i finished everything, what now?"), of
    # "this roadmap" ("is this roadmap ok with zero programming?"), whether one can take it on ("zero
    # programming experience, can i really start this?") or what it will have taught, and a roadmap as a whole
    # ranks first; or it chooses among the roadmap's projects ("which project on the roadmap is closest to my
    # shop's problem?") and a step that lists them ranks first: the roadmap's own fields answer it, whatever its
    # words. Not a scope feature: it decides on its own (`confidence`).
    roadmap_itself: bool = False
    # Best cosine of the knowledge's own text of any one sentence of a question of several (`Question.clauses`):
    # what the fallback reads as `dense` (`by_best_clause`). Computed only where it could change the answer.
    best_clause: float = 0.0

    @property
    def fallback_heard(self) -> bool:
        """Whether the fallback scope model judges the question (no examples) or is heard beside the examples'
        (`unexampled`)."""
        return not self.examples or self.unexampled

    def by_best_clause(self) -> Evidence:
        """The evidence with its best sentence's cosine as `dense`, where that is higher: how the fallback scope
        model reads a question (`bot.calibrate` fits it so). Without examples, a story told around a question
        leaves only the closeness of its words to judge by, and the story's words are nobody's field."""
        return replace(self, dense=max(self.dense, self.best_clause))

    def features(self) -> dict[str, float]:
        """The scope model's inputs (`Scope.FEATURES`)."""
        return {
            "domain": self.domain,
            "unknown": self.unknown,
            "context_domain": self.context_domain,
            "context_unknown": self.context_unknown,
            "named_in_domain": self.named * self.context_domain,
            "dense": self.dense,
            "named": self.named,
            "coverage": self.coverage,
            "context": self.context,
            "named_in_context": self.named * self.context,
            "agree": float(self.agree),
            # One-sided: a question unlike every general question is not thereby about the knowledge (a subject
            # next to the field is unlike them too).
            "closer_to_general": max(0.0, self.general - self.dense),
            "lexical": self.lexical / (self.lexical + LEXICAL_FLOOR),
            "asked": self.asked,
            "declined": self.declined,
            "declined_margin": self.declined - self.asked,
        }


@dataclass(frozen=True)
class Retrieval:
    results: list[Result]
    confidence: float
    evidence: Evidence
    question: Question  # as read: what composing the answer reads too


@dataclass(frozen=True)
class Layout:
    """What fusion needs to know of the documents, as arrays computed once per index."""

    family: np.ndarray  # topic family number per document, -1 for steps, resources and weekly prompts
    families: int
    serves: np.ndarray  # family number of the topic a document is for (resources and prompts too), else -1
    served: list[tuple[int, ...]]  # every family a resource or weekly prompt is for (its `serves` list)
    resource_kind: np.ndarray  # str: book, course, video, docs, tutorial; "" for other documents
    tutorial: np.ndarray  # bool: tutorial topics, which are material as much as resources are
    resource: np.ndarray  # bool
    prompt: np.ndarray  # bool: weekly project prompts
    project: np.ndarray  # bool: project topics and weekly prompts
    whole_roadmap: np.ndarray  # bool: the documents of roadmaps as a whole
    step: np.ndarray  # step number per document, 0 when it has none
    step_document: dict[tuple[str | None, int], int]  # (roadmap, step number) -> its step document
    roadmap: list[str | None]
    topic_document: dict[str, int]  # roadmap topic id -> its topic (or project topic) document
    topic_id: list[str | None]  # the roadmap topic each topic or concept document belongs to, else None
    # Per roadmap id, 1.0 for its documents (weekly prompts belong to their topics' roadmap), else 0.
    roadmaps: dict[str, np.ndarray] = field(default_factory=dict)
    roadmap_document: dict[str, int] = field(default_factory=dict)  # roadmap id -> its whole-roadmap document
    next_steps: dict[str, int] = field(default_factory=dict)  # roadmap id -> its entry of what comes after it
    is_step: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # bool: step documents
    project_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # bool: steps with projects

    def of_roadmap(self, roadmap: str) -> np.ndarray:
        return self.roadmaps.get(roadmap, np.zeros(len(self.family), dtype=np.float32))

    def around(self, position: int) -> np.ndarray:
        """1.0 for a document and, when it is in a roadmap topic's family, for that family and the resources and
        prompts for it; else 0."""
        mask = np.zeros(len(self.family), dtype=np.float32)
        mask[position] = 1.0
        family = int(self.family[position])
        if family >= 0:
            mask[self.family == family] = 1.0
            mask[[i for i, served in enumerate(self.served) if family in served]] = 1.0
        return mask

    @classmethod
    def of(cls, documents: list[Document]) -> Layout:
        numbers: dict[str, int] = {}
        family = np.full(len(documents), -1, dtype=np.int64)
        for position, document in enumerate(documents):
            # Roadmap topics (project topics too) and their concepts; not resources or weekly prompts.
            in_roadmap_topic = document.kind in {"topic", "concept"} or (document.kind == "project" and document.step)
            if in_roadmap_topic and document.topic_id is not None:
                family[position] = numbers.setdefault(document.topic_id, len(numbers))
        serves = np.asarray([numbers.get(d.topic_id, -1) if d.topic_id else -1 for d in documents], dtype=np.int64)
        served = [
            tuple(numbers[t] for t in d.extra.get("serves", ()) if t in numbers) or ((int(f),) if f >= 0 else ())
            for d, f in zip(documents, serves, strict=True)
        ]
        resource_kind = np.asarray([d.extra.get("resource_kind", "") for d in documents])
        tutorial = np.asarray([bool(d.extra.get("tutorial")) for d in documents], dtype=bool)
        resource_kind[tutorial] = "tutorial"
        kinds = np.asarray([d.kind for d in documents])
        prompt = np.asarray([bool(d.extra.get("weekly_prompt")) for d in documents], dtype=bool)
        step = np.asarray([d.step or 0 for d in documents], dtype=np.int64)
        step_document = {(d.roadmap, d.step): i for i, d in enumerate(documents) if d.kind == "step" and d.step}
        roadmap = [d.roadmap for d in documents]
        topic_document = {d.id: i for i, d in enumerate(documents) if family[i] >= 0 and d.id == d.topic_id}
        topic_id = [d.topic_id if family[i] >= 0 else None for i, d in enumerate(documents)]
        roadmaps = {r: np.asarray([o == r for o in roadmap], dtype=np.float32) for r in dict.fromkeys(roadmap) if r}
        return cls(
            family,
            len(numbers),
            serves,
            served,
            resource_kind,
            tutorial,
            kinds == "resource",
            prompt,
            kinds == "project",
            kinds == "roadmap",
            step,
            step_document,
            roadmap,
            topic_document,
            topic_id,
            roadmaps,
            {d.id: i for i, d in enumerate(documents) if d.kind == "roadmap" and d.id == d.roadmap},
            next_steps={d.roadmap: i for i, d in enumerate(documents) if d.extra.get("next_steps") and d.roadmap},
            is_step=kinds == "step",
            project_steps=np.isin(
                np.arange(len(documents)),
                [step_document.get((d.roadmap, d.step), -1) for d in documents if d.kind == "project" and d.step],
            ),
        )


DEFAULT_WEIGHTS = Weights()


def name_weights(
    question: Question, count: int, share_of_generic: float = DEFAULT_WEIGHTS.generic_name_share
) -> np.ndarray:
    """Per document, how strongly the question names it: a match's quality, an everyday name's reduced
    unless it opens the question (see `Weights.generic_name_share`)."""
    subject = question.subject_start
    weights = np.zeros(count, dtype=np.float32)
    for match in question.names:
        share = 1.0 if match.specific or match.start <= subject else share_of_generic
        weights[match.document] = max(weights[match.document], share * match.quality)
    return weights


def with_asked(dense: np.ndarray, asked: np.ndarray, weights: Weights = DEFAULT_WEIGHTS) -> np.ndarray:
    """Dense scores lifted where the question is worded like an asked question: a near-copy (0.8) gains 0.3,
    a loose resemblance (below the floor, 0.5) nothing."""
    return dense + weights.asked_weight * np.maximum(asked - weights.asked_floor, 0.0)


def discount_incidental_names(named: np.ndarray, dense: np.ndarray, weights: Weights = DEFAULT_WEIGHTS) -> np.ndarray:
    """Name weights with names typed in passing discounted: a name whose document's best passage trails the
    question's best passage by more than `incidental_name_gap` was typed in passing ("tensors" in a pasted
    device error, "loss" in "loss goes nan")."""
    if not len(dense):
        return named
    incidental = dense < float(dense.max()) - weights.incidental_name_gap
    return np.where(incidental, named * weights.generic_name_share, named).astype(np.float32)


def requested_names(question: Question, named: np.ndarray, layout: Layout) -> np.ndarray:
    """Name weights with a request passed on: when the question asks for material or a project, the
    resources or weekly prompts for a topic it names are named as strongly as that topic's best-named
    document. "A read on containers" or "an exercise on L1 and L2" names the subject only to say which
    material or exercise is wanted; without this the named topic or concept outranks what was asked for.
    A named document that is itself what was asked for (a tutorial topic when material is asked for, a
    project topic when a project is) passes nothing on: the question named the answer. A plan ("can I skip
    the ensembles?") passes a named topic's name on to its step.
    """
    passed = named.copy()
    requests = []
    if question.intents.material:
        requests.append((layout.resource, layout.tutorial))
    if question.intents.project:
        requests.append((layout.prompt, layout.project))
    for wanted, answers in requests:
        sources = (layout.family >= 0) & ~answers & (named > 0)
        if not sources.any():
            continue
        best = np.zeros(layout.families, dtype=np.float32)
        np.maximum.at(best, layout.family[sources], named[sources])
        for position in np.nonzero(wanted)[0]:
            for family in layout.served[position]:
                passed[position] = max(passed[position], best[family])
    if question.intents.material:
        # "A book for the classic ML part": a named step passes its name on to the material listed under it.
        for (roadmap, number), position in layout.step_document.items():
            if named[position] > 0:
                listed = layout.resource & (layout.step == number)
                listed &= np.asarray([r == roadmap for r in layout.roadmap])
                passed[listed] = np.maximum(passed[listed], named[position])
    if question.intents.planning:
        # "Can I skip the ensembles?": a topic named in planning names its step, the part of the roadmap planned.
        for (roadmap, number), position in layout.step_document.items():
            inside = (layout.step == number) & (layout.of_roadmap(roadmap or "") > 0) & ~layout.resource
            passed[position] = max(passed[position], float(named[inside].max(initial=0.0)))
    return passed


def agree(dense: np.ndarray, lexical: np.ndarray, layout: Layout) -> bool:
    """Whether the best dense and the best BM25 document are one document or share a topic family."""
    if not len(dense) or lexical.max(initial=0.0) <= 0:
        return False
    first, second = int(np.argmax(dense)), int(np.argmax(lexical))
    return first == second or (layout.serves[first] >= 0 and layout.serves[first] == layout.serves[second])


def family_best(scores: np.ndarray, layout: Layout) -> np.ndarray:
    """Each document's family's best score (its own score for documents outside any family)."""
    best = np.full(layout.families, -np.inf, dtype=np.float32)
    members = layout.family >= 0
    np.maximum.at(best, layout.family[members], scores[members])
    shared = scores.copy()
    shared[members] = best[layout.family[members]]
    return shared


def kind_prior(question: Question, layout: Layout, named: np.ndarray, weights: Weights = DEFAULT_WEIGHTS) -> np.ndarray:
    """Penalties for resources and prompts unless the question asks for one, or names it."""
    prior = np.zeros(len(layout.family), dtype=np.float32)
    if question.intents.material:
        prior[layout.resource | layout.tutorial] += weights.resource_bonus
        # "A book on X" wants a book: resources of the kind named gain the bonus again over other kinds.
        for kind in question.intents.material_kinds:
            prior[layout.resource_kind == kind] += weights.resource_bonus
    else:
        prior[layout.resource] -= weights.resource_penalty
    if question.intents.about_roadmap:
        prior[layout.whole_roadmap] += weights.roadmap_bonus
    if question.intents.planning:  # "can I skip step 1?": the roadmap's structure answers
        prior[layout.is_step | layout.whole_roadmap] += weights.roadmap_bonus
    # "Which of the projects first?", naming none of them, or "projects for intermediate?", naming the roadmap
    # only: the steps that list the roadmap's projects answer.
    asked_of_roadmap = question.intents.project and bool(named[layout.whole_roadmap].any())
    choosing = (question.intents.project_choice or asked_of_roadmap) and not named[
        ~(layout.is_step | layout.whole_roadmap)
    ].any()
    if choosing:
        prior[layout.project_steps] += weights.project_bonus
    elif question.intents.project:
        prior[layout.project] += weights.project_bonus
    if choosing or not question.intents.project:
        prior[layout.prompt] -= weights.prompt_penalty
    prior[named > 0] = np.maximum(prior[named > 0], 0.0)
    return prior


def fuse(
    dense: np.ndarray,
    lexical: np.ndarray,
    named: np.ndarray,
    prior: np.ndarray,
    layout: Layout,
    weights: Weights = DEFAULT_WEIGHTS,
) -> np.ndarray:
    """One score per document from the three signals, shared within topic families, plus the kind prior."""
    best_lexical = float(lexical.max()) if len(lexical) else 0.0
    lexical_scaled = lexical / max(best_lexical, LEXICAL_FLOOR)
    base = dense + weights.lexical * lexical_scaled + weights.name * named
    return base + weights.family * family_best(base, layout) + prior


def teaches_nearly_as_well(whole: np.ndarray, followed: np.ndarray, weights: Weights = DEFAULT_WEIGHTS) -> bool:
    """Whether the roadmap a member follows (`followed`: its documents) is to answer first: its own text is within
    `Weights.preference_margin` of the closest text of any other roadmap (`whole`: each document's best passage
    of its own text). Where roadmaps overlap (a beginner roadmap's overfitting beside this one's regularization)
    it is; a subject only another roadmap teaches is answered from that one, not from the followed roadmap's
    least unrelated entry."""
    if not followed.any() or followed.all():
        return True
    return float(whole[followed].max()) >= float(whole[~followed].max()) - weights.preference_margin


def named_only_elsewhere(
    question: Question, whole: np.ndarray, followed: np.ndarray, weights: Weights = DEFAULT_WEIGHTS
) -> bool:
    """Whether the question names, by a name of its own, entries of other roadmaps and none of the roadmap a
    member follows (`followed`: its documents), while that roadmap's closest own text (`whole`) trails theirs by
    more than `Weights.named_elsewhere_gap`: "one-hot vs label encoding" or "css gradient not showing", asked by a
    member of a roadmap that teaches neither, is the other roadmap's subject, though the two read close enough to
    be taken for an overlap. A question about the roadmap itself ("does this roadmap teach deployment?") is the
    member's roadmap's to answer."""
    if question.intents.about_roadmap or not followed.any() or followed.all():
        return False
    named = [match.document for match in question.names if match.specific]
    if not named or any(followed[document] for document in named):
        return False
    return float(whole[~followed].max()) - float(whole[followed].max()) > weights.named_elsewhere_gap


def compared_concepts(question: Question, named: np.ndarray, layout: Layout) -> dict[int, list[int]]:
    """For a comparison ("flask or fastapi", "ridge vs lasso"), each topic document with its concepts the question
    names in full; {} for any other question."""
    concepts: dict[int, list[int]] = {}
    if not question.intents.comparison:
        return concepts
    for i in np.nonzero(named >= 1.0)[0]:
        topic = layout.topic_document.get(layout.topic_id[i] or "")
        if topic is not None and topic != i:
            concepts.setdefault(topic, []).append(int(i))
    return concepts


def siblings_before_topic(question: Question, scores: np.ndarray, named: np.ndarray, layout: Layout) -> np.ndarray:
    """Scores with a topic placed after its concepts when the question compares two or more of them ("flask
    or fastapi", "ridge vs lasso"): a comparison asks about those concepts, not their topic at large. Naming
    them without comparing ("write an api, put it in docker, use a model server?") asks about the topic. A
    project is no topic at large: choosing between its parts ("collaborative filtering or content-based?") is
    a choice made building it, and it keeps its place."""
    placed = scores.copy()
    for topic, named_concepts in compared_concepts(question, named, layout).items():
        if len(named_concepts) >= 2 and not layout.project[topic]:
            placed[topic] = min(placed[topic], float(scores[named_concepts].min()) - 1e-3)
    return placed


def topic_before_unnamed_concept(
    question: Question,
    scores: np.ndarray,
    named: np.ndarray,
    layout: Layout,
    weights: Weights = DEFAULT_WEIGHTS,
    shown: int = 5,
) -> np.ndarray:
    """Scores with a topic placed before the best of its concepts when the question does not name that concept and
    it leads the topic by no more than `Weights.concept_lead`: a concept answers first when the question names it
    or reads clearly more like it; otherwise the topic, whose text teaches the family as a whole, answers ("bad on
    train and test alike, more data?" is overfitting and underfitting's, not train/test split's). A comparison of
    named concepts keeps them first (`siblings_before_topic`). Only the families of the first `shown` documents
    are placed: a topic placed just before its concept further down stays out of them all the same."""
    placed = scores.copy()
    compared = compared_concepts(question, named, layout)
    seen: set[int] = set()
    for best in np.argsort(-scores, kind="stable")[:shown]:
        family = int(layout.family[best])
        if family < 0 or family in seen:
            continue
        seen.add(family)
        topic = layout.topic_document.get(layout.topic_id[best] or "")
        if topic is None or topic == best or named[best] > 0:
            continue
        if len(compared.get(topic, ())) >= 2:
            continue
        if scores[topic] >= scores[best] - weights.concept_lead:
            placed[topic] = scores[best] + 1e-3
    return placed


def roadmap_before_next_steps(question: Question, scores: np.ndarray, layout: Layout) -> np.ndarray:
    """Scores with each roadmap's next-steps entry placed after the roadmap when the question asks what the
    roadmap will have taught ("what will I be able to do when I finish this roadmap", "is it enough for a
    job"), whether the learner can take it on ("is this roadmap ok for someone who only used excel?") or about
    its steps together ("how many steps is this roadmap"): its goals, what it builds on and its steps answer
    that, not what comes after it, however much the question reads like finishing or its title's "Next Steps"
    read like the steps."""
    placed = scores.copy()
    if not (question.intents.goals or question.intents.readiness or question.intents.all_steps):
        return placed
    for roadmap, after in layout.next_steps.items():
        whole = layout.roadmap_document.get(roadmap)
        if whole is not None:
            placed[after] = min(placed[after], float(scores[whole]) - 1e-3)
    return placed


def roadmap_first_for_its_goals(question: Question, scores: np.ndarray, layout: Layout) -> np.ndarray:
    """Scores with the best-ranked roadmap placed first when the question asks what the roadmap as a whole will
    have taught ("what will I be able to build when I finish the whole thing?", "ok say I finish everything
    here, could I apply for jobs?"): its goals answer, not the last step or a project the question reads like."""
    placed = scores.copy()
    wholes = list(layout.roadmap_document.values())
    if not (question.intents.goals and question.intents.about_roadmap) or not wholes:
        return placed
    placed[wholes[int(np.argmax(scores[wholes]))]] = float(scores.max()) + 1e-3
    return placed


def roadmap_before_steps(question: Question, scores: np.ndarray, layout: Layout) -> np.ndarray:
    """Scores with each roadmap placed before its steps when the question asks about the steps together ("how
    many steps are there?", "tl;dr of all the steps"): the roadmap lists them, where each step names itself."""
    placed = scores.copy()
    if not question.intents.all_steps:
        return placed
    steps: dict[str, list[int]] = {}
    for (roadmap, _), position in layout.step_document.items():
        if roadmap is not None:
            steps.setdefault(roadmap, []).append(position)
    for roadmap, positions in steps.items():
        whole = layout.roadmap_document.get(roadmap)
        if whole is not None:
            placed[whole] = max(placed[whole], float(scores[positions].max()) + 1e-3)
    return placed


def next_step(
    question: Question, scores: np.ndarray, named: np.ndarray, layout: Layout, roadmap: str | None = None
) -> int | None:
    """For "I finished X, what now?", the step document after X's step; None for any other question.

    X's step is the step the question names (of `roadmap`, the one the member follows, when several name
    it: "step 5" is theirs), else the step of the topic or step document most like the question (`scores`:
    dense similarity, free of the kind prior that favours material). Finishing a whole (earlier) roadmap, or
    asking where to start without naming anything, leads to the first step.
    """
    named_steps = [i for i in np.nonzero(named)[0] if i in layout.step_document.values()]
    named_steps.sort(key=lambda i: roadmap is not None and layout.roadmap[i] != roadmap)
    first = [i for (_, number), i in layout.step_document.items() if number == 1]
    intents = question.intents
    if not intents.what_next:
        starting = intents.start and not named.any()
        return first[0] if starting and first else None
    if named_steps:
        current = named_steps[0]
    elif intents.roadmap_done:
        return first[0] if first else None
    else:
        # What the learner finished is a topic or a step, not a resource or prompt the question brought up.
        stepped = np.nonzero((layout.step > 0) & ~layout.resource & ~layout.prompt)[0]
        if not len(stepped):
            return None
        current = int(stepped[np.argmax(scores[stepped])])
    return layout.step_document.get((layout.roadmap[current], int(layout.step[current]) + 1))


def _roadmap_in_question(scores: np.ndarray, layout: Layout) -> int | None:
    """The roadmap document of the roadmap the question is most about (its best-scoring document's)."""
    stepped = np.nonzero(layout.step > 0)[0]
    if not len(stepped) or not layout.roadmap_document:
        return None
    best = layout.roadmap[int(stepped[np.argmax(scores[stepped])])]
    return layout.roadmap_document.get(best or "")


def _whole_roadmap(question: Question, whole: int, named_roadmaps: list[int], layout: Layout) -> list[int]:
    """For "what next?" answered by a roadmap as a whole: what comes after it first (its next-steps entry),
    then the roadmap. The roadmap alone when the learner asks what it will have taught them ("what will I be
    able to do after finishing this roadmap") or finished another one ("finished the beginner roadmap, what
    next?" starts this one)."""
    after = layout.next_steps.get(layout.roadmap[whole] or "")
    intents = question.intents
    finished_another = intents.roadmap_done and whole not in named_roadmaps
    if after is None or intents.goals or finished_another:
        return [whole]
    return [after, whole]


def follow_ups(
    question: Question,
    scores: np.ndarray,
    named: np.ndarray,
    layout: Layout,
    after: Callable[[list[str]], list[str]],
    roadmap: str | None = None,
) -> list[int]:
    """For "I finished X, what now?", the documents to show first, in order; [] for any other question.

    The step after X's step (`next_step`), with the topics the roadmap's prerequisites lead to from X
    (`after`): topics first when the question names topics, the step first when it names a step. `roadmap`:
    the one the member follows, which "this roadmap" and "step 5" mean when several are loaded.
    """
    step = next_step(question, scores, named, layout, roadmap)
    if not question.intents.what_next:
        return [step] if step is not None else []
    done = [layout.topic_id[i] for i in np.nonzero(named >= NAMED_FOR_FOLLOW_UP)[0] if layout.topic_id[i]]
    whole = layout.roadmap_document.get(roadmap or "")
    if whole is None:
        whole = _roadmap_in_question(scores, layout)
    # "finished intermediate, what next?": the roadmap named by what learners call it, not an earlier one.
    named_roadmaps = [i for i in layout.roadmap_document.values() if named[i] > 0]
    if named_roadmaps and not question.intents.roadmap_done:
        whole = named_roadmaps[0]
    past_the_end = question.intents.past_this_roadmap or bool(named_roadmaps and not question.intents.roadmap_done)
    # "Finished everything in step 1": the step named says where the learner is, the roadmap's end is not reached.
    named_step = any(named[i] > 0 for i in layout.step_document.values())
    within_roadmap = not done and not (question.intents.finished and named_step and step is not None)
    if whole is not None and (past_the_end or (within_roadmap and (question.intents.about_roadmap or step is None))):
        # "what will I be able to do after finishing this roadmap", "finished step 5, what now": what comes
        # after the roadmap is told by the roadmap itself, whatever else the question names on the way
        # ("after finishing this roadmap can I get a job as an ML engineer").
        return _whole_roadmap(question, whole, named_roadmaps, layout)
    if step is None and whole is not None and named_step:
        # "done with step 5 (the last), deployed with fastapi, what next?": what comes after the roadmap.
        return _whole_roadmap(question, whole, named_roadmaps, layout)
    if step is None:  # no step after: what the finished topics open up ("learn after docker + fastapi")
        return [layout.topic_document[t] for t in after(done) if t in layout.topic_document] if done else []
    if done and question.intents.within_step:
        # "done with regularization and ensembles, what's left in step 1": the step is where to look, not
        # what was finished; what the finished topics open up in that step first, then the next step.
        within = int(layout.step[step]) - 1
        topics = [layout.topic_document[t] for t in after(done) if t in layout.topic_document]
        return [*sorted(topics, key=lambda i: layout.step[i] != within), step]
    if named_step:
        finished = [layout.topic_id[i] for i in range(len(named)) if layout.step[i] == layout.step[step] - 1]
        topics_first = False
    elif question.intents.whole_part and not done:  # "finished the projects part", "finished the roadmap"
        return [step]
    else:  # topics named: what they lead to; nothing named: the step after the best-ranked document's
        finished = done
        topics_first = True
    topics = [layout.topic_document[t] for t in after([t for t in finished if t]) if t in layout.topic_document]
    return [*topics, step] if topics_first else [step, *topics]


def confidence(mode: Mode, evidence: Evidence, scope: Scope | None = None, fallback: Scope | None = None) -> float:
    """How sure the ranking is that the knowledge answers the question, 0..1 with 0.5 at the cut.

    Hybrid: the calibrated scope model (`Scope`) over the evidence: cosine similarity, names matched and
    whether the words around them are the knowledge's ("throw a lasso like a cowboy" is not), the share of
    words the knowledge never uses, agreement of the signals; 0 for a subject beyond the roadmap. A question
    taught where it was asked counts as much as its match (`taught_confidence`), whatever the rest says.
    The examples' features count only where the roadmaps the question is about have examples; else
    `fallback` (a model fitted without them) judges, and it is heard too when one of those roadmaps has none.
    Single-signal modes use their own best score against a fixed cut.
    """
    if mode == "dense":
        raw, cut = evidence.dense, DENSE_CUT
    elif mode == "lexical":
        raw, cut = evidence.lexical, LEXICAL_CUT
    else:
        scope = scope or Scope()
        fallback = fallback or scope
        scoped = 0.0
        if not evidence.beyond:
            by_fallback = fallback.probability(evidence.by_best_clause().features()) if evidence.fallback_heard else 0.0
            scoped = scope.probability(evidence.features()) if evidence.examples else by_fallback
            if evidence.examples and evidence.unexampled:
                scoped = max(scoped, by_fallback)
            if evidence.roadmap_itself:
                # "I finished everything, what now?", "can I still do this roadmap?" are about the roadmap in any
                # words: in the labelled sets all 387 such questions are in scope, none out ("need a roadmap for a
                # road trip" names no roadmap of ours), and so are all 102 readiness and goals questions that a
                # roadmap answers first ("zero programming experience, can i really start this?").
                scoped = 1.0
        return max(scoped, taught_confidence(evidence.taught))
    return float(1.0 / (1.0 + np.exp(-(raw - cut) / CONFIDENCE_SPREAD)))


class Retriever:
    """Ranks documents for questions; holds no state besides the index, the encoder and the index's layout."""

    def __init__(
        self,
        index: SearchIndex,
        encoder: Encoder,
        beyond: Iterable[str] = (),
        after: Callable[[list[str]], list[str]] = lambda finished: [],
        calibration: Calibration | None = None,
    ) -> None:
        """`beyond`: subjects the knowledge says it does not teach (the roadmaps' `beyond` lists); `after`:
        the topic ids to study after some finished ones (the roadmap's prerequisites).

        A subject some document names (a title or alias) is taught after all and is left out, and a passing
        mention ("DistilBERT is a smaller BERT") does not count as teaching it.
        """
        self.index = index
        self.encoder = encoder
        self.layout = Layout.of(index.documents)
        self.beyond = NameMatcher([(p, 0) for p in beyond if p not in index.names])
        self.after = after
        self.calibration = calibration or Calibration()
        self.positions = {document.id: position for position, document in enumerate(index.documents)}
        declined_by = np.asarray(index.declined_roadmaps)
        # A roadmap's examples count only when it has both kinds: with declined questions and no asked ones,
        # every question would read unlike anything asked, and the fallback judges instead.
        asked_by = {self.layout.roadmap[i] for i, d in enumerate(index.documents) if d.asked_passages}
        self._declined_of = {
            r: np.flatnonzero(declined_by == r) for r in dict.fromkeys(index.declined_roadmaps) if r in asked_by
        }

    def _examples(
        self, dense: np.ndarray, asked: np.ndarray | None, declined: np.ndarray | None, answering: str | None
    ) -> dict[str, object]:
        """The examples' evidence of `Evidence` (`asked`, `declined`, `examples`, `unexampled`); nothing when the
        roadmaps the question is about have no declined examples. `dense`: each document's cosine with the
        asked questions' lift; `asked`: each document's best asked question; `declined`: each declined example;
        `answering`: the roadmap of the best-ranked document."""
        if asked is None or declined is None or not len(dense) or not self._declined_of:
            return {}
        closest = np.argsort(-dense, kind="stable")[:CANDIDATE_DOCUMENTS]
        # The roadmaps of its closest documents, and the roadmap that answers it (a member's roadmap comes first).
        about = [r for r in dict.fromkeys([*(self.layout.roadmap[i] for i in closest), answering]) if r is not None]
        exampled = [r for r in about if r in self._declined_of]
        if not exampled:
            return {}
        # Of the roadmaps with examples, the one the question reads most like it answers decides.
        found = [
            (
                max(float(declined[self._declined_of[r]].max()), 0.0),
                max(float(asked[self.layout.of_roadmap(r) > 0].max(initial=-1.0)), 0.0),
            )
            for r in exampled
        ]
        best_declined, best_asked = min(found, key=lambda pair: pair[0] - pair[1])
        return {
            "asked": best_asked,
            "declined": best_declined,
            "examples": True,
            # The closest roadmap has no examples and answers: it may teach what the others decline. Answered from
            # a roadmap with examples, the question is that roadmap's to judge.
            "unexampled": about[0] not in self._declined_of and answering not in self._declined_of,
        }

    def _teaches_named(self, question: Question, dense: np.ndarray) -> bool:
        """Whether the question names something the roadmap teaches and reads like it: "fine-tune" in
        "fine-tune llama with LoRA" names the Keras tutorial, whose passages are nothing like the question."""
        return any(m.specific and dense[m.document] >= TAUGHT_NAME_MIN_COSINE for m in question.names)

    def _names_beyond(self, question: Question) -> bool:
        """Whether the question names a subject beyond the roadmap. A match with a typo counts only when
        the typed words are not all the knowledge's own: "deep network" is not a misspelt "deep Q-network"."""
        typed = question.typed
        return any(
            match.quality == 1.0 or not self.index.uses_all_words(" ".join(typed[match.start : match.end]))
            for match in question.beyond
        )

    def _domain(self, question: Question, answering: str | None) -> dict[str, float]:
        """The salience evidence of `Evidence`: whole question, and the words around the names it matched, by the
        words of the roadmap that answers (`answering`): beside other roadmaps, a word trap on one roadmap's
        words ("how long do giant pandas sleep") is no more the field's than with that roadmap alone, though
        some other roadmap's text uses its everyday words."""
        whole = np.asarray(self.index.salience(question.words, answering))
        around = np.asarray(self.index.salience(question.context_words, answering)) if question.context_words else whole
        if not len(whole):
            return {}
        return {
            "domain": float(np.mean(whole >= FIELD_WORD)),
            "unknown": float(np.mean(whole <= NEVER_USED)),
            "context_domain": float(np.mean(around >= FIELD_WORD)),
            "context_unknown": float(np.mean(around <= NEVER_USED)),
        }

    def read(self, text: str, mode: Mode = "hybrid") -> Question:
        """The question as every signal reads it (see `read_question`). Shorthand is spelled out and typos
        corrected before any signal reads the question, so that the encoder and BM25 see "learning rate" for
        "lr" and "tuning" for "tunning", as names already do. The single-signal modes read it as typed."""
        return read_question(text, self.index, self.beyond) if mode == "hybrid" else read_question(text)

    def retrieve(
        self,
        questions: list[str],
        k: int,
        mode: Mode = "hybrid",
        roadmap: str | None = None,
        taught: TaughtPassages | None = None,
        guild: int | None = None,
    ) -> list[Retrieval]:
        """The k best documents for each question and how sure the ranking is. `roadmap`: the roadmap the
        member follows, whose documents win where roadmaps overlap (`Weights.roadmap_preference`, unless another
        roadmap teaches the subject and it does not, `teaches_nearly_as_well`, or names it alone,
        `named_only_elsewhere`). `taught`:
        the questions admins taught, of which those taught in `guild` (or everywhere) count (hybrid only)."""
        return self.retrieve_read([self.read(q, mode) for q in questions], k, mode, roadmap, taught=taught, guild=guild)

    def retrieve_read(
        self,
        read: list[Question],
        k: int,
        mode: Mode = "hybrid",
        roadmap: str | None = None,
        towards: list[str | None] | None = None,
        taught: TaughtPassages | None = None,
        guild: int | None = None,
    ) -> list[Retrieval]:
        """`retrieve` for questions already read, with one encoder call. `towards`: per question, the entry
        that answered the question a follow-up leans on (see `bot.answering.followup`)."""
        if not read:
            return []
        towards = towards or [None] * len(read)
        taught_scores = None
        found = declined = general = None
        if mode == "lexical":
            dense = whole = np.zeros((len(read), len(self.index)), dtype=np.float32)
        else:
            vectors = self.encoder.encode([q.text for q in read])
            if mode == "hybrid":
                found = self.index.dense_scores_for_ranking(vectors)
                asked = found.asked
                if taught is not None and len(taught):
                    taught_scores = taught.best_per_document(vectors, guild, self.positions, len(self.index))
                    # A taught question lifts its entry as an asked one does (and more: see `rank`).
                    asked = asked if taught_scores is None else np.maximum(asked, taught_scores)
                dense = with_asked(found.ranked, asked, self.calibration.weights)
                declined = self.index.declined_scores(vectors)
                general = self.index.general_scores(vectors)
                # Scope is judged on the knowledge's own text, as `roadmap-tutor calibrate` fits it: asked
                # questions rank, but a word trap close to a short asked one ("lasso??") stays out.
                whole = found.own
            else:
                dense = whole = self.index.dense_scores(vectors)
        ranked = [
            self.rank(
                question,
                dense[row],
                whole[row],
                k,
                mode,
                roadmap,
                towards=towards[row],
                taught=None if taught_scores is None else taught_scores[row],
                asked=None if found is None else found.asked[row],
                declined=None if declined is None else declined[row],
                general=0.0 if general is None else float(general[row]),
            )
            for row, question in enumerate(read)
        ]
        return self._judged_by_best_clause(ranked) if mode == "hybrid" else ranked

    def best_clause_cosines(self, read: list[Question]) -> np.ndarray:
        """Per question, the best cosine of the knowledge's own text of any of its sentences (`Question.clauses`),
        in one encoder call; 0 for a question of one sentence."""
        sentences = [(row, clause) for row, question in enumerate(read) for clause in question.clauses]
        best = np.zeros(len(read), dtype=np.float32)
        if sentences and len(self.index):
            own = self.index.dense_scores_for_ranking(self.encoder.encode([c for _, c in sentences])).own.max(axis=1)
            np.maximum.at(best, [row for row, _ in sentences], own)
        return best

    def _judged_by_best_clause(self, ranked: list[Retrieval]) -> list[Retrieval]:
        """The retrievals, with the questions of several sentences that the fallback judges read by their best
        sentence too (`Evidence.by_best_clause`). A roadmap with examples never needs it: the shipped one alone
        costs no second encoder call."""
        rows = [
            row
            for row, found in enumerate(ranked)
            if found.evidence.fallback_heard and not found.evidence.beyond and found.question.clauses
        ]
        if not rows:
            return ranked
        best = self.best_clause_cosines([ranked[row].question for row in rows])
        calibration = self.calibration
        judged = list(ranked)
        for row, cosine in zip(rows, best, strict=True):
            evidence = replace(ranked[row].evidence, best_clause=float(cosine))
            sure = confidence("hybrid", evidence, calibration.scope, calibration.fallback)
            judged[row] = replace(ranked[row], evidence=evidence, confidence=sure)
        return judged

    def rank(
        self,
        question: Question,
        dense: np.ndarray,
        whole: np.ndarray,
        k: int,
        mode: Mode = "hybrid",
        roadmap: str | None = None,
        calibration: Calibration | None = None,
        towards: str | None = None,
        taught: np.ndarray | None = None,
        asked: np.ndarray | None = None,
        declined: np.ndarray | None = None,
        general: float = 0.0,
    ) -> Retrieval:
        """`dense`: each document's best passage with the lift of asked questions (`with_asked`), for
        ranking; `whole`: each document's best passage of its own text, for judging confidence.
        `calibration` replaces the retriever's own (for fitting one). `towards`: the id of the entry that
        answered the question a follow-up leans on; it and its topic family are preferred
        (`Weights.follow_up_family`), and a follow-up asking what next finished it. `taught`: each document's
        best cosine of the taught questions that apply here (`TaughtPassages.best_per_document`): the entry of
        a question that reads as a taught one asked again (`TAUGHT_MATCH`) comes first. `asked`: each document's
        best cosine of its asked questions; `declined`: the cosine of each declined example of the index (both
        for the examples' evidence, `Evidence.asked` and `Evidence.declined`); `general`: the best cosine of a
        general question (`Evidence.general`)."""
        calibration = calibration or self.calibration
        weights = calibration.weights
        count = len(self.index)
        lexical = self.index.lexical_scores(question.tokens) if mode != "dense" else np.zeros(count, dtype=np.float32)
        matches = question.names if mode == "hybrid" else ()
        typed = (
            name_weights(question, count, weights.generic_name_share)
            if mode == "hybrid"
            else np.zeros(count, dtype=np.float32)
        )
        first: list[int] = []  # what `follow_ups` shows first
        if mode == "hybrid":
            own = discount_incidental_names(typed, dense, weights)
            answered = self.positions.get(towards) if towards is not None else None
            # A follow-up's requests ("any book on it?", "done with it, what next?") are about the answered
            # entry as much as about anything it names itself: their subject, though the follow-up does not
            # name it.
            subject, about = typed, own
            if answered is not None:
                subject, about = typed.copy(), own.copy()
                subject[answered] = about[answered] = 1.0
            named = requested_names(question, about, self.layout)
            if answered is not None:
                named[answered] = own[answered]
            prior = kind_prior(question, self.layout, named, weights)
            if roadmap is not None:
                followed = self.layout.of_roadmap(roadmap)
                member = followed > 0
                if teaches_nearly_as_well(whole, member, weights) and not named_only_elsewhere(
                    question, whole, member, weights
                ):
                    prior = prior + weights.roadmap_preference * followed
            if answered is not None:
                prior = prior + weights.follow_up_family * self.layout.around(answered)
            scores = fuse(dense, lexical, named, prior, self.layout, weights)
            # What a learner compares or says they finished is named however the rest of the question reads.
            scores = siblings_before_topic(question, scores, typed, self.layout)
            scores = topic_before_unnamed_concept(question, scores, typed, self.layout, weights, k)
            scores = roadmap_before_next_steps(question, scores, self.layout)
            scores = roadmap_first_for_its_goals(question, scores, self.layout)
            scores = roadmap_before_steps(question, scores, self.layout)
            if answered is not None and question.intents.alternative and count > 1:
                # "Any alternative?" asks for something other than the answer it follows: the answer comes
                # after the best of the rest, whose family preference still keeps its siblings near.
                others = np.delete(scores, answered)
                scores[answered] = min(float(scores[answered]), float(others.max()) - 0.01)
            first = follow_ups(question, dense, subject, self.layout, self.after, roadmap)
            top = float(scores.max())
            for place, position in enumerate(first):
                scores[position] = top + 0.01 * (len(first) - place)
        else:
            scores = dense if mode == "dense" else lexical
        roadmap_itself = False
        intents = question.intents
        past_or_this = intents.about_roadmap and (intents.what_next or intents.this_roadmap)
        if mode == "hybrid" and count:
            top = int(np.argmax(scores))
            # Whether the learner can take a roadmap on, or what it will have taught, asks about the roadmap unnamed;
            # "which project on the roadmap is closest to my shop's problem?" chooses among the roadmap's projects,
            # which the step listing them answers, whatever the story around it.
            of_the_whole = past_or_this or intents.readiness or intents.goals
            choosing_a_project = intents.project_choice and intents.this_roadmap
            layout = self.layout
            roadmap_itself = bool(
                (of_the_whole and layout.whole_roadmap[top]) or (choosing_a_project and layout.project_steps[top])
            )
        taught_best = NO_MATCH
        if mode == "hybrid" and taught is not None and count:
            taught_entry = int(np.argmax(taught))
            taught_best = float(taught[taught_entry])
            if taught_confidence(taught_best) >= 0.5:
                # What an admin taught for this question, asked again, outranks anything ranking found.
                scores[taught_entry] = float(scores.max()) + 1.0
        specific = max((m.quality for m in matches if m.specific), default=0.0)
        answering = self.layout.roadmap[int(np.argmax(scores))] if count else None
        evidence = Evidence(
            dense=float(whole.max()) if count else 0.0,
            lexical=float(lexical.max()) if count else 0.0,
            named=specific,
            coverage=self.index.coverage(question.words) if mode == "hybrid" else 1.0,
            beyond=mode == "hybrid" and not self._teaches_named(question, dense) and self._names_beyond(question),
            agree=mode == "hybrid" and agree(whole, lexical, self.layout),
            context=self.index.coverage(question.context_words) if mode == "hybrid" else 1.0,
            taught=taught_best,
            general=general if mode == "hybrid" else 0.0,
            roadmap_itself=roadmap_itself,
            **(self._domain(question, answering) if mode == "hybrid" else {}),
            **(self._examples(dense, asked, declined, answering) if mode == "hybrid" else {}),
        )
        order = np.argsort(-scores, kind="stable")[:k]
        documents: list[Document] = self.index.documents
        results = [
            Result(
                id=documents[i].id,
                kind=documents[i].kind,
                title=documents[i].title,
                step=documents[i].step,
                roadmap=documents[i].roadmap,
                score=float(scores[i]),
                topic_id=documents[i].topic_id,
                named=bool(typed[i] > 0),
            )
            for i in order
        ]
        sure = confidence(mode, evidence, calibration.scope, calibration.fallback)
        return Retrieval(results, sure, evidence, question)
