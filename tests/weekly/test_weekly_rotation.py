"""Which prompt comes next (rotation) and whether a member is ready for it (readiness)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.weekly.readiness import prompt_readiness
from bot.weekly.rotation import choose_prompt
from knowledge.schema import WeeklyPrompt

prompt_ids = st.lists(
    st.from_regex(r"[a-z]{1,8}(-[a-z0-9]{1,4})?", fullmatch=True), min_size=1, max_size=25, unique=True
)
seeds = st.one_of(st.integers(min_value=0, max_value=2**63), st.text(max_size=20))


def run(prompts: list[str], seed: int | str, picks: int, used: list[str] | None = None) -> list[str]:
    history = list(used or [])
    for _ in range(picks):
        history.append(choose_prompt(prompts, history, seed))
    return history[len(used or []) :]


@settings(max_examples=200, database=None, deadline=None)
@given(prompts=prompt_ids, seed=seeds, cycles=st.integers(min_value=1, max_value=4))
def test_every_prompt_is_used_once_per_cycle(prompts: list[str], seed: int | str, cycles: int) -> None:
    picks = run(prompts, seed, len(prompts) * cycles)
    for cycle in range(cycles):
        block = picks[cycle * len(prompts) : (cycle + 1) * len(prompts)]
        assert sorted(block) == sorted(prompts), f"cycle {cycle}"


@settings(max_examples=200, database=None, deadline=None)
@given(prompts=prompt_ids, seed=seeds)
def test_no_prompt_runs_twice_in_a_row_across_cycle_boundaries(prompts: list[str], seed: int | str) -> None:
    picks = run(prompts, seed, len(prompts) * 4)
    if len(prompts) > 1:
        assert all(a != b for a, b in itertools.pairwise(picks))


@settings(max_examples=100, database=None, deadline=None)
@given(prompts=prompt_ids, seed=seeds, data=st.data())
def test_choice_depends_only_on_the_arguments_not_their_order(
    prompts: list[str], seed: int | str, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(prompts))
    assert run(prompts, seed, 2 * len(prompts)) == run(shuffled, seed, 2 * len(prompts))


def test_different_seeds_give_different_orders() -> None:
    prompts = [f"p{i}" for i in range(12)]
    orders = {tuple(run(prompts, guild_id, len(prompts))) for guild_id in range(10)}
    assert len(orders) > 5


def test_cycles_are_reshuffled() -> None:
    prompts = [f"p{i}" for i in range(12)]
    picks = run(prompts, 1234, 3 * len(prompts))
    assert len({tuple(picks[i : i + 12]) for i in range(0, 36, 12)}) == 3


def test_removed_prompts_in_the_history_are_ignored() -> None:
    used = ["gone", "b", "also-gone"]
    picks = run(["a", "b", "c"], 7, 2, used=used)
    assert sorted(picks) == ["a", "c"]


@pytest.mark.parametrize("seed", range(10))
def test_a_prompt_repeated_by_hand_does_not_skip_the_unused_ones(seed: int) -> None:
    picks = run(list("abcdefgh"), seed, 6, used=["a", "b", "a"])
    assert sorted(picks) == list("cdefgh")


def test_a_new_prompt_joins_the_current_cycle() -> None:
    first = run(["a", "b", "c"], 3, 2)
    later = run(["a", "b", "c", "new"], 3, 2, used=first)
    assert sorted(first + later) == ["a", "b", "c", "new"]


def test_no_prompts_is_an_error() -> None:
    with pytest.raises(ValueError, match="no prompts"):
        choose_prompt([], [], 1)


# --- readiness -------------------------------------------------------------------------------------


def make_prompt(prerequisites: list[str]) -> WeeklyPrompt:
    return WeeklyPrompt(
        id="pytorch-cnn",
        title="A CNN in PyTorch",
        difficulty="medium",
        brief="Train a convolutional network on CIFAR-10 with your own training loop and evaluation code.",
        milestones=["Day 1: data", "Day 2-4: model", "Day 5-7: evaluate"],
        datasets=["CIFAR-10"],
        stretch_goals=["Mixed precision"],
        topics=["tutorial-pytorch-cnn"],
        prerequisites=prerequisites,
    )


def test_ready_when_every_prerequisite_is_completed() -> None:
    prompt = make_prompt(["pytorch", "feedforward-networks"])
    assert prompt_readiness(prompt, {"feedforward-networks", "pytorch", "keras"}) == (True, [])


def test_missing_prerequisites_are_listed_in_the_prompts_order() -> None:
    prompt = make_prompt(["pytorch", "feedforward-networks", "loss-functions"])
    ready, missing = prompt_readiness(prompt, ["feedforward-networks"])
    assert ready is False
    assert missing == ["pytorch", "loss-functions"]


def test_a_prompt_without_prerequisites_is_always_ready() -> None:
    assert prompt_readiness(make_prompt([]), []) == (True, [])


def test_readiness_accepts_any_iterable_of_completed_ids() -> None:
    prompt = make_prompt(["pytorch"])
    assert prompt_readiness(prompt, iter(["pytorch"])).ready
    assert prompt_readiness(prompt, (t for t in ["keras"])).missing == ["pytorch"]
