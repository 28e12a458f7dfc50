"""Index build, load and search round trip, reuse of unchanged builds, and atomic replacement."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from indexer import store
from indexer.build import BuildInProgress, build_index, build_lock, encode_once, snapshot_dir
from indexer.documents import build_documents, symptom
from indexer.search import FUZZY_MATCH, SearchIndex, tokenize
from indexer.store import IndexUnavailable, read_index, read_manifest
from knowledge.loader import KnowledgeError, load_knowledge, shipped_declined_questions
from tests.fakes import FakeEncoder, mini_roadmap, write_mini_roadmap


@pytest.fixture
def mini_kb(tmp_path: Path):
    write_mini_roadmap(tmp_path / "knowledge")
    return load_knowledge([tmp_path / "knowledge"], include_shipped=False)


def _build(kb, index_dir: Path, encoder: FakeEncoder, force: bool = False):
    return build_index(kb, index_dir, encoder.name, lambda: encoder, force=force)


def test_documents_cover_every_kind(mini_kb) -> None:
    kinds = {d.kind for d in build_documents(mini_kb)}
    assert kinds == {"roadmap", "step", "topic", "concept", "resource"}
    ids = [d.id for d in build_documents(mini_kb)]
    assert len(ids) == len(set(ids))


def test_build_load_search_round_trip(mini_kb, tmp_path: Path) -> None:
    encoder = FakeEncoder()
    report = _build(mini_kb, tmp_path / "index", encoder)
    assert not report.reused
    manifest = report.manifest
    assert manifest.model == encoder.name and manifest.dimension == encoder.dimension
    assert manifest.documents == len(build_documents(mini_kb)) and manifest.passages > manifest.documents
    assert manifest.index_type == "flat-ip" and "faiss-cpu" in manifest.versions
    on_disk = json.loads((tmp_path / "index" / "current" / "manifest.json").read_text())
    assert on_disk["content_hash"] == manifest.content_hash
    assert not list((tmp_path / "index").rglob("*.pkl"))

    index = SearchIndex.load(tmp_path / "index")
    scores = index.dense_scores(encoder.encode(["emperor penguin"]))
    assert index.documents[int(np.argmax(scores[0]))].id == "emperor-penguin"
    lexical = index.lexical_scores(tokenize("magma chambers"))
    assert index.documents[int(np.argmax(lexical))].id == "magma"


def test_unchanged_knowledge_is_not_embedded_again(mini_kb, tmp_path: Path) -> None:
    encoder = FakeEncoder()
    _build(mini_kb, tmp_path / "index", encoder)
    first = read_manifest(tmp_path / "index")
    again = _build(mini_kb, tmp_path / "index", encoder)
    assert again.reused and encoder.calls == 1
    assert read_manifest(tmp_path / "index") == first
    forced = _build(mini_kb, tmp_path / "index", encoder, force=True)
    assert not forced.reused and encoder.calls == 2


def test_declined_examples_are_embedded_stored_and_counted_and_a_change_rebuilds(tmp_path: Path) -> None:
    write_mini_roadmap(tmp_path / "knowledge")
    asked = tmp_path / "knowledge" / "asked.yaml"
    asked.write_text("declined:\n  - q: penguin plush toys at the gift shop\n  - q: volcano cocktail recipe\n")
    kb = load_knowledge([tmp_path / "knowledge"], include_shipped=False)
    encoder = FakeEncoder()
    report = _build(kb, tmp_path / "index", encoder)
    assert report.manifest.extra["declined"] == 2
    build = tmp_path / "index" / "current"
    assert json.loads((build / "declined.json").read_text()) == [
        {"q": "penguin plush toys at the gift shop", "roadmap": "mini"},
        {"q": "volcano cocktail recipe", "roadmap": "mini"},
    ]
    index = SearchIndex.load(tmp_path / "index")
    assert index.declined_roadmaps == ["mini", "mini"]
    found = index.declined_scores(encoder.encode(["volcano cocktail recipe", "penguin plush toys at the gift shop"]))
    assert found.shape == (2, 2) and found[0, 1] == pytest.approx(1.0) and found[1, 0] == pytest.approx(1.0)
    # The declined examples are part of what the index depends on.
    asked.write_text("declined:\n  - q: penguin plush toys at the gift shop\n")
    again = _build(load_knowledge([tmp_path / "knowledge"], include_shipped=False), tmp_path / "index", encoder)
    assert not again.reused and again.manifest.extra["declined"] == 1
    assert SearchIndex.load(tmp_path / "index").declined_roadmaps == ["mini"]


def test_general_questions_are_the_declined_ones_far_from_the_knowledge_and_the_shipped_ones(tmp_path: Path) -> None:
    write_mini_roadmap(tmp_path / "knowledge")
    asked = tmp_path / "knowledge" / "asked.yaml"
    # One declined question far from every passage, one that is the knowledge's own words (what it teaches).
    asked.write_text("declined:\n  - q: best ski resorts for a winter holiday\n  - q: Emperor Penguin point one\n")
    kb = load_knowledge([tmp_path / "knowledge"], include_shipped=False)
    encoder = FakeEncoder()
    report = _build(kb, tmp_path / "index", encoder)
    marked = json.loads((tmp_path / "index" / "current" / store.GENERAL_FILE).read_text())
    general = [candidate["q"] for candidate in marked if candidate["general"]]
    assert "best ski resorts for a winter holiday" in general and "Emperor Penguin point one" not in general
    # The shipped declined questions are candidates whether the shipped roadmap is loaded or not.
    assert set(general) & set(shipped_declined_questions())
    assert report.manifest.extra["general"] == len(general) < len(shipped_declined_questions()) + 2
    index = SearchIndex.load(tmp_path / "index")
    found = index.general_scores(encoder.encode(["best ski resorts for a winter holiday", "Emperor Penguin point one"]))
    assert found[0] == pytest.approx(1.0) and found[1] < 0.99
    # An index built before them has none, and reads 0.
    for name in (store.GENERAL_FILE, store.GENERAL_VECTORS_FILE):
        (tmp_path / "index" / "current" / name).unlink()
    assert SearchIndex.load(tmp_path / "index").general_scores(encoder.encode(["ski"])).tolist() == [0.0]


def test_an_index_without_declined_examples_loads_with_none(mini_kb, tmp_path: Path) -> None:
    _build(mini_kb, tmp_path / "index", FakeEncoder())
    for name in (store.DECLINED_FILE, store.DECLINED_VECTORS_FILE):  # as a build made before them
        (tmp_path / "index" / "current" / name).unlink()
    index = SearchIndex.load(tmp_path / "index")
    assert index.declined_roadmaps == [] and index.declined_scores(FakeEncoder().encode(["penguins"])).shape == (1, 0)


def test_changed_knowledge_or_model_rebuilds(mini_kb, tmp_path: Path) -> None:
    encoder = FakeEncoder()
    _build(mini_kb, tmp_path / "index", encoder)
    other_model = build_index(mini_kb, tmp_path / "index", "another-model", lambda: encoder)
    assert not other_model.reused
    data = mini_roadmap()
    data["steps"][0]["topics"][0]["summary"] = "Penguins, revised for a new edition of the roadmap."
    write_mini_roadmap(tmp_path / "knowledge", data)
    changed = load_knowledge([tmp_path / "knowledge"], include_shipped=False)
    assert not _build(changed, tmp_path / "index", encoder).reused


def test_a_rebuild_embeds_only_what_the_current_build_has_not_and_a_forced_one_everything(tmp_path: Path) -> None:
    write_mini_roadmap(tmp_path / "knowledge")
    asked = tmp_path / "knowledge" / "asked.yaml"
    asked.write_text("declined:\n  - q: best ski resorts for a winter holiday\n")
    encoder = FakeEncoder()
    _build(load_knowledge([tmp_path / "knowledge"], include_shipped=False), tmp_path / "index", encoder)
    first = encoder.texts_encoded
    # A revised summary and a new declined question: two new texts, one passage replaced.
    data = mini_roadmap()
    data["steps"][0]["topics"][0]["summary"] = "Penguins, revised for a new edition of the roadmap."
    write_mini_roadmap(tmp_path / "knowledge", data)
    asked.write_text("declined:\n  - q: best ski resorts for a winter holiday\n  - q: volcano cocktail recipe\n")
    changed = load_knowledge([tmp_path / "knowledge"], include_shipped=False)
    before = encoder.texts_encoded
    assert not _build(changed, tmp_path / "index", encoder).reused
    assert encoder.texts_encoded - before == 2
    rebuilt = read_index(tmp_path / "index")
    # The same vectors as a build from nothing.
    fresh = FakeEncoder()
    _build(changed, tmp_path / "fresh", fresh)
    assert fresh.texts_encoded == first + 1  # one declined question more than the first build
    from_scratch = read_index(tmp_path / "fresh")
    assert np.allclose(
        rebuilt.vectors.reconstruct_n(0, rebuilt.vectors.ntotal),
        from_scratch.vectors.reconstruct_n(0, from_scratch.vectors.ntotal),
    )
    for name in (store.DECLINED_VECTORS_FILE, store.GENERAL_VECTORS_FILE):
        assert np.allclose(np.load(rebuilt.path / name), np.load(from_scratch.path / name))
    # Forced: everything again; a current build that cannot be read: everything too.
    before = encoder.texts_encoded
    _build(changed, tmp_path / "index", encoder, force=True)
    assert encoder.texts_encoded - before == fresh.texts_encoded
    (read_index(tmp_path / "index").path / store.VECTORS_FILE).write_bytes(b"not an index")
    asked.write_text("declined:\n  - q: volcano cocktail recipe\n")
    before = encoder.texts_encoded
    _build(load_knowledge([tmp_path / "knowledge"], include_shipped=False), tmp_path / "index", encoder)
    assert encoder.texts_encoded - before == fresh.texts_encoded - 1
    SearchIndex.load(tmp_path / "index")


def test_a_failed_build_leaves_the_old_index_serving(mini_kb, tmp_path: Path, monkeypatch) -> None:
    encoder = FakeEncoder()
    _build(mini_kb, tmp_path / "index", encoder)
    before = read_index(tmp_path / "index")

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store.faiss, "write_index", crash)
    with pytest.raises(OSError, match="disk full"):
        _build(mini_kb, tmp_path / "index", encoder, force=True)
    after = read_index(tmp_path / "index")
    assert after.path == before.path and after.manifest == before.manifest
    assert not [p for p in (tmp_path / "index" / "builds").iterdir() if p.name.endswith(".partial")]


def test_a_damaged_index_is_reported_with_how_to_rebuild(mini_kb, tmp_path: Path) -> None:
    with pytest.raises(IndexUnavailable, match="roadmap-tutor index build"):
        read_index(tmp_path / "index")
    _build(mini_kb, tmp_path / "index", FakeEncoder())
    (tmp_path / "index" / "current" / "index.faiss").write_bytes(b"not a faiss file")
    with pytest.raises(IndexUnavailable, match=r"damaged.*roadmap-tutor index build"):
        read_index(tmp_path / "index")


def test_only_one_build_runs_at_a_time(mini_kb, tmp_path: Path) -> None:
    with build_lock(tmp_path / "index"), pytest.raises(BuildInProgress):
        _build(mini_kb, tmp_path / "index", FakeEncoder())


def test_large_sets_use_an_approximate_index(monkeypatch) -> None:
    monkeypatch.setattr(store, "EXACT_SEARCH_LIMIT", 100)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(500, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index, kind = store.make_vector_index(vectors)
    assert kind.startswith("hnsw") and index.ntotal == 500
    _, found = index.search(vectors[:20], 1)
    assert (found[:, 0] == np.arange(20)).mean() >= 0.95


def test_a_build_keeps_the_knowledge_it_was_made_from(mini_kb, tmp_path: Path) -> None:
    _build(mini_kb, tmp_path / "index", FakeEncoder())
    snapshot = snapshot_dir(read_index(tmp_path / "index").path)
    again = load_knowledge([snapshot], include_shipped=False)
    assert build_documents(again) == build_documents(mini_kb)


def test_each_common_problem_is_a_passage_of_its_topic_and_of_the_concepts_it_names(tmp_path: Path) -> None:
    data = mini_roadmap()
    naming = "Chicks freeze in the storm: the emperor penguin huddle failed; keep the colony together."
    other = "Penguins walk in circles on the ice: they lost the sun; wait for clear sky before moving."
    data["steps"][0]["topics"][0]["common_problems"] = [naming, other]
    write_mini_roadmap(tmp_path / "knowledge", data)
    documents = {d.id: d for d in build_documents(load_knowledge([tmp_path / "knowledge"], include_shipped=False))}
    assert f"Penguins: {naming}" in documents["penguins"].passages
    assert f"Penguins: {other}" in documents["penguins"].passages
    emperor = documents["emperor-penguin"].passages
    assert f"Emperor Penguin: {naming}" in emperor, "a problem naming a concept is not found from the concept"
    assert not any(other in passage for passage in emperor)


def test_a_problems_symptom_is_a_passage_of_its_own_after_all_the_others(tmp_path: Path) -> None:
    data = mini_roadmap()
    data["steps"][0]["topics"][0]["common_problems"] = [
        "Chicks freeze in the storm at night: the emperor penguin huddle failed; keep the colony together.",
        "RuntimeError: Huddle broke: the colony split; wait.",  # an error's name is not its symptom
    ]
    write_mini_roadmap(tmp_path / "knowledge", data)
    documents = {d.id: d for d in build_documents(load_knowledge([tmp_path / "knowledge"], include_shipped=False))}
    penguins, emperor = documents["penguins"], documents["emperor-penguin"]
    assert penguins.passages[-1] == "Penguins: Chicks freeze in the storm at night"
    assert penguins.symptom_passages == 1
    assert emperor.passages[-1] == "Emperor Penguin: Chicks freeze in the storm at night"
    assert emperor.symptom_passages == 1


def test_asked_questions_are_the_last_passages_of_each_entry_that_answers_them(tmp_path: Path) -> None:
    data = mini_roadmap()
    data["steps"][0]["topics"][0]["common_problems"] = ["Chicks freeze in the storm at night: keep the huddle."]
    write_mini_roadmap(tmp_path / "knowledge", data)
    (tmp_path / "knowledge" / "asked.yaml").write_text(
        "asked:\n"
        "  - {q: why do they stand so close, answers: [penguins, emperor-penguin]}\n"
        "  - {q: 'the tall one with orange ears?', answers: [emperor-penguin, emperor-penguin]}\n"
    )
    documents = {d.id: d for d in build_documents(load_knowledge([tmp_path / "knowledge"], include_shipped=False))}
    penguins, emperor = documents["penguins"], documents["emperor-penguin"]
    assert penguins.passages[-2:] == ("Penguins: Chicks freeze in the storm at night", "why do they stand so close")
    assert (penguins.symptom_passages, penguins.asked_passages) == (1, 1)
    assert emperor.passages[-2:] == ("why do they stand so close", "the tall one with orange ears?")
    assert emperor.asked_passages == 2  # an answer listed twice adds its question once
    assert not set(penguins.own_passages) & {
        "why do they stand so close",
        "Penguins: Chicks freeze in the storm at night",
    }
    assert documents["volcanoes"].asked_passages == 0


def test_what_comes_after_a_roadmap_is_an_entry_of_its_own_that_asked_questions_may_answer(tmp_path: Path) -> None:
    data = mini_roadmap()
    data["next_roadmap"] = {"title": "Polar Roadmap", "description": "Move on to the animals of the far north next."}
    write_mini_roadmap(tmp_path / "knowledge", data)
    (tmp_path / "knowledge" / "asked.yaml").write_text(
        "asked:\n  - {q: is there more after this, answers: [mini/next-steps]}\n"
    )
    kb = load_knowledge([tmp_path / "knowledge"], include_shipped=False)
    documents = {d.id: d for d in build_documents(kb)}
    after = documents["mini/next-steps"]
    assert (after.kind, after.title, after.roadmap) == ("roadmap", "Next Steps: Polar Roadmap", "mini")
    assert kb.entries()["mini/next-steps"].title == after.title  # admins may teach questions to it too
    assert after.extra["next_steps"] and "Polar Roadmap" in after.names
    assert "Move on to the animals of the far north next." in after.own_passages[0]
    assert after.passages[-1] == "is there more after this"
    # The overview no longer says it: one entry per part of the roadmap's text.
    assert not any("far north" in passage for passage in documents["mini"].passages)


def test_a_roadmap_with_nothing_after_it_has_no_next_steps_and_questions_cannot_name_them(tmp_path: Path) -> None:
    write_mini_roadmap(tmp_path / "knowledge", mini_roadmap())
    assert not any(
        d.id.endswith("/next-steps")
        for d in build_documents(load_knowledge([tmp_path / "knowledge"], include_shipped=False))
    )
    (tmp_path / "knowledge" / "asked.yaml").write_text(
        "asked:\n  - {q: is there more after this, answers: [mini/next-steps]}\n"
    )
    with pytest.raises(KnowledgeError, match="unknown entry id 'mini/next-steps'"):
        load_knowledge([tmp_path / "knowledge"], include_shipped=False)


def test_a_step_is_named_by_its_number_in_words_too(tmp_path: Path) -> None:
    write_mini_roadmap(tmp_path / "knowledge", mini_roadmap())
    documents = build_documents(load_knowledge([tmp_path / "knowledge"], include_shipped=False))
    second = next(d for d in documents if d.kind == "step" and d.step == 2)
    assert {"step 2", "step two", "second step"} <= set(second.names)


@pytest.mark.parametrize(
    ("title", "work"),
    [
        ("Pro Git (book)", "Pro Git"),
        ("Python for Data Analysis by Wes McKinney", "Python for Data Analysis"),
        ("Machine Learning Specialization by Andrew Ng (Coursera)", "Machine Learning Specialization"),
        ("Stand by Me", "Stand by Me"),  # "Me" is no author's full name: the title is the work's name
    ],
)
def test_a_resource_is_named_by_its_work_without_what_the_title_adds_after_it(
    tmp_path: Path, title: str, work: str
) -> None:
    data = mini_roadmap()
    data["steps"][0]["resources"][0]["title"] = title
    write_mini_roadmap(tmp_path / "knowledge", data)
    documents = build_documents(load_knowledge([tmp_path / "knowledge"], include_shipped=False))
    resource = next(d for d in documents if d.kind == "resource")
    assert resource.names[0] == title and work in resource.names
    # No shorter start of the title is taken for the work's name but the work's own.
    assert [name for name in resource.names if title.startswith(name) and name != title] == (
        [work] if work != title else []
    )


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        ("Loss becomes nan after a few batches: the lr is too high.", "Loss becomes nan after a few batches"),
        (
            "RuntimeError: Expected all tensors to be on the same device, cuda:0 and cpu: move the batch.",
            "RuntimeError: Expected all tensors to be on the same device, cuda:0 and cpu",
        ),
        ("Ridge or Lasso? Ridge when features are correlated.", None),  # no cause after a colon
        ("Too slow: use a GPU.", None),  # a label, not a symptom
    ],
)
def test_a_symptom_is_the_problem_before_its_cause(problem: str, expected: str | None) -> None:
    assert symptom(problem) == expected


def test_each_distinct_passage_is_encoded_once_and_every_passage_gets_its_own_vector() -> None:
    encoded: list[list[str]] = []

    class CountingEncoder(FakeEncoder):
        def encode(self, texts: list[str]) -> np.ndarray:
            encoded.append(list(texts))
            return super().encode(texts)

    encoder = CountingEncoder()
    texts = ["why so close", "huddle", "why so close", "volcano", "huddle"]
    vectors = encode_once(encoder, texts)
    assert encoded == [["why so close", "huddle", "volcano"]]
    assert np.array_equal(vectors, FakeEncoder().encode(texts))


def test_a_common_english_word_is_never_read_as_a_typo_of_the_knowledge(tmp_path: Path) -> None:
    data = mini_roadmap()
    data["steps"][1]["topics"][0]["concepts"][0]["title"] = "Jupyter Notebooks"
    write_mini_roadmap(tmp_path / "knowledge", data)
    _build(load_knowledge([tmp_path / "knowledge"], include_shipped=False), tmp_path / "index", FakeEncoder())
    index = SearchIndex.load(tmp_path / "index")
    # The planet is what the learner meant: not corrected, not the notebooks' name misspelt ...
    assert index.correct("how long to fly to jupiter") == "how long to fly to jupiter"
    assert index.name_matches("how long to fly to jupiter") == []
    # ... while a slip that is no English word still is.
    assert index.correct("my jupyer kernel died") == "my jupyter kernel died"
    assert [m.quality for m in index.name_matches("jupyer notebooks")] == [FUZZY_MATCH]
