"""The numbers that weigh the ranking's signals and decide when to decline, fitted on data and kept with the index.

`roadmap-tutor calibrate` fits them on labelled question sets (`bot/calibrate.py`) and writes them as YAML
with the sets they were fitted on; the shipped fit is `calibration.yaml` beside this module. Each index
build copies the calibration it was built with into its folder and manifest, and answering reads it from
there: the numbers that served an answer are the ones recorded with the index.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from indexer.build import CALIBRATION_FILE

SHIPPED_CALIBRATION = Path(__file__).resolve().parent / "calibration.yaml"
__all__ = ["CALIBRATION_FILE", "SHIPPED_CALIBRATION", "Calibration", "Scope", "Weights", "load_calibration"]


class CalibrationError(ValueError):
    """A calibration file that cannot be read; the message names the file and the field."""


@dataclass(frozen=True)
class Weights:
    """How the ranking's signals add up (see `bot.answering.retrieval.fuse`)."""

    lexical: float = 0.25  # BM25, scaled by the question's best document (never by less than 4)
    name: float = 0.3  # a document the question names (title or alias, typos forgiven)
    generic_name_share: float = 0.5  # an everyday name after the subject counts this share of a specific one
    incidental_name_gap: float = 0.04  # a named document this far below the best passage was named in passing
    family: float = 0.1  # share of a topic family's best score each member gets (topic-level evidence)
    resource_penalty: float = 0.15  # resources, unless material is asked for
    prompt_penalty: float = 0.15  # weekly prompts, unless a project is asked for
    resource_bonus: float = 0.1  # material asked for (and again for the kind named: "a book")
    project_bonus: float = 0.2  # a project asked for
    roadmap_bonus: float = 0.2  # the roadmap as a whole asked about (its goals, length, what comes after)
    asked_weight: float = 1.0  # lift by an asked question's cosine beyond `asked_floor`
    asked_floor: float = 0.5
    roadmap_preference: float = 1.0  # documents of the roadmap a member follows, over other roadmaps' documents
    # ... unless another roadmap's own text is closer to the question by more than this cosine: then that roadmap
    # teaches the subject and the member's does not (training a model, asked by a web-development member).
    preference_margin: float = 0.25
    # ... and unless the question names, by a name of its own, only other roadmaps' entries while the member's
    # roadmap's closest text trails theirs by more than this cosine ("one-hot vs label encoding", "css gradient"
    # asked by a member of a roadmap that teaches neither). Set by hand, as the margin (docs/EVALUATION.md).
    named_elsewhere_gap: float = 0.15
    # A concept the question does not name answers before its topic only when it leads the topic by more than this
    # score: the topic teaches the family as a whole ("my model is bad on train and test alike" is the topic
    # overfitting and underfitting's, not its concept train/test split's). Set by hand (docs/EVALUATION.md).
    concept_lead: float = 0.1
    # A follow-up that leans on the answer before it: the answered entry, its topic family and their material.
    follow_up_family: float = 0.1


# The features read from the roadmaps' examples: the best cosine of an asked (in-scope) question, of a
# declined one, and the second minus the first. A roadmap without examples cannot give them: its questions
# are judged by `Calibration.fallback`, fitted without them.
EXAMPLE_FEATURES = ("asked", "declined", "declined_margin")


@dataclass(frozen=True)
class Scope:
    """Whether a question is about what the knowledge teaches: a logistic model over `Scope.FEATURES`.

    Confidence is the model's probability; the tutor declines below `retrieval.min_confidence` (0.5).
    """

    FEATURES = (
        "dense",
        "named",
        "coverage",
        "context",
        "named_in_context",
        "agree",
        "lexical",
        "domain",
        "unknown",
        "context_domain",
        "context_unknown",
        "named_in_domain",
        "closer_to_general",
        *EXAMPLE_FEATURES,
    )

    # Hand-set defaults for the first six features (dense .. agree), for an index with no calibration at all.
    coefficients: tuple[float, ...] = (14.0, 2.0, 2.0, 0.0, 2.0, 0.7) + (0.0,) * (len(FEATURES) - 6)
    intercept: float = -6.5

    def without_examples(self) -> Scope:
        """This model with the examples' features left out (what a fallback made before them amounts to)."""
        pairs = zip(self.coefficients, self.FEATURES, strict=True)
        kept = tuple(0.0 if name in EXAMPLE_FEATURES else c for c, name in pairs)
        return Scope(kept, self.intercept)

    def probability(self, values: dict[str, float]) -> float:
        z = self.intercept + sum(c * values[name] for c, name in zip(self.coefficients, self.FEATURES, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass(frozen=True)
class Calibration:
    weights: Weights = field(default_factory=Weights)
    scope: Scope = field(default_factory=Scope)
    fitted_on: tuple[str, ...] = ()  # the question sets, by file name
    figures: dict[str, Any] = field(default_factory=dict)  # what the fit reached on them
    # The scope model without `EXAMPLE_FEATURES`, for questions about roadmaps that have no examples.
    fallback: Scope = field(default_factory=lambda: Scope().without_examples())

    def to_dict(self) -> dict[str, Any]:
        return {
            "fitted_on": list(self.fitted_on),
            "figures": self.figures,
            "weights": {k: round(v, 4) for k, v in asdict(self.weights).items()},
            "scope": _scope_dict(self.scope, Scope.FEATURES),
            "fallback": _scope_dict(self.fallback, BASE_FEATURES),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "calibration") -> Calibration:
        try:
            weights = data.get("weights", {})
            known = {f.name for f in fields(Weights)}
            unknown = set(weights) - known
            if unknown:
                raise CalibrationError(f"{source}: weights.{sorted(unknown)[0]}: unknown weight")
            scope = _read_scope(data.get("scope", {}), Scope.FEATURES, f"{source}: scope") or Scope()
            # A calibration made before the examples' features has no fallback: its scope model is one.
            fallback = _read_scope(data.get("fallback", {}), BASE_FEATURES, f"{source}: fallback")
            return cls(
                weights=Weights(**{k: float(v) for k, v in weights.items()}),
                scope=scope,
                fallback=fallback or scope.without_examples(),
                fitted_on=tuple(data.get("fitted_on", ())),
                figures=dict(data.get("figures", {})),
            )
        except (TypeError, ValueError, AttributeError) as error:
            if isinstance(error, CalibrationError):
                raise
            raise CalibrationError(f"{source}: {error}") from error


BASE_FEATURES = tuple(name for name in Scope.FEATURES if name not in EXAMPLE_FEATURES)


def _scope_dict(scope: Scope, names: tuple[str, ...]) -> dict[str, Any]:
    coefficients = dict(zip(Scope.FEATURES, scope.coefficients, strict=True))
    return {"coefficients": {n: round(coefficients[n], 4) for n in names}, "intercept": round(scope.intercept, 4)}


def _read_scope(data: dict[str, Any], names: tuple[str, ...], where: str) -> Scope | None:
    """A scope model from its file section; None when the section is missing or empty."""
    coefficients = data.get("coefficients", {})
    unknown = set(coefficients) - set(names)
    if unknown:
        raise CalibrationError(f"{where}.coefficients.{sorted(unknown)[0]}: unknown feature")
    if not coefficients:
        return None
    # A feature the file does not name counts 0 (a calibration made before it existed).
    return Scope(
        tuple(float(coefficients.get(name, 0.0)) for name in Scope.FEATURES),
        float(data.get("intercept", Scope().intercept)),
    )


def load_calibration(path: Path = SHIPPED_CALIBRATION) -> Calibration:
    """A calibration file; the defaults of `Weights` and `Scope` where there is none."""
    if not path.exists():
        return Calibration()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise CalibrationError(f"{path}: cannot be read: {error}") from error
    if not isinstance(data, dict):
        raise CalibrationError(f"{path}: expected a mapping with weights and scope")
    return Calibration.from_dict(data, str(path))


def write_calibration(calibration: Calibration, path: Path, header: str = "") -> None:
    text = yaml.safe_dump(calibration.to_dict(), sort_keys=False, allow_unicode=True, width=110)
    path.write_text(header + text, encoding="utf-8")
