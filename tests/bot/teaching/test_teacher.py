"""Teaching without Discord: a taught question answers at once with its entry, in its own server only; the file is
the truth, written atomically, checked like knowledge, never written over when broken."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bot.answering import Answerer
from bot.teaching import EVERY_SERVER, TaughtFileError, Teacher, TeachingError
from bot.teaching.taught_file import read_taught, write_taught
from knowledge.schema import TaughtQuestion
from tests.fakes import FakeEncoder

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HERE, ELSEWHERE = 111, 222
QUESTION = "who painted the mona lisa"
ENTRY = "docker"  # far from the question on purpose: only teaching can make it the answer


@pytest.fixture
def taught_file(tmp_path: Path) -> Path:
    return tmp_path / "data" / "taught.yaml"


@pytest.fixture
def teacher(taught_file: Path, fake_answerer: Answerer) -> Teacher:
    teacher = Teacher(taught_file, lambda: fake_answerer.kb, fake_answerer)
    teacher.load()
    return teacher


def top(answerer: Answerer, question: str, guild: int | None) -> tuple[bool, list[str]]:
    answer = answerer.answer(question, guild=guild)
    return answer.abstained, [r.id for r in answer.results]


def test_a_taught_question_answers_with_its_entry_first_in_its_own_server_only(
    teacher: Teacher, fake_answerer: Answerer
) -> None:
    before = {guild: top(fake_answerer, QUESTION, guild) for guild in (HERE, ELSEWHERE, None)}
    assert before[HERE][1][0] != ENTRY

    taught = teacher.teach(QUESTION, ENTRY, HERE, NOW)

    assert (taught.entry.id, taught.previous, taught.unchanged) == (ENTRY, None, False)
    abstained, ranked = top(fake_answerer, QUESTION, HERE)
    assert ranked[0] == ENTRY and not abstained
    assert fake_answerer.answer(QUESTION, guild=HERE).headline == "Docker"
    # Other servers, direct messages and the console (no guild) are answered as before.
    assert top(fake_answerer, QUESTION, ELSEWHERE) == before[ELSEWHERE]
    assert top(fake_answerer, QUESTION, None) == before[None]


def test_a_taught_answer_outranks_even_the_entry_the_question_names(teacher: Teacher, fake_answerer: Answerer) -> None:
    """An unhelpful answer corrected: the question names Lasso Regression, the admin taught Docker for it."""
    question = "what is lasso regression"
    assert top(fake_answerer, question, HERE)[1][0] == "lasso-regression"
    teacher.teach(question, "docker", HERE, NOW)
    assert top(fake_answerer, question, HERE)[1][0] == "docker"
    assert top(fake_answerer, question, ELSEWHERE)[1][0] == "lasso-regression"


def test_teaching_embeds_only_the_new_question(teacher: Teacher, fake_answerer: Answerer) -> None:
    encoder = fake_answerer.encoder
    assert isinstance(encoder, FakeEncoder)
    teacher.teach("first question taught here", "docker", HERE, NOW)
    teacher.teach("second question taught here", "flask", HERE, NOW)
    encoded = encoder.texts_encoded
    teacher.teach("third question taught here", "fastapi", HERE, NOW)
    assert encoder.texts_encoded - encoded == 1
    assert len(fake_answerer.taught) == 3


def test_removing_a_taught_question_answers_as_before(teacher: Teacher, fake_answerer: Answerer) -> None:
    before = top(fake_answerer, QUESTION, HERE)
    teacher.teach(QUESTION, ENTRY, HERE, NOW)
    assert top(fake_answerer, QUESTION, HERE)[1][0] == ENTRY

    (listed,) = teacher.listed(HERE)
    removed = teacher.remove(str(listed.number), HERE)

    assert removed.question.q == QUESTION
    assert top(fake_answerer, QUESTION, HERE) == before
    assert teacher.listed(HERE) == []


def test_the_same_question_taught_again_replaces_its_entry_or_changes_nothing(teacher: Teacher) -> None:
    teacher.teach(QUESTION, ENTRY, HERE, NOW)
    again = teacher.teach("  Who painted the Mona Lisa ", ENTRY, HERE, NOW)
    assert again.unchanged
    other = teacher.teach(QUESTION, "flask", HERE, NOW)
    assert other.previous is not None and other.previous.id == ENTRY and other.entry.id == "flask"
    assert [(q.q, q.answer) for q in teacher.read()] == [(QUESTION, "flask")]
    teacher.teach(QUESTION, ENTRY, ELSEWHERE, NOW)  # another server's teaching is its own
    assert [(q.answer, q.guild) for q in teacher.read()] == [("flask", HERE), (ENTRY, ELSEWHERE)]


def test_an_entry_is_named_by_id_or_exact_title_and_an_unknown_one_is_refused_with_suggestions(
    teacher: Teacher, taught_file: Path
) -> None:
    assert teacher.teach("how do i ship my model in a box", "Docker", HERE, NOW).entry.id == "docker"
    before = taught_file.read_bytes()
    with pytest.raises(TeachingError, match=r"No entry has the id or title “dokcer”.*docker \(Docker\)"):
        teacher.teach(QUESTION, "dokcer", HERE, NOW)
    assert taught_file.read_bytes() == before


# A bare mention ("<@123>") is emptied before this by the Discord layer (tests/bot/discord_app/test_markup.py).
@pytest.mark.parametrize("question", ["", "   ", "🤔🤔", "\u200b\u200b"])
def test_an_empty_question_is_refused_and_nothing_is_written(
    teacher: Teacher, taught_file: Path, question: str
) -> None:
    with pytest.raises(TeachingError, match="The question is empty"):
        teacher.teach(question, ENTRY, HERE, NOW)
    assert not taught_file.exists()


def test_a_too_short_question_is_refused(teacher: Teacher) -> None:
    with pytest.raises(TeachingError, match="too short"):
        teacher.teach("ok", ENTRY, HERE, NOW)


def test_a_server_cannot_remove_what_the_operator_taught_for_every_server(teacher: Teacher) -> None:
    teacher.teach("operator question for everyone", ENTRY, EVERY_SERVER, NOW)
    teacher.teach("this server's own question", "flask", HERE, NOW)
    listed = teacher.listed(HERE)
    assert [(item.number, item.removable) for item in listed] == [(1, False), (2, True)]
    with pytest.raises(TeachingError, match="only they can remove it"):
        teacher.remove("1", HERE)
    assert teacher.listed(ELSEWHERE)[0].question.q == "operator question for everyone"
    assert [item.question.q for item in teacher.listed(ELSEWHERE)] == ["operator question for everyone"]
    with pytest.raises(TeachingError, match="No taught question here"):
        teacher.remove("3", HERE)
    # By key (what autocomplete sends) and by wording.
    assert teacher.remove(listed[1].key, HERE).question.q == "this server's own question"
    assert teacher.remove("Operator question for everyone", EVERY_SERVER).number == 1


def test_what_another_process_taught_meanwhile_is_kept_and_served(
    teacher: Teacher, taught_file: Path, fake_answerer: Answerer
) -> None:
    teacher.teach("question taught in discord", "flask", HERE, NOW)
    cli = Teacher(taught_file, lambda: fake_answerer.kb)  # the CLI: no answerer, the same file
    cli.teach(QUESTION, ENTRY, EVERY_SERVER, NOW)

    teacher.refresh_if_changed()  # what the bot does before each question
    assert top(fake_answerer, QUESTION, ELSEWHERE)[1][0] == ENTRY

    teacher.teach("another question from discord", "fastapi", HERE, NOW)
    assert [q.q for q in read_taught(taught_file, fake_answerer.kb.entries())] == [
        "question taught in discord",
        QUESTION,
        "another question from discord",
    ]


BROKEN = {
    "not yaml": ("taught:\n- q: [unclosed\n  answer: docker\n", "line 3", "not valid YAML"),
    "not a mapping": ("- q: who painted it\n", "", "expected a mapping with 'taught'"),
    "question missing": ("taught:\n- answer: docker\n", "taught[0].q", "Field required"),
    "unknown field": ("taught:\n- q: who painted it\n  answer: docker\n  by: me\n", "taught[0].by", "unknown field"),
    "unknown entry": (
        "taught:\n- q: who painted it\n  answer: docker\n- q: what is it\n  answer: no-such-entry\n",
        "taught[1].answer",
        "unknown entry id 'no-such-entry'",
    ),
    "bad guild": ("taught:\n- q: who painted it\n  answer: docker\n  guild: twelve\n", "taught[0].guild", "integer"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_a_file_broken_by_hand_is_reported_with_file_and_field_and_never_written_over(
    name: str, teacher: Teacher, taught_file: Path, fake_answerer: Answerer, caplog: pytest.LogCaptureFixture
) -> None:
    teacher.teach(QUESTION, ENTRY, HERE, NOW)
    text, field, reason = BROKEN[name]
    taught_file.write_text(text, encoding="utf-8")

    for change in (
        lambda: teacher.teach("a new question to teach", "flask", HERE, NOW),
        lambda: teacher.remove("1", HERE),
        lambda: teacher.listed(HERE),
    ):
        with pytest.raises(TaughtFileError) as broken:
            change()
        assert str(taught_file) in str(broken.value)
        assert broken.value.field_path == field
        assert reason in broken.value.reason
        assert taught_file.read_text(encoding="utf-8") == text

    # The bot notices the edit, says what is wrong once, and keeps answering with what was taught before.
    with caplog.at_level(logging.ERROR):
        teacher.refresh_if_changed()
        teacher.refresh_if_changed()
    (logged,) = [r.getMessage() for r in caplog.records if str(taught_file) in r.getMessage()]
    assert field in logged and reason in logged
    assert top(fake_answerer, QUESTION, HERE)[1][0] == ENTRY
    assert teacher.problem is not None


def test_a_write_that_fails_midway_leaves_the_previous_file_whole(
    teacher: Teacher, taught_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    teacher.teach(QUESTION, ENTRY, HERE, NOW)
    before = taught_file.read_bytes()

    def fail(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("bot.teaching.taught_file.os.replace", fail)
    with pytest.raises(OSError, match="disk full"):
        teacher.teach("a question that is not saved", "flask", HERE, NOW)
    assert taught_file.read_bytes() == before
    assert [p.name for p in taught_file.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_the_file_reads_back_what_was_written_and_stays_readable(tmp_path: Path, fake_answerer: Answerer) -> None:
    path = tmp_path / "taught.yaml"
    taught = [
        TaughtQuestion(q="who painted it?", answer="docker", guild=HERE, taught_at=NOW),
        TaughtQuestion(q="an operator's question: with a colon", answer="flask"),
    ]
    write_taught(path, taught)
    assert read_taught(path, fake_answerer.kb.entries()) == taught
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    written = {"q": "who painted it?", "answer": "docker", "guild": HERE, "taught_at": "2026-12-01T09:00:00Z"}
    assert data["taught"][0] == written
    assert path.read_text(encoding="utf-8").startswith("# Questions admins taught")
    path.write_text("", encoding="utf-8")
    assert read_taught(path, fake_answerer.kb.entries()) == []
