"""Retrieval pieces on small synthetic inputs: names, fusion, the step rules, confidence, the index signals."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np
import pytest

from bot.answering import retrieval
from bot.answering.calibration import Scope, Weights, load_calibration
from bot.answering.question import Question, read_intents, read_question
from bot.answering.retrieval import (
    Evidence,
    Layout,
    Retriever,
    agree,
    confidence,
    discount_incidental_names,
    follow_ups,
    fuse,
    kind_prior,
    name_weights,
    named_only_elsewhere,
    next_step,
    requested_names,
    roadmap_before_next_steps,
    roadmap_before_steps,
    roadmap_first_for_its_goals,
    siblings_before_topic,
    topic_before_unnamed_concept,
)
from indexer.documents import Document
from indexer.search import (
    FUZZY_MATCH,
    NameMatch,
    NameMatcher,
    SearchIndex,
    Shorthand,
    name_scores,
    tokenize,
    words,
)
from indexer.store import Manifest, StoredIndex
from tests.fakes import FakeEncoder

GENERIC_NAME_SHARE = Weights().generic_name_share
# The intermediate roadmap's field shorthand, as its knowledge file spells it out.
FIELD = {"lr": "learning rate", "nn": "neural network", "net": "network", "nets": "networks"}


def expand_shorthand(text: str, names: list[str] | None = None) -> str:
    return Shorthand(FIELD, names or []).expand(text)


def ask(text: str) -> Question:
    """A question read without an index: its requests and words as typed."""
    return read_question(text)


def doc(id: str, kind: str = "topic", step: int | None = 1, topic_id: str | None = None, **fields) -> Document:
    fields.setdefault("passages", (f"{id} text",))
    return Document(id=id, kind=kind, title=id, roadmap="r", step=step, topic_id=topic_id, **fields)


# A topic with a concept, a lone topic, a resource and a weekly prompt serving the topic, and two steps.
DOCS = [
    doc("topic", topic_id="topic"),
    doc("concept", kind="concept", topic_id="topic"),
    doc("lone", topic_id="lone"),
    doc("book", kind="resource", topic_id="topic"),
    doc("prompt", kind="project", step=None, topic_id="topic", extra={"weekly_prompt": True}),
    doc("step-1", kind="step", step=1),
    doc("step-2", kind="step", step=2),
]
T, C, LONE, BOOK, PROMPT, S1, S2 = range(len(DOCS))
LAYOUT = Layout.of(DOCS)


def scores(**given: float) -> np.ndarray:
    values = np.zeros(len(DOCS), dtype=np.float32)
    for name, value in given.items():
        values[[d.id.replace("-", "_") for d in DOCS].index(name)] = value
    return values


def ranked(question: str, dense: np.ndarray, named: np.ndarray | None = None) -> list[str]:
    named = np.zeros(len(DOCS), dtype=np.float32) if named is None else named
    lexical = np.zeros(len(DOCS), dtype=np.float32)
    fused = fuse(dense, lexical, named, kind_prior(ask(question), LAYOUT, named), LAYOUT)
    return [DOCS[i].id for i in np.argsort(-fused, kind="stable")]


# --- Words and names -------------------------------------------------------------------------------


def test_british_spellings_and_word_forms_meet() -> None:
    assert tokenize("regularisation optimisers pruning nets") == tokenize("regularization optimizers pruned net")
    assert tokenize("the loss of what we use") == ["loss"]


def test_chat_shorthand_is_spelled_out_as_whole_words_only() -> None:
    assert expand_shorthand("activation fn and LR too big") == "activation function and learning rate too big"
    assert expand_shorthand("fnord lrn") == "fnord lrn"


def test_shorthand_inside_a_name_stays_as_typed() -> None:
    keep = ["Elastic Net", "neural net", "neural network basics", "Lasso"]
    # "elastic network" names nothing; "neural network" is in other names, so "neural net" may be spelled out.
    assert expand_shorthand("elastic net or lasso, lr 0.1?", keep) == "elastic net or lasso, learning rate 0.1?"
    assert expand_shorthand("my neural net basics", keep) == "my neural network basics"


def test_field_shorthand_comes_from_the_knowledge_not_the_code() -> None:
    # Without a roadmap that defines it, "lr" is left as typed; chat English is always spelled out.
    assert Shorthand().expand("lr too big, can u help") == "lr too big, can you help"
    assert Shorthand({"lr": "learning rate"}).expand("lr too big") == "learning rate too big"


def test_a_doubled_consonant_before_an_ending_is_undone() -> None:
    assert tokenize("cutting dropped stopping") == tokenize("cut drop stop")
    # A doubled l, s or z belongs to the word.
    assert tokenize("falling passes") == ["fall", "pass"]


def test_shorthand_inside_a_hyphenated_word_is_left_alone() -> None:
    # The "u" of "U-Net" is not "you": a subject beyond the roadmap must still be recognised.
    assert expand_shorthand("u-net masks are blurry, can u help") == "u-net masks are blurry, can you help"


def test_shorthand_inside_a_dotted_code_name_is_left_alone() -> None:
    assert expand_shorthand("what goes in nn.Module, torch.nn") == "what goes in nn.Module, torch.nn"
    assert expand_shorthand("an nn. then nets") == "an neural network. then networks"


def test_names_match_whatever_the_spacing_case_and_punctuation() -> None:
    matcher = NameMatcher([("LightGBM", 0)])
    for question in ["light gbm vs xgb", "Light-GBM?", "why LIGHTGBM"]:
        assert [(m.document, m.quality) for m in matcher.matches(question)] == [(0, 1.0)]


def test_a_name_matches_in_the_singular_or_the_plural_as_typed() -> None:
    matcher = NameMatcher([("Unit Tests", 0), ("GAN", 1)])
    assert [(m.document, m.quality) for m in matcher.matches("my first unit test")] == [(0, 1.0)]
    assert [(m.document, m.quality) for m in matcher.matches("how do GANs work")] == [(1, 1.0)]
    assert matcher.matches("a units test") == []


def test_long_names_forgive_a_typo_but_short_ones_must_be_exact() -> None:
    matcher = NameMatcher([("random forest", 0), ("ReLU", 1)])
    assert [(m.document, m.quality) for m in matcher.matches("random forrest trees")] == [(0, FUZZY_MATCH)]
    assert matcher.matches("can i rely on it") == []


def test_a_common_english_word_is_not_a_typo_of_a_name() -> None:
    assert [m.document for m in NameMatcher([("Jupyter", 0)]).matches("fly to jupiter")] == [0]
    matcher = NameMatcher([("Jupyter", 0)], everyday=frozenset({"jupiter"}))
    assert matcher.matches("fly to jupiter") == []
    assert [m.document for m in matcher.matches("my jupyer kernel")] == [0]


def test_typos_are_judged_word_by_word() -> None:
    matcher = NameMatcher([("regression loss", 0), ("gradient boosting", 1)])
    # Two edits in "regressionloss" would pass as a whole, but "goes" is not a misspelt "loss" ...
    assert matcher.matches("my regression goes crazy") == []
    # ... while a typo in each of two long words is forgiven.
    assert [m.document for m in matcher.matches("gradiant boostng")] == [1]


def test_the_longest_name_wins() -> None:
    matcher = NameMatcher([("gradient descent", 0), ("stochastic gradient descent", 1)])
    assert [m.document for m in matcher.matches("is stochastic gradient descent noisy")] == [1]


def test_a_typo_match_never_starts_with_a_filler_word_or_a_lone_letter() -> None:
    matcher = NameMatcher([("pre-training", 0), ("step 1", 1)])
    assert matcher.matches("my model memorises the training set") == []
    assert [m.document for m in matcher.matches("pretraining on imagenet")] == [0]
    # "s step 1" (from "what's") is one edit from "step1"; it must not replace the exact match inside it.
    assert [(m.document, m.quality) for m in matcher.matches("what's step 1 about")] == [(1, 1.0)]


def test_everyday_names_are_marked_generic() -> None:
    matcher = NameMatcher([("loss", 0), ("cross entropy", 1)], generic={"loss"})
    matches = matcher.matches("cross entropy loss")
    assert {m.document: m.specific for m in matches} == {0: False, 1: True}
    assert name_scores(matches, 2, specific_only=True).tolist() == [0.0, 1.0]


def test_an_everyday_name_counts_less_unless_it_opens_the_question() -> None:
    loss = NameMatch(1, 2, 0, 1.0, specific=False)
    adam = NameMatch(3, 4, 1, 1.0)
    # "training loss with adam": "loss" sets the scene, "adam" is the subject.
    question = Question(
        "training loss with adam", (), (), (loss, adam), (), tuple(["training", "loss", "with", "adam"])
    )
    assert name_weights(question, 2).tolist() == [GENERIC_NAME_SHARE, 1.0]
    # "which loss for ...": the everyday name is the question's first topic word, so it is the subject.
    question = Question("which loss for prices", (), (), (loss,), (), tuple(["which", "loss", "for", "prices"]))
    assert name_weights(question, 2).tolist() == [1.0, 0.0]


def test_a_name_typed_in_passing_counts_as_an_everyday_one() -> None:
    # "tensors" in a pasted device error names a concept that the rest of the question is not about.
    named = scores(concept=1.0, lone=1.0)
    dense = scores(topic=0.79, concept=0.68, lone=0.77)
    weights = discount_incidental_names(named, dense)
    assert weights[C] == pytest.approx(GENERIC_NAME_SHARE)
    assert weights[LONE] == 1.0  # its passage is as close as any: the name is the subject


# --- Fusion ----------------------------------------------------------------------------------------


def test_a_named_document_outranks_a_closer_dense_match() -> None:
    dense = scores(concept=0.50, lone=0.58)
    assert ranked("what is it", dense)[0] == "lone"
    assert ranked("what is it", dense, named=scores(concept=1.0))[0] == "concept"


def test_a_concept_lifts_its_topic_above_an_equal_lone_document() -> None:
    order = ranked("tell me", scores(concept=0.7, topic=0.40, lone=0.41))
    assert order.index("topic") < order.index("lone")


SIBLINGS = [
    doc("tools", topic_id="tools"),
    doc("flask", kind="concept", topic_id="tools"),
    doc("fastapi", kind="concept", topic_id="tools"),
    doc("docker", kind="concept", topic_id="tools"),
]
SIBLINGS_LAYOUT = Layout.of(SIBLINGS)


@pytest.mark.parametrize(
    ("question", "first"),
    [
        ("flask or fastapi for serving", "flask"),
        ("flask vs fastapi", "flask"),
        # Named side by side without comparing them: the topic answers "what is the normal path".
        ("do i write a flask app, put it in docker, what's normal", "tools"),
    ],
)
def test_a_comparison_of_two_concepts_puts_them_before_their_topic(question: str, first: str) -> None:
    fused = np.asarray([1.2, 1.1, 1.0, 0.2], dtype=np.float32)
    named = np.asarray([1.0, 1.0, 1.0, 1.0 if "docker" in question else 0.0], dtype=np.float32)
    placed = siblings_before_topic(ask(question), fused, named, SIBLINGS_LAYOUT)
    assert SIBLINGS[int(np.argmax(placed))].id == first
    assert placed[1] > placed[2]  # the concepts keep their own order


def test_a_comparison_of_a_projects_parts_keeps_the_project_first() -> None:
    project = [doc("recommender", kind="project", topic_id="recommender")] + [
        doc(id, kind="concept", topic_id="recommender") for id in ("collaborative", "content-based")
    ]
    fused = np.asarray([1.2, 1.1, 1.0], dtype=np.float32)
    named = np.asarray([0.0, 1.0, 1.0], dtype=np.float32)
    question = ask("collaborative filtering or content based for my shop?")
    assert siblings_before_topic(question, fused, named, Layout.of(project)).tolist() == fused.tolist()


def test_one_named_concept_does_not_displace_its_topic() -> None:
    fused = np.asarray([1.2, 1.1, 0.3, 0.2], dtype=np.float32)
    named = np.asarray([0.0, 1.0, 0.0, 0.0], dtype=np.float32)
    assert siblings_before_topic(ask("flask or what"), fused, named, SIBLINGS_LAYOUT).tolist() == fused.tolist()


FAMILY = [
    doc("fitting", topic_id="fitting"),
    doc("split", kind="concept", topic_id="fitting"),
    doc("curves", kind="concept", topic_id="fitting"),
    doc("lone"),
]
FAMILY_LAYOUT = Layout.of(FAMILY)
CONCEPT_LEAD = Weights().concept_lead


def family_first(question: str, concept_lead: float, split_named: bool = False) -> str:
    """The first document of FAMILY once placed, the concept `split` leading its topic by `concept_lead`."""
    fused = np.asarray([1.0, 1.0 + concept_lead, 0.4, 0.9], dtype=np.float32)
    named = np.asarray([0.0, 1.0 if split_named else 0.0, 0.0, 0.0], dtype=np.float32)
    placed = topic_before_unnamed_concept(ask(question), fused, named, FAMILY_LAYOUT)
    return FAMILY[int(np.argmax(placed))].id


def test_a_topic_answers_before_a_concept_the_question_does_not_name() -> None:
    # "Bad on train and test alike": the concept leads its topic a little, the topic teaches the whole family.
    assert family_first("bad on train and test alike, more data?", CONCEPT_LEAD / 2) == "fitting"


def test_a_concept_answers_first_when_named_or_clearly_closer() -> None:
    assert family_first("how do i split my data", CONCEPT_LEAD / 2, split_named=True) == "split"
    assert family_first("bad on train and test alike, more data?", CONCEPT_LEAD * 2) == "split"


def test_a_comparison_keeps_its_family_from_being_led_by_the_topic() -> None:
    # "flask vs fastapi": docker, unnamed, reads best of the family; the topic, placed after the two concepts
    # compared, is not lifted back before them all for being within the concept lead of docker.
    question = ask("flask vs fastapi")
    fused = np.asarray([1.0, 0.98, 0.97, 1.0 + CONCEPT_LEAD / 2], dtype=np.float32)
    named = np.asarray([0.0, 1.0, 1.0, 0.0], dtype=np.float32)
    placed = siblings_before_topic(question, fused, named, SIBLINGS_LAYOUT)
    placed = topic_before_unnamed_concept(question, placed, named, SIBLINGS_LAYOUT)
    assert SIBLINGS[int(np.argmax(placed))].id == "docker"
    assert placed[0] < placed[2]  # the topic after the concepts compared
    # Naming one of them, nothing is compared: the topic answers before its unnamed concept.
    one = np.asarray([0.0, 1.0, 0.0, 0.0], dtype=np.float32)
    assert SIBLINGS[int(np.argmax(topic_before_unnamed_concept(question, fused, one, SIBLINGS_LAYOUT)))].id == "tools"


def test_resources_rank_first_only_when_the_question_asks_for_material() -> None:
    dense = scores(book=0.60, topic=0.55)
    assert ranked("how does it work", dense)[0] == "topic"
    assert ranked("any good book on it", dense)[0] == "book"


@pytest.mark.parametrize(
    ("question", "material"),
    [
        ("best place to learn it, official stuff", True),
        ("where can i learn this properly", True),
        ("overview page of it?", True),
        ("is the chapter on it enough?", True),  # a chapter is part of a book or a tutorial
        ("should i learn it before the other one or after", False),  # the order of study, not material
        ("what do i learn in this step", False),
    ],
)
def test_learning_is_a_request_for_material_only_when_it_asks_where_from(question: str, material: bool) -> None:
    dense = scores(book=0.60, topic=0.55)
    assert (ranked(question, dense)[0] == "book") is material


def test_a_named_resource_asks_for_material_in_its_own_words() -> None:
    # "sklearn docs" names a resource: its "docs" asks about the docs. A subject's name of several words keeps
    # its words to itself ("model serving docs" names a topic: "docs" there is no request).
    documents = [
        doc("scikit-learn documentation", kind="resource", names=("sklearn docs",)),
        doc("model serving", names=("model serving docs",)),
    ]
    index = small_index(documents, FakeEncoder())
    docs = read_question("where in the sklearn docs is the list of scoring strings", index)
    assert [m.document for m in docs.names] == [0]
    assert docs.intents.material and docs.intents.material_kinds == frozenset({"docs"})
    assert not read_question("what are the model serving docs about", index).intents.material


def test_a_resource_the_question_names_is_not_held_back() -> None:
    prior = kind_prior(ask("is it too heavy for me"), LAYOUT, scores(book=1.0))
    assert prior[BOOK] == 0.0 and prior[PROMPT] < 0.0


def test_weekly_prompts_rank_first_only_when_the_question_asks_for_a_project() -> None:
    dense = scores(prompt=0.60, topic=0.55)
    assert ranked("how does it work", dense)[0] == "topic"
    assert ranked("a project idea for it", dense)[0] == "prompt"


# Material and projects for a named subject: a tutorial topic, two books and a prompt for "topic".
REQUEST_DOCS = [
    doc("topic", topic_id="topic"),
    doc("concept", kind="concept", topic_id="topic"),
    doc("guide", topic_id="guide", extra={"tutorial": True}),
    doc("book", kind="resource", topic_id="lone", extra={"serves": ["lone", "topic"], "resource_kind": "book"}),
    doc("course", kind="resource", topic_id="topic", extra={"serves": ["topic"], "resource_kind": "course"}),
    doc("prompt", kind="project", step=None, topic_id="topic", extra={"weekly_prompt": True, "serves": ["topic"]}),
    doc("lone", topic_id="lone"),
]
REQUEST_LAYOUT = Layout.of(REQUEST_DOCS)


def requested(question: str, **named: float) -> dict[str, float]:
    weights = np.zeros(len(REQUEST_DOCS), dtype=np.float32)
    for name, value in named.items():
        weights[[d.id for d in REQUEST_DOCS].index(name)] = value
    passed = requested_names(ask(question), weights, REQUEST_LAYOUT)
    return {d.id: float(passed[i]) for i, d in enumerate(REQUEST_DOCS)}


def test_a_request_for_material_or_a_project_passes_a_named_concept_on_to_it() -> None:
    # Through any topic a resource serves, not only its first.
    assert requested("a good read on the concept", concept=1.0)["book"] == 1.0
    assert requested("an exercise on the concept", concept=0.85)["prompt"] == pytest.approx(0.85)
    # Without a request nothing passes on; a project request does not name books.
    assert requested("how does the concept work", concept=1.0)["book"] == 0.0
    assert requested("a project on the concept", concept=1.0)["book"] == 0.0


def test_material_asked_for_a_named_step_is_the_material_listed_under_it() -> None:
    named = scores(step_1=1.0)
    assert requested_names(ask("any good book for step 1?"), named, LAYOUT)[BOOK] == 1.0
    assert requested_names(ask("any good book for step 2?"), scores(step_2=1.0), LAYOUT)[BOOK] == 0.0
    assert requested_names(ask("what is step 1 about"), named, LAYOUT)[BOOK] == 0.0


def test_a_project_asked_for_outranks_the_concept_it_is_about() -> None:
    # The question's words match the concept's explanation better than the prompt's brief.
    question = "need a project to practise concept"
    named = requested_names(ask(question), scores(concept=1.0), LAYOUT)
    assert ranked(question, scores(concept=0.60, prompt=0.50), named)[0] == "prompt"


def test_a_named_tutorial_is_the_material_asked_for_and_passes_nothing_on() -> None:
    layout = Layout.of([*REQUEST_DOCS[:2], doc("guide", topic_id="topic", extra={"tutorial": True}), *REQUEST_DOCS[3:]])
    weights = np.zeros(len(REQUEST_DOCS), dtype=np.float32)
    weights[2] = 1.0
    assert requested_names(ask("guide to it"), weights, layout)[3] == 0.0


def test_in_practice_is_not_a_request_for_a_project() -> None:
    assert requested("the concept in practice", concept=1.0)["prompt"] == 0.0
    assert requested("practice the concept", concept=1.0)["prompt"] == 1.0


def test_a_request_word_inside_a_subjects_name_asks_for_nothing() -> None:
    assert requested("comparing the concept and more, any prompt?", concept=1.0)["prompt"] == 1.0
    # "prompt engineering" is a subject the knowledge names (here beyond it): its "prompt" asks for no project.
    subjects = NameMatcher([("prompt engineering", 0), ("Hands-On ML", 1)])
    assert not read_question("prompt engineering for the concept", beyond=subjects).intents.project
    assert not read_question("is hands-on ml a good book", beyond=subjects).intents.project
    assert read_question("a hands-on project on the concept", beyond=subjects).intents.project


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("something hands on where i can see the concept work", True),
        ("an experiment comparing the concept and more", True),
        ("something to build with the concept", True),
    ],
)
def test_other_words_for_a_project_request(question: str, asks: bool) -> None:
    assert requested(question, concept=1.0)["prompt"] == (1.0 if asks else 0.0)


def test_the_kind_of_material_named_and_tutorial_topics_gain_on_a_material_request() -> None:
    named = np.zeros(len(REQUEST_DOCS), dtype=np.float32)
    prior = kind_prior(ask("any book on it"), REQUEST_LAYOUT, named)
    assert prior[3] > prior[4] > 0.0  # the book over the course
    assert kind_prior(ask("a tutorial for it"), REQUEST_LAYOUT, named)[2] > 0.0  # the tutorial topic
    assert kind_prior(ask("how does it work"), REQUEST_LAYOUT, named)[2] == 0.0


def test_dense_and_bm25_agree_when_their_best_documents_share_a_topic_family() -> None:
    assert agree(scores(concept=0.5), scores(topic=3.0), LAYOUT)
    assert agree(scores(book=0.5), scores(topic=3.0), LAYOUT)  # a resource is for its topic's family
    assert not agree(scores(concept=0.5), scores(lone=3.0), LAYOUT)
    assert not agree(scores(concept=0.5), np.zeros(len(DOCS), dtype=np.float32), LAYOUT)


def test_a_subject_only_another_roadmap_names_sets_the_members_roadmap_aside() -> None:
    member = np.array([True, True, False, False])  # the followed roadmap's documents, then another roadmap's
    whole = np.array([0.30, 0.20, 0.50, 0.10], dtype=np.float32)  # the other roadmap reads closer by 0.2
    encoding = NameMatch(0, 1, 2, 1.0)  # "one-hot" names the other roadmap's entry
    named_there = replace(ask("one-hot vs label encoding"), names=(encoding,))
    assert named_only_elsewhere(named_there, whole, member)
    # Named in the member's roadmap as well, or by an everyday word only: an overlap, the member's roadmap answers.
    assert not named_only_elsewhere(replace(named_there, names=(encoding, NameMatch(0, 1, 0, 1.0))), whole, member)
    assert not named_only_elsewhere(
        replace(named_there, names=(NameMatch(0, 1, 2, 1.0, specific=False),)), whole, member
    )
    assert not named_only_elsewhere(replace(named_there, names=()), whole, member)
    # The member's roadmap reads nearly as close: the subject may be both roadmaps'.
    close = whole.copy()
    close[0] = 0.5 - Weights().named_elsewhere_gap + 0.01
    assert not named_only_elsewhere(named_there, close, member)
    # A question about the member's roadmap itself is that roadmap's to answer.
    about = replace(ask("does this roadmap teach one-hot encoding?"), names=(encoding,))
    assert about.intents.about_roadmap
    assert not named_only_elsewhere(about, whole, member)


def test_saying_only_what_was_finished_asks_what_comes_next() -> None:
    loss_functions = [NameMatch(1, 3, 0, 1.0)]  # "loss functions", words 1 and 2
    assert read_intents("finished loss functions", loss_functions).what_next
    assert read_intents("completed loss functions!", loss_functions).what_next
    assert not read_intents("finished loss functions but my loss is nan", loss_functions).what_next
    assert not read_intents("finished loss functions", []).what_next  # nothing named: nothing to follow


def test_finishing_then_asking_about_now_or_the_next_step_asks_what_comes_next() -> None:
    assert read_intents("finished calculus, now?").what_next
    assert read_intents("done with the pandas part. so now?").what_next
    assert read_intents("finished the jupyter part, whats step 2").what_next
    assert read_intents("finished the projects step, next is?").what_next
    assert read_intents("i finished neural networks step, next is the frameworks right?").what_next
    assert not read_intents("the next is a hidden layer, right?").what_next  # nothing finished
    assert not read_intents("finished training and the loss is nan now").what_next  # a problem, not a request
    assert not read_intents("calculus, now?").what_next  # nothing finished
    assert not read_intents("what is next() in express middleware").what_next  # a function, not a request


def test_how_something_chooses_its_next_move_asks_for_no_next_step() -> None:
    assert not read_intents("how does it decide which point to try next").what_next
    assert not read_intents("how does the sampler choose what to run next?").what_next
    assert not read_intents("how does the app know what i want to watch next").what_next
    # The learner's own next step is still asked for, however "how" is worded.
    assert read_intents("how do i decide what to learn next").what_next
    assert read_intents("ok how do i know what to study next").what_next
    assert read_intents("done with the frameworks, what should i build next").what_next


@pytest.mark.parametrize(
    ("question", "top", "named", "expected"),
    [
        ("finished step 1, what do i study next", "topic", "step_1", S2),
        ("done with this, what now", "concept", None, S2),
        ("finished the beginner roadmap, where do i start", "lone", None, S1),
        ("done with this one, what's next on the roadmap", "concept", None, S2),  # not a whole roadmap done
        ("finished the concept, how do i turn it into a portfolio project", "concept", None, None),  # not asking
        ("after finishing step 1 whats left", "topic", "step_1", S2),
        ("finished this, what comes next", "concept", None, S2),
        ("ok i'm through with this part, where to now?", "concept", None, S2),
        ("wrapped up the concept. moving on to?", "concept", None, S2),
        ("done with this, whats after", "concept", None, S2),
        ("i finished step 1, what is next for me?", "topic", "step_1", S2),  # "what is", not only "what's"
        ("this is done. now what", "concept", None, S2),  # "done" alone, beside "now what"
        ("i finished step 1 what do i do now", "topic", "step_1", S2),
        ("finished this, what should i learn then?", "concept", None, S2),
        ("finished the concept, what should i do to make it a portfolio project", "concept", None, None),
        ("did all of this, what now", "concept", None, S2),
        ("done with this one, next one?", "concept", None, S2),
        ("how is this done in practice?", "concept", None, None),  # "done" alone reports nothing finished
        ("where do i start", "lone", None, S1),
        ("want to tell if a tweet is positive or negative, where do i start", "lone", None, None),  # a subject
        ("what is step 1 about", "topic", "step_1", None),
        ("what is the concept", "concept", None, None),
    ],
)
def test_finishing_a_step_leads_to_the_next_one(
    question: str, top: str, named: str | None, expected: int | None
) -> None:
    named_scores = scores(**{named: 1.0}) if named else np.zeros(len(DOCS), dtype=np.float32)
    assert next_step(ask(question), scores(**{top: 1.0}), named_scores, LAYOUT) == expected


@pytest.mark.parametrize(
    ("question", "whole"),
    [
        ("finished everything in it, whats next", True),
        ("i finish all step then what", True),
        ("did all 5 steps, now what", True),
        ("done with every step, what now", True),
        ("what will i be able to do after finishing all this", True),
        ("once i finish all of this, can i get a job", True),
        ("finished all this training and the loss is nan", False),  # this training, not all of the roadmap
        ("quick overview of the steps pls", True),
        ("how many steps are in this roadmap", True),
        ("is reinforcement learning anywhere in here or is that later", True),
        ("is azure ml covered here", True),
        ("what will i be able to do after i finish this", True),  # "this", ending the question: the roadmap
        ("do i need any math or coding background to start this?", True),
        ("should i finish this tutorial before the next one", False),  # this tutorial
        ("pytorch or tensorflow first, everybody in here fighting about it", False),  # here: the server
        ("finished all the projects, what now", False),  # a part of the roadmap, not all of it
        ("done with step 1, what next", False),
        ("is everything in step 1 needed?", False),
    ],
)
def test_finishing_everything_or_asking_for_all_the_steps_is_about_the_roadmap(question: str, whole: bool) -> None:
    assert read_intents(question).about_roadmap is whole


def test_finishing_everything_leads_to_the_roadmap_itself() -> None:
    documents = [*DOCS, doc("r", kind="roadmap", step=None)]  # the roadmap "r" as a whole
    layout = Layout.of(documents)
    named = np.zeros(len(documents), dtype=np.float32)
    dense = np.asarray([0.9, 0.1, 0.0, 0.0, 0.0, 0.2, 0.1, 0.1], dtype=np.float32)  # step 1's topic reads best
    assert follow_ups(ask("finished everything, whats next"), dense, named, layout, lambda _: []) == [len(DOCS)]
    assert follow_ups(ask("did all the steps, now what"), dense, named, layout, lambda _: []) == [len(DOCS)]
    assert follow_ups(ask("finished this, whats next"), dense, named, layout, lambda _: []) == [S2]


@pytest.mark.parametrize(
    ("question", "all_steps"),
    [
        ("how many steps are there", True),
        ("tl;dr of the five steps?", True),
        ("tldr of all the steps pls", True),
        ("what are the steps to deploy a model", False),  # the steps of a task
        ("first steps in deep learning", False),
        ("done with step 1, what next", False),
    ],
)
def test_the_steps_together_are_read_apart_from_one_step_or_the_steps_of_a_task(question: str, all_steps: bool) -> None:
    assert read_intents(question).all_steps is all_steps


def test_asking_about_the_steps_together_ranks_the_roadmap_before_its_steps() -> None:
    documents = [*DOCS, doc("r", kind="roadmap", step=None)]  # "step" names every step document alike
    whole = len(DOCS)
    layout = Layout.of(documents)
    read = np.zeros(len(documents), dtype=np.float32)
    read[[S1, S2, whole]] = 0.9, 0.7, 0.3
    placed = roadmap_before_steps(ask("how many steps are in this roadmap"), read, layout)
    assert placed[whole] > placed[S1] > placed[S2]
    assert (roadmap_before_steps(ask("what is in step 1"), read, layout) == read).all()


def test_what_next_roadmap_itself_leads_with_what_comes_after_it_and_its_goals_with_the_roadmap() -> None:
    after = doc("r/next-steps", kind="roadmap", step=None, extra={"next_steps": True})
    documents = [*DOCS, doc("r", kind="roadmap", step=None), after]  # the roadmap "r" and what comes after it
    whole, next_steps = len(DOCS), len(DOCS) + 1
    layout = Layout.of(documents)
    assert layout.roadmap_document == {"r": whole} and layout.next_steps == {"r": next_steps}
    named = np.zeros(len(documents), dtype=np.float32)
    dense = np.asarray([0.9, 0.1, 0.0, 0.0, 0.0, 0.2, 0.1, 0.1, 0.1], dtype=np.float32)
    for question in ("finished everything, whats next", "did all the steps, now what"):
        assert follow_ups(ask(question), dense, named, layout, lambda _: []) == [next_steps, whole]
    # What the roadmap will have taught: its goals, the roadmap itself.
    assert follow_ups(
        ask("what will i be able to do after finishing this roadmap"), dense, named, layout, lambda _: []
    ) == [whole]
    # Another roadmap finished ("r" is not named): this one starts.
    assert follow_ups(ask("finished the beginner roadmap, what next?"), dense, named, layout, lambda _: []) == [whole]
    # Ranked, a goals question has the roadmap before what comes after it, however the two read; others as read.
    read = np.zeros(len(documents), dtype=np.float32)
    read[[whole, next_steps]] = 0.5, 0.9
    placed = roadmap_before_next_steps(ask("what will i be able to do when i finish this roadmap"), read, layout)
    assert placed[whole] > placed[next_steps]
    assert (roadmap_before_next_steps(ask("is there an advanced roadmap?"), read, layout) == read).all()
    ready = roadmap_before_next_steps(ask("is this roadmap ok for someone who only used excel?"), read, layout)
    assert ready[whole] > ready[next_steps]
    # The steps together are the roadmap's to list, not what comes after it ("Next Steps: ...").
    steps = roadmap_before_next_steps(ask("how many steps are in this roadmap"), read, layout)
    assert steps[whole] > steps[next_steps]


def test_what_the_whole_roadmap_will_have_taught_is_answered_by_the_roadmap_first() -> None:
    documents = [*DOCS, doc("r", kind="roadmap", step=None)]
    whole = len(DOCS)
    layout = Layout.of(documents)
    read = np.zeros(len(documents), dtype=np.float32)
    read[[S2, LONE, whole]] = 0.9, 0.8, 0.5  # the last step and a topic read closer than the roadmap
    question = ask("what will i be able to build when i finish the whole thing")
    placed = roadmap_first_for_its_goals(question, read, layout)
    assert int(np.argmax(placed)) == whole
    # What one step or topic will have taught is theirs to answer.
    assert (roadmap_first_for_its_goals(ask("what will i be able to build after step 2"), read, layout) == read).all()


def test_this_roadmap_and_its_steps_are_the_members_when_two_roadmaps_are_loaded() -> None:
    def of(roadmap: str, id: str, kind: str, step: int | None, **extra: bool) -> Document:
        return Document(id, kind, id, roadmap, step, None, (f"{id} text",), extra=dict(extra))  # type: ignore[arg-type]

    documents = [
        of("a", "a", "roadmap", None),
        of("a", "a/next-steps", "roadmap", None, next_steps=True),
        of("a", "a-1", "step", 1),
        of("a", "a-2", "step", 2),
        of("b", "b", "roadmap", None),
        of("b", "b/next-steps", "roadmap", None, next_steps=True),
        of("b", "b-1", "step", 1),
        of("b", "b-2", "step", 2),
    ]
    layout = Layout.of(documents)
    dense = np.asarray([0.5, 0.5, 0.6, 0.6, 0.4, 0.4, 0.5, 0.5], dtype=np.float32)  # roadmap "a" reads best
    step_1 = np.asarray([0, 0, 1, 0, 0, 0, 1, 0], dtype=np.float32)  # "step 1" names both roadmaps' first steps
    assert follow_ups(ask("finished step 1, whats next"), dense, step_1, layout, lambda _: [], "b")[0] == 7
    assert follow_ups(ask("finished step 1, whats next"), dense, step_1, layout, lambda _: [], "a")[0] == 3
    # "Did all the steps, now what": after the member's roadmap, though the other one's documents read better.
    nothing = np.zeros(len(documents), dtype=np.float32)
    question = ask("did all the steps, now what")
    assert follow_ups(question, dense, nothing, layout, lambda _: [], "b") == [5, 4]
    assert follow_ups(question, dense, nothing, layout, lambda _: []) == [1, 0]


@pytest.mark.parametrize(
    ("question", "goals"),
    [
        ("what will i be able to do after this roadmap", True),
        ("is this roadmap enough to get a job as ml engineer", True),
        ("what are the goals of the intermediate roadmap", True),
        ("what comes after this roadmap", False),
        ("finished step 5, now what", False),
    ],
)
def test_asking_what_a_roadmap_will_have_taught_is_read_as_its_goals(question: str, goals: bool) -> None:
    assert read_intents(question).goals is goals


@pytest.mark.parametrize(
    ("question", "readiness"),
    [
        ("zero programming experience, can i really start this?", True),
        ("is this roadmap ok for somebody who only used excel?", True),
        ("what do i need to know before starting", True),
        ("do i need any experience to start? i only know email and facebook", True),
        ("honest question, how much math do i really need for this?", True),
        ("do i need any math or coding background to start this?", True),
        ("i need a bigger pan to start the sauce", False),
        ("how much ram do i need for gaming", False),
        ("what comes after this roadmap", False),
    ],
)
def test_asking_whether_one_can_take_the_roadmap_on_is_read_as_readiness(question: str, readiness: bool) -> None:
    assert read_intents(question).readiness is readiness


@pytest.mark.parametrize(
    ("question", "named", "expected_finished", "expected"),
    [
        # Topics named: what the prerequisites lead to from them first, then the next step.
        ("finished topic, what should i learn next?", "topic", ["topic"], [LONE, S2]),
        # A step named: the next step first, then what its topics lead to.
        ("done with step 1, what next", "step_1", ["topic", "topic", "lone"], [S2, LONE]),
        # A part of the roadmap, not a topic: the next step alone.
        ("finished the projects part, what next", None, None, [S2]),
        # "what now" about a problem is not a request for the next topic.
        ("my concept overfits after 10 epochs, what now", "concept", None, []),
    ],
)
def test_finishing_topics_leads_to_what_the_prerequisites_open_up(
    question: str, named: str | None, expected_finished: list[str] | None, expected: list[int]
) -> None:
    asked: list[list[str]] = []

    def after(finished: list[str]) -> list[str]:
        asked.append(finished)
        return ["lone"]

    named_scores = scores(**{named: 1.0}) if named else np.zeros(len(DOCS), dtype=np.float32)
    assert follow_ups(ask(question), scores(concept=1.0), named_scores, LAYOUT, after) == expected
    assert asked == ([expected_finished] if expected_finished is not None else [])


@pytest.mark.parametrize(
    "question", ["done with topic, what's left in step 1?", "finished topic, whats the next thing to learn in step 1"]
)
def test_a_step_named_as_where_to_look_is_not_what_was_finished(question: str) -> None:
    asked: list[list[str]] = []

    def after(finished: list[str]) -> list[str]:
        asked.append(finished)
        return ["lone"]

    named = scores(topic=1.0, step_1=1.0)
    # What the finished topic opens up in step 1 first, then the next step.
    assert follow_ups(ask(question), scores(concept=1.0), named, LAYOUT, after) == [LONE, S2]
    assert asked == [["topic"]]


def test_finishing_topics_of_the_last_step_leads_to_what_they_open_up_in_it() -> None:
    documents = [
        doc("step-1", kind="step", step=1),
        doc("step-2", kind="step", step=2),
        doc("serving", step=2, topic_id="serving"),
        doc("cloud", step=2, topic_id="cloud"),
    ]
    layout = Layout.of(documents)
    named = np.asarray([0.0, 0.0, 1.0, 0.0], dtype=np.float32)
    dense = np.asarray([0.0, 0.0, 0.9, 0.2], dtype=np.float32)
    opens = {"serving": ["cloud"]}

    def after(finished: list[str]) -> list[str]:
        return [t for f in finished for t in opens.get(f, [])]

    assert follow_ups(ask("what should i learn after serving?"), dense, named, layout, after) == [3]
    assert follow_ups(ask("done with cloud, what next"), dense, named * 0, layout, after) == []  # nothing named


# --- Confidence ------------------------------------------------------------------------------------


def evidence(dense: float = 0.3, named: float = 0.0, coverage: float = 1.0, beyond: bool = False, **more) -> Evidence:
    return Evidence(dense=dense, lexical=0.0, named=named, coverage=coverage, beyond=beyond, **more)


def test_confidence_is_the_scope_models_probability() -> None:
    scope = Scope(coefficients=(10.0, *[0.0] * (len(Scope.FEATURES) - 1)), intercept=-4.0)
    assert confidence("hybrid", evidence(dense=0.4), scope) == pytest.approx(0.5)
    assert confidence("hybrid", evidence(dense=0.2), scope) < 0.5 < confidence("hybrid", evidence(dense=0.6), scope)
    assert confidence("dense", evidence(dense=retrieval.DENSE_CUT)) == pytest.approx(0.5)


def test_the_shipped_scope_declines_a_name_among_words_the_knowledge_never_uses() -> None:
    # "how do i throw a lasso like a cowboy" against "my lasso zeroed all coefficients", as the index reads them,
    # for a roadmap without examples (the fallback judges it).
    scope = load_calibration().fallback
    # Their words' salience in the shipped index: throw -2, lasso 3.7, cowboy -2; zeroed 2.1, all -0.4,
    # coefficients 2.2.
    trap = evidence(
        dense=0.53,
        named=1.0,
        coverage=0.33,
        context=0.0,
        agree=True,
        domain=1 / 3,
        unknown=2 / 3,
        context_domain=0.0,
        context_unknown=1.0,
    )
    asked = evidence(
        dense=0.53,
        named=1.0,
        coverage=1.0,
        context=1.0,
        agree=True,
        domain=3 / 4,
        unknown=0.0,
        context_domain=2 / 3,
        context_unknown=0.0,
    )
    assert confidence("hybrid", trap, scope) < 0.5 < confidence("hybrid", asked, scope)


def test_a_subject_beyond_the_roadmap_has_no_confidence() -> None:
    assert confidence("hybrid", evidence(dense=0.9, beyond=True)) == 0.0
    assert confidence("hybrid", evidence(dense=0.9, beyond=True, roadmap_itself=True)) == 0.0


@pytest.mark.parametrize(
    ("question", "this_roadmap"),
    [
        ("is this roadmap ok for somebody with zero programming?", True),
        ("how long does the whole roadmap take", True),
        ("need a roadmap for a road trip from berlin to rome", False),
    ],
)
def test_naming_the_roadmap_followed_is_read_apart_from_any_roadmap(question: str, this_roadmap: bool) -> None:
    assert read_intents(question).this_roadmap is this_roadmap


def test_asking_about_the_roadmap_itself_is_in_scope_whatever_its_words() -> None:
    assert confidence("hybrid", evidence(dense=0.1)) < 0.5
    assert confidence("hybrid", evidence(dense=0.1, roadmap_itself=True)) == 1.0


def test_single_signal_modes_ignore_names() -> None:
    assert confidence("dense", evidence(dense=0.3, named=1.0)) == confidence("dense", evidence(dense=0.3))


# --- The index's signals and the retriever ------------------------------------------------------------


def small_index(documents: list[Document], encoder: FakeEncoder, hnsw: bool = False) -> SearchIndex:
    texts = [p for d in documents for p in d.passages]
    owners = np.asarray([i for i, d in enumerate(documents) for _ in d.passages], dtype=np.int64)
    vectors = encoder.encode(texts)
    index = (
        faiss.IndexHNSWFlat(encoder.dimension, 8, faiss.METRIC_INNER_PRODUCT)
        if hnsw
        else faiss.IndexFlatIP(encoder.dimension)
    )
    index.add(vectors)
    manifest = Manifest(encoder.name, encoder.dimension, len(documents), len(texts), "test", "", 0.0, "test")
    return SearchIndex(StoredIndex(Path("."), manifest, documents, owners, index))


KNOWLEDGE = [
    doc(
        "regularization",
        topic_id="regularization",
        names=("Regularization", "weight decay"),
        passages=("Regularization adds a penalty so the model does not memorise noise.", "Ridge and lasso penalties."),
    ),
    doc(
        "docker",
        kind="concept",
        step=2,
        topic_id="deploy",
        names=("Docker",),
        passages=("Docker packs a model and its dependencies into a container image.",),
    ),
    doc("deploy", step=2, topic_id="deploy", names=("Deployment",), passages=("Serve a model behind an API.",)),
]


@pytest.mark.parametrize("hnsw", [False, True])
def test_dense_scores_are_each_documents_best_passage(hnsw: bool) -> None:
    encoder = FakeEncoder()
    index = small_index(KNOWLEDGE, encoder, hnsw=hnsw)
    query = encoder.encode(["ridge and lasso penalties", "a container image"])
    passages = encoder.encode([p for d in KNOWLEDGE for p in d.passages])
    expected = np.stack(
        [(query @ passages.T)[:, :2].max(axis=1), (query @ passages.T)[:, 2], (query @ passages.T)[:, 3]], axis=1
    )
    assert np.allclose(index.dense_scores(query), expected, atol=1e-5)


@pytest.mark.parametrize("hnsw", [False, True])
def test_symptom_passages_rank_but_do_not_count_towards_confidence(hnsw: bool) -> None:
    symptomatic = [
        doc(
            "regularization",
            topic_id="regularization",
            passages=("Regularization adds a penalty to the weights.", "Regularization: my kettle whistles"),
            symptom_passages=1,
        ),
        doc("deploy", step=2, topic_id="deploy", passages=("Serve a model behind an API.",)),
    ]
    encoder = FakeEncoder()
    index = small_index(symptomatic, encoder, hnsw=hnsw)
    query = encoder.encode(["my kettle whistles"])
    assert index.dense_scores(query)[0, 0] > 0.5
    assert index.dense_scores(query, symptoms=False)[0, 0] < 0.3
    [retrieval] = Retriever(index, encoder).retrieve(["my kettle whistles"], k=2)
    assert retrieval.results[0].id == "regularization"
    assert retrieval.evidence.dense < 0.3  # judged on whole passages: "kettle" is not what the knowledge is about
    # BM25 counts the symptom's words once, in its problem, not again in the symptom passage.
    assert index.lexical_scores(tokenize("kettle whistles"))[0] == 0.0


# Two topics; the deployment topic answers a question learners asked in words none of its own text uses.
ASKED = [
    doc(
        "regularization",
        topic_id="regularization",
        passages=("Regularization adds a penalty to the weights.", "Regularization: my kettle whistles"),
        symptom_passages=1,
    ),
    doc(
        "deploy",
        step=2,
        topic_id="deploy",
        passages=("Serve a model behind an API.", "how do my friends use the thing i trained"),
        asked_passages=1,
    ),
]


@pytest.mark.parametrize("hnsw", [False, True])
def test_asked_questions_are_scored_apart_from_the_knowledges_own_text(hnsw: bool) -> None:
    encoder = FakeEncoder()
    index = small_index(ASKED, encoder, hnsw=hnsw)
    query = encoder.encode(["how do my friends use the thing i trained"])
    found = index.dense_scores_for_ranking(query)
    assert found.asked[0, 1] > 0.99 and found.asked[0, 0] == -1.0  # only asked passages, each its document's
    assert found.ranked[0, 1] < 0.3 and found.own[0, 1] < 0.3  # the knowledge's text is nothing like it
    assert index.dense_scores(query)[0, 1] < 0.3
    kettle = index.dense_scores_for_ranking(encoder.encode(["my kettle whistles"]))
    assert kettle.ranked[0, 0] > 0.5 > kettle.own[0, 0]  # symptoms still rank and still do not count as own text
    # Learners' words are not the knowledge's: BM25 does not know them.
    assert index.lexical_scores(tokenize("friends trained"))[1] == 0.0


def test_a_question_worded_like_an_asked_one_ranks_its_answer_first_but_scope_reads_the_knowledge() -> None:
    encoder = FakeEncoder()
    question = "how do my friends use the thing i trained?"
    [lifted] = Retriever(small_index(ASKED, encoder), encoder).retrieve([question], k=2)
    unasked = [ASKED[0], doc("deploy", step=2, topic_id="deploy", passages=("Serve a model behind an API.",))]
    [plain] = Retriever(small_index(unasked, encoder), encoder).retrieve([question], k=2)
    assert lifted.results[0].id == "deploy"
    assert lifted.results[0].score > plain.results[0].score
    # Whether it is in scope is judged on the knowledge's own text, as the scope model was fitted: an asked
    # question ("lasso??") must not carry a word trap ("throw a lasso like a cowboy") into scope.
    assert lifted.evidence.dense < 0.3 and plain.evidence.dense < 0.3
    [own] = Retriever(small_index(ASKED, encoder), encoder).retrieve(["serve a model behind an api"], k=2)
    [own_plain] = Retriever(small_index(unasked, encoder), encoder).retrieve(["serve a model behind an api"], k=2)
    assert own.confidence == own_plain.confidence


@pytest.mark.parametrize(
    ("cosine", "lift"),
    [(0.9, 0.4), (0.75, 0.25), (0.5, 0.0), (0.3, 0.0), (-1.0, 0.0)],
)
def test_an_asked_question_lifts_its_answers_by_how_far_it_passes_the_floor(cosine: float, lift: float) -> None:
    dense = np.asarray([0.4], dtype=np.float32)
    lifted = retrieval.with_asked(dense, np.asarray([cosine], dtype=np.float32))
    assert lifted[0] == pytest.approx(0.4 + lift, abs=1e-6)


def test_misspelt_words_are_corrected_and_unknown_words_counted() -> None:
    index = small_index(KNOWLEDGE, FakeEncoder())
    assert index.correct("regularisaton of my modle") == "regularization of my modle"
    assert index.coverage(words("carbonara recipe")) == 0.0
    assert index.coverage(words("docker container penalty")) == 1.0


def test_names_many_documents_use_as_typed_are_generic_whatever_their_stem() -> None:
    documents = [
        doc(f"d{i}", topic_id=f"d{i}", passages=(f"the training loss of neural networks, part {i}",)) for i in range(8)
    ]
    documents.append(doc("opt", topic_id="opt", names=("optimizers", "loss", "neural network"), passages=("x",)))
    documents += [doc(f"o{i}", topic_id=f"o{i}", passages=("model optimization",)) for i in range(3)]
    matches = small_index(documents, FakeEncoder()).name_matches("optimizers loss neural network")
    # "optimization" shares a stem with "optimizers" but is another word: the name stays specific.
    assert sorted((m.start, m.specific) for m in matches) == [(0, True), (1, False), (2, False)]


def test_a_question_beyond_the_roadmap_is_declined_unless_it_names_what_the_roadmap_teaches() -> None:
    retriever = Retriever(small_index(KNOWLEDGE, FakeEncoder()), FakeEncoder(), beyond=["GAN", "diffusion model"])
    beyond, named = retriever.retrieve(["how do GANs work", "GAN training: weight decay and ridge penalties?"], k=3)
    assert beyond.confidence == 0.0 and beyond.evidence.beyond
    assert not named.evidence.beyond and named.results[0].id == "regularization"


def test_a_taught_name_unlike_everything_else_the_question_says_does_not_keep_it_in_scope() -> None:
    # "fine-tune llama with LoRA": the taught name's passages are nothing like the question.
    retriever = Retriever(small_index(KNOWLEDGE, FakeEncoder()), FakeEncoder(), beyond=["GAN", "diffusion model"])
    [passing] = retriever.retrieve(["GAN generator discriminator collapse, weight decay maybe"], k=3)
    assert passing.evidence.named == 1.0 and passing.evidence.dense < retrieval.TAUGHT_NAME_MIN_COSINE
    assert passing.evidence.beyond and passing.confidence == 0.0


def test_a_subject_beyond_the_roadmap_is_named_with_its_version_glued_on() -> None:
    retriever = Retriever(small_index(KNOWLEDGE, FakeEncoder()), FakeEncoder(), beyond=["YOLO", "GAN"])
    [versioned] = retriever.retrieve(["yolov8 boxes are shifted left"], k=3)
    assert versioned.evidence.beyond and versioned.confidence == 0.0


def test_knowledge_words_are_not_a_misspelt_subject_beyond_the_roadmap() -> None:
    retriever = Retriever(small_index(KNOWLEDGE, FakeEncoder()), FakeEncoder(), beyond=["docker images", "modal packs"])
    questions = ["model packs please", "my dockr images keep crashing", "docker image please"]
    known, typo, singular = retriever.retrieve(questions, k=3)
    assert not known.evidence.beyond  # one edit from "modal packs", but every word is the knowledge's own
    assert typo.evidence.beyond  # "dockr" is no word of the knowledge: a misspelt subject beyond it
    assert singular.evidence.beyond  # the subject itself, in the singular


def test_a_subject_the_knowledge_names_is_not_beyond_it() -> None:
    taught = [*KNOWLEDGE, doc("gan", kind="concept", topic_id="deploy", names=("GAN",))]
    retriever = Retriever(small_index(taught, FakeEncoder()), FakeEncoder(), beyond=["GAN"])
    assert not retriever.retrieve(["how do GANs work"], k=3)[0].evidence.beyond


def test_the_lexical_mode_ranks_without_the_encoder() -> None:
    encoder = FakeEncoder()
    retriever = Retriever(small_index(KNOWLEDGE, FakeEncoder()), encoder)
    [result] = retriever.retrieve(["docker container image"], k=2, mode="lexical")
    assert encoder.calls == 0 and result.results[0].id == "docker"


def test_a_question_of_several_sentences_keeps_each_of_three_words_or_more() -> None:
    story = read_question("pharmacist from Turkey. i want to predict which patient comes back! is it classification?")
    assert story.clauses == (
        "pharmacist from Turkey.",
        "i want to predict which patient comes back!",
        "is it classification?",
    )
    # A greeting or a one-word sentence is no sentence of its own; a question of one sentence has none.
    assert read_question("hi. what is the difference between bagging and boosting").clauses == ()
    assert read_question("what is the difference between bagging and boosting").clauses == ()
    assert read_question("my loss is nan\nafter three epochs of training").clauses == (
        "my loss is nan",
        "after three epochs of training",
    )
