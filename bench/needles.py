"""Needle recall (issue 8): are ten facts planted in a month of activity in a 32k window?

    .venv/bin/python bench/needles.py [--dir DIR] [--days 30] [--budgets 32000,200000]
                                      [--embed auto|no] [--embed-max N] [--seed 1] [--facts 10]

Builds (``gen_timeline.py``, or reuses ``DIR/needles-d30`` from an earlier run) a timeline of
``--days`` days with the ten facts of ``needle_facts.py`` planted at scattered times, half
seen in a chat or mail window and half heard in a call, each with three similar distractors
at other times. Then for each budget it builds windows over the whole range with
``build_context`` and counts the facts whose answer is in the window's text:

* no query: the newest activity and an outline (what a window without a question gives);
* BM25 only (``query=``, ``semantic=False``): one window per fact with its own question, and
  one window for a combined question naming all ten topics (``--facts N``: a window of its own for
  the first N facts only);
* with embeddings (``semantic=True``), when an embedding model is installed: first every
  pending chunk of the timeline is embedded (``store.embeddings.embed_store``; the time it
  takes is reported; ``--embed-max`` bounds one run, a later run with ``--dir`` continues),
  then the same windows. Left out when no model can run here, or with ``--embed no``.

Also counted: the distractors in each window (a model must still tell them apart), and the
median time to build a window. Tables print as Markdown on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import common
import gen_timeline
from needle_facts import FACTS, plant_needles

from lifelog.replay.context import build_context
from lifelog.store import Store


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def timeline(folder: Path, days: int, seed: int) -> dict:
    info = folder / "gen.json"
    if info.exists():
        meta = json.loads(info.read_text())
        if (meta["days"], meta["seed"], meta.get("needles")) == (days, seed, True):
            log(f"reusing {folder} ({meta['spans']:,} spans)")
            return meta
        raise SystemExit(
            f"{folder} holds another timeline ({meta['days']} days, seed {meta['seed']}): use another --dir"
        )
    log(f"generating {days} days with needles into {folder}")
    meta = gen_timeline.build(folder, days, seed=seed, plants=plant_needles(days, seed=seed).plants)
    meta["needles"] = True
    info.write_text(json.dumps(meta, indent=1))
    return meta


def embed_all(db: Path, limit: int) -> dict | None:
    """Embed the timeline's pending chunks (at most ``limit``); None when no model can run."""
    from lifelog.store import embeddings
    from lifelog.tokenize_media.embed import DEFAULT, embedding_unavailable, get_embedder

    reason = embedding_unavailable(DEFAULT)
    if reason:
        log(f"no embeddings: {reason}")
        return None
    embedder = get_embedder(DEFAULT)
    if hasattr(embedder, "workers"):  # as `lifelog index` does: every core
        embedder.workers = os.cpu_count() or 1
    store = Store.open_owner(db)
    try:
        with store.read() as r:
            before = embeddings.backlog(r._con, model=embedder.id)
        log(f"embedding {min(before, limit):,} of {before:,} pending chunks with {embedder.id}")
        t = time.perf_counter()
        done = [0]

        def progress(n: int) -> None:
            done[0] += n
            if done[0] // 500 != (done[0] - n) // 500:
                rate = done[0] / (time.perf_counter() - t)
                log(f"  {done[0]:,} chunks, {rate:.1f}/s, ~{(min(before, limit) - done[0]) / rate / 60:.0f} min left")

        stored = embeddings.embed_store(
            store, embedder, max_chunks=limit, batch=max(16, 4 * getattr(embedder, "workers", 1)), progress=progress
        )
        seconds = time.perf_counter() - t
        with store.read() as r:
            left = embeddings.backlog(r._con, model=embedder.id)
            total = r._con.execute(
                "SELECT count(*) FROM chunk_vectors WHERE model = ?", [embeddings.vector_model(embedder.id)]
            ).fetchone()[0]
    finally:
        store.close()
    record = db.parent / "embed.json"  # the embedding time over every run on this timeline
    spent = json.loads(record.read_text()) if record.exists() else {"seconds": 0.0, "chunks": 0, "runs": 0}
    if stored:
        spent = {"seconds": spent["seconds"] + seconds, "chunks": spent["chunks"] + stored, "runs": spent["runs"] + 1}
        record.write_text(json.dumps(spent))
    return {
        "model": embedder.id,
        "embedded_now": stored,
        "seconds": round(seconds, 1),
        "left": left,
        "vectors": total,
        "total": spent,
    }


def found(text: str) -> tuple[list[bool], int]:
    """Which facts' answers are in ``text``, and how many of the distractors."""
    facts = [f.answer in text for f in FACTS]
    distractors = sum(d[3] in text for f in FACTS for d in f.distractors)
    return facts, distractors


def window(reader, meta: dict, budget: int, query: str | None, semantic: bool) -> tuple[str, float]:
    kwargs = {"query": query, "semantic": semantic} if query else {}
    t = time.perf_counter()
    w = build_context(
        reader,
        since=datetime.fromisoformat(meta["start"]),
        until=datetime.fromisoformat(meta["end"]),
        budget=budget,
        fmt="markdown",
        tokenizer="o200k",
        **kwargs,
    )
    return w.text, time.perf_counter() - t


def measure(db: Path, meta: dict, budget: int, mode: str, facts: int = len(FACTS)) -> dict:
    """One mode (``none``, ``bm25`` or ``embeddings``) at one budget; a window per fact for the
    first ``facts`` facts."""
    semantic = mode == "embeddings"
    times, per_fact, distractors = [], [], []
    with Store(db).read() as reader:
        if mode == "none":
            text, s = window(reader, meta, budget, None, False)
            facts, d = found(text)
            return {
                "per_fact": sum(facts),
                "per_fact_of": 10,
                "combined": None,
                "distractors": d,
                "s": s,
                "which": facts,
            }
        for i, fact in enumerate(FACTS[:facts]):
            text, s = window(reader, meta, budget, fact.query, semantic)
            facts, d = found(text)
            per_fact.append(facts[i])
            distractors.append(d)
            times.append(s)
        text, s = window(reader, meta, budget, plant_needles(meta["days"], seed=meta["seed"]).combined_query, semantic)
        combined, d_all = found(text)
        times.append(s)
    return {
        "per_fact": sum(per_fact),
        "per_fact_of": len(per_fact),
        "combined": sum(combined),
        "distractors": d_all,
        "distractors_per_fact": statistics.mean(distractors),
        "s": statistics.median(times),
        "which": per_fact,
        "which_combined": combined,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, help="keep (or reuse) the timeline here")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--budgets", default="32000,200000")
    ap.add_argument("--embed", choices=("auto", "no"), default="auto")
    ap.add_argument("--embed-max", type=int, default=10**9, help="embed at most this many chunks in this run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--facts", type=int, default=len(FACTS), help="facts asked one by one (the first N; all by default)"
    )
    args = common.parse(
        ap,
        quick={"days": 1, "budgets": "8000", "embed": "no", "facts": 2, "dir": lambda: common.scratch("needles")},
        argv=argv,
    )
    root = args.dir or Path(tempfile.mkdtemp(prefix="needles."))
    meta = timeline(root / f"needles-d{args.days}", args.days, args.seed)
    db = Path(meta["db"])
    needles = plant_needles(args.days, seed=args.seed)
    for fact, plant in needles.facts:
        log(f"  {plant.at:%Y-%m-%d %H:%M} {fact.how:5} {fact.answer}")
    budgets = [int(b) for b in args.budgets.split(",")]
    modes = ["none", "bm25"]
    embedded = embed_all(db, args.embed_max) if args.embed == "auto" else None
    if embedded:
        log(f"  {embedded}")
        if embedded["left"] == 0:
            modes.append("embeddings")
        else:
            log(f"embeddings: {embedded['left']:,} chunks still pending; run again with --dir {root} to finish")
    results = []
    for budget in budgets:
        for mode in modes:
            log(f"{mode} at {budget:,}")
            r = measure(db, meta, budget, mode, args.facts)
            log(f"  {r}")
            results.append((budget, mode, r))
    report(meta, results, embedded, root)


def report(meta: dict, results: list, embedded: dict | None, root: Path) -> None:
    names = {
        "none": "no query (newest + outline)",
        "bm25": "query, BM25 only",
        "embeddings": "query, BM25 + embeddings",
    }
    print(
        f"Timeline: {meta['days']} days, {meta['spans']:,} spans, {meta['transcripts']:,} transcripts "
        f"(seed {meta['seed']}, in {root}); 10 facts, 30 distractors.\n"
    )
    print(
        "| budget | window | facts in window, one query per fact | facts in window, one combined query |"
        " distractors in the combined window | median s per window |"
    )
    print("|---:|---|---:|---:|---:|---:|")
    for budget, mode, r in results:
        combined = "–" if r["combined"] is None else f"{r['combined']}/10"
        print(
            f"| {budget:,} | {names[mode]} | **{r['per_fact']}/{r['per_fact_of']}** | {combined} | {r['distractors']}/30 | {r['s']:.2f} |"
        )
    for budget, mode, r in results:
        missed = [FACTS[i].answer for i, ok in enumerate(r["which"]) if not ok]
        if mode != "none" and missed:
            print(f"\nMissed at {budget:,}, {names[mode]}: {', '.join(missed)}")
    if embedded:
        total = embedded["total"]
        rate = total["chunks"] / total["seconds"] if total["seconds"] else 0
        print(
            f"\nEmbeddings ({embedded['model']}): {embedded['vectors']:,} chunk vectors, {embedded['left']:,} chunks "
            f"left; embedding took {total['seconds'] / 60:,.1f} min for {total['chunks']:,} chunks ({rate:.1f} chunks/s"
            f"{', over several runs' if total['runs'] > 1 else ''})."
        )


if __name__ == "__main__":
    main()
