"""Follow-up questions: how a follow-up stands to the answer before it, and what it is answered with."""

from __future__ import annotations

import pytest

from bot.answering import Answer, Answerer
from bot.answering.followup import (
    AnswerContext,
    Leaning,
    follow_up_confidence,
    joined,
    leaning_of,
    turns_to_the_roadmap,
)
from bot.answering.question import Intents, Question, read_intents
from indexer.search import NameMatch, name_words, topic_words

FIELD, EVERYDAY, NEVER = 2.0, 0.3, -2.0  # salience of a field word, an everyday word, a word never used


def read(
    text: str, salience: dict[str, float] | None = None, names: list[NameMatch] | None = None, **intents: bool
) -> tuple[Question, list[float]]:
    """A question read by hand: its words, the names given, the intents given; each word's salience."""
    typed = name_words(text)
    words = topic_words(typed)
    question = Question(
        text=text, tokens=tuple(words), words=tuple(words), names=tuple(names or ()), beyond=(), typed=tuple(typed),
        intents=Intents(**intents),
    )  # fmt: skip
    return question, [(salience or {}).get(w, EVERYDAY) for w in words]


EARLIER = AnswerContext(question="what is lasso", document="lasso-regression", confidence=0.9, answered=True)
DECLINED = AnswerContext(question="what's a gan", document=None, confidence=0.05, answered=False)


# --- How a follow-up stands to the answer before it (no model) ---------------------------------------


def test_a_fragment_pointing_back_leans_joins_and_borrows() -> None:
    assert leaning_of(*read("why is that?")) == Leaning(leans=True, joins=True, borrows=True, names=False)
    assert leaning_of(*read("example please")) == Leaning(leans=True, joins=True, borrows=True, names=False)


def test_a_message_that_says_nothing_does_not_lean() -> None:
    assert not leaning_of(*read("thanks!")).leans
    assert not leaning_of(*read("ok")).leans
    assert leaning_of(*read("what next?", what_next=True)).leans  # a request says something


def test_three_subject_words_make_a_question_of_its_own() -> None:
    salience = {"model": FIELD, "memorises": FIELD, "training": FIELD}
    assert not leaning_of(*read("my model memorises the training set", salience)).leans
    assert leaning_of(*read("my model memorises the set", salience)).leans


def test_a_word_the_knowledge_never_uses_is_a_subject_that_borrows_nothing_unless_it_points_back() -> None:
    gans = leaning_of(*read("and GANs?", {"gans": NEVER}))
    assert gans.leans and not gans.borrows
    visually = leaning_of(*read("is there a video that shows it visually?", {"visually": NEVER}, material=True))
    assert visually.leans and visually.borrows


def test_a_specific_name_is_read_without_the_earlier_words_a_generic_one_with_them() -> None:
    specific = leaning_of(*read("how do i stop overfitting?", names=[NameMatch(4, 5, 0, 1.0, specific=True)]))
    assert specific.leans and not specific.joins and specific.names
    generic = leaning_of(*read("example in pytorch?", names=[NameMatch(2, 3, 0, 1.0, specific=False)]))
    assert generic.leans and generic.joins and generic.names


def test_only_a_borrowing_follow_up_takes_the_earlier_confidence() -> None:
    borrowing = Leaning(leans=True, joins=True, borrows=True, names=False)
    assert follow_up_confidence(borrowing, 0.2, False, EARLIER) == 0.9
    assert follow_up_confidence(borrowing, 0.95, False, DECLINED) == 0.05  # a follow-up of a declined question
    assert follow_up_confidence(Leaning(True, True, False, False), 0.2, False, EARLIER) == 0.2
    assert follow_up_confidence(borrowing, 0.0, True, EARLIER) == 0.0  # a subject beyond the roadmaps
    naming = Leaning(leans=True, joins=False, borrows=True, names=True)
    assert follow_up_confidence(naming, 0.97, False, DECLINED) == 0.97  # "and what is xgboost?"
    assert follow_up_confidence(naming, 0.3, False, EARLIER) == 0.9


def test_a_joined_reading_has_the_earlier_words_first_and_the_follow_ups_own_names_and_requests() -> None:
    earlier, _ = read("how long is the whole roadmap", names=[NameMatch(0, 1, 3, 1.0)], about_roadmap=True)
    follow_up, _ = read("any book on it?", names=[NameMatch(1, 2, 7, 1.0)], material=True)
    both = joined(earlier, follow_up)
    assert both.text == "how long is the whole roadmap any book on it?"
    assert both.words == earlier.words + follow_up.words and both.tokens == earlier.tokens + follow_up.tokens
    assert both.names == follow_up.names and both.typed == follow_up.typed
    assert both.intents.material and not joined(follow_up, earlier).intents.material
    assert both.intents.about_roadmap  # the roadmap as a whole stays the subject


def test_what_now_after_saying_what_was_finished_asks_what_comes_next() -> None:
    finished, _ = read("i finished step 2", finished=True)
    what_now, _ = read("what do i do now", what_now=True)
    assert joined(finished, what_now).intents.what_next
    # "What now?" after a question that finished nothing asks about that question's subject.
    problem, _ = read("my model overfits")
    assert not joined(problem, what_now).intents.what_next


def test_a_follow_up_turning_to_the_roadmap_as_a_whole_is_read_alone() -> None:
    topic, _ = read("cnn in pytorch tutorial")
    whole, _ = read("how long is the whole roadmap", about_roadmap=True)
    turning, _ = read("btw what comes after this whole roadmap", about_roadmap=True)
    assert turns_to_the_roadmap(turning, topic)
    assert not turns_to_the_roadmap(turning, whole)  # the roadmap was the subject already
    pointing_back, _ = read("is that covered in the roadmap?", about_roadmap=True)
    assert not turns_to_the_roadmap(pointing_back, topic)  # "that": the earlier subject


# --- Answered in context, with the real model ---------------------------------------------------------


def follow(answerer: Answerer, first: str, then: str) -> tuple[Answer, Answer, Answer]:
    """The first answer, the follow-up answered in its context, and the follow-up answered alone."""
    earlier = answerer.answer(first)
    return earlier, answerer.answer(then, context=earlier.context), answerer.answer(then)


@pytest.mark.model
def test_an_answer_carries_what_a_follow_up_leans_on(real_answerer: Answerer) -> None:
    answered = real_answerer.answer("what is lasso")
    assert answered.context is not None and answered.context.question == "what is lasso"
    assert answered.context.document == answered.results[0].id == "lasso-regression" and answered.context.answered
    declined = real_answerer.answer("who painted the Mona Lisa?")
    assert declined.context is not None and not declined.context.answered and declined.context.document is None
    assert declined.context.confidence < 0.5
    assert real_answerer.answer("   ").context is None


@pytest.mark.model
@pytest.mark.parametrize(
    ("first", "then", "family"),
    [
        ("what is f1 score", "example please", "evaluation-metrics"),  # a fragment
        ("what is dropout", "why is that?", "regularization"),  # declined alone
        ("what is dropout", "example in pytorch?", "regularization"),  # alone: PyTorch
    ],
)
def test_an_incomplete_follow_up_is_answered_about_the_earlier_subject(
    real_answerer: Answerer, first: str, then: str, family: str
) -> None:
    _, in_context, alone = follow(real_answerer, first, then)
    assert not in_context.abstained and in_context.results[0].topic_id == family
    assert alone.abstained or alone.results[0].topic_id != family


@pytest.mark.model
def test_a_follow_ups_requests_apply_to_the_earlier_subject(real_answerer: Answerer) -> None:
    _, project, alone = follow(real_answerer, "what is lasso", "project idea?")
    assert (
        project.results[0].kind == "project"
        and "regularization" in real_answerer.kb.prompt(project.results[0].id).topics
    )  # type: ignore[union-attr]
    assert alone.results[0].id != project.results[0].id
    _, what_next, alone = follow(real_answerer, "what is regularization", "what should i learn after it?")
    assert what_next.results[0].id == "ensemble-methods" and alone.results[0].id != "ensemble-methods"


@pytest.mark.model
def test_what_comes_after_the_roadmap_asked_after_a_topic_gets_what_comes_after_it(real_answerer: Answerer) -> None:
    _, in_context, _ = follow(real_answerer, "cnn in pytorch tutorial", "btw what comes after this whole roadmap")
    assert in_context.results[0].id == "intermediate/next-steps"


@pytest.mark.model
def test_what_now_after_finishing_a_step_gets_the_step_after_it(real_answerer: Answerer) -> None:
    earlier, in_context, alone = follow(real_answerer, "i finished step 2", "so what do i do now")
    assert earlier.results[0].id == "neural-networks"
    assert in_context.results[0].id == "dl-frameworks" and alone.results[0].id != "dl-frameworks"


@pytest.mark.model
@pytest.mark.parametrize(
    ("first", "then"),
    [("what is grid search", "its way too slow, any alternative?"), ("what is adam", "what can i use instead?")],
)
def test_asking_for_an_alternative_gets_a_sibling_of_the_answer_before_the_answer(
    real_answerer: Answerer, first: str, then: str
) -> None:
    earlier, in_context, _ = follow(real_answerer, first, then)
    answered = earlier.results[0]
    ids = [r.id for r in in_context.results]
    # Something else from the same step first, the answer itself still close behind.
    assert not in_context.abstained and ids[0] != answered.id and answered.id in ids[:3], ids
    assert in_context.results[0].step == answered.step and in_context.results[0].kind in {"topic", "concept"}


def test_a_choice_among_the_projects_is_read_as_such() -> None:
    assert read_intents("which of the 4 projects should i do first").project_choice
    assert read_intents("which project looks best in a portfolio").project_choice
    assert read_intents("i only have time for 2 of the projects, which two").project_choice
    assert not read_intents("give me a project idea for nlp").project_choice
    assert not read_intents("how do i structure my project folder").project_choice


def test_a_plan_through_the_roadmap_is_read_as_such() -> None:
    assert read_intents("can i skip step 1").planning
    assert read_intents("am i ready for neural nets").planning
    assert read_intents("docker first or the other way around?").planning
    assert read_intents("which step should i start from").planning
    assert read_intents("i already know python well, can i start at step 2?").planning
    assert not read_intents("how do skip connections work in resnet").planning
    assert not read_intents("is my model ready for production").planning


def test_an_alternative_is_asked_for_in_so_many_words() -> None:
    assert read_intents("any alternative?").alternative
    assert read_intents("something else instead?").alternative
    assert read_intents("are there other options").alternative
    assert not read_intents("anything else i should know about it?").alternative
    assert not read_intents("why is that?").alternative


@pytest.mark.model
@pytest.mark.parametrize(
    ("first", "then", "topic"),
    [
        ("what is docker", "how do i stop overfitting?", "regularization"),
        ("explain relu", "ok thanks. what is xgboost?", "ensemble-methods"),
        ("what is docker", "my model memorizes the training set and fails on new data, how to fix?", "regularization"),
    ],
)
def test_a_follow_up_with_a_subject_of_its_own_is_answered_on_its_own(
    real_answerer: Answerer, first: str, then: str, topic: str
) -> None:
    _, in_context, alone = follow(real_answerer, first, then)
    assert not in_context.abstained and in_context.results[0].topic_id == topic
    assert in_context.results[0].id == alone.results[0].id


@pytest.mark.model
@pytest.mark.parametrize(
    ("first", "then", "reason"),
    [
        ("what is dropout", "and GANs?", "beyond"),
        ("explain lstm", "and reinforcement learning?", "beyond"),  # a subject beyond in the field's own words
        ("what is docker", "how do i make sourdough bread?", "unknown"),
        ("what is dropout", "what about in baking?", "unknown"),
        ("what is lasso", "thanks!", "unknown"),  # says nothing: not the lasso answer again
    ],
)
def test_context_never_makes_the_tutor_answer_what_it_declines_alone(
    real_answerer: Answerer, first: str, then: str, reason: str
) -> None:
    earlier, in_context, alone = follow(real_answerer, first, then)
    assert not earlier.abstained and alone.abstained
    assert in_context.abstained and in_context.reason == reason


@pytest.mark.model
def test_a_follow_up_of_a_declined_question_is_declined(real_answerer: Answerer) -> None:
    earlier, in_context, alone = follow(real_answerer, "what's a GAN", "how should I train one?")
    assert earlier.abstained and not alone.abstained  # alone, "train one" reads like the optimisers
    assert in_context.abstained
    _, named, _ = follow(real_answerer, "what's a GAN", "ok, and what is xgboost?")
    assert not named.abstained and named.results[0].id == "xgboost"


@pytest.mark.model
def test_a_conversation_keeps_its_subject_over_several_follow_ups(real_answerer: Answerer) -> None:
    first = real_answerer.answer("what is dropout")
    second = real_answerer.answer("example in pytorch?", context=first.context)
    third = real_answerer.answer("any book on it?", context=second.context)
    assert second.context is not None and second.context.question == "what is dropout example in pytorch?"
    assert third.context is not None and third.context.question.startswith("what is dropout")
    assert not third.abstained and third.results[0].kind == "resource"
