"""Background embedding: what an hour of dense activity asks of it, and what it leaves behind.

    .venv/bin/python bench/embed_rate.py [--windows 3] [--sources 2] [--free-cores 1.0]
    .venv/bin/python bench/embed_rate.py --compare [--db TIMELINE.duckdb --chunks 400]

1. An hour of dense activity is written through the real Writer into a fresh DuckDB file:
   every minute ``--lines`` lines of terminal/source text (bench/activity.py measured 584 new
   spans in 5 minutes of dense reading, ~117 a minute) spread over ``--windows`` windows, and
   ``--sources`` audio sources talking all hour (~150 words a minute each, a meeting).
2. Throughput: the whole hour's chunks embedded at once (``embed_store``), CPU and wall time.
3. Backlog after the hour: the owner's worker replayed on a simulated clock. The hour's minutes
   arrive as the clock passes them; each worker pass (the owner's PER_PASS and intervals) runs
   for real and advances the clock by its measured CPU time divided by ``--free-cores`` (the CPU
   the worker at nice 19 gets: 2 cores less OCR's ~0.3 and the user's own work). The backlog is
   what is pending, or not yet settled, when the clock reaches 60 minutes.
4. ``nearest`` over 100k and 200k stored chunks (a year at 8 h/day is ~100-200k), whole range
   and one week, and ``backlog`` over ``--rows`` spans never embedded (an upgraded database).

``--compare`` measures only throughput, side by side in one run: the chunks of the dense hour
(or the first ``--chunks`` pending chunks of an existing timeline, ``--db``, opened read-only)
embedded as before chunk text version 2 (every row of the minute, cut at the model's 512
tokens), as now (each distinct line once, cut at ``CHUNK_TOKENS``), and as now on two threads
(``workers=2``, what ``lifelog index`` does). The three take turns on slices of 16 chunks,
so a neighbour's load falls on all of them alike.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import common

ROOT = common.ROOT

from lifelog.daemon import embedding as worker
from lifelog.models import FrameRecord, OcrLine, Transcript
from lifelog.store import Store, embeddings

T0 = datetime(2026, 11, 2, 9, 0)
_WORDS: list[str] = []


def words() -> list[str]:
    if not _WORDS:
        for path in sorted((ROOT / "src" / "lifelog").rglob("*.py")):
            _WORDS.extend(path.read_text().split())
    return _WORDS


def screen_lines(rng: random.Random, n: int) -> list[str]:
    w = words()
    out = []
    for _ in range(n):
        i = rng.randrange(len(w) - 12)
        out.append(" ".join(w[i : i + rng.randint(4, 12)]))
    return out


def chunk_texts(rng: random.Random, n: int, n_words: int) -> list[str]:
    """``n`` chunk texts as the store builds them: a window title, then ~``n_words`` words of lines."""
    return ["xterm — ~/src/lifelog: vim\n" + "\n".join(screen_lines(rng, max(1, n_words // 8))) for _ in range(n)]


def speech(rng: random.Random, n_words: int) -> str:
    w = [x for x in words() if x.isalpha()]
    return " ".join(rng.choice(w) for _ in range(n_words))


def write_minute(store: Store, rng: random.Random, base: datetime, args) -> int:
    """One minute of activity in one transaction: each window shown for its share of the
    minute with a frame every 2 s, and each source's speech; returns the new spans."""
    spans = 0
    with store.write() as w:
        for k in range(args.windows):
            app, title = f"app{k}", f"window {k}"
            per_frame = max(1, args.lines // args.windows // 10)
            for f in range(10):
                ts = base + timedelta(seconds=k * 60 / args.windows + f * 2)
                fid = w.add_frame(
                    FrameRecord(
                        ts=ts,
                        monitor=0,
                        width=1920,
                        height=1080,
                        app=app,
                        window=title,
                        image_ref="",
                        region=(0, 0, 1920, 1080),
                        keyframe=False,
                    )
                )
                shown = [OcrLine(t, (0, 20 * i, 800, 20 * i + 18)) for i, t in enumerate(screen_lines(rng, per_frame))]
                spans += w.observe_lines(fid, ts, 0, app, title, shown)[0]
        for s in range(args.sources):
            w.add_transcripts(
                [
                    Transcript(
                        base + timedelta(seconds=15 * j),
                        base + timedelta(seconds=15 * j + 14),
                        f"source{s}",
                        "bench",
                        speech(rng, 38),
                        50,
                    )
                    for j in range(4)
                ]
            )
    return spans


cpu = common.cpu_seconds  # this process's


def backlog(store: Store, model: str, now: datetime) -> int:
    with store.read() as r:
        return embeddings.backlog(r._con, model=model, now=now)


def throughput(store: Store, embedder) -> dict:
    now = T0 + timedelta(hours=2)
    chunks = backlog(store, embedder.id, now)
    c0, t0 = cpu(), time.perf_counter()
    done = embeddings.embed_store(store, embedder, max_chunks=10**9, batch=worker.BATCH, now=now)
    c, t = cpu() - c0, time.perf_counter() - t0
    return {"chunks": chunks, "embedded": done, "cpu_s": c, "wall_s": t}


def simulate(store: Store, embedder, rng, args) -> dict:
    """The worker's passes on a simulated clock while the hour's minutes arrive (see docstring)."""
    clock, written, passes, busy_cpu = 0.0, 0, 0, 0.0
    wait = 1.0
    while clock < args.minutes * 60:
        clock += wait
        while written < args.minutes and (written + 1) * 60 <= clock:  # a minute is written as it ends
            write_minute(store, rng, T0 + timedelta(minutes=written), args)
            written += 1
        c0 = cpu()
        done = embeddings.embed_store(
            store, embedder, max_chunks=worker.PER_PASS, batch=worker.BATCH, now=T0 + timedelta(seconds=clock)
        )
        used = cpu() - c0
        busy_cpu += used
        passes += 1
        clock += used / args.free_cores
        wait = worker.BACKLOG_PAUSE_S if done >= worker.PER_PASS else worker.INTERVAL_S
    while written < args.minutes:
        write_minute(store, rng, T0 + timedelta(minutes=written), args)
        written += 1
    end = T0 + timedelta(minutes=args.minutes)
    with store.read() as r:
        embedded = r._con.execute("SELECT count(*) FROM chunk_vectors").fetchone()[0]
        total = sum(
            r._con.execute(
                f"SELECT count(*) FROM (SELECT DISTINCT date_trunc('minute', t_start), {cols} FROM {t})"
            ).fetchone()[0]
            for t, cols in (("text_spans", 'monitor, app, "window"'), ("transcripts", "source"))
        )
    return {
        "passes": passes,
        "worker_cpu_s": busy_cpu,
        "chunks": total,
        "embedded": embedded,
        "settled_pending": backlog(store, embedder.id, end),
        "not_yet_settled": total - embedded - backlog(store, embedder.id, end),
    }


def whole_minute_text(con, chunk) -> str:
    """A chunk's text before version 2: its header and every row of the minute, in order."""
    seen = chunk.kind == embeddings.SEEN
    src = embeddings._SOURCES[0 if seen else 1]
    key = (chunk.monitor, chunk.app, chunk.window) if seen else (chunk.source,)
    texts = [row[-1].strip() for row in embeddings._minute_rows(con, src, chunk.chunk_start) if tuple(row[:-3]) == key]
    header = " — ".join(p for p in (chunk.app, chunk.window) if p) if seen else ""
    return (header + "\n" + "\n".join(texts) if seen else " ".join(texts)).strip()


def distinct_lines_text(chunk) -> str:
    """A chunk's text of version 2: its title and each distinct line once, as one text."""
    return "\n".join(p.text for p in chunk.parts)


def compare(con, embedder, limit: int, now: datetime) -> list[dict]:
    """Before / version 2 / now / now on two threads, taking turns on slices of 16 chunks
    (docstring). Each way embeds a list of texts per chunk: one, or its parts (version 3)."""
    chunks = embeddings.pending(con, limit, model=embedder.id, now=now).chunks
    cap = embeddings.CHUNK_TOKENS
    ways = [
        ("before: every row, cut at 512", [[whole_minute_text(con, c)] for c in chunks], 512, 1),
        (f"version 2: distinct lines, cut at {cap}", [[distinct_lines_text(c)] for c in chunks], cap, 1),
        ("now: its parts (messages, paragraphs)", [[p.text for p in c.parts] for c in chunks], cap, 1),
        ("now, 2 threads (lifelog index)", [[p.text for p in c.parts] for c in chunks], cap, 2),
    ]
    out = [
        {
            "way": w,
            "texts": statistics.mean(len(t) for t in texts),
            "tokens": statistics.mean(sum(embedder.tokens(x) for x in t) for t in texts),
            "cut": statistics.mean(sum(embedder.tokens(embedder.truncate(x, max_tokens=c)) for x in t) for t in texts),
            "wall_s": 0.0,
            "cpu_s": 0.0,
        }
        for w, texts, c, _ in ways
    ]
    for i in range(0, len(chunks), 16):
        turn = (i // 16) % len(ways)
        for k in list(range(turn, len(ways))) + list(range(turn)):
            _, texts, c, workers = ways[k]
            embedder.workers = workers
            c0, t0 = cpu(), time.perf_counter()
            embedder.passages([x for t in texts[i : i + 16] for x in t], max_tokens=c)
            out[k]["wall_s"] += time.perf_counter() - t0
            out[k]["cpu_s"] += cpu() - c0
    embedder.workers = 1
    for r in out:
        r["chunks"] = len(chunks)
    return out


def print_compare(rows: list[dict]) -> None:
    print(
        "| chunk text | texts a chunk | tokens in them (mean) | tokens embedded (mean) | chunks/s wall "
        "| CPU s per chunk |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['way']} | {r['texts']:.1f} | {r['tokens']:,.0f} | {r['cut']:.0f} | **{r['chunks'] / r['wall_s']:.2f}** "
            f"| {r['cpu_s'] / r['chunks']:.2f} |"
        )


def nearest_latency(path: Path, n: int, runs: int = 7) -> dict:
    """A fresh owner store with ``n`` random int8 vectors over a year (appended in time order,
    as the worker appends them; checkpointed), then nearest() p50 over all, 30 days, one week."""
    import numpy as np

    store = Store.open_owner(path)
    try:
        with store.write() as w:
            w._con.execute(
                f"""
                INSERT INTO chunk_vectors (chunk_start, kind, monitor, app, "window", source, model, n_lines, last_id,
                                           scale, vector)
                SELECT TIMESTAMP '2025-11-01' + to_minutes((i * 525600 // {n})::BIGINT), 'seen', 0, 'app' || (i % 40),
                       'window ' || (i % 400), '', ?, 20, i, 0.008,
                       list_transform(range(384), x -> (floor(random() * 255) - 127)::TINYINT)::TINYINT[384]
                FROM range({n}) t(i) ORDER BY i""",
                [embeddings.vector_model("bench")],
            )
        with store.write() as w:
            w._con.execute("CHECKPOINT")
        rng = np.random.default_rng(0)
        out = {}
        for label, since, days in (
            ("all", None, 0),
            ("30 days", datetime(2026, 9, 1), 30),
            ("one week", datetime(2026, 10, 1), 7),
        ):
            times = []
            for _ in range(runs):
                q = rng.standard_normal(384).astype(np.float32)
                with store.read() as r:
                    t0 = time.perf_counter()
                    hits = r.nearest_chunks(
                        q, since=since, until=since + timedelta(days=days) if since else None, k=50, model="bench"
                    )
                    times.append(time.perf_counter() - t0)
            assert hits
            out[label] = statistics.median(times) * 1000
        return out
    finally:
        store.close()


def backlog_latency(store: Store, rows: int) -> float:
    with store.write() as w:
        w._con.execute(f"""
            INSERT INTO text_spans (t_start, t_end, monitor, app, "window", text)
            SELECT TIMESTAMP '2025-11-01' + to_seconds((i * 4)::BIGINT), TIMESTAMP '2025-11-01' + to_seconds((i * 4)::BIGINT),
                   0, 'app' || (i % 7), 'w' || (i // 200 % 50), 'line ' || i FROM range({rows}) t(i)""")
    t0 = time.perf_counter()
    with store.read() as r:
        n = embeddings.backlog(r._con, model="never-used")
    return (time.perf_counter() - t0) * 1000, n


def run_compare(embedder, args) -> None:
    import duckdb

    if args.db:
        con = duckdb.connect(str(args.db), read_only=True)
        print(f"# the first {args.chunks} pending chunks of {args.db}\n")
        print_compare(compare(con, embedder, args.chunks, datetime(2100, 1, 1)))
        return
    tmp = Path(tempfile.mkdtemp(prefix="embed-rate-"))
    print(f"# an hour of {args.lines} lines/min over {args.windows} windows, {args.sources} sources talking\n")
    store = Store.open_owner(tmp / "a.duckdb")
    try:
        for m in range(60):
            write_minute(store, random.Random(7 + m), T0 + timedelta(minutes=m), args)
        with store.read() as r:
            print_compare(compare(r._con, embedder, 10**6, T0 + timedelta(hours=2)))
    finally:
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=120, help="new lines on screen a minute")
    ap.add_argument("--windows", type=int, default=3, help="windows shown each minute")
    ap.add_argument("--sources", type=int, default=2, help="audio sources talking all hour")
    ap.add_argument("--free-cores", type=float, default=1.0, help="CPU the nice-19 worker gets")
    ap.add_argument("--rows", type=int, default=1_000_000, help="spans for the backlog query timing")
    ap.add_argument("--search-only", action="store_true", help="only the nearest/backlog timings (part 4)")
    ap.add_argument("--compare", action="store_true", help="only throughput: chunk text before / now, side by side")
    ap.add_argument("--db", type=Path, help="with --compare: chunks of this timeline (read-only), not the dense hour")
    ap.add_argument("--chunks", type=int, default=400, help="with --compare --db: how many pending chunks")
    ap.add_argument("--minutes", type=int, default=60, help="minutes of activity (an hour)")
    ap.add_argument("--nearest", default="100000,200000", help="chunk counts for the nearest-neighbour timing")
    args = common.parse(
        ap, quick={"rows": 2_000, "lines": 10, "windows": 1, "sources": 1, "minutes": 2, "nearest": "2000"}
    )
    from lifelog.tokenize_media.embed import get_embedder

    embedder = get_embedder()
    if args.compare:
        return run_compare(embedder, args)
    tmp = Path(tempfile.mkdtemp(prefix="embed-rate-"))
    rng = random.Random(7)
    print(
        f"# {args.lines} lines/min over {args.windows} windows, {args.sources} sources talking, "
        f"worker gets {args.free_cores} core(s)\n"
    )
    if not args.search_only:
        store = Store.open_owner(tmp / "a.duckdb")
        try:
            spans = sum(write_minute(store, rng, T0 + timedelta(minutes=m), args) for m in range(args.minutes))
            r = throughput(store, embedder)
        finally:
            store.close()
        print(f"| an hour of dense activity | {spans:,} spans, {r['chunks']} chunks |")
        print(
            f"| embedding it all at once | {r['embedded']} chunks in {r['wall_s']:.0f} s wall, {r['cpu_s']:.0f} s CPU: "
            f"{r['embedded'] / r['wall_s']:.2f} chunks/s wall, {r['cpu_s'] / r['embedded']:.2f} CPU s per chunk |"
        )
    store = Store.open_owner(tmp / "b.duckdb")
    try:
        if not args.search_only:
            s = simulate(store, embedder, rng, args)
            print(
                f"| worker over the hour (simulated clock) | {s['passes']} passes, {s['worker_cpu_s']:.0f} s CPU "
                f"({100 * s['worker_cpu_s'] / (args.minutes * 60):.1f} % of one core) |"
            )
            print(
                f"| backlog at the hour's end | {s['settled_pending']} settled chunks pending, "
                f"{s['not_yet_settled']} in the last minutes not settled yet (of {s['chunks']}) |"
            )
        for n in map(int, args.nearest.split(",")):
            lat = nearest_latency(tmp / f"vectors-{n}.duckdb", n)
            print(
                f"| nearest, k=50, {n:,} chunks | p50 {lat['all']:.0f} ms whole range, "
                f"{lat['30 days']:.0f} ms 30 days, {lat['one week']:.0f} ms one week |"
            )
        ms, n = backlog_latency(store, args.rows)
        print(f"| backlog() over {args.rows:,} spans never embedded | {ms:.0f} ms ({n:,} chunks) |")
    finally:
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
