"""Word salience and the everyday words kept with each build (`indexer.salience`)."""

from __future__ import annotations

from indexer.salience import everyday_words_near


def test_common_english_words_a_typo_away_from_the_knowledge_are_everyday_words() -> None:
    near = everyday_words_near({"jupyter", "flask", "pandas", "regularization", "numpy"})
    assert {"jupiter", "flash"} <= set(near)  # a planet and a flash of light, not misspelt names
    assert "pandas" not in near  # a word the knowledge uses is its own
    assert "regularisation" not in near  # rare in everyday English: a spelling of the knowledge's word
    assert "jupyer" not in near and "lumpy" not in near  # no English word; another first letter
    assert near == sorted(near)


def test_short_words_and_words_far_from_the_knowledge_are_left_out() -> None:
    # Four letters or fewer are never read as typos (`FUZZY_MIN_CHARS`), so "rely" needs no guarding from ReLU.
    assert everyday_words_near({"relu"}) == []
    assert everyday_words_near(set()) == []
