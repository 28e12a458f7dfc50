"""Declined examples in the scope model: a question near one is declined, but only for the roadmap that declines
it; a roadmap without examples is judged by the fallback scope model."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bot.answering.calibration import Calibration, Scope
from bot.answering.retrieval import Retrieval, Retriever, confidence
from indexer.build import build_index
from indexer.search import SearchIndex
from knowledge.loader import load_knowledge
from tests.fakes import FakeEncoder, mini_roadmap, write_mini_roadmap


def scope(intercept: float, **coefficients: float) -> Scope:
    return Scope(tuple(coefficients.get(name, 0.0) for name in Scope.FEATURES), intercept)


# Hand-set, so that each test shows one mechanism: with examples, a question must read like an asked question
# more than like a declined one; the fallback answers a question whose words are the knowledge's (cosine 0.4).
CALIBRATION = Calibration(
    scope=scope(-6.0, dense=10.0, asked=5.0, declined_margin=-10.0),
    fallback=scope(-4.0, dense=10.0),
)
# Questions the mini roadmap (penguins, volcanoes) has been asked, and declined.
EXAMPLES = {
    "roadmap": "mini",
    "asked": [
        {"q": "what do emperor penguins eat", "answers": ["emperor-penguin"]},
        {"q": "why do volcanoes erupt", "answers": ["volcanoes"]},
    ],
    "declined": [
        {"q": "where can i buy penguins plush toys at the zoo gift shop"},
        {"q": "how do glaciers carve valleys"},
    ],
}
TRAP = "where do i buy penguins plush toys at a zoo gift shop"


def glaciers_roadmap() -> dict:
    """A roadmap that teaches glaciers and tides: what the mini roadmap's examples decline in part."""
    text = yaml.safe_dump(mini_roadmap("ice", "i-"), sort_keys=False)
    for old, new in [
        ("Penguins", "Glaciers"),
        ("penguins", "glaciers"),
        ("Penguin", "Glacier"),
        ("penguin", "glacier"),
        ("Volcanoes", "Tides"),
        ("volcanoes", "tides"),
        ("Magma", "Moon"),
        ("magma", "moon"),
        ("Albatross", "Icebergs"),
        ("albatross", "icebergs"),
    ]:
        text = text.replace(old, new)
    return yaml.safe_load(text)


ICE_EXAMPLES = {
    "roadmap": "ice",
    "asked": [{"q": "why do glaciers move downhill", "answers": ["i-glaciers"]}],
    "declined": [{"q": "best ski resorts for a winter holiday"}],
}


def retriever(
    tmp_path: Path, *, mini: bool = True, examples: bool = True, ice: bool = False, ice_examples: bool = False
) -> Retriever:
    folder = tmp_path / "knowledge"
    if mini:
        write_mini_roadmap(folder)
    if examples:
        (folder / "asked.yaml").write_text(yaml.safe_dump(EXAMPLES), encoding="utf-8")
    if ice:
        write_mini_roadmap(folder, glaciers_roadmap(), "ice.yaml")
    if ice_examples:
        (folder / "ice-asked.yaml").write_text(yaml.safe_dump(ICE_EXAMPLES), encoding="utf-8")
    kb = load_knowledge([folder], include_shipped=False)
    encoder = FakeEncoder()
    build_index(kb, tmp_path / "index", encoder.name, lambda: encoder)
    return Retriever(SearchIndex.load(tmp_path / "index"), encoder, calibration=CALIBRATION)


def ask(retriever: Retriever, question: str) -> Retrieval:
    [found] = retriever.retrieve([question], k=3)
    return found


def test_a_word_trap_near_a_declined_example_is_declined(tmp_path: Path) -> None:
    without = ask(retriever(tmp_path / "without", examples=False), TRAP)
    assert without.confidence >= 0.5  # close enough to the penguins' text: answered, as before the examples
    examples = retriever(tmp_path / "with")
    trap = ask(examples, TRAP)
    assert trap.evidence.examples and trap.evidence.declined > 0.8 > trap.evidence.asked
    assert trap.confidence < 0.5
    # A question worded like an asked one is still answered.
    answered = ask(examples, "what do the emperor penguins eat")
    assert answered.evidence.asked > answered.evidence.declined and answered.confidence >= 0.5
    assert answered.results[0].id == "emperor-penguin"


def test_a_roadmap_without_examples_is_answered_by_the_fallback_scope(tmp_path: Path) -> None:
    alone = retriever(tmp_path / "alone", mini=False, examples=False, ice=True)
    found = ask(alone, "how do icebergs float")
    assert not found.evidence.examples and found.confidence >= 0.5
    assert found.results[0].roadmap == "ice"
    # Beside a roadmap with examples, a question about the one without is still judged by the fallback.
    beside = ask(retriever(tmp_path / "beside", ice=True), "how do icebergs float")
    assert beside.confidence >= 0.5 and beside.results[0].roadmap == "ice"


def test_a_roadmap_with_declined_questions_and_no_asked_ones_is_judged_by_the_fallback(tmp_path: Path) -> None:
    folder = tmp_path / "knowledge"
    write_mini_roadmap(folder)
    only_declined = {"roadmap": "mini", "declined": EXAMPLES["declined"]}
    (folder / "asked.yaml").write_text(yaml.safe_dump(only_declined), encoding="utf-8")
    kb = load_knowledge([folder], include_shipped=False)
    encoder = FakeEncoder()
    build_index(kb, tmp_path / "index", encoder.name, lambda: encoder)
    found = ask(
        Retriever(SearchIndex.load(tmp_path / "index"), encoder, calibration=CALIBRATION), "how do volcanoes erupt"
    )
    assert not found.evidence.examples and found.confidence >= 0.5
    assert found.results[0].roadmap == "mini"


def test_what_one_roadmap_declines_and_another_teaches_is_answered_from_the_one_that_teaches_it(
    tmp_path: Path,
) -> None:
    both = retriever(tmp_path, ice=True)
    found = ask(both, "how do glaciers carve valleys")  # a declined example of the mini roadmap, word for word
    assert found.confidence >= 0.5
    assert found.results[0].roadmap == "ice"
    # The mini roadmap's own word trap is still declined beside the other roadmap.
    assert ask(both, TRAP).confidence < 0.5
    # Asked by a member of the mini roadmap, whose entries come first: answered from the mini roadmap, it is the
    # mini roadmap's to judge, and its examples decline it (the teaching roadmap does not answer it here).
    [member] = both.retrieve(["how do glaciers carve valleys"], k=3, roadmap="mini")
    assert member.results[0].roadmap == "mini"
    assert member.evidence.examples and not member.evidence.unexampled and member.confidence < 0.5
    # With examples of its own, the teaching roadmap's examples judge it; the other's declined ones do not count.
    exampled = ask(retriever(tmp_path / "exampled", ice=True, ice_examples=True), "how do glaciers carve valleys")
    assert exampled.evidence.examples and not exampled.evidence.unexampled
    assert exampled.evidence.declined < 0.5 and exampled.confidence >= 0.5
    assert exampled.results[0].roadmap == "ice"


@pytest.mark.parametrize("mode", ["dense", "lexical"])
def test_single_signal_modes_read_no_examples(tmp_path: Path, mode: str) -> None:
    [found] = retriever(tmp_path).retrieve([TRAP], k=3, mode=mode)
    assert not found.evidence.examples


# The fallback as above, and a question much closer to a general question than to the knowledge declined.
WITH_GENERAL = Calibration(scope=CALIBRATION.scope, fallback=scope(-4.0, dense=10.0, closer_to_general=-5.0))
GENERAL_TRAP = "best ski resorts for penguins on a winter holiday"


def test_a_word_trap_closer_to_a_general_question_than_to_the_knowledge_is_declined_without_examples(
    tmp_path: Path,
) -> None:
    # Declined questions and no asked ones: no examples, the fallback judges. The declined questions far from the
    # knowledge are the index's general questions (`indexer.general`), with the shipped ones.
    folder = tmp_path / "knowledge"
    write_mini_roadmap(folder)
    declined = {"roadmap": "mini", "declined": [{"q": "best ski resorts for a winter holiday"}]}
    (folder / "asked.yaml").write_text(yaml.safe_dump(declined), encoding="utf-8")
    encoder = FakeEncoder()
    build_index(load_knowledge([folder], include_shipped=False), tmp_path / "index", encoder.name, lambda: encoder)
    index = SearchIndex.load(tmp_path / "index")
    trap = ask(Retriever(index, encoder, calibration=WITH_GENERAL), GENERAL_TRAP)
    assert not trap.evidence.examples and trap.evidence.general > 0.8 > trap.evidence.dense
    assert trap.results[0].id == "penguins" and trap.confidence < 0.5
    # The same index with the general questions unweighted answers it; questions about the knowledge are answered.
    assert ask(Retriever(index, encoder, calibration=CALIBRATION), GENERAL_TRAP).confidence >= 0.5
    for question, entry in [("how do volcanoes erupt", "geology"), ("what do emperor penguins eat", "emperor-penguin")]:
        about = ask(Retriever(index, encoder, calibration=WITH_GENERAL), question)
        assert about.confidence >= 0.5 and about.results[0].id == entry


STORY = (
    "my grandmother knits woollen scarves every winter and my cousin sells old bicycles at the weekend market. "
    "how do icebergs float"
)


def test_a_story_told_around_a_question_is_judged_by_its_asking_sentence_without_examples(tmp_path: Path) -> None:
    alone = retriever(tmp_path, mini=False, examples=False, ice=True)
    found = ask(alone, STORY)
    assert not found.evidence.examples and found.evidence.best_clause > found.evidence.dense
    assert found.confidence >= 0.5 and found.results[0].roadmap == "ice"
    # Judged by the whole question, the story's words would have it declined.
    whole = replace(found.evidence, best_clause=0.0)
    assert confidence("hybrid", whole, CALIBRATION.scope, CALIBRATION.fallback) < 0.5


def test_a_roadmap_with_examples_reads_a_question_once(tmp_path: Path) -> None:
    examples = retriever(tmp_path)
    calls = examples.encoder.calls
    found = ask(examples, "my grandmother knits woollen scarves every winter. what do emperor penguins eat")
    assert found.question.clauses and found.evidence.examples and not found.evidence.unexampled
    assert examples.encoder.calls == calls + 1 and found.evidence.best_clause == 0.0


def test_a_member_is_answered_from_their_roadmap_where_both_teach_and_from_the_other_where_only_it_does(
    tmp_path: Path,
) -> None:
    both = retriever(tmp_path, examples=False, ice=True)
    # Both roadmaps' entries are written alike: each member is answered from the roadmap they follow.
    shared = "is explained here with enough words to satisfy the schema"
    for member in ("mini", "ice"):
        [found] = both.retrieve([shared], k=3, roadmap=member)
        assert found.results[0].roadmap == member
    # Only the ice roadmap teaches icebergs: a member of the mini roadmap is answered from it, not from the mini
    # roadmap's least unrelated entry.
    [found] = both.retrieve(["icebergs explained"], k=3, roadmap="mini")
    assert found.results[0].roadmap == "ice"
    assert found.results[0].id == "i-icebergs"


def test_a_subject_named_only_by_another_roadmap_is_answered_from_it_though_both_read_close(tmp_path: Path) -> None:
    both = retriever(tmp_path, examples=False, ice=True)
    # "Icebergs" names an entry of the ice roadmap alone, and the ice roadmap's text is closer by more than the
    # named-elsewhere gap (0.19) though within the preference margin (0.25): the ice roadmap answers.
    [found] = both.retrieve(["icebergs explained here"], k=3, roadmap="mini")
    assert [found.results[0].roadmap, found.results[0].id] == ["ice", "i-icebergs"]
    # Closer than the gap (0.14), the two are taken for an overlap, and the member's roadmap answers.
    [found] = both.retrieve(["icebergs here with enough words"], k=3, roadmap="mini")
    assert found.results[0].roadmap == "mini"


def test_a_question_is_judged_by_the_words_of_the_roadmap_that_answers_it(tmp_path: Path) -> None:
    both = retriever(tmp_path, examples=False, ice=True)
    # Each roadmap's own words: glaciers are the ice roadmap's, a word the penguin roadmap never uses.
    assert both.index.salience(["glaciers"], "mini") == [-2.0]
    assert both.index.salience(["glaciers"], "ice")[0] > 0
    assert both.index.salience(["glaciers"])[0] > 0  # all the knowledge loaded
    # Answered from the penguin roadmap, "glaciers" counts as a word its knowledge never uses, as it would with
    # that roadmap alone, though the roadmap beside it uses it.
    [found] = both.retrieve(["emperor penguin glaciers"], k=3, roadmap="mini")
    assert found.results[0].roadmap == "mini"
    alone = ask(retriever(tmp_path / "alone", examples=False), "emperor penguin glaciers")
    assert found.evidence.unknown == alone.evidence.unknown > 0
