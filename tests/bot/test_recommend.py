"""What to study after finished topics, from the shipped roadmap's prerequisites."""

from __future__ import annotations

from bot.progress import recommend_next, topics_after
from knowledge.loader import KnowledgeBase


def test_after_a_topic_comes_what_follows_it_not_the_roadmaps_first_open_topic(shipped_kb: KnowledgeBase) -> None:
    order = list(shipped_kb.topics)
    after_keras = topics_after(shipped_kb, ["keras"])
    assert after_keras and all(order.index(t) > order.index("keras") for t in after_keras)
    assert recommend_next(shipped_kb, {"keras"})[0].entry.topic.id == "regularization"  # what /next would say


def test_after_the_last_topics_of_a_step_comes_the_next_step(shipped_kb: KnowledgeBase) -> None:
    assert topics_after(shipped_kb, ["regularization", "evaluation-metrics"])[0] == "feedforward-networks"
    assert topics_after(shipped_kb, ["regularization"])[0] == "ensemble-methods"
    assert topics_after(shipped_kb, ["no-such-topic"]) == []


def test_what_follows_a_topic_is_first_the_topic_the_roadmap_lists_next(shipped_kb: KnowledgeBase) -> None:
    # Hyperparameter tuning comes after ensembles in the roadmap, though it also needs evaluation metrics:
    # the roadmap's own order leads, then what the prerequisites open up.
    assert "evaluation-metrics" in shipped_kb.topics["hyperparameter-tuning"].topic.prerequisites
    assert topics_after(shipped_kb, ["ensemble-methods"]) == ["hyperparameter-tuning", "evaluation-metrics"]
