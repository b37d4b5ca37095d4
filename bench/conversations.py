"""Evidence recall on real multi-session conversations (issue 19), beside plain FTS5.

    .venv/bin/python bench/conversations.py [--data DIR] [--chats 1,2,...] [--budgets 2000,4000,8000]
                                            [--embed auto|no] [--questions N] [--dir DIR]

The material is REALTALK (Lee et al. 2025, github.com/danny911kr/REALTALK, ``data/Chat_*.json``):
ten real 21-day messaging-app conversations between two people (410-1,548 messages each), with
728 questions whose evidence messages are annotated, of three types: multi-hop (1), temporal (2)
and commonsense/inference (3). Nobody here wrote it. It is not in the repository (no licence is
stated): ``--data`` names the folder of its ``Chat_*.json`` files, by default
``../shared/testdata/realtalk`` (``git clone https://github.com/danny911kr/REALTALK`` and point
``--data`` at its ``data/``; the LoCoMo files under ``data/locomo/`` are never read: LoCoMo is the
held-out check).

Each conversation becomes its own timeline, imported with ``lifelog import``'s code as what a chat
window showed: every message as lines of at most 70 characters (``Name: text``, the first line
after a blank line, as the layout marks a new block), seen from the minute it was sent, in an app
``WhatsApp`` whose window is named after the other person. Then for every question and budget a
window is built over the whole conversation with ``build_context(query=question)`` (BM25 only,
and with embeddings when a model is installed: every chunk is embedded first), and an evidence
message counts as reached when every one of its lines is a line of the window.

The baseline, in the same run: SQLite FTS5 over whole messages (``Name: text``), the question's
words OR-ed, best ``bm25()`` first, messages added while they fit the same o200k budget.

Prints, per budget and question type, the share of evidence messages reached (macro over
questions) by FTS5, lifelog with BM25 and lifelog with embeddings, and the median window build time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import textwrap
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import common

from lifelog.api.timeline_file import import_jsonl
from lifelog.replay.context import build_context
from lifelog.store import Store
from lifelog.tokenize_media.tokenizers import get_tokenizer

DEFAULT_DATA = common.ROOT.parent / "shared" / "testdata" / "realtalk"
TYPES = {1: "multi-hop", 2: "temporal", 3: "commonsense"}
WIDTH = 70  # characters on a line of a chat bubble
SHOWN = timedelta(seconds=40)  # how long a message's lines count as on screen when it arrives


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


@dataclass
class Message:
    dia_id: str
    speaker: str
    at: datetime
    lines: list[str]

    @property
    def text(self) -> str:
        return " ".join(self.lines)


@dataclass
class Chat:
    name: str
    other: str
    messages: list[Message]
    questions: list[dict] = field(default_factory=list)

    @property
    def by_id(self) -> dict[str, Message]:
        return {m.dia_id: m for m in self.messages}


def load_chat(path: Path, pace: float = 0) -> Chat:
    """A conversation; with ``pace`` its messages are placed that many seconds apart from the
    first of their session (a session read in one sitting, as a chat history scrolled through)."""
    d = json.loads(path.read_text())
    speakers = d["name"]
    messages: list[Message] = []
    last = None
    n = 1
    while f"session_{n}" in d:
        begun = None
        for turn in d[f"session_{n}"]:
            text = " ".join((turn.get("clean_text") or "").split())
            if not text:
                continue
            at = datetime.strptime(turn["date_time"], "%d.%m.%Y, %H:%M:%S")  # naive UTC, as the store keeps times
            begun = begun or at
            if pace:
                at = begun + timedelta(seconds=pace * sum(1 for m in messages if m.at >= begun))
            if last is not None and at <= last:  # a few exports repeat a second: keep the order
                at = last + timedelta(milliseconds=1)
            last = at
            wrapped = textwrap.wrap(f"{turn['speaker']}: {text}", WIDTH, break_long_words=True)
            messages.append(Message(turn["dia_id"], turn["speaker"], at, wrapped))
        n += 1
    ids = {m.dia_id for m in messages}
    questions = []
    for q in d.get("qa", []):
        evidence = [e for e in q.get("evidence", []) if e in ids]
        if evidence and q.get("category") in TYPES:
            questions.append({"question": q["question"], "evidence": evidence, "type": TYPES[q["category"]]})
    return Chat(path.stem, speakers["speaker_2"], messages, questions)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def write_jsonl(chat: Chat, path: Path) -> None:
    """The chat as ``lifelog export`` writes a timeline: a header, then a seen row per line."""
    rows = []
    for m in chat.messages:
        for i, line in enumerate(m.lines):
            row = {
                "type": "seen",
                "t_start": _iso(m.at),
                "t_end": _iso(m.at + SHOWN),
                "monitor": 0,
                "app": "WhatsApp",
                "window": f"{chat.other} - WhatsApp",
                "top": 100 + 20 * i,
                "left": 40,
                "text": line,
            }
            if i:
                row["ord"] = i
            else:
                row["lead"] = "\n"
            rows.append(row)
    header = {"lifelog": "timeline", "version": 1, "exported": _iso(datetime.now(UTC))}
    header.update({"since": None, "until": None, "rows": {"seen": len(rows), "heard": 0, "event": 0}})
    with path.open("w") as fh:
        fh.write(json.dumps(header) + "\n")
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def build_home(chat: Chat, folder: Path, embed: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "timeline.duckdb"
    if not db.exists():
        src = folder / "chat.jsonl"
        write_jsonl(chat, src)
        store = Store.open_owner(db)
        try:
            import_jsonl(store, src, src.name)
        finally:
            store.close()
    if embed:
        embed_all(db)
    return db


def embed_all(db: Path) -> None:
    from lifelog.store import embeddings
    from lifelog.tokenize_media.embed import DEFAULT, get_embedder

    embedder = get_embedder(DEFAULT)
    if hasattr(embedder, "workers"):
        embedder.workers = os.cpu_count() or 1
    store = Store.open_owner(db)
    try:
        embeddings.embed_store(store, embedder, max_chunks=10**9, batch=max(16, 4 * getattr(embedder, "workers", 1)))
    finally:
        store.close()


def embedding_available() -> bool:
    from lifelog.tokenize_media.embed import DEFAULT, embedding_unavailable

    reason = embedding_unavailable(DEFAULT)
    if reason:
        log(f"no embeddings: {reason}")
    return not reason


def reached(chat: Chat, evidence: list[str], text: str) -> float:
    shown = {line.strip() for line in text.splitlines()}
    by_id = chat.by_id
    return sum(all(line in shown for line in by_id[e].lines) for e in evidence) / len(evidence)


_WORD = re.compile(r"\w+")


class Fts5:
    """The naive rival: whole messages in SQLite FTS5, best bm25() first, filled to the budget."""

    def __init__(self, chat: Chat, tok) -> None:
        self.con = sqlite3.connect(":memory:")
        self.con.execute("CREATE VIRTUAL TABLE m USING fts5(text, id UNINDEXED)")
        self.con.executemany("INSERT INTO m VALUES (?, ?)", [(m.text, m.dia_id) for m in chat.messages])
        self.cost = {m.dia_id: tok.count(m.text) + 1 for m in chat.messages}
        self.lines = {m.dia_id: m.lines for m in chat.messages}

    def window(self, question: str, budget: int) -> str:
        words = sorted(set(w.lower() for w in _WORD.findall(question)))
        if not words:
            return ""
        match = " OR ".join(f'"{w}"' for w in words)
        ids = [r[0] for r in self.con.execute("SELECT id FROM m WHERE m MATCH ? ORDER BY bm25(m)", [match])]
        kept, used = [], 0
        for i in ids:
            if used + self.cost[i] <= budget:
                kept.append(i)
                used += self.cost[i]
        return "\n".join(line for i in kept for line in self.lines[i])


def lifelog_window(reader, chat: Chat, question: str, budget: int, semantic: bool) -> tuple[str, float]:
    t = time.perf_counter()
    w = build_context(
        reader,
        since=chat.messages[0].at - timedelta(minutes=1),
        until=chat.messages[-1].at + timedelta(minutes=2),
        budget=budget,
        fmt="markdown",
        tokenizer="o200k",
        query=question,
        semantic=semantic,
    )
    assert w.tokens <= budget, (w.tokens, budget)
    return w.text, time.perf_counter() - t


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("LIFELOG_REALTALK", DEFAULT_DATA)))
    ap.add_argument("--chats", default="1,2,3,4,5,6,7,8,9,10", help="which conversations (their numbers)")
    ap.add_argument("--budgets", default="2000,4000,8000")
    ap.add_argument("--embed", choices=("auto", "no"), default="auto")
    ap.add_argument("--questions", type=int, default=0, help="the first N questions of each conversation (0: all)")
    ap.add_argument(
        "--rankers",
        default="bm25,embeddings",
        help="lifelog's rankings to run beside FTS5: bm25 (words alone), embeddings (words and meaning)",
    )
    ap.add_argument(
        "--pace",
        type=float,
        default=0,
        help="seconds between the messages of a session (0: as sent); e.g. 5 for sessions read in one sitting",
    )
    ap.add_argument("--dir", type=Path, help="keep (or reuse) the timelines here")
    args = common.parse(
        ap,
        quick={"chats": "4", "budgets": "2000", "embed": "no", "questions": 6, "dir": lambda: common.scratch("conv")},
        argv=argv,
    )
    files = {int(re.match(r"Chat_(\d+)_", p.name).group(1)): p for p in sorted(args.data.glob("Chat_*.json"))}
    if not files:
        raise SystemExit(
            f"no REALTALK conversations in {args.data}: git clone https://github.com/danny911kr/REALTALK "
            "and give --data REALTALK/data (or set LIFELOG_REALTALK)"
        )
    wanted = [int(c) for c in args.chats.split(",")]
    budgets = [int(b) for b in args.budgets.split(",")]
    embed = args.embed == "auto" and embedding_available()
    wanted_modes = args.rankers.split(",")
    modes = ["fts5"] + [m for m in ("bm25", "embeddings") if m in wanted_modes and (m != "embeddings" or embed)]
    root = args.dir or Path(tempfile.mkdtemp(prefix="conversations."))
    tok = get_tokenizer("o200k")
    recall: dict[tuple, list[float]] = defaultdict(list)  # (mode, budget, type) -> per question
    times: dict[tuple, list[float]] = defaultdict(list)
    for n in wanted:
        chat = load_chat(files[n], args.pace)
        questions = chat.questions[: args.questions] if args.questions else chat.questions
        t = time.perf_counter()
        db = build_home(chat, root / chat.name, embed)
        tokens = sum(tok.count("\n".join(m.lines)) for m in chat.messages)
        log(
            f"{chat.name}: {len(chat.messages):,} messages, ~{tokens:,} tokens, {len(questions)} questions "
            f"(timeline ready in {time.perf_counter() - t:.1f} s)"
        )
        fts = Fts5(chat, tok)
        with Store(db).read() as reader:
            for q in questions:
                for b in budgets:
                    recall[("fts5", b, q["type"])].append(reached(chat, q["evidence"], fts.window(q["question"], b)))
                    for mode in modes[1:]:
                        text, s = lifelog_window(reader, chat, q["question"], b, mode == "embeddings")
                        recall[(mode, b, q["type"])].append(reached(chat, q["evidence"], text))
                        times[(mode, b)].append(s)
    kinds = sorted({k[2] for k in recall})
    rows = []
    for b in budgets:
        for mode in modes:
            per = [recall[(mode, b, k)] for k in kinds]
            every = [x for p in per for x in p]
            rows.append(
                [
                    b,
                    mode,
                    round(statistics.mean(every), 3),
                    *[round(statistics.mean(p), 3) if p else "" for p in per],
                    round(statistics.median(times[(mode, b)]), 2) if times[(mode, b)] else "",
                ]
            )
    n_questions = len(recall[("fts5", budgets[0], kinds[0])]) if kinds else 0
    log(f"{sum(len(recall[('fts5', budgets[0], k)]) for k in kinds)} questions ({n_questions} {kinds[0]})")
    print(common.table(["budget", "ranker", "all", *kinds, "median s"], rows))


if __name__ == "__main__":
    main()
