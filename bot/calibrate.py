"""`roadmap-tutor calibrate`: fit the ranking's weights and the scope model on labelled question sets.

The sets are read with the knowledge's asked questions left out (many of them come from these very sets, and
a question that is its own asked question says nothing about how the signals add up), on an index built
for the purpose in a temporary folder. The scope model is a logistic regression over roadmap-independent
evidence (`Scope.FEATURES`), its cut placed where false abstentions cost twice what answered out-of-scope
questions do; the ranking weights are set one at a time, twice round, to the value of a small grid that
ranks the most first hits (and half a point for each hit in the top three).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bot.answering.calibration import (
    BASE_FEATURES,
    SHIPPED_CALIBRATION,
    Calibration,
    Scope,
    Weights,
    load_calibration,
)
from bot.answering.question import Question
from bot.answering.retrieval import Evidence, Retriever
from bot.evaluation import EvalItem, first_hit_rank, load_eval_set
from indexer.general import far_from_knowledge

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

# Weights the grid search sets; the asked-question weights were measured by holding sets out (they cannot
# be fitted here, where asked questions are left out), the roadmap preference, its margin and the gap that sets it
# aside for a subject named only elsewhere need overlapping roadmaps (set on the test roadmaps' sets beside the
# shipped one: docs/EVALUATION.md), and a concept's lead over its topic was set on the blind sets, whose labels
# are the roadmap's words rather than the knowledge's.
FITTED_WEIGHTS = (
    "lexical",
    "name",
    "generic_name_share",
    "incidental_name_gap",
    "family",
    "resource_penalty",
    "prompt_penalty",
    "resource_bonus",
    "project_bonus",
    "roadmap_bonus",
)
GRID = (0.0, 0.5, 0.75, 1.0, 1.5, 2.0)  # multiples of a weight's current value
# A false abstention costs this many answered out-of-scope questions when placing the scope model's cut.
FALSE_ABSTAIN_COST = 2.0
# Scope features that only take confidence away (`fit_scope`), and the coefficients tried for them.
ONE_SIDED = ("closer_to_general",)
# The features read from the general questions (`indexer.general`): the fallback's, for roadmaps without examples.
GENERAL_FEATURES = ("closer_to_general",)
ONE_SIDED_GRID = tuple(-0.5 * step for step in range(41))  # 0 .. -20
# In-scope items used to fit the weights (a random sample when there are more): a full ranking per item
# per candidate value.
WEIGHT_ITEMS = 1500


@dataclass(frozen=True)
class Signals:
    """One labelled question with what the ranking reads of it, computed once."""

    item: EvalItem
    question: Question
    dense: np.ndarray
    whole: np.ndarray
    evidence: Evidence


def fit_logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray, ridge: float = 1.0) -> tuple[np.ndarray, float]:
    """Weighted L2-regularised logistic regression by Newton's method: coefficients and intercept."""
    design = np.hstack([x, np.ones((len(x), 1))])
    theta = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], ridge)
    penalty[-1] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ theta, -50, 50)))
        gradient = design.T @ (weights * (p - y)) + penalty * theta
        hessian = (design * (weights * p * (1 - p))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return theta[:-1], float(theta[-1])


def _cost(answered: np.ndarray, y: np.ndarray) -> float:
    """False abstentions x FALSE_ABSTAIN_COST plus answered out-of-scope questions."""
    return float(FALSE_ABSTAIN_COST * ((~answered) & (y == 1)).sum() + (answered & (y == 0)).sum())


def _best_cut(z: np.ndarray, y: np.ndarray) -> float:
    """The cut on `z` (answered at or above it) that costs least (`_cost`)."""
    order = np.argsort(z, kind="stable")
    z, y = z[order], y[order]
    # Cutting at z[i] declines items 0..i-1: the in-scope ones among them, and answers the out-of-scope rest.
    declined_in = np.concatenate([[0.0], np.cumsum(y)])[:-1]
    answered_out = (1 - y)[::-1].cumsum()[::-1]
    costs = FALSE_ABSTAIN_COST * declined_in + answered_out
    first = np.unique(z, return_index=True)[1]  # ties: the first of equal values is where the cut falls
    best = first[int(np.argmin(costs[first]))]
    return float(z[best])


def fit_scope(signals: Sequence[Signals], features: Sequence[str] = Scope.FEATURES) -> tuple[Scope, dict[str, float]]:
    """The scope model over `features` (the others count 0) that best separates in-scope from out-of-scope
    questions, and what it reaches.

    A logistic regression over the two-sided features, cut where it costs least; then each one-sided feature
    (`ONE_SIDED`, 0 for most questions) takes confidence away by the coefficient of `ONE_SIDED_GRID` that costs
    least at that cut. Fitted in one regression with the rest, or given a cut of its own, it would let the rest
    loosen: a question neither about the knowledge nor like any general question (a subject next to the
    field) would be answered more often."""
    usable = [s for s in signals if not s.evidence.beyond]  # declined by their subject whatever the model says
    one_sided = [f for f in features if f in ONE_SIDED]
    two_sided = [f for f in features if f not in ONE_SIDED]
    values = [s.evidence.features() for s in usable]
    x = np.asarray([[v[f] for f in two_sided] for v in values]).reshape(len(usable), len(two_sided))
    y = np.asarray([0.0 if s.item.abstain else 1.0 for s in usable])
    inside, outside = y.sum(), len(y) - y.sum()
    balance = np.where(y == 1, 1.0, inside / max(outside, 1.0))
    coefficients, intercept = fit_logistic(x, y, balance)
    fitted = dict(zip(two_sided, (float(c) for c in coefficients), strict=True))
    intercept -= _best_cut(x @ coefficients + intercept, y) if len(y) else 0.0
    z = x @ coefficients + intercept
    for name in one_sided:
        # The cut stays where the two-sided features put it: the feature can only decline more.
        column = np.asarray([v[name] for v in values])
        costs = [_cost(z + c * column >= 0, y) for c in ONE_SIDED_GRID]
        fitted[name] = ONE_SIDED_GRID[int(np.argmin(costs))]  # ties: the first, the smaller change
        z = z + fitted[name] * column
    coefficients = np.asarray([fitted.get(f, 0.0) for f in features])
    x = np.asarray([[v[f] for f in features] for v in values]).reshape(len(usable), len(features))
    answered = (x @ coefficients + intercept) >= 0
    beyond_out = sum(s.item.abstain for s in signals if s.evidence.beyond)
    beyond_in = sum(not s.item.abstain for s in signals if s.evidence.beyond)
    total_in = int(inside) + beyond_in
    total_out = int(outside) + beyond_out
    figures = {
        "false_abstain": round(float(((~answered) & (y == 1)).sum() + beyond_in) / max(total_in, 1), 4),
        "abstain_recall": round(float(((~answered) & (y == 0)).sum() + beyond_out) / max(total_out, 1), 4),
    }
    scope = Scope(tuple(fitted.get(name, 0.0) for name in Scope.FEATURES), float(intercept))
    return scope, figures


def examples_left_out(
    sets: Sequence[int],
    abstain: Sequence[bool],
    questions: np.ndarray,
    examples: np.ndarray,
    far: Sequence[bool] | None = None,
) -> list[dict[str, float]]:
    """Per item, the examples' evidence (`Evidence.asked`, `Evidence.declined`) and the general questions'
    (`Evidence.general`) from the other sets' items: their in-scope questions as asked ones, their out-of-scope
    ones as declined, and those of them `far` from the knowledge as general ones (`indexer.general`; all of
    them when `far` is not given). Leave-own-set-out: an item meeting itself, or its set's siblings written by
    the same hand, would make the features perfect here and worthless on new questions. `questions`: the items
    as read, encoded; `examples`: the items as written."""
    sets_ = np.asarray(sets)
    declined = np.asarray(abstain, dtype=bool)
    general = declined & (np.ones(len(sets_), dtype=bool) if far is None else np.asarray(far, dtype=bool))
    found: list[dict[str, float]] = [{} for _ in sets]
    for number in np.unique(sets_):
        rows = np.flatnonzero(sets_ == number)
        similar = questions[rows] @ examples.T
        other = sets_ != number
        for kind, columns in (
            ("asked", other & ~declined),
            ("declined", other & declined),
            ("general", other & general),
        ):
            best = similar[:, columns].max(axis=1, initial=0.0) if columns.any() else np.zeros(len(rows))
            for row, value in zip(rows, best, strict=True):
                found[row][kind] = max(float(value), 0.0)
    return found


def ranking_score(retriever: Retriever, signals: Sequence[Signals], calibration: Calibration, k: int) -> float:
    """hit@1 plus half hit@3 over in-scope items, ranked with `calibration`."""
    total = 0.0
    for s in signals:
        retrieval = retriever.rank(s.question, s.dense, s.whole, k, calibration=calibration)
        rank = first_hit_rank(s.item, retrieval.results, k)
        total += (rank == 1) + 0.5 * (rank is not None and rank <= 3)
    return total / max(len(signals), 1)


def fit_weights(
    retriever: Retriever, signals: Sequence[Signals], start: Calibration, k: int, rounds: int = 2
) -> tuple[Weights, float]:
    """Coordinate search: each fitted weight in turn set to the grid value (a multiple of its current value)
    that ranks best, `rounds` times over; ties keep the current value."""
    calibration = start
    best = ranking_score(retriever, signals, calibration, k)
    for _ in range(rounds):
        for name in FITTED_WEIGHTS:
            current = getattr(calibration.weights, name)
            base = current if current else 0.1
            for factor in GRID:
                value = round(base * factor, 4)
                if value == current:
                    continue
                trial = replace(calibration, weights=replace(calibration.weights, **{name: value}))
                score = ranking_score(retriever, signals, trial, k)
                if score > best + 1e-9:
                    best, calibration = score, trial
            log.info("weight %s = %s (score %.4f)", name, getattr(calibration.weights, name), best)
    return calibration.weights, best


def run_calibrate_command(settings: Settings, paths: Sequence[Path], out: Path | None, weights: bool = True) -> int:
    """Fit a calibration on the question sets in `paths` and write it to `out` (default: the shipped file)."""
    from functools import partial

    from bot.answering.calibration import write_calibration
    from bot.progress.recommend import topics_after
    from bot.serving import LazyEncoder, load_settings_knowledge, model_name
    from indexer.build import build_index
    from indexer.search import SearchIndex

    loaded = [(number, item) for number, path in enumerate(paths) for item in load_eval_set(path)]
    items = [item for _, item in loaded]
    kb = load_settings_knowledge(settings)
    # See the module's docstring; the examples' evidence is computed from the sets, leaving each item's own out.
    kb.asked.clear()
    kb.declined.clear()
    start = load_calibration(SHIPPED_CALIBRATION)
    encoder = LazyEncoder(settings)
    with tempfile.TemporaryDirectory(prefix="calibrate-") as folder:
        build_index(kb, Path(folder), model_name(settings), encoder.get)
        index = SearchIndex.load(Path(folder))
        retriever = Retriever(index, encoder.get(), kb.beyond, partial(topics_after, kb), start)
        read = [retriever.read(item.q) for item in items]
        vectors = retriever.encoder.encode([q.text for q in read])
        found = index.dense_scores_for_ranking(vectors)
        written = retriever.encoder.encode([item.q for item in items])
        examples = examples_left_out(
            [number for number, _ in loaded],
            [item.abstain for item in items],
            vectors,
            written,
            # As each build keeps only the declined questions far from its knowledge (`indexer.general`).
            far_from_knowledge(index.dense_scores(written, symptoms=False).max(axis=1)),
        )
        k = settings.retrieval.top_k
        best_clause = retriever.best_clause_cosines(read)
        signals = []
        for row, (item, question) in enumerate(zip(items, read, strict=True)):
            retrieval = retriever.rank(question, found.ranked[row], found.own[row], k)
            evidence = replace(retrieval.evidence, **examples[row], examples=True, best_clause=float(best_clause[row]))
            signals.append(Signals(item, question, found.ranked[row], found.own[row], evidence))
        # A roadmap with examples is judged by them: its declined questions are the general ones and more
        # (`declined_margin`), and the closeness to general questions would only decline its own in everyday words.
        scope, scope_figures = fit_scope(signals, [f for f in Scope.FEATURES if f not in GENERAL_FEATURES])
        # The fallback reads a question of several sentences by its best one, as answering does.
        by_best_clause = [replace(s, evidence=s.evidence.by_best_clause()) for s in signals]
        fallback, fallback_figures = fit_scope(by_best_clause, BASE_FEATURES)
        fitted = start.weights
        ranking = None
        if weights:
            in_scope = [s for s in signals if not s.item.abstain]
            sample = np.random.default_rng(0).permutation(len(in_scope))[:WEIGHT_ITEMS]
            fitted, ranking = fit_weights(retriever, [in_scope[i] for i in sorted(sample)], start, k)
    figures = {
        "items": len(items),
        "in_scope": sum(not i.abstain for i in items),
        "out_of_scope": sum(i.abstain for i in items),
        **scope_figures,
        **{f"fallback_{name}": value for name, value in fallback_figures.items()},
        **({"ranking_score": round(ranking, 4)} if ranking is not None else {}),
        "model": model_name(settings),
        "fitted_at": datetime.now(UTC).strftime("%Y-%m-%d"),
    }
    calibration = Calibration(fitted, scope, tuple(p.name for p in paths), figures, fallback)
    target = out or SHIPPED_CALIBRATION
    header = (
        "# Made by `roadmap-tutor calibrate` on the question sets named in fitted_on (asked questions left out;\n"
        "# the examples' features of each set's questions read from the other sets' questions).\n"
        "# Each index build records the calibration it was built with; see bot/answering/calibration.py.\n"
    )
    write_calibration(calibration, target, header)
    print(f"calibration of {len(items)} questions written to {target}: {figures}")
    unchanged = [f.name for f in fields(Weights) if getattr(fitted, f.name) == getattr(start.weights, f.name)]
    log.info("weights left as they were: %s", ", ".join(unchanged))
    return 0
