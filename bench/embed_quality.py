"""Does a cheaper chunk text still find the needles? Rank by the embedding alone.

    .venv/bin/python bench/embed_quality.py --db /tmp/nde3/needles-d3/lifelog.duckdb [--random 300] [--cuts 256,384]

On a needle timeline (``bench/needles.py --days 3``, opened read-only) a pool of chunks is
formed: the ten needles' chunks, the chunks of their distractors, and ``--random`` chunks
drawn (seeded) from the timeline. Each fact's question is embedded and the rank of its
needle's chunk among the pool is reported, for the chunk text before version 2 (every row
of the minute, cut at 512 tokens) and for today's text (each distinct line once) cut at each
of ``--cuts``. BM25 plays no part: this is what the embedding list brings to the fusion.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import common

ROOT = common.ROOT

import duckdb
import numpy as np
from embed_rate import distinct_lines_text, whole_minute_text
from needle_facts import FACTS

from lifelog.store.embeddings import _SOURCES, SEEN, _fill


def chunks_with(con, text: str) -> list[tuple]:
    """(source, chunk key) of every chunk with a line holding ``text``."""
    out = []
    for src in _SOURCES:
        rows = con.execute(
            f"SELECT DISTINCT date_trunc('minute', t_start), {src.key_cols} FROM {src.table}"
            " WHERE contains(text, ?) ORDER BY ALL",
            [text],
        ).fetchall()
        out += [(src, tuple(r)) for r in rows]
    return out


def pool(con, n_random: int, n_facts: int = len(FACTS)) -> tuple[list, dict[int, int]]:
    """The pool's chunks and, per fact (the first ``n_facts``), the index of its needle's chunk."""
    keys, needles = [], {}
    for i, fact in enumerate(FACTS[:n_facts]):
        found = chunks_with(con, fact.answer)
        needles[i] = found[0]
        keys += found
        for d in fact.distractors:
            keys += chunks_with(con, d[3][:40])
    every = []
    for src in _SOURCES:
        every += [
            (src, tuple(r))
            for r in con.execute(
                f"SELECT DISTINCT date_trunc('minute', t_start) AS m, {src.key_cols} FROM {src.table} ORDER BY ALL"
            ).fetchall()
        ]
    keys += random.Random(3).sample(every, n_random)
    keys = list(dict.fromkeys(keys))
    chunks, index = [], {}
    for src, key in keys:
        got = _fill(con, src, [key], "none")
        if got:
            index[(src, key)] = len(chunks)
            chunks.append(got[0])
    return chunks, {i: index[k] for i, k in needles.items()}


def ranks(embedder, vectors: np.ndarray, owner: list[int], needles: dict[int, int]) -> list[int]:
    """Rank of each needle's chunk, a chunk scoring its best text (``owner``: each vector's chunk)."""
    out = []
    for i, fact in enumerate(FACTS[: len(needles)]):
        scores = np.full(max(owner) + 1, -np.inf)
        np.maximum.at(scores, owner, vectors @ embedder.query(fact.query))
        out.append(int((scores > scores[needles[i]]).sum()) + 1)
    return out


def _needles_day() -> Path:
    """A generated day with the needles planted (``gen_timeline``), for the quick run."""
    import gen_timeline

    folder = common.scratch("embed_quality")
    if not (folder / "lifelog.duckdb").exists():
        gen_timeline.build(folder, 1, plants=gen_timeline.plant_needles(1).plants)
    return folder / "lifelog.duckdb"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, help="a needles timeline's lifelog.duckdb (required without --quick)")
    ap.add_argument("--random", type=int, default=300)
    ap.add_argument("--cuts", default="256,384")
    ap.add_argument("--facts", type=int, default=len(FACTS), help="rank the first N facts' needles (all 10)")
    ap.add_argument("--before-cut", type=int, default=512, help="tokens the text before version 2 was cut at")
    args = common.parse(
        ap, quick={"random": 2, "cuts": "64", "before_cut": 64, "facts": 1, "db": lambda: _needles_day()}
    )
    if args.db is None:
        ap.error("--db is required")
    from lifelog.tokenize_media.embed import get_embedder

    embedder = get_embedder()
    con = duckdb.connect(str(args.db), read_only=True)
    chunks, needles = pool(con, args.random, args.facts)
    ways = [
        (f"before: every row, cut at {args.before_cut}", [[whole_minute_text(con, c)] for c in chunks], args.before_cut)
    ]
    ways += [
        (f"distinct lines, cut at {cut}", [[distinct_lines_text(c)] for c in chunks], int(cut))
        for cut in args.cuts.split(",")
    ]
    ways.append(("its parts (messages, paragraphs), each cut at 384", [[p.text for p in c.parts] for c in chunks], 384))
    print(f"# {len(chunks)} chunks in the pool ({sum(c.kind == SEEN for c in chunks)} seen)\n")
    print("| chunk text | CPU s / chunk | ranks of the 10 needles | top-1 | top-5 | MRR |")
    print("|---|---:|---|---:|---:|---:|")
    for name, per_chunk, cut in ways:
        owner = [i for i, texts in enumerate(per_chunk) for _ in texts]
        t = time.process_time()
        vectors = embedder.passages([x for texts in per_chunk for x in texts], max_tokens=cut)
        cpu = (time.process_time() - t) / len(per_chunk)
        r = ranks(embedder, vectors, owner, needles)
        print(
            f"| {name} | {cpu:.2f} | {', '.join(map(str, r))} | {sum(x == 1 for x in r)}/{len(r)} "
            f"| {sum(x <= 5 for x in r)}/{len(r)} | {np.mean([1 / x for x in r]):.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
