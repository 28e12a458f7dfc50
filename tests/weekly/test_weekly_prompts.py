"""The shipped weekly prompts: valid, naming only roadmap topics, covering the roadmap, fitting an embed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from knowledge.schema import PromptSet, Roadmap

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
PROMPTS_FILE = KNOWLEDGE / "prompts" / "weekly.yaml"
ROADMAP_FILE = KNOWLEDGE / "roadmaps" / "intermediate.yaml"

# The Intermediate Roadmap's topic ids, used until the roadmap file exists and validates.
ROADMAP_TOPIC_IDS = frozenset(
    {
        "regularization",
        "ensemble-methods",
        "hyperparameter-tuning",
        "evaluation-metrics",
        "feedforward-networks",
        "activation-functions",
        "loss-functions",
        "optimization-algorithms",
        "tensorflow",
        "pytorch",
        "keras",
        "tutorial-tensorflow-first-network",
        "tutorial-pytorch-cnn",
        "tutorial-keras-fine-tuning",
        "project-image-classification",
        "project-time-series-forecasting",
        "project-nlp-tasks",
        "project-recommendation-system",
        "model-optimization",
        "deployment-tools",
        "cloud-platforms",
    }
)
ROADMAP_PROJECTS = (
    "project-image-classification",
    "project-time-series-forecasting",
    "project-nlp-tasks",
    "project-recommendation-system",
)
# Each list is one embed field; Discord's limit is 1024 characters, keep room for the field's markup.
FIELD_BUDGET = 900


def _known_topic_ids() -> frozenset[str]:
    try:
        roadmap = Roadmap.model_validate(yaml.safe_load(ROADMAP_FILE.read_text(encoding="utf-8")))
    except (OSError, ValidationError, yaml.YAMLError):
        return ROADMAP_TOPIC_IDS
    return frozenset(topic.id for step in roadmap.steps for topic in step.topics)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(PROMPTS_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def prompt_set(raw: dict[str, Any]) -> PromptSet:
    return PromptSet.model_validate(raw)


def test_shipped_file_validates_as_a_prompt_set(prompt_set: PromptSet) -> None:
    assert len(prompt_set.prompts) >= 16


def test_prompt_ids_are_unique(prompt_set: PromptSet) -> None:
    ids = [prompt.id for prompt in prompt_set.prompts]
    assert len(ids) == len(set(ids))


def test_prompts_name_only_known_topic_ids(prompt_set: PromptSet) -> None:
    known = _known_topic_ids()
    for prompt in prompt_set.prompts:
        unknown = (set(prompt.topics) | set(prompt.prerequisites)) - known
        assert not unknown, f"{prompt.id} names unknown topic ids {sorted(unknown)}"


def test_a_prompt_does_not_require_what_it_practises(prompt_set: PromptSet) -> None:
    for prompt in prompt_set.prompts:
        assert not set(prompt.topics) & set(prompt.prerequisites), prompt.id


def test_prompts_cover_the_four_roadmap_projects(prompt_set: PromptSet) -> None:
    project_prompts = [p for p in prompt_set.prompts if set(p.topics) & set(ROADMAP_PROJECTS)]
    assert len(project_prompts) >= 8
    assert len(prompt_set.prompts) >= 12
    for project in ROADMAP_PROJECTS:
        covering = [p.id for p in prompt_set.prompts if project in p.topics]
        assert len(covering) >= 2, f"{project} has only {covering}"


def test_every_roadmap_topic_is_practised_by_some_prompt(prompt_set: PromptSet) -> None:
    practised = {topic for prompt in prompt_set.prompts for topic in prompt.topics}
    assert practised >= ROADMAP_TOPIC_IDS, sorted(ROADMAP_TOPIC_IDS - practised)


def test_milestones_walk_through_the_week(prompt_set: PromptSet) -> None:
    for prompt in prompt_set.prompts:
        assert 3 <= len(prompt.milestones) <= 6, prompt.id
        for milestone in prompt.milestones:
            assert milestone.startswith("Day "), f"{prompt.id}: {milestone[:40]!r}"


def test_every_list_fits_one_embed_field(prompt_set: PromptSet) -> None:
    for prompt in prompt_set.prompts:
        for name in ("milestones", "datasets", "stretch_goals"):
            rendered = "\n".join(f"• {item}" for item in getattr(prompt, name))
            assert len(rendered) <= FIELD_BUDGET, f"{prompt.id}.{name} renders to {len(rendered)} characters"


def test_difficulties_are_mixed(prompt_set: PromptSet) -> None:
    assert {p.difficulty for p in prompt_set.prompts} == {"easy", "medium", "hard"}


def test_a_broken_prompt_gives_an_error_naming_the_field(raw: dict[str, Any]) -> None:
    broken = copy.deepcopy(raw)
    broken["prompts"][0]["milestones"] = ["Day 1: " + "x" * 300, "Day 2: ok", "Day 3: ok"]
    broken["prompts"][1]["dataset"] = ["MNIST"]
    with pytest.raises(ValidationError) as caught:
        PromptSet.model_validate(broken)
    message = str(caught.value)
    assert "prompts.0.milestones" in message
    assert "3 to 200 characters" in message
    assert "prompts.1.dataset" in message
