"""The owner's background embedder: vectors for closed minutes of the timeline, at the lowest
priority, a few chunks at a time.

Every ``interval_s`` (sooner while a backlog lasts) the thread embeds up to ``per_pass``
pending chunks (``store/embeddings.py``), reading them on a read cursor, embedding them
outside any transaction and writing each batch in one short write, so capture, OCR and the
API never wait for it. It runs at nice 19 (the OpenMP threads of the embedding engine are
started from it and inherit that), and skips a pass while ``busy()`` says the recorder is
behind (frames waiting for OCR). Without the embedding package it logs why once and stops;
``lifelog context --query`` then ranks by BM25 alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from lifelog.daemon.background import Background
from lifelog.daemon.supervisor import lower_this_thread
from lifelog.errors import LifelogError
from lifelog.store import embeddings
from lifelog.tokenize_media.embed import DEFAULT, embedding_unavailable, get_embedder

log = logging.getLogger(__name__)

EMBED_NICE = 19  # the lowest priority: below OCR and ASR (TOKENIZE_NICE)
INTERVAL_S = 20.0  # between passes when there was nothing left to do
BACKLOG_PAUSE_S = 1.0  # between passes while a backlog lasts
PER_PASS = 16  # chunks per pass (~7 s of one core at 384 tokens each)
BATCH = 4  # chunks per write


class EmbedWorker(Background):
    """Embeds the owner's pending chunks in a background thread until :meth:`stop`."""

    thread_name = "lifelog-embed"

    def __init__(
        self,
        store,
        *,
        embedder_id: str = DEFAULT,
        busy: Callable[[], bool] = lambda: False,
        interval_s: float = INTERVAL_S,
        per_pass: int = PER_PASS,
        now=None,
    ) -> None:
        self.store = store
        self.embedder_id = embedder_id
        self.busy = busy
        self.interval_s = interval_s
        self.per_pass = per_pass
        self.now = now  # a clock for tests; None: the wall clock
        self.embedded = 0
        self.error = ""
        super().__init__()

    def start(self) -> EmbedWorker:
        reason = embedding_unavailable(self.embedder_id)
        if reason:
            self.error = reason
            log.info("no background embedding: %s", reason)
            return self
        return self._start_thread()

    def info(self) -> dict:
        return {
            "model": self.embedder_id,
            "embedded": self.embedded,
            "running": self._thread is not None,
            "error": self.error or None,
        }

    def _run(self) -> None:
        lower_this_thread(EMBED_NICE)
        embedder = _OnFirstUse(self.embedder_id)
        wait = min(self.interval_s, 1.0)  # the first pass soon after start: a backlog may wait
        while not self._stop.wait(wait):
            done = self._pass(embedder)
            wait = BACKLOG_PAUSE_S if done >= self.per_pass else self.interval_s

    def _pass(self, embedder) -> int:
        if self.busy():
            return 0
        now = self.now() if self.now else None
        try:
            done = embeddings.embed_store(
                self.store, embedder, max_chunks=self.per_pass, batch=BATCH, now=now, should_stop=self._stop.is_set
            )
        except LifelogError as exc:  # a busy or failing store: try again next pass
            log.warning("embedding chunks failed: %s", exc)
            return 0
        except Exception:  # never fatal to the owner
            log.exception("embedding chunks failed")
            return 0
        self.embedded += done
        if done:
            log.debug("embedded %d chunks", done)
        return done


class _OnFirstUse:
    """The embedder, loaded when the first chunk is embedded (an owner with nothing pending
    never maps the model's ~70 MB)."""

    def __init__(self, id: str) -> None:
        self.id = id

    def passages(self, texts, max_tokens=None):
        return get_embedder(self.id).passages(texts, max_tokens=max_tokens)
