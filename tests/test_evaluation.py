"""Tests for the answer-quality evaluation: the hit rule, the metrics, the file schema, the shipped sets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from bot import cli, serving
from bot.evaluation import (
    ASKED_MOST_ANSWERS,
    EvalFileError,
    EvalItem,
    Expectation,
    asked_questions,
    declined_questions,
    evaluate,
    evaluate_follow_ups,
    first_hit_rank,
    format_follow_up_report,
    format_report,
    is_hit,
    load_eval_set,
    load_follow_up_set,
    normalise_question,
)
from indexer.documents import build_documents
from knowledge.loader import load_knowledge
from tests.fakes import FakeEncoder, write_mini_roadmap

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "eval" / "dev.yaml"
HELDOUT = ROOT / "eval" / "heldout.yaml"
FOLLOW_UPS_DEV = ROOT / "eval" / "followups-dev.yaml"
ROADMAP = ROOT / "knowledge" / "roadmaps" / "intermediate.yaml"


@dataclass(frozen=True)
class FakeResult:
    id: str
    title: str
    step: int | None
    score: float = 0.5
    kind: str = "concept"


@dataclass(frozen=True)
class FakeAnswer:
    results: list[FakeResult] = field(default_factory=list)
    abstained: bool = False


def item(q: str, *expectations: tuple[int | None, list[str]]) -> EvalItem:
    return EvalItem.model_validate(
        {"q": q, "expect": [{"step": step, "title_any": frags} for step, frags in expectations]}
    )


def abstain_item(q: str) -> EvalItem:
    return EvalItem.model_validate({"q": q, "expect": "abstain"})


def filler(n: int, step: int = 9) -> list[FakeResult]:
    return [FakeResult(f"unrelated-{i}", f"Unrelated {i}", step) for i in range(n)]


def answers_by_question(mapping: dict[str, FakeAnswer]):
    def answer_batch(questions: list[str]) -> list[FakeAnswer]:
        return [mapping[q] for q in questions]

    return answer_batch


# --- The hit rule ------------------------------------------------------------------------------


def test_hit_needs_the_expected_step() -> None:
    expectation = Expectation(step=1, title_any=["forest"])
    assert is_hit(FakeResult("random-forest", "Random Forest", 1), expectation)
    assert not is_hit(FakeResult("random-forest", "Random Forest", 2), expectation)
    assert not is_hit(FakeResult("random-forest", "Random Forest", None), expectation)


def test_null_step_accepts_results_from_any_step_or_none() -> None:
    expectation = Expectation(step=None, title_any=["lstm"])
    assert is_hit(FakeResult("lstm", "LSTM", 4), expectation)
    assert is_hit(FakeResult("lstm-weather-forecasting", "Weather project", None), expectation)


def test_fragment_matches_title_or_id_ignoring_case() -> None:
    by_title = Expectation(step=2, title_any=["RELU"])
    assert is_hit(FakeResult("act-1", "ReLU", 2), by_title)
    by_id = Expectation(step=2, title_any=["Cross-ENTROPY"])
    assert is_hit(FakeResult("cross-entropy-loss", "Log loss", 2), by_id)
    assert not is_hit(FakeResult("mse", "Mean Squared Error", 2), by_id)


def test_fragment_words_match_punctuation_and_a_plural_aside() -> None:
    assert is_hit(FakeResult("azure-ml", "Azure Machine Learning", 5), Expectation(step=5, title_any=["azure ml"]))
    lstm = FakeResult("lstm", "Long Short-Term Memory (LSTM) Networks", 4)
    assert is_hit(lstm, Expectation(step=None, title_any=["lstms"]))
    # Whole words only: a plural never reaches into a longer word, and "glass" is no plural of "glas".
    assert not is_hit(FakeResult("lstmx", "LSTMx", 4), Expectation(step=None, title_any=["lstms"]))
    assert not is_hit(FakeResult("glas", "Glas", 4), Expectation(step=None, title_any=["glass"]))
    assert not is_hit(FakeResult("ml-azure", "Cloud", 5), Expectation(step=5, title_any=["azure ml"]))


def test_any_fragment_and_any_alternative_counts() -> None:
    question = item("xgb vs lgbm?", (1, ["nothing", "xgboost"]), (3, ["keras"]))
    assert first_hit_rank(question, [FakeResult("xgboost", "XGBoost", 1)], k=5) == 1
    assert first_hit_rank(question, [FakeResult("keras", "Keras", 3)], k=5) == 1
    assert first_hit_rank(question, [FakeResult("keras", "Keras", 1)], k=5) is None


def test_rank_is_the_first_hit_within_k() -> None:
    question = item("adam?", (2, ["adam"]))
    results = [*filler(2), FakeResult("adam", "Adam", 2), FakeResult("adam", "Adam", 2)]
    assert first_hit_rank(question, results, k=5) == 3
    assert first_hit_rank(question, [*filler(5), FakeResult("adam", "Adam", 2)], k=5) is None


# --- The metrics -------------------------------------------------------------------------------


def small_set() -> tuple[list[EvalItem], dict[str, FakeAnswer]]:
    target = FakeResult("lasso-regression", "Lasso Regression", 1, score=0.9)
    items = [
        item("rank one", (1, ["lasso"])),
        item("rank two", (1, ["lasso"])),
        item("rank four", (1, ["lasso"])),
        item("no hit", (1, ["lasso"])),
        item("abstained though in scope", (1, ["lasso"])),
        abstain_item("boil an egg"),
        abstain_item("center a div"),
    ]
    answers = {
        "rank one": FakeAnswer([target, *filler(4)]),
        "rank two": FakeAnswer([*filler(1), target, *filler(3)]),
        "rank four": FakeAnswer([*filler(3), target, *filler(1)]),
        "no hit": FakeAnswer(filler(5)),
        "abstained though in scope": FakeAnswer([target], abstained=True),
        "boil an egg": FakeAnswer(filler(2), abstained=True),
        "center a div": FakeAnswer(filler(4)),
    }
    return items, answers


def test_metrics_on_a_known_set() -> None:
    items, answers = small_set()
    report = evaluate(items, answers_by_question(answers), k=5)
    assert (report.in_scope, report.out_of_scope) == (5, 2)
    assert report.hit_at_1 == pytest.approx(1 / 5)
    assert report.hit_at_3 == pytest.approx(2 / 5)
    assert report.mrr == pytest.approx((1 + 1 / 2 + 1 / 4 + 0 + 0) / 5)
    assert report.false_abstain_rate == pytest.approx(1 / 5)
    assert report.abstain_recall == pytest.approx(1 / 2)


def test_misses_list_every_wrong_item_with_reason_and_top_three() -> None:
    items, answers = small_set()
    report = evaluate(items, answers_by_question(answers), k=5)
    reasons = {miss.question: miss.reason for miss in report.misses}
    assert reasons == {
        "rank two": "first hit at rank 2",
        "rank four": "first hit at rank 4",
        "no hit": "no hit in the top 5",
        "abstained though in scope": "abstained on an in-scope question",
        "center a div": "answered an out-of-scope question",
    }
    rank_two = next(m for m in report.misses if m.question == "rank two")
    assert [r.id for r in rank_two.top] == ["unrelated-0", "lasso-regression", "unrelated-0"]  # 5 results, 3 shown
    assert rank_two.top[1].to_json() == {"id": "lasso-regression", "title": "Lasso Regression", "step": 1, "score": 0.9}


def test_abstaining_on_an_in_scope_item_is_a_miss_even_with_a_right_result() -> None:
    question = item("what is lasso", (1, ["lasso"]))
    answer = FakeAnswer([FakeResult("lasso-regression", "Lasso Regression", 1)], abstained=True)
    report = evaluate([question], lambda qs: [answer])
    assert (report.hit_at_1, report.hit_at_3, report.mrr) == (0.0, 0.0, 0.0)
    assert report.false_abstain_rate == 1.0
    assert report.abstain_recall is None


def test_out_of_scope_items_do_not_touch_ranking_metrics() -> None:
    items = [item("lasso", (1, ["lasso"])), abstain_item("who painted the mona lisa")]
    answers = {
        "lasso": FakeAnswer([FakeResult("lasso-regression", "Lasso Regression", 1)]),
        "who painted the mona lisa": FakeAnswer([], abstained=True),
    }
    report = evaluate(items, answers_by_question(answers))
    assert (report.hit_at_1, report.mrr, report.false_abstain_rate, report.abstain_recall) == (1.0, 1.0, 0.0, 1.0)
    assert report.misses == []


def test_a_question_another_loaded_roadmap_teaches_is_in_scope_and_answered_from_it() -> None:
    written = EvalItem.model_validate(
        {
            "q": "lasso vs ridge",
            "expect": "abstain",
            "when_loaded": {"intermediate": [{"step": None, "title_any": ["lasso"]}]},
        }
    )
    assert written.in_scope_where_loaded(["web"]) is written  # the roadmap that teaches it is not loaded
    beside = written.in_scope_where_loaded(["web", "intermediate"])
    assert not beside.abstain and [e.roadmap for e in beside.expectations] == ["intermediate"]

    @dataclass(frozen=True)
    class Of(FakeResult):
        roadmap: str | None = None

    def answers(roadmap: str) -> FakeAnswer:
        return FakeAnswer([Of("lasso", "Lasso", 1, roadmap=roadmap)])

    assert evaluate([beside], lambda qs: [answers("intermediate")], roadmap="web").hit_at_1 == 1.0
    # Answered, but from a roadmap that does not teach it: a miss, as an answer to any question from the wrong
    # roadmap is.
    assert evaluate([beside], lambda qs: [answers("web")], roadmap="web").hit_at_1 == 0.0
    # Declined although the roadmap loaded beside teaches it: a false abstention.
    assert evaluate([beside], lambda qs: [FakeAnswer([], abstained=True)]).false_abstain_rate == 1.0


def test_questions_are_asked_once_in_order_and_answer_count_is_checked() -> None:
    items, answers = small_set()
    calls: list[list[str]] = []

    def answer_batch(questions: list[str]) -> list[FakeAnswer]:
        calls.append(questions)
        return [answers[q] for q in questions]

    evaluate(items, answer_batch)
    assert calls == [[i.q for i in items]]
    with pytest.raises(ValueError, match="returned 1 answers for 7 questions"):
        evaluate(items, lambda qs: [FakeAnswer()])


def test_report_json_and_text_show_metrics_and_misses() -> None:
    items, answers = small_set()
    report = evaluate(items, answers_by_question(answers), k=5)
    data = report.to_json()
    assert data["items"] == 7 and data["in_scope"] == 5 and data["out_of_scope"] == 2
    assert data["mrr_at_5"] == pytest.approx(0.35)
    assert len(data["misses"]) == 5
    text = format_report(report)
    assert "hit@1" in text and "0.200" in text and "MRR@5" in text and "0.350" in text
    assert "rank two  -- first hit at rank 2" in text
    assert "lasso-regression  Lasso Regression" in text


# --- The file ----------------------------------------------------------------------------------


def test_broken_file_error_names_file_item_and_field(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "items:\n  - q: fine\n    expect: abstain\n  - q: bad step\n    expect: [{step: one, title_any: [x]}]\n",
        encoding="utf-8",
    )
    with pytest.raises(EvalFileError) as caught:
        load_eval_set(broken)
    message = str(caught.value)
    assert str(broken) in message
    assert "item 1" in message and "expect.0.step" in message
    assert "abstain'" not in message  # no noise from the other shape of `expect`


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("items:\n  - q: a\n    expect: abstian\n", "item 0 ('a'), field expect: "),
        ("items:\n  - q: a\n    expect: abstain\n    notes: hi\n", "item 0 ('a'), field notes: Extra inputs"),
        ("items:\n  - q: a\n    expect: [{step: 1, title_any: []}]\n", "field expect.0.title_any"),
        ("items:\n  - q: Same?\n    expect: abstain\n  - q: same\n    expect: abstain\n", "item 1 repeats"),
        ("items: [\n", "not valid YAML"),
        (
            "items:\n  - q: a\n    expect: [{step: 1, title_any: [x]}]\n"
            "    when_loaded: {b: [{step: 1, title_any: [y]}]}\n",
            "when_loaded is for a question out of scope",
        ),
        (
            "items:\n  - q: a\n    expect: abstain\n    when_loaded: {b: [{step: 1}]}\n",
            "field when_loaded.b.0.title_any",
        ),
        # Follow-up pair files
        (
            "items:\n  - {first: a, q: b, expect: []}\n  - {first: 'A!', q: 'b?', expect: []}\n",
            "item 1 repeats the pair",
        ),
        ("items:\n  - {first: a, q: b, expect: [{step: 1}]}\n", "item 0 ('b'), field expect.0.title_any"),
        ("items:\n  - {first: '', q: b, expect: []}\n", "field first"),
    ],
)
def test_each_kind_of_broken_file_is_reported(tmp_path: Path, body: str, expected: str) -> None:
    path = tmp_path / "eval.yaml"
    path.write_text(body, encoding="utf-8")
    load = load_follow_up_set if "first:" in body else load_eval_set
    with pytest.raises(EvalFileError, match=r"eval\.yaml") as caught:
        load(path)
    assert expected in str(caught.value)


# --- Follow-up pairs ---------------------------------------------------------------------------


PAIRS = """items:
  - first: what is lasso
    q: any book on it?
    expect: [{step: 1, title_any: [hands-on]}]
  - first: what is dropout
    q: and GANs?
    expect: []
  - first: what is a gan
    q: how do i train one?
    expect: abstain
"""


def test_a_pair_file_reads_first_question_follow_up_and_labels_with_an_empty_list_to_decline(tmp_path: Path) -> None:
    path = tmp_path / "pairs.yaml"
    path.write_text(PAIRS, encoding="utf-8")
    book, gans, train = load_follow_up_set(path)
    assert (book.first, book.q, book.expect[0].title_any) == ("what is lasso", "any book on it?", ["hands-on"])  # type: ignore[index]
    assert gans.expect is None and train.expect is None
    assert [i.abstain for i in (book.as_eval_item(), gans.as_eval_item())] == [False, True]
    with pytest.raises(EvalFileError, match="only `roadmap-tutor eval` reads it"):
        load_eval_set(path)  # calibrate and asked take question sets, not pairs


@dataclass(frozen=True)
class FakeAnswerInContext:
    results: list[FakeResult] = field(default_factory=list)
    abstained: bool = False
    context: str | None = None


def test_follow_ups_are_scored_with_their_first_answers_context_and_without_it(tmp_path: Path) -> None:
    path = tmp_path / "pairs.yaml"
    path.write_text(PAIRS, encoding="utf-8")
    items = load_follow_up_set(path)
    book = FakeResult("hands-on-ml", "Hands-On Machine Learning", 1)
    calls: list[tuple[list[str], list[str | None] | None]] = []

    def answer_batch(questions: list[str], contexts: list[str | None] | None) -> list[FakeAnswerInContext]:
        calls.append((questions, contexts))
        if contexts is None:  # alone: the book question finds nothing, the rest are answered
            return [FakeAnswerInContext([FakeResult("x", "Something", 2)], context=f"ctx:{q}") for q in questions]
        return [  # in context: each answer knows what it followed up
            FakeAnswerInContext([book] if c == "ctx:what is lasso" else [], abstained=c != "ctx:what is lasso")
            for c in contexts
        ]

    report = evaluate_follow_ups(items, answer_batch, k=5)
    assert calls[0] == (["what is lasso", "what is dropout", "what is a gan"], None)
    assert calls[1] == ([i.q for i in items], ["ctx:what is lasso", "ctx:what is dropout", "ctx:what is a gan"])
    assert calls[2] == ([i.q for i in items], None)
    within, alone = report.with_context, report.without_context
    assert (within.hit_at_1, within.abstain_recall, within.false_abstain_rate) == (1.0, 1.0, 0.0)
    assert (alone.hit_at_1, alone.abstain_recall) == (0.0, 0.0)
    assert [m.question for m in alone.misses][:2] == ["what is lasso → any book on it?", "what is dropout → and GANs?"]
    text = format_follow_up_report(report)
    assert "with context  without context" in text
    assert "hit@1               1.000         0.000" in text
    assert "misses without context (3)" in text and "no misses with context" in text
    assert set(report.to_json()) == {"with_context", "without_context"}


@pytest.fixture
def mini_knowledge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small roadmap's knowledge folder, with `config.yaml` beside it naming it alone and the fake encoder
    serving (what these commands report does not depend on the model)."""
    encoder = FakeEncoder()
    monkeypatch.setattr(serving, "open_encoder", lambda settings, backend=None: encoder)
    monkeypatch.setattr(serving, "_exporter", lambda settings: None)
    knowledge = tmp_path / "knowledge"
    write_mini_roadmap(knowledge)
    config = tmp_path / "config.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\nknowledge: {{include_shipped: false, dirs: [{knowledge}]}}\n")
    return knowledge


def test_the_eval_command_scores_a_pair_file_with_and_without_context(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mini_knowledge: Path
) -> None:
    config = mini_knowledge.parent / "config.yaml"
    pairs = tmp_path / "pairs.yaml"
    pairs.write_text(
        "items:\n"
        "  - {first: why do emperor penguins huddle, q: 'and in winter?', expect: [{step: 1, title_any: [penguin]}]}\n"
        "  - {first: why do emperor penguins huddle, q: what is the capital of peru, expect: []}\n"
    )
    assert cli.main(["eval", str(pairs), "--json", "--config", str(config)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["with_context"]["items"] == report["without_context"]["items"] == 2
    assert cli.main(["eval", str(pairs), "--config", str(config)]) == 0
    assert "with context  without context" in capsys.readouterr().out


def test_the_follow_up_development_set_loads_and_is_big_enough() -> None:
    items = load_follow_up_set(FOLLOW_UPS_DEV)
    assert len(items) >= 60
    assert 10 <= sum(i.expect is None for i in items) < len(items) - 40


# --- Asked questions from question sets ----------------------------------------------------------


def test_asked_questions_are_in_scope_items_with_every_document_that_would_hit_them() -> None:
    documents = [
        FakeResult("ridge", "Ridge Regression", 1),
        FakeResult("lasso", "Lasso Regression", 1),
        FakeResult("docker", "Docker", 5),
        *filler(ASKED_MOST_ANSWERS + 1, step=2),
    ]
    items = [
        item("ridge or lasso?", (1, ["regression"])),
        item("Ridge or Lasso??", (1, ["ridge"])),  # the same question again: kept once, as first labelled
        item("containers", (None, ["docker"]), (1, ["nothing here"])),
        item("no entry fits", (1, ["unicorn"])),  # nothing would hit it: nothing to learn from
        item("something unrelated", (2, ["unrelated"])),  # hits too many documents to say which answers it
        abstain_item("who painted the Mona Lisa?"),
    ]
    assert asked_questions(items, documents) == [
        {"q": "ridge or lasso?", "answers": ["ridge", "lasso"]},
        {"q": "containers", "answers": ["docker"]},
    ]


def test_the_asked_command_writes_knowledge_that_loads_and_that_eval_counts_as_taught(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mini_knowledge: Path
) -> None:
    knowledge, config = mini_knowledge, mini_knowledge.parent / "config.yaml"
    questions = tmp_path / "set.yaml"
    questions.write_text(
        "items:\n"
        "  - {q: why do the birds huddle, expect: [{step: 1, title_any: [penguin]}]}\n"
        "  - {q: what is the capital of peru, expect: abstain}\n"
    )
    out = knowledge / "asked.yaml"
    assert cli.main(["asked", str(questions), "--out", str(out), "--config", str(config)]) == 0
    [asked] = load_knowledge([knowledge], include_shipped=False).asked
    assert asked.q == "why do the birds huddle" and asked.answers == ["penguins", "emperor-penguin", "field-guide"]
    assert "set.yaml" in out.read_text(encoding="utf-8").splitlines()[0]  # says where its questions came from
    capsys.readouterr()
    assert cli.main(["eval", str(questions), "--json", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out)["taught"] == 1
    # A question out of scope where it was written, taught by a roadmap that is loaded here: counted in scope.
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text(
        "items:\n"
        "  - {q: what is the capital of peru, expect: abstain}\n"
        "  - {q: why do penguins huddle, expect: abstain, when_loaded: {mini: [{step: 1, title_any: [penguin]}]}}\n"
        "  - {q: how do volcanoes erupt, expect: abstain, when_loaded: {other: [{step: 2, title_any: [volcano]}]}}\n"
    )
    assert cli.main(["eval", str(elsewhere), "--json", "--config", str(config)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["in_scope"], shown["out_of_scope"], shown["taught_elsewhere"]) == (1, 2, 1)
    # An output that cannot be written is named, not a traceback.
    nowhere = tmp_path / "missing" / "asked.yaml"
    assert cli.main(["asked", str(questions), "--out", str(nowhere), "--config", str(config)]) == 2
    assert f"{nowhere}: cannot write" in capsys.readouterr().err


# The sets held out of the asked questions, for measuring the tutor on questions it was never taught.
# Written blind from the roadmap text alone and run once: never a source of asked questions.
HELD_OUT_OF_ASKED = tuple(f"blind-heldout-{n}.yaml" for n in range(1, 35))
SHIPPED_ASKED = ROOT / "knowledge" / "asked" / "intermediate.yaml"


def test_the_shipped_asked_and_declined_questions_are_the_named_sets_remade_and_none_held_out() -> None:
    header = SHIPPED_ASKED.read_text(encoding="utf-8").splitlines()[0]
    sources = [name.strip() for name in header.split(" from: ", 1)[1].split(",")]
    assert not set(sources) & set(HELD_OUT_OF_ASKED)
    assert all((ROOT / "eval" / name).is_file() for name in HELD_OUT_OF_ASKED)
    documents = build_documents(load_knowledge())
    items = [item for name in sources for item in load_eval_set(ROOT / "eval" / name)]
    shipped = yaml.safe_load(SHIPPED_ASKED.read_text(encoding="utf-8"))
    assert shipped["asked"] == asked_questions(items, documents)
    # The declined examples too: the held-out sets' out-of-scope questions are none of them.
    assert shipped["declined"] == declined_questions(items)
    held_out = {normalise_question(i.q) for name in HELD_OUT_OF_ASKED for i in load_eval_set(ROOT / "eval" / name)}
    only_held_out = held_out - {normalise_question(i.q) for i in items}
    assert not only_held_out & {normalise_question(d["q"]) for d in shipped["declined"]}


# --- The shipped question sets -----------------------------------------------------------------


def test_shipped_sets_load_and_are_big_enough() -> None:
    dev, heldout = load_eval_set(DEV), load_eval_set(HELDOUT)
    both = dev + heldout
    assert len(both) >= 240
    assert sum(i.abstain for i in both) >= 40
    for items in (dev, heldout):
        assert any(i.abstain for i in items) and any(not i.abstain for i in items)
        steps = {e.step for i in items for e in i.expectations}
        assert steps <= {None, 1, 2, 3, 4, 5}


def test_heldout_shares_no_question_with_dev() -> None:
    dev = {normalise_question(i.q) for i in load_eval_set(DEV)}
    heldout = {normalise_question(i.q) for i in load_eval_set(HELDOUT)}
    assert dev.isdisjoint(heldout), sorted(dev & heldout)


def test_normalised_questions_ignore_case_punctuation_and_spacing() -> None:
    assert normalise_question("  XGB vs LGBM?? ") == normalise_question("xgb  vs lgbm")


@pytest.mark.parametrize("path", [DEV, HELDOUT], ids=["dev", "heldout"])
def test_every_topic_and_concept_is_the_subject_of_a_question(path: Path) -> None:
    if not ROADMAP.exists():
        pytest.skip("the intermediate roadmap is not written yet")
    roadmap = yaml.safe_load(ROADMAP.read_text(encoding="utf-8"))
    # The first fragment of an expectation names what the question is mainly about.
    subjects = [(e.step, e.title_any[0].casefold()) for i in load_eval_set(path) for e in i.expectations]
    uncovered = []
    for step in roadmap["steps"]:
        for topic in step["topics"]:
            for entry in [topic, *topic.get("concepts", [])]:
                names = (entry["id"].casefold(), entry["title"].casefold())
                if not any(s == step["number"] and any(f in n for n in names) for s, f in subjects):
                    uncovered.append(entry["id"])
    assert not uncovered, f"{path.name} asks about none of {uncovered}"
