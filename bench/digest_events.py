"""How many annotated events of a day its digest mentions (issue 22), on material nobody here wrote.

    .venv/bin/python bench/digest_events.py [--data DIR] [--chats N] [--days N] [--seeds N]

The material is REALTALK (Lee et al. 2025, github.com/danny911kr/REALTALK, ``data/Chat_*.json``):
ten real 21-day messaging-app conversations between two people, each session (a day's chat)
annotated by its authors with the events it tells of (``events_session_N``: "Elise went to the Art
Basel in Miami.", "Kate plans to study for her exams at home."), 600 in all. It is not in the
repository (no licence is stated): ``--data`` names the folder of its ``Chat_*.json`` files, by
default ``$LIFELOG_REALTALK`` or ``../shared/testdata/realtalk``.

Each conversation becomes a timeline as ``bench/conversations.py`` builds one (every message as
the lines of a chat window, seen from the minute it was sent), imported with ``lifelog import``'s
code; its hours, days and weeks are digested extractively (``replay/digest.py``, no model). A
session's events belong to the UTC day most of its messages fall in. An event counts as
mentioned by a text when at least half of its content words (and two or more; names, stop words
and words under three letters left out; words compared on their first five letters) are words of
the text. For each day with events it reports, over all events:

* **full day**: mentioned by the day's whole chat (the ceiling: an annotation may paraphrase);
* **day digest** and **hour digests**: by the day's digest, and by its hour digests together;
* **random lines**: by as many of the day's chat lines as the day digest shows, drawn at random
  (mean over ``--seeds`` draws): what picking lines without salience gives at the same size;

with the o200k tokens of each. Writes a Markdown table to stdout.

    nice -n 19 .venv/bin/python bench/digest_events.py --model local [--gguf FILE] --chats 4 --days 1

With ``--model local`` the same days are digested again by the local model, as ``digest_model =
local`` runs it (llama.cpp's server at nice 19 on one thread; ``--gguf``, else the local-model
extra's Qwen2.5-Coder-1.5B, else SmolLM2-135M), hours then days (no weeks: none is read), and
its hour and day digests are two more columns, beside the extractive ones of the same days; with
the CPU seconds the model took (the server's and this process's) per day.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import statistics
import sys
import textwrap
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import common

from lifelog.api.timeline_file import import_jsonl
from lifelog.config import Settings
from lifelog.replay.digest import catch_up
from lifelog.replay.digest_model import DigestModel, from_settings
from lifelog.store import Store
from lifelog.store.digests import start_of
from lifelog.tokenize_media.tokenizers import get_tokenizer

DEFAULT_DATA = Path(os.environ.get("LIFELOG_REALTALK", common.ROOT.parent / "shared" / "testdata" / "realtalk"))
WIDTH = 70  # characters on a line of a chat bubble (as bench/conversations.py)
SHOWN = timedelta(seconds=40)
STOP = set(
    "the and for with her his their they she him has have had was were are is be been being this that those these "
    "from into about after before over under out off onto upon than then them there here what when where which who "
    "will would can could should shall may might must not but also just very more most some any each other such "
    "own same too plans plan going goes went get gets got make makes made take takes took does did doing done "
    "new one two back time day days today tomorrow yesterday friend friends".split()
)
_WORD = re.compile(r"[a-z][a-z']+")


def stems(text: str, drop: set[str] = frozenset()) -> set[str]:  # type: ignore[assignment]
    words = (w.strip("'") for w in _WORD.findall(text.lower()))
    return {w[:5] for w in words if len(w) >= 3 and w not in STOP and w not in drop}


def mentioned(event: set[str], text: set[str]) -> bool:
    return len(event) >= 2 and len(event & text) >= max(2, (len(event) + 1) // 2)


def load(path: Path) -> tuple[list[dict], dict, set[str]]:
    """The chat's messages (each with its lines and time), its events per UTC day, and the names to
    leave out of words (the speakers', and each event's subject: annotators used other names)."""
    d = json.loads(path.read_text())
    messages, events = [], defaultdict(list)
    speakers = ast.literal_eval(d["name"]) if isinstance(d.get("name"), str) else d.get("name") or {}
    names = {str(s).lower() for s in speakers.values()}
    last = None
    n = 1
    while f"session_{n}" in d:
        days: Counter = Counter()
        for turn in d[f"session_{n}"]:
            text = " ".join((turn.get("clean_text") or "").split())
            if not text:
                continue
            at = datetime.strptime(turn["date_time"], "%d.%m.%Y, %H:%M:%S")
            if last is not None and at <= last:
                at = last + timedelta(milliseconds=1)
            last = at
            days[at.date()] += 1
            messages.append({"at": at, "lines": textwrap.wrap(f"{turn['speaker']}: {text}", WIDTH)})
            names.add(turn["speaker"].lower())
        raw = d.get(f"events_session_{n}") or {}
        for side in raw.values() if isinstance(raw, dict) else []:
            for e in side:
                if days and e.get("sub-event"):
                    events[days.most_common(1)[0][0]].append(e["sub-event"])
        n += 1
    for evs in events.values():
        names.update(e.split()[0].lower() for e in evs if e.split())
    return messages, events, names


def write_jsonl(messages: list[dict], other: str, path: Path) -> None:
    rows = []
    for m in messages:
        for i, line in enumerate(m["lines"]):
            rows.append(
                {
                    "type": "seen",
                    "t_start": m["at"].isoformat() + "Z",
                    "t_end": (m["at"] + SHOWN).isoformat() + "Z",
                    "app": "WhatsApp",
                    "window": f"{other} - WhatsApp",
                    "top": 100 + 20 * i,
                    "left": 40,
                    **({"ord": i} if i else {"lead": "\n"}),
                    "text": line,
                }
            )
    head = {"lifelog": "timeline", "version": 1, "rows": {"seen": len(rows)}}
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in [head, *rows]))


def digest_chat(
    path: Path, folder: Path, max_days: int | None, model: DigestModel | None = None
) -> tuple[dict, dict, dict[str, dict], set[str]]:
    """Import and digest one chat; per day with events: its events, its chat lines, and the text
    of its day digest and its hour digests (with ``model``: also of the model's)."""
    messages, events, names = load(path)
    if max_days is not None:
        keep = sorted(events)[:max_days]
        events = {day: events[day] for day in keep}
        messages = [m for m in messages if m["at"].date() <= keep[-1]] if keep else []
    folder.mkdir(parents=True, exist_ok=True)
    src = folder / "chat.jsonl"
    write_jsonl(messages, path.stem.split("_")[-1], src)
    store = Store.open_owner(folder / "timeline.duckdb")
    try:
        import_jsonl(store, src, src.name)
        with store.write() as w:
            w.summarise_hours(datetime.now(UTC))
        catch_up(store)
        lines: dict = defaultdict(list)
        for m in messages:
            lines[m["at"].date()].extend(m["lines"])
        texts = _digest_texts(store, events, "")
        if model is not None:
            catch_up(store, model=model, weeks=False)  # (what a model keeps not, the extractive text stands)
            texts |= _digest_texts(store, events, "model ")
    finally:
        store.close()
    return events, lines, texts, names


def _digest_texts(store: Store, events: dict, prefix: str) -> dict[str, dict]:
    """Per day: its day digest's text and its hour digests' together, under ``prefix``; counts the
    digests a model wrote (not left extractive) in ``WRITTEN``."""
    day_text, hour_text = {}, {}
    with store.read() as r:
        for day in events:
            start = datetime(day.year, day.month, day.day)
            found = r.digests(start, start + timedelta(days=1))
            day_text[day] = "\n".join(d.text for d in found if d.level == "day" and d.start == start_of(start, "day"))
            hour_text[day] = "\n".join(d.text for d in found if d.level == "hour")
            WRITTEN.update(f"{d.level} {'model' if d.model != 'extractive' else 'extractive'}" for d in found)
    return {f"{prefix}hour digests": hour_text, f"{prefix}day digest": day_text}


def shown_lines(text: str) -> int:
    return sum(line.startswith("- ") for line in text.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--chats", type=int, default=10, help="how many conversations (of 10)")
    parser.add_argument("--days", type=int, default=None, help="at most this many days with events per chat")
    parser.add_argument("--seeds", type=int, default=5, help="random draws for the baseline")
    parser.add_argument("--model", choices=["local"], default=None, help="also digests by the local model")
    parser.add_argument("--gguf", default="", help="with --model local: the .gguf to run (digest_gguf)")
    args = common.parse(parser, quick={"chats": 1, "days": 3, "seeds": 1})
    if args.quick and args.model:
        args.days = 1  # a model's quick run: one day's hours and the day
    model = from_settings(Settings(digest_model="local", digest_gguf=args.gguf)) if args.model else None
    columns = COLUMNS + (MODEL_COLUMNS if model else ())
    files = sorted(args.data.glob("Chat_*.json"), key=lambda p: int(p.stem.split("_")[1]))[: args.chats]
    if not files:
        raise SystemExit(f"No REALTALK Chat_*.json in {args.data}: see the docstring (--data).")
    tok = get_tokenizer("o200k")
    scratch = common.scratch("digest_events")
    rows = []
    totals = Counter()
    tokens: dict[str, list[int]] = defaultdict(list)
    cpu, days = common.cpu_seconds() or 0.0, 0
    try:
        for path in files:
            events, lines, digests, names = digest_chat(path, scratch / path.stem, args.days, model)
            days += len(events)
            got = Counter()
            for day, evs in sorted(events.items()):
                texts = {"full day": "\n".join(lines[day]), **{c: digests[c][day] for c in digests}}
                for c, text in texts.items():
                    tokens[c].append(tok.count(text))
                k = shown_lines(texts["day digest"])
                for e in evs:
                    words = stems(e, names)
                    got["events"] += 1
                    for name, text in texts.items():
                        got[name] += mentioned(words, stems(text, names))
                    draws = [
                        random.Random(f"{path.stem}{day}{s}").sample(lines[day], min(k, len(lines[day])))
                        for s in range(args.seeds)
                    ]
                    got["random lines"] += statistics.mean(mentioned(words, stems("\n".join(d), names)) for d in draws)
            totals.update(got)
            rows.append([path.stem, len(events), got["events"], *(_pct(got[c], got["events"]) for c in columns)])
            print(f"{path.stem}: {got['events']} events over {len(events)} days", file=sys.stderr, flush=True)
        server = common.cpu_seconds(model.server.pid) if model and model.server and model.server.pid else None
    finally:
        if model is not None:
            model.close()
    rows.append(
        ["all", sum(r[1] for r in rows), totals["events"], *(_pct(totals[c], totals["events"]) for c in columns)]
    )
    print(common.table(["chat", "days", "events", *(f"{c} %" for c in columns)], rows))
    print()
    shown = ("full day", "hour digests", "day digest") + (MODEL_COLUMNS if model else ())
    print(common.table(["text", "median tokens a day"], [[c, int(statistics.median(tokens[c]))] for c in shown]))
    if model is not None:
        mine = (common.cpu_seconds() or 0.0) - cpu
        print(
            f"\n{model.id} ({model.server.gguf if model.server else ''}): {server or 0:.0f} s CPU in its server, "
            f"{mine:.0f} s in this process (extractive digests and import included), "
            f"{((server or 0) + mine) / max(days, 1):.0f} s a day over {days} days; written by it: "
            f"{WRITTEN['hour model']} hour and {WRITTEN['day model']} day digests (the rest kept extractive: "
            "nothing it wrote was grounded)"
        )


COLUMNS = ("full day", "hour digests", "day digest", "random lines")
MODEL_COLUMNS = ("model hour digests", "model day digest")
WRITTEN: Counter = Counter()  # digests of the days read, by level and writer


def _pct(n: float, of: int) -> float:
    return round(100 * n / of, 1) if of else 0.0


if __name__ == "__main__":
    main()
