"""Calibration: fitting the scope model and the weights, the file format, and keeping it with the index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.answering.calibration import (
    BASE_FEATURES,
    EXAMPLE_FEATURES,
    SHIPPED_CALIBRATION,
    Calibration,
    CalibrationError,
    Scope,
    Weights,
    load_calibration,
    write_calibration,
)
from bot.answering.question import read_question
from bot.answering.retrieval import Evidence
from bot.calibrate import GENERAL_FEATURES, Signals, examples_left_out, fit_logistic, fit_scope
from bot.evaluation import EvalItem, Expectation, is_hit
from indexer.build import CALIBRATION_FILE, build_index
from knowledge.loader import load_knowledge
from tests.fakes import FakeEncoder, mini_roadmap, write_mini_roadmap


def test_logistic_regression_separates_what_is_separable() -> None:
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(-1, 0.3, (50, 2)), rng.normal(1, 0.3, (50, 2))])
    y = np.r_[np.zeros(50), np.ones(50)]
    coefficients, intercept = fit_logistic(x, y, np.ones(100))
    assert (((x @ coefficients + intercept) > 0) == (y == 1)).all()


def _signal(question: str, abstain: bool, **evidence: float) -> Signals:
    item = EvalItem(q=question, expect="abstain" if abstain else [{"step": 1, "title_any": ["x"]}])
    values = {"dense": 0.5, "lexical": 0.0, "named": 0.0, "coverage": 1.0, "beyond": False, **evidence}
    return Signals(item, read_question(question), np.zeros(1), np.zeros(1), Evidence(**values))


def test_the_scope_model_learns_to_decline_a_name_among_words_the_knowledge_never_uses() -> None:
    # In scope: names in the field's words. Out of scope: the same names among words it never uses.
    inside = [_signal(f"in {i}", False, named=1.0, dense=0.45 + i / 200, context_domain=0.8) for i in range(20)]
    outside = [
        _signal(f"out {i}", True, named=1.0, dense=0.45 + i / 200, context_domain=0.0, context_unknown=1.0)
        for i in range(20)
    ]
    scope, figures = fit_scope([*inside, *outside])
    assert figures == {"false_abstain": 0.0, "abstain_recall": 1.0}
    assert all(scope.probability(s.evidence.features()) >= 0.5 for s in inside)
    assert all(scope.probability(s.evidence.features()) < 0.5 for s in outside)


def test_each_sets_questions_read_the_examples_of_the_other_sets_only() -> None:
    # Set 0 holds a question and its near twin; set 1 holds the question again, declined there.
    encoder = FakeEncoder()
    texts = ["penguin plush toys", "penguin plush toys please", "penguin plush toys", "volcano facts"]
    sets, abstain = [0, 0, 1, 1], [True, True, True, False]
    vectors = encoder.encode(texts)
    found = examples_left_out(sets, abstain, vectors, vectors)
    # The first question meets neither itself nor its twin of the same set, only set 1's copy and question.
    assert found[0]["declined"] == pytest.approx(1.0)
    assert found[1]["declined"] == pytest.approx(float(vectors[1] @ vectors[2]))
    assert found[0]["asked"] == pytest.approx(max(float(vectors[0] @ vectors[3]), 0.0))
    # Set 1's questions read set 0's only: its in-scope question has no asked example left to meet.
    assert found[3]["asked"] == 0.0
    assert found[2]["declined"] == pytest.approx(1.0)  # set 0 declined it word for word
    # Without `far`, every declined question of the other sets is a general one too.
    assert [f["general"] for f in found] == [f["declined"] for f in found]
    alone = examples_left_out([0, 0], [True, False], vectors[:2], vectors[:2])
    assert alone == [{"asked": 0.0, "declined": 0.0, "general": 0.0}] * 2


def test_the_general_questions_are_the_other_sets_declined_ones_far_from_the_knowledge() -> None:
    encoder = FakeEncoder()
    texts = ["penguin plush toys", "volcano facts", "penguin plush toys", "ski resorts"]
    vectors = encoder.encode(texts)
    # Set 1's declined "penguin plush toys" is near the knowledge: declined there, but no general question.
    found = examples_left_out([0, 0, 1, 1], [True, False, True, True], vectors, vectors, far=[True, True, False, True])
    assert found[0]["declined"] == pytest.approx(1.0)
    assert found[0]["general"] == pytest.approx(max(float(vectors[0] @ vectors[3]), 0.0))
    assert found[0]["general"] < 0.99
    assert found[2]["general"] == pytest.approx(1.0)  # set 0's copy is far


def test_the_fallback_is_fitted_without_the_examples_features() -> None:
    inside = [_signal(f"in {i}", False, dense=0.5 + i / 100, asked=0.9, declined=0.3) for i in range(20)]
    outside = [_signal(f"out {i}", True, dense=0.5 + i / 100, asked=0.3, declined=0.9) for i in range(20)]
    _, figures = fit_scope([*inside, *outside])
    assert figures["abstain_recall"] == 1.0  # the examples separate these, dense alone cannot
    fallback, fallback_figures = fit_scope([*inside, *outside], BASE_FEATURES)
    weights = dict(zip(Scope.FEATURES, fallback.coefficients, strict=True))
    assert all(weights[name] == 0.0 for name in EXAMPLE_FEATURES)
    assert fallback_figures["abstain_recall"] < 1.0 or fallback_figures["false_abstain"] > 0.0


def test_a_calibration_made_before_the_examples_features_loads_with_its_scope_as_fallback(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("scope:\n  coefficients:\n    dense: 12.0\n    named: 1.0\n  intercept: -5.0\n")
    read = load_calibration(tmp_path / "c.yaml")
    assert read.scope == read.fallback
    assert dict(zip(Scope.FEATURES, read.scope.coefficients, strict=True)) == {
        **dict.fromkeys(Scope.FEATURES, 0.0),
        "dense": 12.0,
        "named": 1.0,
    }
    (tmp_path / "c.yaml").write_text("fallback:\n  coefficients:\n    declined: 1.0\n")
    with pytest.raises(CalibrationError, match=r"fallback\.coefficients\.declined: unknown feature"):
        load_calibration(tmp_path / "c.yaml")


def test_a_calibration_survives_its_file(tmp_path: Path) -> None:
    calibration = Calibration(
        Weights(lexical=0.4),
        Scope(tuple(range(len(Scope.FEATURES))), -3.0),
        ("set.yaml",),
        {"items": 3},
        Scope(tuple(float(i) for i in range(len(BASE_FEATURES))) + (0.0,) * len(EXAMPLE_FEATURES), -2.0),
    )
    write_calibration(calibration, tmp_path / "c.yaml")
    read = load_calibration(tmp_path / "c.yaml")
    assert read.weights == calibration.weights and read.scope == calibration.scope
    assert read.fallback == calibration.fallback
    assert read.fitted_on == ("set.yaml",) and read.figures == {"items": 3}


def test_a_wrong_key_in_a_calibration_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("weights:\n  lexcial: 0.3\n")
    with pytest.raises(CalibrationError, match=r"weights\.lexcial: unknown weight"):
        load_calibration(tmp_path / "c.yaml")
    (tmp_path / "c.yaml").write_text("scope:\n  coefficients:\n    density: 1.0\n")
    with pytest.raises(CalibrationError, match=r"scope\.coefficients\.density: unknown feature"):
        load_calibration(tmp_path / "c.yaml")


def test_the_shipped_calibration_names_the_sets_it_was_fitted_on() -> None:
    shipped = load_calibration()
    assert shipped.fitted_on and all(not name.startswith("blind-heldout") for name in shipped.fitted_on)
    root = Path(__file__).resolve().parents[3]
    assert all((root / "eval" / name).is_file() for name in shipped.fitted_on)


def test_each_build_keeps_the_calibration_it_was_built_with(tmp_path: Path) -> None:
    write_mini_roadmap(tmp_path / "k")
    kb = load_knowledge([tmp_path / "k"], include_shipped=False)
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    write_calibration(Calibration(), first)
    write_calibration(Calibration(Weights(lexical=0.5)), second)
    built = build_index(kb, tmp_path / "index", "fake", FakeEncoder, calibration=first)
    again = build_index(kb, tmp_path / "index", "fake", FakeEncoder, calibration=second)
    # A new calibration is a new build (its numbers are part of what the index answers with) ...
    assert not again.reused and again.manifest.content_hash != built.manifest.content_hash
    kept = tmp_path / "index" / "current" / CALIBRATION_FILE
    assert load_calibration(kept).weights.lexical == 0.5
    assert again.manifest.extra["calibration"]
    # ... and the same one is not.
    assert build_index(kb, tmp_path / "index", "fake", FakeEncoder, calibration=second).reused


class _Result:
    def __init__(self, roadmap: str | None) -> None:
        self.id, self.kind, self.title, self.step, self.score, self.roadmap = (
            "x",
            "topic",
            "Overfitting",
            1,
            1.0,
            roadmap,
        )


def test_a_set_run_for_a_roadmap_counts_only_that_roadmaps_entries() -> None:
    expectation = Expectation(step=1, title_any=["overfitting"])
    assert is_hit(_Result("beginner"), expectation) and is_hit(_Result("other"), expectation)
    assert is_hit(_Result("beginner"), expectation, roadmap="beginner")
    assert not is_hit(_Result("other"), expectation, roadmap="beginner")
    assert not is_hit(_Result("beginner"), Expectation(step=1, title_any=["overfitting"], roadmap="other"))


def test_a_second_roadmaps_questions_prefer_its_own_entries(tmp_path: Path) -> None:
    # Two roadmaps with the same subjects (the mini roadmap twice): the member's roadmap answers first.
    from bot.answering import Answerer
    from indexer.search import SearchIndex

    write_mini_roadmap(tmp_path / "k", mini_roadmap("first", "a-"), "first.yaml")
    write_mini_roadmap(tmp_path / "k", mini_roadmap("second", "b-"), "second.yaml")
    kb = load_knowledge([tmp_path / "k"], include_shipped=False)
    build_index(kb, tmp_path / "index", "fake", FakeEncoder)
    answerer = Answerer(kb, SearchIndex.load(tmp_path / "index"), FakeEncoder())
    question = kb.roadmaps[0].steps[0].topics[0].title
    for roadmap in ("first", "second"):
        assert answerer.answer(question, roadmap=roadmap).results[0].roadmap == roadmap


def test_closeness_to_general_questions_only_takes_confidence_away_and_leaves_the_rest_as_fitted() -> None:
    # Dense separates most; some out-of-scope questions read like the knowledge but closer still to a general
    # question (word traps), and some in-scope questions read a little like general questions too.
    inside = [_signal(f"in {i}", False, dense=0.5 + i / 100, general=0.3 + i / 200) for i in range(30)]
    outside = [_signal(f"out {i}", True, dense=0.2 + i / 100, general=0.1) for i in range(20)]
    traps = [_signal(f"trap {i}", True, dense=0.55 + i / 100, general=0.9) for i in range(10)]
    signals = [*inside, *outside, *traps]
    without = [name for name in BASE_FEATURES if name != "closer_to_general"]
    plain, plain_figures = fit_scope(signals, without)
    scope, figures = fit_scope(signals, BASE_FEATURES)
    weights = dict(zip(Scope.FEATURES, scope.coefficients, strict=True))
    assert weights["closer_to_general"] < 0
    # The other features keep the coefficients they have without it; only the cut moves.
    assert [weights[name] for name in without] == pytest.approx(list(plain.coefficients[: len(without)]))
    assert figures["abstain_recall"] == 1.0 > plain_figures["abstain_recall"]
    assert figures["false_abstain"] == 0.0


def test_the_shipped_fallback_reads_the_general_questions_and_the_model_with_examples_does_not() -> None:
    # As `roadmap-tutor calibrate` fits them: a roadmap with examples is judged by its declined questions.
    shipped = load_calibration(SHIPPED_CALIBRATION)
    scope = dict(zip(Scope.FEATURES, shipped.scope.coefficients, strict=True))
    fallback = dict(zip(Scope.FEATURES, shipped.fallback.coefficients, strict=True))
    assert all(scope[name] == 0.0 for name in GENERAL_FEATURES)
    assert all(fallback[name] < 0.0 for name in GENERAL_FEATURES)
    assert "train-9.yaml" in shipped.fitted_on
