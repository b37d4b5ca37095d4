"""Semantic half of ``context --query``: the minutes whose meaning is nearest the query.

    hits = semantic_hits(reader, "the flaky login test", since=a, until=b, k=50)
    if hits is None: ...  # no embedding model here: rank by BM25 alone (said once, in the log)

Each hit is one minute of one window seen or one audio source heard (``ChunkHit``: start, end,
kind, monitor, app, window, source, cosine score), from vectors the owner embeds in the
background (``daemon/embedding.py``); the newest 2-3 minutes are not embedded yet.
"""

from __future__ import annotations

import logging

from lifelog.store.embeddings import ChunkHit
from lifelog.tokenize_media.embed import DEFAULT, embedding_unavailable, get_embedder

log = logging.getLogger(__name__)

_said: set[str] = set()


def semantic_hits(
    reader, query: str, *, since=None, until=None, k: int = 50, model: str = DEFAULT
) -> list[ChunkHit] | None:
    """The ``k`` chunks in [since, until) nearest ``query``, best first; None when no embedder
    can run here (the reason is logged once per process: see :func:`semantic_unavailable`)."""
    reason = semantic_unavailable(model)
    if reason:
        return None
    vector = get_embedder(model).query(query)
    return reader.nearest_chunks(vector, since=since, until=until, k=k, model=model)


def semantic_unavailable(model: str = DEFAULT) -> str | None:
    """Why ranking falls back to BM25 alone (logged as a warning the first time), or None."""
    reason = embedding_unavailable(model)
    if reason and model not in _said:
        _said.add(model)
        log.warning("context --query ranks by BM25 only: %s", reason)
    return reason
