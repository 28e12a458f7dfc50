"""Knowledge files: the shipped ones validate, and a broken one names its file, field and reason."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from knowledge.loader import SHIPPED_DIR, KnowledgeError, knowledge_files, load_knowledge
from tests.fakes import mini_roadmap, write_mini_roadmap

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "intermediate-roadmap.md"


def test_shipped_knowledge_validates() -> None:
    kb = load_knowledge()
    assert [r.id for r in kb.roadmaps] == ["intermediate"]
    roadmap = kb.roadmaps[0]
    assert [s.number for s in roadmap.steps] == [1, 2, 3, 4, 5]
    assert roadmap.next_roadmap is not None and "Advanced" in roadmap.next_roadmap.title
    assert len(kb.prompts) >= 12


def test_every_shipped_knowledge_file_is_installed_with_the_package() -> None:
    """A pip install that is not editable (the Docker image's) carries only the files package-data names."""
    pyproject = tomllib.loads((SHIPPED_DIR.parent / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["knowledge"]
    shipped = [p.relative_to(SHIPPED_DIR) for p in knowledge_files([])]
    assert shipped and all(any(fnmatch.fnmatch(str(p), pattern) for pattern in patterns) for p in shipped), shipped


@pytest.mark.skipif(not SEED.is_file(), reason="the seed roadmap lives in ../shared beside the repository")
def test_every_seed_link_is_kept_as_a_resources_link() -> None:
    """Each of the roadmap's links is a resource's `url`, or its `source_url` where the tutor serves a better
    link; and every `source_url` is one of the roadmap's links."""
    raw = (SHIPPED_DIR / "roadmaps" / "intermediate.yaml").read_text(encoding="utf-8")
    resources = [r for s in yaml.safe_load(raw)["steps"] for r in s.get("resources", [])]
    served = {r["url"] for r in resources}
    sources = {r["source_url"] for r in resources if "source_url" in r}
    links = re.findall(r"\]\((https?://[^)]+)\)", SEED.read_text(encoding="utf-8"))
    assert links and set(links) <= served | sources
    assert sources <= set(links)
    assert not served & sources, "a link the tutor replaced is served again elsewhere"


def test_a_replaced_link_keeps_the_roadmaps_link_with_a_note(tmp_path: Path) -> None:
    kb = load_knowledge()
    replaced = [e.resource for e in kb.resources.values() if e.resource.source_url is not None]
    assert replaced and all(r.link_note and str(r.source_url) != str(r.url) for r in replaced)
    data = mini_roadmap()
    resource = data["steps"][0]["resources"][0]
    resource["source_url"] = "https://example.org/old-penguins"
    path = write_mini_roadmap(tmp_path, data)
    with pytest.raises(KnowledgeError, match=r"steps\[0\]\.resources\[0\]: .*source_url needs a link_note") as caught:
        load_knowledge([tmp_path], include_shipped=False)
    assert str(path) in str(caught.value)
    resource["link_note"] = "The old guide went out of print; the tutor serves the new one."
    write_mini_roadmap(tmp_path, data)
    assert load_knowledge([tmp_path], include_shipped=False).resources["field-guide"].resource.link_note
    resource["source_url"] = resource["url"]
    write_mini_roadmap(tmp_path, data)
    with pytest.raises(KnowledgeError, match=r"resources\[0\]: .*source_url equals url"):
        load_knowledge([tmp_path], include_shipped=False)
    del resource["source_url"]
    write_mini_roadmap(tmp_path, data)
    with pytest.raises(KnowledgeError, match=r"resources\[0\]: .*give source_url too"):
        load_knowledge([tmp_path], include_shipped=False)


@pytest.mark.parametrize(
    "concept",
    [
        "L1 Regularization",
        "L2 Regularization",
        "Ridge Regression",
        "Lasso Regression",
        "Random Forest",
        "Gradient Boosting",
        "XGBoost",
        "LightGBM",
        "Grid Search",
        "Random Search",
        "Bayesian Optimization",
        "Precision",
        "Recall",
        "F1-Score",
        "ROC-AUC",
        "ReLU",
        "Sigmoid",
        "Tanh",
        "Softmax",
        "Mean Squared Error",
        "Cross-Entropy Loss",
        "Gradient Descent",
        "Stochastic Gradient Descent",
        "Adam",
        "Quantization",
        "Pruning",
        "Knowledge Distillation",
        "Flask",
        "FastAPI",
        "Docker",
        "TensorFlow Serving",
        "AWS SageMaker",
        "Google AI Platform",
        "Azure Machine Learning",
    ],
)
def test_every_named_sub_concept_is_its_own_entry(concept: str) -> None:
    kb = load_knowledge()
    titles = [entry.concept.title for entry in kb.concepts.values()]
    assert any(title.startswith(concept) for title in titles), concept


def test_topics_cover_the_roadmap_in_order() -> None:
    kb = load_knowledge()
    titles = [t.title for s in kb.roadmaps[0].steps for t in s.topics]
    for expected in [
        "Regularization",
        "Ensemble Methods",
        "Hyperparameter Tuning",
        "Model Evaluation Metrics",
        "Feedforward Neural Networks",
        "Activation Functions",
        "Loss Functions",
        "TensorFlow",
        "PyTorch",
        "Keras",
        "Model Optimization",
        "Deployment Tools",
        "Cloud Platforms",
    ]:
        assert expected in titles
    assert sum(t.kind == "tutorial" for s in kb.roadmaps[0].steps for t in s.topics) == 3
    assert sum(t.kind == "project" for s in kb.roadmaps[0].steps for t in s.topics) == 4


def test_an_admin_directory_adds_a_roadmap_and_a_note(tmp_path: Path) -> None:
    write_mini_roadmap(tmp_path)
    (tmp_path / "club.md").write_text(
        "---\ntitle: Club meetings\ntopics: [penguins]\n---\nWe meet on Fridays to read about penguins together.\n"
    )
    kb = load_knowledge([tmp_path], include_shipped=False)
    assert [r.id for r in kb.roadmaps] == ["mini"]
    assert kb.notes[0].id == "note-club" and kb.notes[0].topics == ("penguins",)


def test_asked_questions_load_with_their_answers_and_an_unknown_answer_is_named(tmp_path: Path) -> None:
    write_mini_roadmap(tmp_path)
    asked = tmp_path / "asked.yaml"
    asked.write_text("asked:\n  - q: why do the birds stand so close\n    answers: [penguins, emperor-penguin]\n")
    kb = load_knowledge([tmp_path], include_shipped=False)
    assert [(q.q, q.answers) for q in kb.asked] == [
        ("why do the birds stand so close", ["penguins", "emperor-penguin"])
    ]
    asked.write_text("asked:\n  - q: why do the birds stand so close\n    answers: [penguins, unicorns]\n")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge([tmp_path], include_shipped=False)
    assert str(caught.value) == f"{asked}: asked[0].answers[1]: unknown entry id 'unicorns'"
    asked.write_text("asked:\n  - q: why do the birds stand so close\n")
    with pytest.raises(KnowledgeError, match=r"asked\[0\]\.answers: Field required"):
        load_knowledge([tmp_path], include_shipped=False)


def test_declined_questions_load_with_the_roadmap_that_declines_them(tmp_path: Path) -> None:
    write_mini_roadmap(tmp_path)
    asked = tmp_path / "asked.yaml"
    asked.write_text("declined:\n  - q: penguin plush toys at the gift shop\n")
    kb = load_knowledge([tmp_path], include_shipped=False)  # the only roadmap loaded declines them
    assert [(d.q, d.roadmap) for d in kb.declined] == [("penguin plush toys at the gift shop", "mini")]
    assert kb.asked == []
    write_mini_roadmap(tmp_path, mini_roadmap("other", "o-"), "other.yaml")
    asked.write_text(
        "asked:\n  - q: why do the birds stand so close\n    answers: [o-penguins]\n"
        "declined:\n  - q: penguin plush toys at the gift shop\n"
    )
    kb = load_knowledge([tmp_path], include_shipped=False)  # the roadmap the asked questions' answers are in
    assert [d.roadmap for d in kb.declined] == ["other"]
    asked.write_text("roadmap: mini\ndeclined:\n  - q: penguin plush toys at the gift shop\n")
    assert [d.roadmap for d in load_knowledge([tmp_path], include_shipped=False).declined] == ["mini"]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("declined:\n  - q: ok\n", r"asked\.yaml: declined\[0\]\.q: String should have at least 3 characters"),
        ("declined:\n  - question: penguin plush toys\n", r"asked\.yaml: declined\[0\]\.q: Field required"),
        ("declined:\n  - q: penguin plush toys\n    answers: [penguins]\n", r"declined\[0\]\.answers: unknown field"),
        ("declined:\n  - penguin plush toys\n", r"asked\.yaml: declined\[0\]: Input should be a valid dictionary"),
        ("declined: []\n", r"asked\.yaml: needs at least one question under 'asked' or 'declined'"),
        ("roadmap: unicorns\ndeclined:\n  - q: penguin plush toys\n", r"asked\.yaml: roadmap: unknown roadmap id"),
        # Two roadmaps loaded and nothing in the file says which declines these.
        ("declined:\n  - q: penguin plush toys\n", r"asked\.yaml: roadmap: name the roadmap that declines"),
    ],
    ids=["short", "no-q", "extra-field", "not-a-mapping", "empty", "unknown-roadmap", "which-roadmap"],
)
def test_a_broken_declined_entry_is_reported_with_its_file_and_field(tmp_path: Path, text: str, error: str) -> None:
    write_mini_roadmap(tmp_path)
    if "which roadmap" in error or "name the roadmap" in error:
        write_mini_roadmap(tmp_path, mini_roadmap("other", "o-"), "other.yaml")
    (tmp_path / "asked.yaml").write_text(text)
    with pytest.raises(KnowledgeError, match=error):
        load_knowledge([tmp_path], include_shipped=False)


def test_the_shipped_asked_questions_answer_with_entries_of_every_step() -> None:
    kb = load_knowledge()
    steps = {entry.step.number for entry in kb.topics.values()}
    answered = {kb.topics[t].step.number for q in kb.asked for t in q.answers if t in kb.topics}
    assert len(kb.asked) >= 1000 and answered == steps


def test_a_broken_field_names_file_field_and_reason(tmp_path: Path) -> None:
    data = mini_roadmap()
    data["steps"][0]["topics"][1]["hours"] = "lots"
    path = write_mini_roadmap(tmp_path, data)
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge([tmp_path], include_shipped=False)
    message = str(caught.value)
    assert str(path) in message
    assert "steps[0].topics[1].hours" in message
    assert "number" in message


def test_an_unknown_field_is_named(tmp_path: Path) -> None:
    data = mini_roadmap()
    data["steps"][1]["topics"][0]["difficulty"] = "hard"
    write_mini_roadmap(tmp_path, data)
    with pytest.raises(KnowledgeError, match=r"steps\[1\]\.topics\[0\]\.difficulty: unknown field"):
        load_knowledge([tmp_path], include_shipped=False)


def test_unknown_prerequisite_and_cycles_are_refused(tmp_path: Path) -> None:
    data = mini_roadmap()
    data["steps"][0]["topics"][0]["prerequisites"] = ["unicorns"]
    write_mini_roadmap(tmp_path, data)
    with pytest.raises(KnowledgeError, match=r"topics\[0\]\.prerequisites\[0\]: unknown topic id 'unicorns'"):
        load_knowledge([tmp_path], include_shipped=False)
    data["steps"][0]["topics"][0]["prerequisites"] = ["volcanoes"]
    write_mini_roadmap(tmp_path, data)
    with pytest.raises(KnowledgeError, match="cycle"):
        load_knowledge([tmp_path], include_shipped=False)


def test_duplicate_ids_across_files_are_refused(tmp_path: Path) -> None:
    write_mini_roadmap(tmp_path, name="a.yaml")
    write_mini_roadmap(tmp_path, mini_roadmap("other"), name="b.yaml")
    with pytest.raises(KnowledgeError, match="already used in"):
        load_knowledge([tmp_path], include_shipped=False)


def test_bad_yaml_and_bad_notes_are_named(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("steps: [unclosed\n")
    with pytest.raises(KnowledgeError, match=r"broken\.yaml: line \d+: not valid YAML"):
        load_knowledge([tmp_path], include_shipped=False)
    (tmp_path / "broken.yaml").unlink()
    write_mini_roadmap(tmp_path)
    (tmp_path / "note.md").write_text("no front matter here, just text that goes on and on")
    with pytest.raises(KnowledgeError, match=r"note\.md: front matter"):
        load_knowledge([tmp_path], include_shipped=False)
    (tmp_path / "note.md").write_text("---\ntitle: A note\ntopics: [nope]\n---\nSome text that is long enough.\n")
    with pytest.raises(KnowledgeError, match=r"note\.md: topics\[0\]: unknown topic id 'nope'"):
        load_knowledge([tmp_path], include_shipped=False)


def test_explanations_are_long_enough_to_act_on(tmp_path: Path) -> None:
    data = mini_roadmap()
    data["steps"][0]["topics"][0]["explanation"] = "Too short."
    write_mini_roadmap(tmp_path, data)
    with pytest.raises(KnowledgeError, match=r"steps\[0\]\.topics\[0\]\.explanation: .*words"):
        load_knowledge([tmp_path], include_shipped=False)


def test_the_roadmap_lists_subjects_it_does_not_teach(tmp_path: Path) -> None:
    kb = load_knowledge()
    assert {"reinforcement learning", "GAN", "k-means"} <= set(kb.beyond)
    data = mini_roadmap()
    data["beyond"] = ["x"]
    write_mini_roadmap(tmp_path, data)
    with pytest.raises(KnowledgeError, match=r"mini\.yaml: beyond: .*each subject must be 2 to 80 characters"):
        load_knowledge([tmp_path], include_shipped=False)


def test_a_common_problem_too_long_to_show_is_named(tmp_path: Path) -> None:
    data = mini_roadmap()
    data["steps"][0]["topics"][0]["common_problems"] = ["Penguins fall over on ice: " + "waddle " * 80]
    write_mini_roadmap(tmp_path, data)
    with pytest.raises(KnowledgeError, match=r"steps\[0\]\.topics\[0\]\.common_problems: .*20 to 400 characters"):
        load_knowledge([tmp_path], include_shipped=False)


def test_a_roadmap_id_that_is_not_loaded_is_named_with_the_loaded_ones() -> None:
    from knowledge.loader import UnknownRoadmap

    kb = load_knowledge()
    kb.check_roadmap(None)
    kb.check_roadmap(kb.roadmaps[0].id)
    with pytest.raises(UnknownRoadmap, match=rf"'nope' is not a loaded roadmap \(loaded: {kb.roadmaps[0].id}\)"):
        kb.check_roadmap("nope")
