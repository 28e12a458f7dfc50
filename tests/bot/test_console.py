"""`roadmap-tutor chat`: the tutor's features in a terminal, for one local member."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import pytest_asyncio
import yaml

from bot.answering import Answerer
from bot.console import ConsoleState, handle_line
from bot.storage import MEMORY, SqliteStore
from bot.tutor import Tutor
from knowledge.loader import KnowledgeBase
from tests.fakes import with_test_quizzes


@pytest_asyncio.fixture
async def tutor(fake_answerer: Answerer):
    async with SqliteStore(MEMORY) as store:
        yield Tutor(fake_answerer, store)


async def test_done_next_progress_undo_roadmap_topic(tutor: Tutor) -> None:
    assert "Marked Regularization as done" in await handle_line(tutor, "done regularization")
    assert "already done" in await handle_line(tutor, "done Regularization")
    assert "Marked Model Evaluation Metrics as done" in await handle_line(tutor, "done evaluation metrics")
    nxt = await handle_line(tutor, "next")
    assert "Feedforward Neural Networks" in nxt and "which Feedforward Neural Networks needs" in nxt
    progress = await handle_line(tutor, "progress")
    assert "2/21 topics done" in progress and "Step 1 █████░░░░░ 2/4" in progress
    assert "Unmarked Regularization" in await handle_line(tutor, "undo regularization")
    roadmap = await handle_line(tutor, "roadmap 1")
    assert "✔ Model Evaluation Metrics" in roadmap and "→ Regularization" in roadmap
    assert "Step 2" not in roadmap
    card = await handle_line(tutor, "topic keras")
    assert card.startswith("Keras — step 3") and "Needs: TensorFlow" in card
    assert "couldn't find a topic" in await handle_line(tutor, "done quantum knitting")
    assert await handle_line(tutor, "quit") is None
    assert "next" in await handle_line(tutor, "help")


class KnowledgeOnly:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb


async def test_quiz_answered_with_a_letter_then_review(shipped_kb: KnowledgeBase) -> None:
    async with SqliteStore(MEMORY) as store:
        tutor = Tutor(KnowledgeOnly(with_test_quizzes(shipped_kb)), store)  # type: ignore[arg-type]
        state = ConsoleState()
        question = await handle_line(tutor, "quiz evaluation metrics", state=state)
        assert question.startswith("Quiz · Model Evaluation Metrics (as asked)") and "  B) " in question
        pick = state.pending
        assert pick is not None
        right = "ABCDE"[pick.entry.item.answer]
        offered = "ABCDE"[: len(pick.entry.item.choices)]
        assert await handle_line(tutor, "E", state=state) == f"Pick one of {offered}."  # still waiting
        answered = await handle_line(tutor, right.lower(), state=state)
        assert answered.startswith(f"✔ Right: {right}.") and f"Why {right}: {pick.entry.item.why}" in answered
        assert "Next review of Model Evaluation Metrics: in 2 days" in answered
        assert state.pending is None
        second = await handle_line(tutor, "quiz evaluation metrics", state=state)
        assert state.pending is not None and state.pending.entry.key != pick.entry.key and "Answer with" in second
        wrong = (state.pending.entry.item.answer + 1) % len(state.pending.entry.item.choices)
        # A choice's number is read as the choice, as its letter is ("2" for B).
        assert f"not {'ABCDE'[wrong]}." in await handle_line(tutor, str(wrong + 1), state=state)
        assert "all 2 questions on Model Evaluation Metrics" in await handle_line(tutor, "quiz metrics", state=state)
        assert "no quiz questions on Keras yet" in await handle_line(tutor, "quiz keras", state=state)
        review = await handle_line(tutor, "review", state=state)
        assert review.startswith("0 due for review.") and "Model Evaluation Metrics (in 1 day" in review


@pytest.mark.model
def test_chat_command_in_a_terminal(real_data_dir: Path, tmp_path: Path) -> None:
    # The shared index, but a database of this test's own.
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "index").symlink_to(real_data_dir / "index")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data")}))
    script = "what is the softmax function\ndone softmax\nprogress\nreview\nquit\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--config", str(config)],
        input=script,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "**Softmax**" in result.stdout
    assert "Marked Activation Functions as done" in result.stdout
    assert "1/21 topics done" in result.stdout
    assert "0 due for review." in result.stdout and "Activation Functions (in 2 days" in result.stdout


@pytest.mark.model
async def test_a_question_is_read_as_a_follow_up_of_the_last_answer(real_answerer: Answerer) -> None:
    async with SqliteStore(MEMORY) as store:
        tutor = Tutor(real_answerer, store)
        try:
            state = ConsoleState()
            assert "Regularization" in (await handle_line(tutor, "what is dropout", state=state) or "")
            assert state.last_answer is not None and state.last_answer.document == "regularization"
            followed = await handle_line(tutor, "why is that?", state=state)
            assert followed is not None and followed.startswith("**Regularization**")
            assert "I don't know" in (await handle_line(tutor, "why is that?") or "")  # no last answer: alone
            assert "beyond this roadmap" in (await handle_line(tutor, "and GANs?", state=state) or "")
        finally:
            tutor.close()
