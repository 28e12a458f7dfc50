"""Calibration: fitting the scope model and the weights, the file format, and keeping it with the index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.answering.calibration import (
    Calibration,
    CalibrationError,
    Scope,
    Weights,
    load_calibration,
    write_calibration,
)
from bot.answering.question import read_question
from bot.answering.retrieval import Evidence
from bot.calibrate import Signals, fit_logistic, fit_scope
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


def test_a_calibration_survives_its_file(tmp_path: Path) -> None:
    calibration = Calibration(
        Weights(lexical=0.4), Scope(tuple(range(len(Scope.FEATURES))), -3.0), ("set.yaml",), {"items": 3}
    )
    write_calibration(calibration, tmp_path / "c.yaml")
    read = load_calibration(tmp_path / "c.yaml")
    assert read.weights == calibration.weights and read.scope == calibration.scope
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
