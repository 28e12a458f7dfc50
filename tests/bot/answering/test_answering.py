"""Answering: grounded answers with their place in the roadmap, abstention, bad input, the JSON contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.answering import Answerer
from bot.answering.compose import matching_problem
from bot.answering.normalise import MAX_QUESTION_CHARS, clean_question
from bot.answering.question import read_question
from knowledge.loader import KnowledgeBase

pytestmark = pytest.mark.model


def _all_knowledge_text(kb: KnowledgeBase) -> str:
    parts = []
    for roadmap in kb.roadmaps:
        parts.append(roadmap.model_dump_json())
    parts += [p.model_dump_json() for p in kb.prompts]
    return json.dumps(parts, ensure_ascii=False)


def test_l1_vs_l2_answer_is_placed_and_grounded(real_answerer: Answerer, shipped_kb: KnowledgeBase) -> None:
    answer = real_answerer.answer("What is the difference between L1 and L2 regularization?")
    assert not answer.abstained
    assert {r.id for r in answer.results[:2]} == {"l1-regularization", "l2-regularization"}
    assert answer.location and "Step 1" in answer.location and "Regularization" in answer.location
    assert answer.resources and all(r.url.startswith("http") for r in answer.resources)
    assert answer.topic_id == "regularization"
    # A comparison of two entries it names explains both, whatever the gap between their scores.
    assert answer.headline in {"L1 Regularization and L2 Regularization", "L2 Regularization and L1 Regularization"}
    explained = {section.text for section in answer.sections}
    assert {shipped_kb.concepts[c].concept.explanation for c in ("l1-regularization", "l2-regularization")} <= explained
    # Every section's text is knowledge-base text, word for word.
    explanations = {c.concept.explanation for c in shipped_kb.concepts.values()}
    explanations |= {t.topic.explanation for t in shipped_kb.topics.values()}
    explanations |= {t.topic.summary for t in shipped_kb.topics.values()}
    assert all(section.text in explanations for section in answer.sections)
    assert all(point in shipped_kb.topics["regularization"].topic.key_points for point in answer.key_points)


@pytest.mark.parametrize(
    "question",
    [
        "who painted the Mona Lisa?",
        "best pizza dough recipe",
        "asdkjh qwpoeiru zxmcnv",
        "how do I center a div in css",
    ],
)
def test_out_of_scope_questions_are_declined_with_closest_topics(real_answerer: Answerer, question: str) -> None:
    answer = real_answerer.answer(question)
    assert answer.abstained and answer.reason == "unknown"
    assert "I don't know" in answer.text and not answer.sections


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("my model memorises the training set, how do I stop it", "regularization"),
        ("xgb vs lgbm?", "ensemble-methods"),
        ("how do I serve a keras model behind a REST API", "deployment-tools"),
        ("make my model smaller so it runs on a phone", "model-optimization"),
    ],
)
def test_paraphrases_find_their_topic(real_answerer: Answerer, question: str, expected: str) -> None:
    answer = real_answerer.answer(question)
    assert not answer.abstained
    assert expected in {r.topic_id for r in answer.results[:3]}


@pytest.mark.parametrize(
    ("question", "first"),
    [
        # Two concepts compared: the comparison, not their topic at large.
        ("for model serving is flask or fastapi better?", {"flask", "fastapi"}),
        # "tensors" is the error's word, not the learner's subject: the framework the error comes from.
        ("got RuntimeError: Expected all tensors to be on the same device (cuda:0 and cpu) in my loop", {"pytorch"}),
        # A step named by what learners call it, finished: the next step.
        ("done with the classical ML part, what do I learn now?", {"neural-networks"}),
        # DistilBERT fine-tuned for a task is the NLP project's subject, not distillation.
        ("my distilbert sentiment classifier outputs the same class for everything", {"project-nlp-tasks"}),
        # A symptom described, not named: overfitting, which regularization treats (the knowledge's symptom).
        ("my model aces the training data, yet on new data it's barely better than guessing", {"regularization"}),
        # A subject beyond the roadmap beside a taught one it is about: taught, so answered.
        ("why is distilbert almost as accurate as bert while being way smaller", {"knowledge-distillation"}),
        # The roadmap as a whole: its goals, how long a step takes; what comes after it is its own entry.
        ("what will i be able to do after finishing this roadmap", {"intermediate"}),
        ("is this roadmap enough to get a job", {"intermediate"}),
        ("is there an advanced roadmap? what is in it", {"intermediate/next-steps"}),
        ("finished the intermediate roadmap, what next", {"intermediate/next-steps"}),
        ("finished everything in step 5, what now", {"intermediate/next-steps"}),
        ("finished everything in step 1, what next", {"neural-networks"}),  # one step, not the roadmap
        ("did all 5 steps and deployed my model with fastapi, what now", {"intermediate/next-steps"}),
        ("how many hours does step 3 take", {"dl-frameworks"}),
        # "X done, next?": the topic after X, not X again.
        ("regularization done, next?", {"ensemble-methods"}),
        ("finished regularization, now?", {"ensemble-methods"}),
        # Overfitting told by its numbers alone: a common problem of Regularization.
        ("my model gets 98% train accuracy but 65% on the test set, more epochs made it worse", {"regularization"}),
        ("finished the neural networks part, whats step 3", {"dl-frameworks"}),
        # Finishing the last step: what comes after the roadmap, whatever else the learner did on the way.
        ("done with step 5 and shipped my api with flask, whats next", {"intermediate/next-steps"}),
        # Past the end of this roadmap: what comes after it, though a topic is named on the way.
        (
            "what comes next after finishing this roadmap, i already know regularization well",
            {"intermediate/next-steps"},
        ),
        ("after finishing this roadmap, what next, more cnn stuff or transformers?", {"intermediate/next-steps"}),
        ("whats the next thing after the whole roadmap? i liked the docker part most", {"intermediate/next-steps"}),
        # The order of the steps: the roadmap entry, which lists them.
        ("whats the order of the steps again", {"intermediate"}),
        # The roadmap named by what learners call it (an alias in its knowledge file), finished: what comes after.
        ("finished intermediate, whats next?", {"intermediate/next-steps"}),
        ("what after intermediate", {"intermediate/next-steps"}),
        # Projects asked of the roadmap, naming none: the step that lists them, not the roadmap entry.
        (
            "what projects should i build for the intermediate level? need something for portfolio",
            {"real-world-projects"},
        ),
        # A choice among the projects that names none of them: the step that lists them all.
        ("which of the four projects would impress a hiring manager the most", {"real-world-projects"}),
        ("out of the suggested projects which one suits a laptop without gpu", {"real-world-projects"}),
        # One named: that one.
        (
            "which project is the one with lstms",
            {"project-time-series-forecasting", "lstm-stock-forecasting", "lstm-weather-forecasting"},
        ),
    ],
)
def test_the_first_result_is_what_the_question_is_about(
    real_answerer: Answerer, question: str, first: set[str]
) -> None:
    answer = real_answerer.answer(question)
    assert not answer.abstained and answer.results[0].id in first


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("\u200b\u200f\u202e", "empty"),
        ("什么是正则化", "not_english"),
        ("что такое регуляризация", "not_english"),
    ],
)
def test_bad_input_gets_a_clear_reply(real_answerer: Answerer, raw: str, problem: str) -> None:
    assert clean_question(raw).problem == problem
    answer = real_answerer.answer(raw)
    assert answer.abstained and answer.reason == problem and answer.text


def test_huge_and_control_character_questions_are_handled(real_answerer: Answerer) -> None:
    answer = real_answerer.answer("what is dropout " * 700)
    assert answer.notice and str(MAX_QUESTION_CHARS) in answer.notice
    cleaned = clean_question("what\x00 is\x07 re\u200blu\x1b[31m?")
    assert "\x00" not in cleaned.text and "\u200b" not in cleaned.text
    assert not real_answerer.answer("what\x00 is\x07 re\u200blu?").abstained


def _cli(real_data_dir: Path, tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(real_data_dir)}))
    return subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--config", str(config), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_json_contract_single_and_batch(real_data_dir: Path, tmp_path: Path) -> None:
    one = _cli(real_data_dir, tmp_path, "--json", "-k", "3", "what is softmax")
    assert one.returncode == 0, one.stderr
    data = json.loads(one.stdout)
    assert set(data) == {"question", "abstained", "answer", "results"}
    assert data["question"] == "what is softmax" and data["abstained"] is False
    assert len(data["results"]) == 3 and data["results"][0]["id"] == "softmax"
    for result in data["results"]:
        assert set(result) == {"id", "kind", "title", "step", "roadmap", "score"}
        assert result["kind"] in {"step", "topic", "concept", "resource", "project", "note"}
        assert isinstance(result["score"], float)
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True)

    questions = ["what is xgboost", "", "who won the 1998 world cup", "docker for ml models"]
    batch = _cli(real_data_dir, tmp_path, "--json", "--batch", "-", stdin="\n".join(questions) + "\n")
    assert batch.returncode == 0, batch.stderr
    lines = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [line["question"] for line in lines] == questions
    assert [line["abstained"] for line in lines] == [False, True, True, False]
    assert len(lines[0]["results"]) == 5


def test_cli_rejects_conflicting_arguments(real_data_dir: Path, tmp_path: Path) -> None:
    result = _cli(real_data_dir, tmp_path, "--batch", "-", "a question too")
    assert result.returncode == 2 and "not both" in result.stderr


@pytest.mark.parametrize(
    "question",
    [
        "how does PPO work in reinforcement learning",
        # "fine-tune" names a taught tutorial, but the question is about LoRA, which the roadmap does not teach.
        "steps to fine-tune mistral 7b with LoRA adapters on one gpu?",
    ],
)
def test_subjects_beyond_the_roadmap_point_to_what_comes_next(real_answerer: Answerer, question: str) -> None:
    answer = real_answerer.answer(question)
    assert answer.abstained and answer.reason == "beyond"
    assert "Advanced Roadmap" in answer.text and not answer.sections


@pytest.mark.model
@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("does this roadmap cover reinforcement learning at all", "reinforcement learning"),
        ("will i learn GANs somewhere in this roadmap?", "gans"),
    ],
)
def test_asking_whether_the_roadmap_covers_a_subject_beyond_it_is_answered_by_the_roadmap(
    real_answerer: Answerer, question: str, subject: str
) -> None:
    answer = real_answerer.answer(question)
    assert not answer.abstained and answer.results[0].kind == "roadmap"
    first = answer.sections[0]
    assert first.title == "Not in this roadmap" and subject in first.text.lower() and "Advanced Roadmap" in first.text
    assert answer.context is not None and answer.context.document == answer.results[0].id
    # Asked about the subject itself, the tutor still declines it.
    assert real_answerer.answer(f"how do i get started with {subject}").abstained


def test_a_described_problem_is_answered_with_the_knowledges_fix(real_answerer: Answerer) -> None:
    answer = real_answerer.answer("training loss jumps around then goes nan after a few batches, why?")
    problem = answer.sections[0]
    assert problem.title == "Sounds like a common problem (Optimization Techniques)"
    assert problem.text.startswith("Loss becomes nan after a few batches")
    assert "Sounds like a common problem" in answer.text


@pytest.mark.parametrize(
    "question",
    ["what is dropout", "how do i pick alpha for Ridge", "why is ReLU the default activation in hidden layers?"],
)
def test_a_question_that_only_shares_a_few_words_with_a_problem_gets_no_problem(
    real_answerer: Answerer, question: str
) -> None:
    answer = real_answerer.answer(question)
    assert not answer.abstained and not any(s.title.startswith("Sounds like") for s in answer.sections)


def test_the_best_ranked_topics_problem_wins_a_tie() -> None:
    problems = [("First", "Penguins waddle slowly on slippery ice."), ("Second", "Penguins waddle slowly on ice too.")]
    assert matching_problem(read_question("why do penguins waddle slowly on ice"), problems) == problems[0]
    assert matching_problem(read_question("penguins waddle"), problems) is None


def test_a_question_that_shares_one_word_with_a_topic_is_declined(real_answerer: Answerer) -> None:
    # A word trap: one word of the roadmap ("lasso"), and nothing else of it.
    assert real_answerer.answer("how do i throw a lasso like a cowboy").abstained
    assert not real_answerer.answer("my lasso zeroed all coefficients").abstained


def test_the_roadmap_answer_shows_its_goals_and_what_comes_after(real_answerer: Answerer) -> None:
    answer = real_answerer.answer("what are the goals of this roadmap")
    assert answer.results[0].kind == "roadmap"
    roadmap = real_answerer.kb.roadmaps[0]
    assert all(goal in answer.text for goal in roadmap.goals)
    assert roadmap.next_roadmap is not None and roadmap.next_roadmap.title in answer.text


def test_a_plan_that_names_a_topic_on_the_way_reaches_the_step_planned(real_answerer: Answerer) -> None:
    answer = real_answerer.answer("thinking about skipping step 1 since gradient boosting bores me, ok?")
    ids = [r.id for r in answer.results]
    assert "deepen-ml" in ids[:2], ids  # the step, beside the topic that bores the learner


@pytest.mark.parametrize("question", ["ok step 5 done. now what", "i finished everything, what now?"])
def test_a_learner_done_with_the_roadmap_is_told_what_comes_after_it_first(
    real_answerer: Answerer, shipped_kb: KnowledgeBase, question: str
) -> None:
    after = shipped_kb.roadmaps[0].next_roadmap
    assert after is not None
    answer = real_answerer.answer(question)
    assert answer.results[0].id == shipped_kb.roadmaps[0].next_steps_id
    assert answer.headline == f"Next Steps: {after.title}"
    assert answer.sections[0].title == f"What comes after it: {after.title}"
    assert answer.sections[0].text.startswith(after.description)
    # What to be able to do before moving on: the roadmap's goals.
    assert all(goal in answer.sections[0].text for goal in shipped_kb.roadmaps[0].goals)
    # The overview is the next result.
    assert answer.results[1].id == shipped_kb.roadmaps[0].id


@pytest.mark.parametrize(
    "question", ["what will i be able to do after this roadmap", "finished the beginner roadmap, what next?"]
)
def test_the_roadmaps_goals_or_its_start_lead_when_nothing_of_it_was_finished(
    real_answerer: Answerer, shipped_kb: KnowledgeBase, question: str
) -> None:
    answer = real_answerer.answer(question)
    assert answer.results[0].id == shipped_kb.roadmaps[0].id
    assert answer.sections[0].title == shipped_kb.roadmaps[0].title
    assert "By the end of it you will:" in answer.sections[0].text
