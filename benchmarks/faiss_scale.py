"""How the vector index scales: synthetic sets built with `indexer.store.make_vector_index`, searched one
query at a time, with recall measured against exact search wherever the index is approximate.

The vectors are random unit vectors in 384 dimensions (all-MiniLM-L6-v2's size); each query is an
existing vector plus noise (cosine about 0.85 to it), so every query has one true near neighbour. In
such data the other nine of the exact top 10 are all about equally far (near-orthogonal), which makes
recall@10 a harsh test for a graph index; recall@1 (finding the near neighbour) is the realistic one.

Real sentence embeddings are clustered, so the largest size is measured a second time on a clustered
set (`clustered` in the JSON): a Gaussian mixture of `CLUSTERS` random centres on the sphere, each point
its centre plus noise, normalised, with a spread that puts a point at cosine about 0.7 to its own centre
(MiniLM passages about one subject). Its queries are new points drawn the same way; none has a planted
near neighbour, so only recall against exact search is reported for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import faiss
import numpy as np

from benchmarks.measure import JSON, ms, percentile, target
from indexer import store

log = logging.getLogger(__name__)

DIMENSION = 384
QUERIES = 200
K = 10
# The depth SearchIndex.dense_scores asks an approximate index for.
SERVING_DEPTH = 64
SEARCH_LIMIT_MS = 5.0
NOISE = 0.035
EF_SEARCH_SWEEP = (32, 64, 128, 256, 512)
CLUSTERS = 2_000
# Per-dimension noise around a centre: |noise|^2 is about 384 * CLUSTER_SPREAD^2, so a point's cosine to its
# centre is about 1 / sqrt(1 + 384 * CLUSTER_SPREAD^2) = 0.70.
CLUSTER_SPREAD = 0.052


def unit_vectors(rng: np.random.Generator, count: int) -> np.ndarray:
    vectors = rng.standard_normal((count, DIMENSION), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def clustered_unit_vectors(rng: np.random.Generator, centres: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Points of a Gaussian mixture around `centres`, normalised; and the centre each was drawn around."""
    picks = rng.integers(0, len(centres), count)
    points = centres[picks] + CLUSTER_SPREAD * rng.standard_normal((count, DIMENSION), dtype=np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True), picks


def near_queries(rng: np.random.Generator, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Queries close to randomly chosen vectors, and which vector each is close to."""
    sources = rng.integers(0, len(vectors), QUERIES)
    queries = vectors[sources] + NOISE * rng.standard_normal((QUERIES, DIMENSION), dtype=np.float32)
    return queries / np.linalg.norm(queries, axis=1, keepdims=True), sources


def single_query_search(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[list[float], np.ndarray]:
    """Search one query at a time, as a question is answered; per-query seconds and the result ids."""
    seconds, found = [], []
    for row in range(len(queries)):
        started = time.perf_counter()
        _, ids = index.search(queries[row : row + 1], k)
        seconds.append(time.perf_counter() - started)
        found.append(ids[0])
    return seconds, np.asarray(found)


def _one_thread(search: Callable[[], list[float]]) -> list[float]:
    """`search` with FAISS limited to one OpenMP thread. On a small busy machine, splitting one query
    over threads costs more in waiting for them than it saves."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        return search()
    finally:
        faiss.omp_set_num_threads(threads)


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    return round(float(np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact, strict=True)])), 3)


def measure_size(rng: np.random.Generator, count: int) -> JSON:
    vectors = unit_vectors(rng, count)
    queries, sources = near_queries(rng, vectors)
    return measure_index(vectors, queries, sources)


def measure_clustered(rng: np.random.Generator, count: int) -> JSON:
    """The same figures on `count` clustered vectors, with queries drawn from the same mixture."""
    centres = unit_vectors(rng, CLUSTERS)
    vectors, picks = clustered_unit_vectors(rng, centres, count)
    queries, _ = clustered_unit_vectors(rng, centres, QUERIES)
    to_centre = np.einsum("ij,ij->i", vectors, centres[picks])
    return {
        "cosine_to_own_centre_p10_p50_p90": [round(float(c), 3) for c in np.percentile(to_centre, [10, 50, 90])],
        **measure_index(vectors, queries, None),
    }


def measure_index(vectors: np.ndarray, queries: np.ndarray, sources: np.ndarray | None) -> JSON:
    """Build with the project's `make_vector_index` and time single queries; for an approximate index,
    recall against exact search. `sources` are the vectors the queries were made near, when there are."""
    started = time.perf_counter()
    index, kind = store.make_vector_index(vectors)
    build = time.perf_counter() - started
    seconds, found = single_query_search(index, queries, K)
    one_thread_seconds = _one_thread(lambda: single_query_search(index, queries, K)[0])
    result: JSON = {
        "index_type": kind,
        "build_seconds": round(build, 2),
        "search_ms_p50": ms(percentile(seconds, 50)),
        "search_ms_p99": ms(percentile(seconds, 99)),
        "search_ms_p50_one_thread": ms(percentile(one_thread_seconds, 50)),
    }
    if isinstance(index, faiss.IndexHNSW):
        exact_index = faiss.IndexFlatIP(DIMENSION)
        exact_index.add(vectors)
        exact_seconds, exact = single_query_search(exact_index, queries, K)
        result["exact_search_ms_p50"] = ms(percentile(exact_seconds, 50))
        result["recall_at_10"] = recall(found, exact)
        if sources is not None:
            result["recall_at_1_near_neighbour"] = round(float(np.mean(found[:, 0] == sources)), 3)
        # How far apart the exact neighbours are: the closer the 10th is to the 11th, the nearer a tie.
        cosines, _ = exact_index.search(queries, K + 1)
        result["exact_cosine_mean_1st_10th_11th"] = [round(float(np.mean(cosines[:, r])), 3) for r in (0, K - 1, K)]
        deep_seconds, _ = single_query_search(index, queries, SERVING_DEPTH)
        result[f"search_ms_p50_k{SERVING_DEPTH}"] = ms(percentile(deep_seconds, 50))
        result["ef_search_sweep"] = ef_search_sweep(index, queries, sources, exact)
    return result


def ef_search_sweep(index: faiss.IndexHNSW, queries: np.ndarray, sources: np.ndarray | None, exact: np.ndarray) -> JSON:
    """Latency and recall for other efSearch values, to show what a different setting would buy."""
    configured = index.hnsw.efSearch
    sweep = {}
    try:
        for ef in EF_SEARCH_SWEEP:
            index.hnsw.efSearch = ef
            seconds, found = single_query_search(index, queries, K)
            sweep[str(ef)] = {"search_ms_p50": ms(percentile(seconds, 50)), "recall_at_10": recall(found, exact)}
            if sources is not None:
                sweep[str(ef)]["recall_at_1_near_neighbour"] = round(float(np.mean(found[:, 0] == sources)), 3)
    finally:
        index.hnsw.efSearch = configured
    return sweep


def run(quick: bool) -> JSON:
    # The threshold itself is measured too: the largest set that still gets exact search. A quick run
    # stops at a smaller approximate set, whose graph builds in seconds.
    sizes = sorted({1_000, 10_000, store.EXACT_SEARCH_LIMIT, 30_000 if quick else 100_000})
    rng = np.random.default_rng(20240601)
    results = {}
    for count in sizes:
        log.info("faiss scale: %d vectors", count)
        results[str(count)] = measure_size(rng, count)
    # The clustered set only at the largest (approximate) size: one more HNSW build.
    log.info("faiss scale: %d clustered vectors", sizes[-1])
    clustered = measure_clustered(np.random.default_rng(20240602), sizes[-1])
    largest = results.get("100000")
    return {
        "dimension": DIMENSION,
        "queries": QUERIES,
        "k": K,
        "settings": {
            "EXACT_SEARCH_LIMIT": store.EXACT_SEARCH_LIMIT,
            "HNSW_NEIGHBOURS": store.HNSW_NEIGHBOURS,
            "HNSW_EF_SEARCH": store.HNSW_EF_SEARCH,
        },
        "faiss_threads": faiss.omp_get_max_threads(),
        "sizes": results,
        "clustered": {"clusters": CLUSTERS, "spread": CLUSTER_SPREAD, "sizes": {str(sizes[-1]): clustered}},
        "targets": {
            "search_p50_at_100000": target(largest["search_ms_p50"] if largest else None, SEARCH_LIMIT_MS, "ms")
        },
    }
