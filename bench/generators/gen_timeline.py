"""Generate a realistic lifelog timeline straight into a DuckDB file, fast and seeded.

    .venv/bin/python bench/generators/gen_timeline.py DIR [--days 30] [--seed 1] [--needles] [--no-search-index]

``DIR`` is a ``LIFELOG_HOME``-style data folder; the timeline goes to ``DIR/lifelog.duckdb``
(which must not exist yet). Days start on ``START`` (a fixed date, so the same seed gives the
same file) and each has 8 active hours, 09:00-12:30 and 13:15-17:45 UTC, with a pause between
(a ``gap`` event), a ``record_start`` before and a ``record_stop`` after.

What a day holds: a simulated person switching between windows on one screen: an editor on
source files of a project, terminals (commands and their output), browser pages, Slack
channels, mail (inbox and messages), and Zoom during meetings. A window shows a page of
lines; while it has focus lines change (edits typed in a few intermediate states, lines
inserted, scrolling, output appended, messages arriving); every line is a text span from the
moment it appeared until it changed, scrolled away or the window lost focus, as the
recorder stores them. Switching back to a window shows its lines again (new spans, which a
context window leaves out as repeats). Meetings (most days) add speech: Whisper segments
from the microphone and the system audio. About 10,000 spans and ~62,000 o200k tokens an hour
at full detail, the figures of the real timeline that motivated issue 8.

How it is written: the database is created with lifelog's own migrations up to version 3,
rows are bulk-inserted from numpy arrays (ids given, sequences advanced past them), then the
file is opened once as the owner does (``Store.open_owner``), which applies every later
migration as it would to a real user's file: the search postings (4), stored token counts
(5) and whatever comes after. ``--no-search-index`` instead writes at the latest version,
token counts included, and leaves the rows unindexed for search (``build``'s docstring).

``plant_needles`` (see ``needles.py``) adds facts to find: lines in a chat or mail window or
segments of speech at given times, written into the simulation where they fall.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timeline_text import CHANNELS, NAMES, PROJECTS, SITES, TextSource

from lifelog.store import Store, migrations
from lifelog.store.db import create_private_db
from lifelog.tokenize_media.tokenizers import get_tokenizer

START = datetime(2026, 1, 5)
US = 1_000_000
HOUR = 3600 * US
ACTIVE = ((9 * HOUR, 12 * HOUR + HOUR // 2), (13 * HOUR + HOUR // 4, 17 * HOUR + 3 * HOUR // 4))
if os.environ.get("LIFELOG_BENCH_QUICK"):  # a bench's --quick run (bench/common.py): an hour a day, not eight
    ACTIVE = ((9 * HOUR, 9 * HOUR + HOUR // 2), (13 * HOUR + HOUR // 4, 13 * HOUR + 3 * HOUR // 4))
ROW_PX = 22  # a line's height on screen, for the spans' ``top``
# focus per kind when not switching back to a recent window (weights), action rate (per s)
KINDS = {"editor": (34, 0.64), "terminal": (18, 0.22), "browser": (28, 0.28), "chat": (13, 0.10), "mail": (7, 0.07)}
SCHEMA_BASE = 3  # rows are written at this version; later migrations run on them at open


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def us(ts: datetime) -> int:
    return int((ts - datetime(1970, 1, 1)).total_seconds()) * US + ts.microsecond


@dataclass
class Plant:
    """A line to put into the timeline at ``at``: in a chat channel (``where``), in the body
    of a mail (``where`` its subject), or ``heard`` in a short call."""

    at: datetime
    how: str  # "chat", "mail" or "heard"
    text: str
    who: str = ""
    where: str = ""


@dataclass
class Window:
    app: str
    title: str
    kind: str  # editor, terminal, browser, chat, mail, meeting
    doc: list[str]
    height: int = 40
    pos: int = 0  # first visible line; terminals and chat show the end
    project: str = ""

    def visible(self) -> list[str]:
        if self.kind in ("terminal", "chat"):
            return self.doc[-self.height :]
        return self.doc[self.pos : self.pos + self.height]


@dataclass
class Rows:
    """Columns of the rows generated so far (times in µs since the epoch)."""

    spans: dict = field(
        default_factory=lambda: {k: [] for k in ("t_start", "t_end", "app", "window", "text", "top", "frame_id")}
    )
    frames: dict = field(default_factory=lambda: {k: [] for k in ("id", "ts", "app", "window", "keyframe")})
    heard: dict = field(default_factory=lambda: {k: [] for k in ("t_start", "t_end", "source", "text")})
    events: list = field(default_factory=list)  # (ts, kind, detail json)
    recordings: list = field(default_factory=list)  # (id, started, ended)


class Simulator:
    """One person's days at the computer. State (files, channels, pages) carries over days."""

    def __init__(self, seed: int = 1):
        self.rng = random.Random(seed)
        self.text = TextSource(self.rng)
        self.rows = Rows()
        self.frame_id = 0
        self.span_id = 0
        self.transcript_id = 0
        self.windows: dict[tuple[str, str], Window] = {}
        self.mru: list[Window] = []
        self.project = PROJECTS[0]
        self.pages: list[Window] = []
        self.mails: list[Window] = []

    # -- one day ---------------------------------------------------------------------
    def day(self, d: int, plants: list[Plant]) -> None:
        base = us(START + timedelta(days=d))
        self.project = self.rng.choices(PROJECTS, weights=[5, 3, 2, 1, 1])[0]
        seen = sorted((p for p in plants if p.how != "heard"), key=lambda p: p.at)
        calls = [(us(p.at), us(p.at) + self.rng.randint(120, 240) * US, p) for p in plants if p.how == "heard"]
        meetings = self._meetings(base, calls)
        rec = f"gen-{d:05d}"
        self.rows.recordings.append((rec, base + ACTIVE[0][0], base + ACTIVE[1][1]))
        self._event(base + ACTIVE[0][0], "record_start", {"recording": rec, "fps": 2.0})
        for n, (a, b) in enumerate(ACTIVE):
            t, end = base + a, base + b
            while t < end:
                plant = seen.pop(0) if seen and us(seen[0].at) <= t else None
                win = self._plant_window(plant) if plant else self._pick(any(m0 <= t < m1 for m0, m1 in meetings))
                dur = min(end - t, int(min(600.0, max(3.0, self.rng.lognormvariate(2.85, 1.0))) * US))
                self._session(win, t, t + max(dur, US), plant)
                t += max(dur, US)
            if n == 0:
                until = datetime(1970, 1, 1) + timedelta(microseconds=base + ACTIVE[1][0])
                self._event(end, "gap", {"reason": "paused", "until": until.isoformat()})
        self._event(base + ACTIVE[1][1], "record_stop", {"recording": rec, "aborted": False})
        for m0, m1 in meetings:
            self._speech(m0, m1)
        for c0, c1, plant in calls:
            self._speech(c0, c1, plant.text)

    def _meetings(self, base: int, calls: list) -> list[tuple[int, int]]:
        out = []
        for _ in range(self.rng.choices([0, 1, 2], weights=[3, 5, 2])[0]):
            a, b = self.rng.choice(ACTIVE)
            dur = self.rng.choice([15, 25, 30, 45, 50]) * 60 * US
            start = base + a + self.rng.randrange(0, max(1, (b - a - dur) // (30 * 60 * US))) * 30 * 60 * US
            if not any(start < c1 and c0 < start + dur for c0, c1, _ in calls) and not any(
                start < m1 and m0 < start + dur for m0, m1 in out
            ):
                out.append((start, start + dur))
        return out

    # -- speech ------------------------------------------------------------------------
    def _speech(self, t0: int, t1: int, needle: str | None = None) -> None:
        segments = []
        t = t0 + self.rng.randint(1, 5) * US
        while t < t1:
            text = self.text.speech()
            dur = int(len(text.split()) * 0.33 * US)
            segments.append([t, min(t + dur, t1), self.rng.choices(("system", "mic"), weights=(7, 3))[0], text])
            t += dur + int(self.rng.uniform(0.3, 4.0) * US)
        if needle:
            segments[len(segments) // 2][3] = needle
        h = self.rows.heard
        for t_start, t_end, source, text in segments:
            for k, v in zip(("t_start", "t_end", "source", "text"), (t_start, t_end, source, text)):
                h[k].append(v)

    # -- windows -----------------------------------------------------------------------
    def _window(self, app: str, title: str, kind: str, make, height: int) -> Window:
        key = (app, title)
        if key not in self.windows:
            self.windows[key] = Window(app, title, kind, make(), height, project=self.project)
        return self.windows[key]

    def _pick(self, in_meeting: bool) -> Window:
        r, t = self.rng, self.text
        if in_meeting and r.random() < 0.6:
            return self._window(
                "zoom",
                "Zoom Meeting",
                "meeting",
                lambda: [
                    "Zoom Meeting",
                    "Participants (5)",
                    *r.sample(NAMES, 5),
                    "Mute",
                    "Stop Video",
                    "Share Screen",
                    "Chat",
                    "Leave",
                ],
                14,
            )
        if len(self.mru) > 2 and r.random() < 0.6:  # back to a recent window
            return r.choices(self.mru[1:8], weights=[1 / (i + 1) for i in range(len(self.mru[1:8]))])[0]
        kind = r.choices(list(KINDS), weights=[w for w, _ in KINDS.values()])[0]
        p = self.project
        if kind == "editor":
            files = [w for w in self.windows.values() if w.kind == "editor" and w.project == p]
            if files and (r.random() < 0.75 or len(files) >= 40):
                return r.choice(files)
            name = f"{t.ident()}.py"
            return self._window(
                "Code", f"{name} — {p} — Visual Studio Code", "editor", lambda: t.code(r.randint(80, 500)), 45
            )
        if kind == "terminal":
            title = f"dana@work: ~/src/{p}" + ("" if r.random() < 0.7 else " (2)")
            return self._window("XTerm", title, "terminal", lambda: [f"dana@work:~/src/{p}$ "], 40)
        if kind == "browser":
            if self.pages and r.random() < 0.4:
                return r.choice(self.pages[-20:])
            host, site = r.choice(SITES)
            page = self._window(
                "firefox",
                f"{t.title_words()} - {site} — Mozilla Firefox",
                "browser",
                lambda: [
                    site,
                    f"{host}  Docs  Blog  Community  Sign in",
                    t.title_words(),
                    *(t.prose_line() for _ in range(r.randint(60, 250))),
                ],
                35,
            )
            self.pages.append(page)
            if len(self.pages) > 60:  # tabs closed long ago: forget them (bounded memory over a year)
                self._forget(self.pages.pop(0))
            return page
        if kind == "chat":
            return self.chat(r.choice(CHANNELS))
        if r.random() < 0.6:
            return self._window(
                "thunderbird",
                "Inbox - dana@acme.example - Mozilla Thunderbird",
                "mail",
                lambda: [t.mail_row() for _ in range(60)],
                25,
            )
        message = self.mail(t.sentence(3, 8, 0.4)[:-1], t.name(), [])
        self.mails.append(message)
        if len(self.mails) > 30:
            self._forget(self.mails.pop(0))
        return message

    def _forget(self, w: Window) -> None:
        self.windows.pop((w.app, w.title), None)
        if w in self.mru:
            self.mru.remove(w)

    def chat(self, channel: str) -> Window:
        return self._window(
            "Slack",
            f"{channel} - Acme - Slack",
            "chat",
            lambda: [x for _ in range(12) for x in self.text.chat_lines(self.text.name(), 9, 0)],
            30,
        )

    def mail(self, subject: str, sender: str, body: list[str]) -> Window:
        t = self.text

        def make():
            lines = [t.prose_line() for _ in range(self.rng.randint(6, 30))]
            at = self.rng.randrange(len(lines) + 1)
            return [
                f"From: {sender} <{sender.split()[0].lower()}@acme.example>",
                "To: Dana Whitfield",
                f"Subject: {subject}",
                *lines[:at],
                *body,
                *lines[at:],
                "--",
                sender,
            ]

        return self._window("thunderbird", f"{subject} - Mozilla Thunderbird", "mail", make, 35)

    def _plant_window(self, plant: Plant) -> Window:
        if plant.how == "mail":
            return self.mail(plant.where, plant.who, [plant.text])
        return self.chat(plant.where)

    # -- a session of focus on one window ------------------------------------------------
    def _session(self, w: Window, t0: int, t1: int, plant: Plant | None) -> None:
        if not self.mru or self.mru[0] is not w:
            if w in self.mru:
                self.mru.remove(w)
            self.mru.insert(0, w)
            del self.mru[30:]
        fid = self._frame(t0, w, True)
        page: list[list] = [[text, t0, row * ROW_PX, fid] for row, text in enumerate(w.visible())]
        rate = KINDS.get(w.kind, (0, 0.03))[1]
        t = t0
        if plant is not None and plant.how == "chat":
            t += 2 * US
            w.doc.append(f"{plant.who}  {self._clock(t)}")
            w.doc.append(plant.text)
            page = self._refresh(w, page, t)
        while True:
            t += int(self.rng.expovariate(rate) * US) + US // 2
            if t >= t1:
                break
            page = self._act(w, page, t, t1)
        self._close(page, t1, w)

    def _act(self, w: Window, page: list[list], t: int, t1: int) -> list[list]:
        r, x = self.rng, self.text
        if w.kind == "editor" and r.random() < 0.75 and page:
            i = r.randrange(len(page))
            new = x.code_line()
            t = self._typed(w, page[i][2], new, t, t1)
            if r.random() < 0.7:
                w.doc[w.pos + i] = new
            else:
                w.doc.insert(w.pos + i, new)
        elif w.kind == "terminal":
            cmd = x.command(w.project)
            prompt = w.doc[-1]
            t = self._typed(w, (len(page) - 1) * ROW_PX, prompt + cmd, t, t1, prefix=prompt)
            w.doc[-1] = prompt + cmd
            w.doc.extend(x.output_line(w.project) for _ in range(r.choice([0, 1, 2, 3, 5, 8, 12, 20, 30])))
            w.doc.append(prompt)
            del w.doc[:-200]  # scrollback beyond the screen is never shown again
        elif w.kind == "chat" and r.random() < 0.85:
            w.doc.extend(x.chat_lines(x.name(), (t // HOUR) % 24, (t // (60 * US)) % 60))
            del w.doc[:-200]
        elif w.kind == "mail" and w.title.startswith("Inbox") and r.random() < 0.5:
            w.doc.insert(0, x.mail_row())
        elif w.kind == "meeting":
            w.doc[1] = f"Participants ({r.randint(3, 9)})"
        else:  # scroll
            step = r.choice([3, 5, 8, 12, 20, 30]) * (1 if r.random() < 0.75 else -1)
            if w.kind == "editor" and w.pos + step + w.height > len(w.doc) and len(w.doc) < 2000:
                w.doc.extend(x.code(w.pos + step + w.height - len(w.doc)))
            w.pos = max(0, min(w.pos + step, len(w.doc) - w.height))
        return self._refresh(w, page, min(t, t1 - 1))

    def _typed(self, w: Window, top: int, final: str, t: int, t1: int, prefix: str = "") -> int:
        """Intermediate states of a line being typed, each a short span; returns when it is done."""
        steps = self.rng.choice([0, 1, 1, 2, 3])
        fid = self._frame(t, w, False) if steps else 0
        for k in range(1, steps + 1):
            cut = len(prefix) + (len(final) - len(prefix)) * k // (steps + 1)
            dt = int(self.rng.uniform(0.5, 2.5) * US)
            if cut > len(prefix) and t + dt < t1:
                self._span(t, t + dt, w, final[:cut], top, fid)
            t = min(t + dt, t1 - 1)
        return t

    def _refresh(self, w: Window, page: list[list], t: int) -> list[list]:
        """The window now shows ``w.visible()``: lines still there keep their span (matched by
        text, as the writer does), lines gone end at ``t``, new lines start at ``t``."""
        old: dict[str, list[list]] = {}
        for entry in page:
            old.setdefault(entry[0], []).append(entry)
        fid = 0
        new = []
        for row, text in enumerate(w.visible()):
            same = old.get(text)
            if same:
                new.append(same.pop())
            else:
                fid = fid or self._frame(t, w, False)
                new.append([text, t, row * ROW_PX, fid])
        self._close([e for group in old.values() for e in group], t, w)
        return new

    def _close(self, entries: list[list], t: int, w: Window) -> None:
        for text, start, top, fid in entries:
            self._span(start, t, w, text, top, fid)

    def _span(self, t0: int, t1: int, w: Window, text: str, top: int, fid: int) -> None:
        if not text.strip():
            return
        s = self.rows.spans
        s["t_start"].append(t0)
        s["t_end"].append(t1)
        s["app"].append(w.app)
        s["window"].append(w.title)
        s["text"].append(text)
        s["top"].append(top)
        s["frame_id"].append(fid)

    def _frame(self, t: int, w: Window, keyframe: bool) -> int:
        self.frame_id += 1
        f = self.rows.frames
        for k, v in zip(("id", "ts", "app", "window", "keyframe"), (self.frame_id, t, w.app, w.title, keyframe)):
            f[k].append(v)
        return self.frame_id

    def _event(self, t: int, kind: str, detail: dict) -> None:
        self.rows.events.append((t, kind, json.dumps(detail)))

    @staticmethod
    def _clock(t: int) -> str:
        hh, mm = (t // HOUR) % 24, (t // (60 * US)) % 60
        return f"{(hh - 1) % 12 + 1}:{mm:02d} {'AM' if hh < 12 else 'PM'}"

    # -- into DuckDB -------------------------------------------------------------------
    def flush(self, con: duckdb.DuckDBPyConnection, span_tokens: bool = False) -> tuple[int, int]:
        """Write the rows generated since the last flush; returns (spans, transcripts). Transcripts
        carry their o200k counts, as the speech pipeline stores them; spans too with
        ``span_tokens`` (the schema has the column: the rows are written at the latest version)."""
        rows, self.rows = self.rows, Rows()
        s = rows.spans
        order = np.lexsort((np.array(s["top"]), np.array(s["t_start"])))
        n = len(order)
        cols = {
            k: np.array(v, dtype=object if k in ("app", "window", "text") else np.int64)[order] for k, v in s.items()
        }
        cols["id"] = np.arange(self.span_id + 1, self.span_id + n + 1)
        self.span_id += n
        columns = 'id, t_start, t_end, monitor, app, "window", text, top, "left", frame_id, open'
        select = 'id, t_start, t_end, 0, app, "window", text, top, 0, nullif(frame_id, 0), false'
        if span_tokens:
            cols["tokens"] = _o200k(cols["text"])
            columns, select = columns + ", tokens", select + ", tokens"
        _insert(con, "text_spans", cols, select, columns)
        f = {k: np.array(v, dtype=object if k in ("app", "window") else None) for k, v in rows.frames.items()}
        _insert(
            con,
            "frames",
            f,
            "id, ts, 0, 1920, 1080, app, \"window\", '', 0, 0, 1920, 1080, keyframe, 0, false, ''",
            'id, ts, monitor, width, height, app, "window", image_ref, region_left, region_top, region_right,'
            " region_bottom, keyframe, ocr_ms, ocr_failed, source_key",
        )
        h = rows.heard
        order = np.argsort(np.array(h["t_start"]), kind="stable")
        m = len(order)
        hc = {k: np.array(v, dtype=object if k in ("source", "text") else np.int64)[order] for k, v in h.items()}
        hc["id"] = np.arange(self.transcript_id + 1, self.transcript_id + m + 1)
        self.transcript_id += m
        hc["tokens"] = _o200k(hc["text"])
        _insert(
            con,
            "transcripts",
            hc,
            "id, t_start, t_end, source, 'faster-whisper', text, tokens, NULL",
            "id, t_start, t_end, source, engine, text, tokens, chunk_id",
        )
        for t, kind, detail in rows.events:
            con.execute("INSERT INTO events (ts, kind, detail) VALUES (make_timestamp(?), ?, ?)", [t, kind, detail])
        for rec, started, ended in rows.recordings:
            con.execute(
                "INSERT INTO recordings (id, started, ended, fps) VALUES (?, make_timestamp(?), make_timestamp(?), 2.0)",
                [rec, started, ended],
            )
        return n, m


def _o200k(texts) -> np.ndarray:
    """o200k counts of ``texts``, each distinct text counted once (the tokenizer lifelog stores)."""
    distinct = list(dict.fromkeys(texts))
    counts = dict(zip(distinct, get_tokenizer("o200k").count_many(distinct)))
    return np.fromiter((counts[t] for t in texts), dtype=np.int32, count=len(texts))


def _insert(con, table: str, cols: dict, select: str, columns: str) -> None:
    if not len(next(iter(cols.values()))):
        return
    for k in ("t_start", "t_end", "ts"):
        if k in cols:
            cols[k] = np.asarray(cols[k], dtype=np.int64).astype("datetime64[us]")
    con.register("gen_rows", cols)
    try:
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {select} FROM gen_rows")
    finally:
        con.unregister("gen_rows")


def _advance(con, seq: str, n: int) -> None:
    """Move ``seq`` past ``n`` ids given explicitly, so later inserts continue after them."""
    if n:
        con.execute(f"SELECT max(nextval('{seq}')) FROM range({int(n)})").fetchone()


def build(
    home: Path, days: int, *, seed: int = 1, plants: list[Plant] = (), search_index: bool = True, progress=log
) -> dict:
    """Generate ``days`` days into ``home/lifelog.duckdb`` (new), migrate it as the owner
    would, and return what was built and how long each stage took.

    Without ``search_index`` the file is created at the latest schema version and the rows are
    written with their token counts (``tokens`` of spans, when the schema has it), but not
    indexed for search: they wait for ``search_index.catch_up`` as rows stored by another
    path would. Context windows without a query never read the index, and this skips its
    one-time backfill (~26 s per million spans), which dominates building a year."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = home / "lifelog.duckdb"
    if db.exists():
        raise FileExistsError(f"{db} exists; generate into a new folder")
    create_private_db(db)
    t0 = time.perf_counter()
    con = duckdb.connect(str(db))
    sim = Simulator(seed)
    spans = heard = 0
    try:
        base = SCHEMA_BASE if search_index else migrations.latest_version()
        migrations.apply(con, {v: f for v, f in migrations.MIGRATIONS.items() if v <= base})
        span_tokens = "tokens" in {
            c
            for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'text_spans'"
            ).fetchall()
        }
        by_day: dict[int, list[Plant]] = {}
        for p in plants:
            by_day.setdefault((p.at - START).days, []).append(p)
        for d in range(days):
            sim.day(d, by_day.get(d, []))
            if (d + 1) % 10 == 0 or d == days - 1:
                n, m = sim.flush(con, span_tokens)
                spans, heard = spans + n, heard + m
                progress(f"  days 1-{d + 1}: {spans:,} spans, {heard:,} transcripts, {time.perf_counter() - t0:.0f} s")
        _advance(con, "text_spans_id_seq", sim.span_id)
        _advance(con, "transcripts_id_seq", sim.transcript_id)
        _advance(con, "frames_id_seq", sim.frame_id)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    t1 = time.perf_counter()
    store = Store.open_owner(db)  # the migrations after the base version, on every row
    store.close()
    t2 = time.perf_counter()
    return {
        "db": str(db),
        "days": days,
        "seed": seed,
        "search_index": search_index,
        "spans": spans,
        "transcripts": heard,
        "frames": sim.frame_id,
        "generate_s": round(t1 - t0, 1),
        "migrate_s": round(t2 - t1, 1),
        "bytes": db.stat().st_size,
        "start": START.isoformat(),
        "end": (START + timedelta(days=days)).isoformat(),
    }


def plant_needles(days: int = 30, *, seed: int = 1):
    """The ten facts to find and their distractors, as plants for :func:`build` (``needle_facts.py``)."""
    from needle_facts import plant_needles as plant

    return plant(days, seed=seed)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", type=Path, help="data folder (LIFELOG_HOME) to create the timeline in")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--needles", action="store_true", help="plant the 10 facts of needles.py and their distractors")
    ap.add_argument(
        "--no-search-index",
        action="store_true",
        help="write at the latest schema and leave the rows unindexed for search (much faster)",
    )
    args = ap.parse_args(argv)
    plants = plant_needles(args.days, seed=args.seed).plants if args.needles else []
    print(
        json.dumps(
            build(args.dir, args.days, seed=args.seed, plants=plants, search_index=not args.no_search_index), indent=1
        )
    )


if __name__ == "__main__":
    main()
