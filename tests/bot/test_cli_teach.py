"""`roadmap-tutor teach` and `roadmap-tutor taught`, without Discord: the file written, listed, removed from; bad input
named with exit status 2 and nothing lost."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.cli import main


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data")}), encoding="utf-8")
    return path


@pytest.fixture
def taught_file(tmp_path: Path) -> Path:
    return tmp_path / "data" / "taught.yaml"


def run(config: Path, *argv: str) -> int:
    return main([*argv, "--config", str(config)])


def test_teach_writes_the_file_and_taught_lists_and_removes(
    config: Path, taught_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(config, "taught") == 0
    assert "Nothing taught yet" in capsys.readouterr().out

    assert run(config, "teach", "where can i rent a gpu cheaply", "--answer", "aws-sagemaker") == 0
    out = capsys.readouterr().out
    assert "Taught: “where can i rent a gpu cheaply” → AWS SageMaker (aws-sagemaker), everywhere" in out
    assert run(config, "teach", "is colab enough", "--answer", "cloud-platforms", "--guild", "4242") == 0
    assert "in Discord server 4242 only" in capsys.readouterr().out
    assert run(config, "teach", "Is Colab enough ", "--answer", "cloud-platforms", "--guild", "4242") == 0
    assert "Already taught" in capsys.readouterr().out

    written = yaml.safe_load(taught_file.read_text(encoding="utf-8"))["taught"]
    assert [(q["q"], q["answer"], q.get("guild")) for q in written] == [
        ("where can i rent a gpu cheaply", "aws-sagemaker", None),
        ("is colab enough", "cloud-platforms", 4242),
    ]

    assert run(config, "taught") == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed == [
        "1. “where can i rent a gpu cheaply” → AWS SageMaker (aws-sagemaker), everywhere (every server, DMs and chat)",
        "2. “is colab enough” → Cloud Platforms (cloud-platforms), in Discord server 4242 only",
    ]
    assert run(config, "taught", "--remove", "1") == 0
    assert "Removed 1: “where can i rent a gpu cheaply”" in capsys.readouterr().out
    assert [q["q"] for q in yaml.safe_load(taught_file.read_text(encoding="utf-8"))["taught"]] == ["is colab enough"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("teach", "is colab enough", "--answer", "sagemakr"), "No entry has the id or title “sagemakr”"),
        (("teach", "   ", "--answer", "aws-sagemaker"), "The question is empty"),
        (("teach", "is colab enough", "--answer", "aws-sagemaker", "--guild", "0"), "--guild takes a Discord server"),
        (("taught", "--remove", "5"), "No taught question in the file is “5”"),
    ],
)
def test_bad_input_is_named_and_changes_nothing(
    config: Path, taught_file: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    assert run(config, "teach", "where can i rent a gpu cheaply", "--answer", "aws-sagemaker") == 0
    before = taught_file.read_bytes()
    capsys.readouterr()
    assert run(config, *argv) == 2
    assert message in capsys.readouterr().err
    assert taught_file.read_bytes() == before


def test_a_file_broken_by_hand_is_named_with_its_field_and_left_as_it_is(
    config: Path, taught_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(config, "teach", "where can i rent a gpu cheaply", "--answer", "aws-sagemaker") == 0
    broken = taught_file.read_text(encoding="utf-8").replace("answer: aws-sagemaker", "answers: [aws-sagemaker]")
    taught_file.write_text(broken, encoding="utf-8")
    capsys.readouterr()
    for argv in (("teach", "is colab enough", "--answer", "cloud-platforms"), ("taught",), ("taught", "--remove", "1")):
        assert run(config, *argv) == 2
        error = capsys.readouterr().err
        assert f"{taught_file}: taught[0]" in error and "nothing was changed" in error, argv
        assert taught_file.read_text(encoding="utf-8") == broken
