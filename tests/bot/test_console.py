"""`roadmap-tutor chat`: the tutor's features in a terminal, for one local member."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import pytest_asyncio
import yaml

from bot.answering import Answerer
from bot.console import handle_line
from bot.storage import MEMORY, SqliteStore
from bot.tutor import Tutor


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


@pytest.mark.model
def test_chat_command_in_a_terminal(real_data_dir: Path, tmp_path: Path) -> None:
    # The shared index, but a database of this test's own.
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "index").symlink_to(real_data_dir / "index")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data")}))
    script = "what is the softmax function\ndone softmax\nprogress\nquit\n"
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
