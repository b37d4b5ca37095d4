"""Search over a generated year: latency, index upkeep per batch, time to searchable, size.

    .venv/bin/python bench/search_year.py [--days 365] [--per-day 44000] [--fts-rows 1000000]
                                          [--no-tantivy] [--dir DIR]

Builds, in a temporary folder, a DuckDB timeline at schema version 3 (as lifelog left it
before the postings index): ``days`` x ``per_day`` text spans over 8 active hours a day
(OCR-like lines of 1-12 words drawn from a Zipf vocabulary of 60,000 words, 12 % numbers,
5 % Chinese lines, some mixed), plus one transcript per 25 spans. Then it opens the file as
the owner would (``Store.open_owner``), which runs migration 4: the one-time index of every
existing row. Then, on that one long-lived connection:

* search p50/p95 through ``Reader.search`` on a cursor, for rare words, common words,
  common pairs, multi-word lines, CJK phrases of 2-4 characters, mixed CJK + Latin, and
  (reported apart) the same with a 30-day time filter, an app filter and a quoted phrase;
* index upkeep per write batch of 2 frames x 35 lines (30 lines unchanged + 5 new per
  frame, and a worst case of all 70 lines new), and one tail -> sorted-run move;
* time from the start of a write batch until a search finds its new text;
* index size (the postings tables' blocks) and the file before and after;
* for comparison: the old fts extension's rebuild (``PRAGMA create_fts_index``) over the
  first ``--fts-rows`` spans, and, when the ``tantivy`` package is installed, tantivy 0.27
  over the same spans and queries (rows fetched from DuckDB the same way).

The tables print as Markdown on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import common
import duckdb
import numpy as np

from lifelog.models import FrameRecord, OcrLine
from lifelog.store import Store, migrations, search_index
from lifelog.store.db import create_private_db, load_fts
from lifelog.store.search import _rows
from lifelog.store.sql import SPANS
from lifelog.store.terms import terms

START = datetime(2025, 11, 29)
REAL = (
    "meeting notes budget report draft review commit branch merge deploy server client "
    "invoice payment receipt order shipping address customer support ticket priority "
    "python duckdb query index search token window context model screen record "
    "error warning import return function class value table column select where from "
    "file folder open save close edit view help settings user account password login "
    "project issue pull request test build release version update install config"
).split()
APPS = [
    "Code",
    "Firefox",
    "Terminal",
    "Slack",
    "Chromium",
    "Mail",
    "Zoom",
    "Notes",
    "Figma",
    "Calendar",
    "Finder",
    "Spotify",
    "Word",
    "Excel",
    "Preview",
]


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


# -- the generated timeline ------------------------------------------------------------


def vocabulary(n: int, rng) -> list[str]:
    cons = list("bcdfghjklmnprstvwz") + ["ch", "sh", "th", "tr", "st", "pl"]
    vows = list("aeiou") + ["ai", "ou", "ea"]
    words, seen = list(REAL), set(REAL)
    while len(words) < n:
        w = "".join(rng.choice(cons) + rng.choice(vows) for _ in range(rng.integers(1, 4)))
        if rng.random() < 0.3:
            w += rng.choice(list("nrstlmk"))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def zipf(rng, n: int, size: int, s: float = 1.07, offset: int = 10):
    """Ranks 0..n-1 with P(r) ~ 1 / (r + 1 + offset)^s (the offset stands in for stop words)."""
    cdf = np.cumsum(1.0 / np.arange(1 + offset, n + 1 + offset) ** s)
    return np.searchsorted(cdf / cdf[-1], rng.random(size))


def lines(n: int, rng, vocab, han) -> list[str]:
    lens = rng.integers(1, 13, n)
    words = np.array(vocab, dtype=object)[zipf(rng, len(vocab), int(lens.sum()))]
    numbers = rng.random(len(words)) < 0.12
    words = np.where(numbers, rng.integers(0, 100000, len(words)).astype(str).astype(object), words)
    chinese = rng.random(n) < 0.05
    out, pos = [], 0
    for i in range(n):
        k = int(lens[i])
        if chinese[i]:
            line = "".join(han[zipf(rng, len(han), int(rng.integers(4, 25)), 1.0)])
            out.append(line + " " + words[pos] if k > 6 else line)
        else:
            out.append(" ".join(words[pos : pos + k]))
        pos += k
    return out


def generate(con, days: int, per_day: int, seed: int = 1, words: int = 60000) -> None:
    rng = np.random.default_rng(seed)
    vocab = vocabulary(words, rng)
    han = np.array([chr(c) for c in rng.choice(np.arange(0x4E00, 0x9FA5), 3500, replace=False)], dtype=object)
    base = np.datetime64(START) + np.timedelta64(9, "h")
    for d0 in range(0, days, 30):
        nd = min(30, days - d0)
        n = nd * per_day
        day = np.repeat(np.arange(d0, d0 + nd), per_day)
        secs = np.sort(rng.random((nd, per_day)) * 8 * 3600, axis=1).ravel()
        t_start = base + (day * 86_400_000_000 + (secs * 1e6).astype(np.int64)).astype("timedelta64[us]")
        t_end = t_start + (rng.exponential(20, n) * 1e6).astype(np.int64).astype("timedelta64[us]")
        app = np.array(APPS, dtype=object)[zipf(rng, len(APPS), n, 1.0, 0)]
        con.register(
            "gen",
            {"t_start": t_start, "t_end": t_end, "app": app, "text": np.array(lines(n, rng, vocab, han), dtype=object)},
        )
        con.execute(
            'INSERT INTO text_spans (t_start, t_end, monitor, app, "window", text, open)'
            " SELECT t_start, t_end, 0, app, 'w', text, false FROM gen"
        )
        con.execute(
            "INSERT INTO transcripts (t_start, t_end, source, engine, text)"
            " SELECT t_start, t_end, 'mic', 'faster-whisper', text FROM gen WHERE random() < 0.04"
        )
        con.unregister("gen")
        log(f"  generated days {d0}-{d0 + nd - 1}")


def build_v3(db: Path, days: int, per_day: int, words: int = 60000) -> None:
    create_private_db(db)
    con = duckdb.connect(str(db))
    try:
        migrations.apply(con, {v: migrations.MIGRATIONS[v] for v in (1, 2, 3)})
        generate(con, days, per_day, words=words)
        con.execute("CHECKPOINT")
    finally:
        con.close()


# -- queries ---------------------------------------------------------------------------


def query_mix(con, rng) -> dict[str, list[str]]:
    sample = [r[0] for r in con.execute("SELECT text FROM text_spans USING SAMPLE 4000 ROWS (reservoir, 7)").fetchall()]
    latin = [t for t in sample if not ("\u4e00" <= t[0] <= "\u9fff")]
    han = [t.split()[0] for t in sample if "\u4e00" <= t[0] <= "\u9fff"]
    words = [w for t in latin for w in t.split() if not w.isdigit()]
    common = REAL[:12]

    def phrase(n: int) -> str:
        t = han[rng.integers(len(han))]
        i = int(rng.integers(0, max(1, len(t) - n)))
        return t[i : i + n]

    return {
        "rare word": [w for w in words if w not in REAL][:20],
        "number": [w for t in latin for w in t.split() if w.isdigit()][:10],
        "common word": common[:10],
        "common pair": [f"{common[i]} {common[i + 1]}" for i in range(0, 10)],
        "words of a line": [" ".join(t.split()[:3]) for t in latin if len(t.split()) >= 3][:20],
        "CJK phrase": [phrase(int(n)) for n in rng.integers(2, 5, 20)],
        "CJK + Latin": [f"{phrase(2)} {common[int(rng.integers(10))]}" for _ in range(10)],
    }


def timed(fn, reps: int = 1) -> float:
    best = math.inf
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best * 1000


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def search_latency(store: Store, mix: dict[str, list[str]], **filters) -> dict[str, list[float]]:
    out = {}
    for kind, queries in mix.items():
        times = []
        for q in queries:
            with store.read() as r:
                times.append(timed(lambda: r.search(q, **filters)))
        out[kind] = times
    return out


# -- upkeep ----------------------------------------------------------------------------


def batch(store: Store, i: int, last: datetime, new_lines: int) -> None:
    with store.write() as w:
        for f in range(2):
            ts = last + timedelta(seconds=i + f / 2)
            fid = w.add_frame(
                FrameRecord(
                    ts=ts,
                    monitor=0,
                    width=1920,
                    height=1080,
                    app="Code",
                    window="x",
                    image_ref="",
                    region=(0, 0, 1920, 1080),
                    keyframe=False,
                )
            )
            static = [
                OcrLine(f"static line {k} of the editor", (0, 25 * k, 100, 25 * k + 20)) for k in range(35 - new_lines)
            ]
            fresh = [
                OcrLine(f"changing {i} {f} {k} invoice total {i * 7 + k}", (0, 900 + 25 * k, 100, 920 + 25 * k))
                for k in range(new_lines)
            ]
            w.observe_lines(fid, ts, 0, "Code", "x", static + fresh)


class IndexTimer:
    """Wraps search_index.add to time the index's share of each write batch."""

    def __init__(self):
        self.inner, self.spent = search_index.add, 0.0

    def __call__(self, *args, **kwargs):
        t = time.perf_counter()
        try:
            return self.inner(*args, **kwargs)
        finally:
            self.spent += time.perf_counter() - t


def upkeep(store: Store, last: datetime, new_lines: int, n: int = 60) -> tuple[float, float]:
    """Median ms of a whole batch and of its index upkeep."""
    timer = IndexTimer()
    search_index.add = timer
    try:
        totals, index = [], []
        for i in range(n):
            before = timer.spent
            totals.append(timed(lambda: batch(store, i + 1000 * new_lines, last, new_lines)))
            index.append((timer.spent - before) * 1000)
    finally:
        search_index.add = timer.inner
    return statistics.median(totals), statistics.median(index)


def time_to_searchable(store: Store, last: datetime, n: int = 10) -> float:
    times = []
    for i in range(n):
        word = f"freshword{i}x"
        t = time.perf_counter()
        with store.write() as w:
            fid = w.add_frame(
                FrameRecord(
                    ts=last,
                    monitor=1,
                    width=10,
                    height=10,
                    app="Code",
                    window="x",
                    image_ref="",
                    region=(0, 0, 10, 10),
                    keyframe=False,
                )
            )
            w.observe_lines(
                fid, last + timedelta(seconds=i), 1, "Code", "x", [OcrLine(f"{word} arrived", (0, 0, 5, 5))]
            )
        while True:
            with store.read() as r:
                if r.search(word):
                    break
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def postings_mib(store: Store) -> float:
    with store.read() as r:
        con = r._con
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '%postings%' OR table_name = 'search_stats'"
            ).fetchall()
        ]
        blocks = set()
        for t in tables:
            blocks |= {
                b
                for (b,) in con.execute(
                    f"SELECT DISTINCT block_id FROM pragma_storage_info('{t}') WHERE block_id >= 0"
                ).fetchall()
            }
        size = con.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0]
    return len(blocks) * size / 2**20


# -- comparisons -----------------------------------------------------------------------


def fts_rebuild(db: Path, folder: Path, rows: int) -> tuple[int, float]:
    """Seconds the old fts index took to build over the first ``rows`` spans (its options)."""
    copy = folder / "fts.duckdb"
    con = duckdb.connect(str(copy))
    try:
        con.execute(f"ATTACH '{db}' AS src (READ_ONLY)")
        con.execute(f"CREATE TABLE text_spans AS SELECT id, text FROM src.text_spans WHERE id <= {int(rows)}")
        con.execute("DETACH src")
        n = con.execute("SELECT count(*) FROM text_spans").fetchone()[0]
        load_fts(con)
        t = time.perf_counter()
        con.execute(
            "PRAGMA create_fts_index('text_spans', 'id', 'text', stemmer='porter', stopwords='english',"
            r" ignore='[^\p{L}\p{N}]+', strip_accents=1, lower=1, overwrite=1)"
        )
        return n, time.perf_counter() - t
    finally:
        con.close()
        copy.unlink(missing_ok=True)


def tantivy_compare(store: Store, folder: Path, mix: dict[str, list[str]]) -> dict | None:
    try:
        import tantivy
    except ImportError:
        return None
    path = folder / "tantivy"
    path.mkdir()
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("id", stored=True, indexed=True, fast=True)
    sb.add_integer_field("t", fast=True)
    sb.add_text_field("text", tokenizer_name="ws", index_option="freq")
    index = tantivy.Index(sb.build(), path=str(path))
    index.register_tokenizer("ws", tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())
    writer = index.writer(heap_size=256_000_000)
    t = time.perf_counter()
    with store.read() as r:
        hi = r._con.execute("SELECT max(id) FROM text_spans").fetchone()[0]
        for lo in range(1, hi + 1, 100_000):
            for id_, text, ts in r._con.execute(
                "SELECT id, text, epoch_us(t_start) FROM text_spans WHERE id BETWEEN ? AND ?", [lo, lo + 99_999]
            ).fetchall():
                doc = tantivy.Document()
                doc.add_integer("id", id_)
                doc.add_integer("t", ts)
                doc.add_text("text", " ".join(terms(text)))
                writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()
    build_s = time.perf_counter() - t
    index.reload()
    searcher = index.searcher()
    schema = index.schema

    def search(r, q: str) -> list:
        found = list(dict.fromkeys(terms(q)))
        if not found:
            return []
        clauses = [tantivy.Query.term_query(schema, "text", x) for x in found]
        hits = searcher.search(
            tantivy.Query.boolean_query([(tantivy.Occur.Must, c) for c in clauses]), 20, count=False
        ).hits
        if len(hits) < 20 and len(found) > 1:
            hits += searcher.search(
                tantivy.Query.boolean_query([(tantivy.Occur.Should, c) for c in clauses]), 20, count=False
            ).hits
        ids = [searcher.doc(a)["id"][0] for _, a in hits[:20]]
        return _rows(r._con, SPANS, ids, SPANS.columns)  # fetched as lifelog's search fetches its hits

    latency = {}
    for kind, queries in mix.items():
        with store.read() as r:
            latency[kind] = [timed(lambda: search(r, q)) for q in queries]
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20
    return {"build_s": build_s, "latency": latency, "mib": size}


# -- report ----------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--per-day", type=int, default=44_000)
    ap.add_argument("--fts-rows", type=int, default=1_000_000)
    ap.add_argument("--no-tantivy", action="store_true")
    ap.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one, removed)")
    ap.add_argument(
        "--reuse", action="store_true", help="use the timeline already in --dir (no generation, no migration)"
    )
    ap.add_argument("--words", type=int, default=60000, help="vocabulary of the generated lines")
    ap.add_argument("--batches", type=int, default=60, help="write batches timed for the index upkeep")
    ap.add_argument("--queries", type=int, default=None, help="at most this many queries of each kind (all: 10-20)")
    args = common.parse(
        ap,
        quick={
            "days": 2,
            "per_day": 2_000,
            "fts_rows": 2_000,
            "no_tantivy": True,
            "words": 3000,
            "batches": 5,
            "queries": 3,
        },
    )
    folder = args.dir or Path(tempfile.mkdtemp(prefix="lifelog-search-year-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "lifelog.duckdb"
    try:
        run(args, folder, db)
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)


def run(args, folder: Path, db: Path) -> None:
    gen_s = v3_mib = math.nan
    if not (args.reuse and db.exists()):
        log(f"generating {args.days} days x {args.per_day} spans into {db}")
        t = time.perf_counter()
        build_v3(db, args.days, args.per_day, args.words)
        gen_s, v3_mib = time.perf_counter() - t, db.stat().st_size / 2**20
    shutil.rmtree(folder / "tantivy", ignore_errors=True)
    log("migration 4 (one-time index of every row)")
    t = time.perf_counter()
    store = Store.open_owner(db)
    migrate_s = time.perf_counter() - t
    try:
        with store.read() as r:
            spans, heard = r.stats().text_spans, r.stats().transcripts
            last = r._con.execute("SELECT max(t_end) FROM text_spans").fetchone()[0] + timedelta(hours=1)
            runs, tail = (
                r._con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("text_spans_postings", "text_spans_postings_tail")
            )
            mix = {kind: qs[: args.queries] for kind, qs in query_mix(r._con, np.random.default_rng(5)).items()}
        log("searching")
        search_latency(store, {"warm-up": mix["rare word"][:5]})
        latency = search_latency(store, mix)
        since = last - timedelta(days=30)
        filtered = {
            "any, last 30 days": search_latency(store, mix, since=since),
            "any, app=slack": search_latency(store, mix, app="slack"),
        }
        phrased = search_latency(store, {"quoted": [f'"{q}"' for q in mix["words of a line"]]})["quoted"]
        log("write batches")
        typical = upkeep(store, last, new_lines=5, n=args.batches)
        worst = upkeep(store, last + timedelta(days=1), new_lines=35, n=args.batches)
        fresh_ms = time_to_searchable(store, last + timedelta(days=2), n=max(1, args.batches // 6))
        with store.read() as r:
            tail_now = r._con.execute("SELECT count(*) FROM text_spans_postings_tail").fetchone()[0]
        t = time.perf_counter()
        with store.write() as w:
            search_index.merge_tail(w._con, SPANS)
        merge_ms = (time.perf_counter() - t) * 1000
        index_mib = postings_mib(store)
        tant = None if args.no_tantivy else tantivy_compare(store, folder, mix)
    finally:
        store.close()
    file_mib = db.stat().st_size / 2**20
    log("old fts rebuild")
    try:
        fts_n, fts_s = fts_rebuild(db, folder, args.fts_rows)
    except (ImportError, duckdb.Error) as exc:  # duckdb-ext-fts no longer installed
        log(f"  skipped: {exc}")
        fts_n, fts_s = 0, math.nan

    every = [x for xs in latency.values() for x in xs]
    print(
        f"Generated timeline: {args.days} days x {args.per_day:,} spans = **{spans:,} spans**, {heard:,} transcripts"
        f" (v3 file {v3_mib:,.0f} MiB, generated in {gen_s:.0f} s).\n"
    )
    print("| search (owner, one cursor each) | queries | p50 ms | p95 ms | max ms | tantivy p50 / p95 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind, xs in [*latency.items(), ("**whole mix**", every)]:
        tk = ""
        if tant:
            txs = (
                [x for xs2 in tant["latency"].values() for x in xs2]
                if kind == "**whole mix**"
                else tant["latency"][kind]
            )
            tk = f"{pct(txs, 50):.1f} / {pct(txs, 95):.1f}"
        print(f"| {kind} | {len(xs)} | {pct(xs, 50):.1f} | {pct(xs, 95):.1f} | {max(xs):.1f} | {tk} |")
    for name, lat in filtered.items():
        xs = [x for v in lat.values() for x in v]
        print(
            f"| whole mix, {name.split(', ')[1]} | {len(xs)} | {pct(xs, 50):.1f} | {pct(xs, 95):.1f} | {max(xs):.1f} | |"
        )
    print(
        f"| quoted 3-word phrases | {len(phrased)} | {pct(phrased, 50):.1f} | {pct(phrased, 95):.1f} "
        f"| {max(phrased):.1f} | |"
    )
    print()
    print("| index upkeep and size | value |")
    print("|---|---|")
    print(
        f"| write batch, 2 frames x 35 lines, 5 new lines a frame: whole batch / index share (median) "
        f"| {typical[0]:.1f} ms / **{typical[1]:.1f} ms** |"
    )
    print(f"| same, all 70 lines new: whole batch / index share | {worst[0]:.1f} ms / **{worst[1]:.1f} ms** |")
    print(
        f"| tail -> sorted run ({tail_now:,} postings; happens every {search_index.TAIL_MAX:,}) | {merge_ms:.0f} ms |"
    )
    print(
        f"| from the start of a write batch until a search finds its text (median of {max(1, args.batches // 6)}) "
        f"| **{fresh_ms:.0f} ms** |"
    )
    print(f"| migration 4: one-time index of {spans:,} spans + {heard:,} transcripts | {migrate_s:.0f} s |")
    print(f"| postings after it: sorted runs + tail (spans) | {runs:,} + {tail:,} |")
    print(f"| index size (postings tables' blocks) | **{index_mib:,.0f} MiB** |")
    print(f"| DuckDB file: v3 without index / with the index | {v3_mib:,.0f} / {file_mib:,.0f} MiB |")
    print(
        f"| old fts rebuild (`PRAGMA create_fts_index`), first {fts_n:,} spans | {fts_s:.1f} s "
        f"(~{fts_s * spans / max(fts_n, 1) / 60:.0f} min at {spans:,} if linear) |"
    )
    if tant:
        print(
            f"| tantivy 0.27: build over {spans:,} spans / index size | {tant['build_s']:.0f} s / {tant['mib']:,.0f} MiB |"
        )


if __name__ == "__main__":
    main()
