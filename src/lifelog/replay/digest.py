"""Digests: what happened in an hour, a day, a week, in a few lines (issue 22), made without
any model (*extractive*), so they work on every machine.

An hour's digest says where its time went (the windows, most time first), who spoke, and its
most salient distinct lines, each with its minute and its window or speaker::

    windows: XTerm — ~/src/shop (34 min); Firefox — PR #12 · shop (12 min) · heard: Dana 6 min
    - 09:14 [XTerm] FAILED tests/test_cart.py::test_total - AssertionError: 40 != 42
    - 09:31 Dana: we should move the budget review to Thursday

Salient: a line's distinct content terms (``store/terms.py``: stemmed, Chinese as bigrams)
shared with the hour's other lines (what the hour was about), times how long it stayed on
screen (what was read), twice for an outcome (an error, a test result, a merge, a decision,
something sent) and one and a half times for speech. Left out before scoring: lines of fewer
than three terms (two, when one is a number or an outcome: "Invoice 4821", "12 passed"), a window's own title, text shown under three or more windows or staying on
screen while three windows took turns (menus, panels, tab bars), and terms in more than half of
the hour's lines. Chosen greedily by score, no two alike (numbers aside, all but a fifth
of their terms shared: the rest are counted, "(+3 like it, to 11:02)"), at most half from one window, two of them for speech when there was any; shown in
time order.

A day's digest is its hours' windows summed and the best of its hours' lines again (at most
two an hour where there are many), a week's likewise from its days. :func:`catch_up` makes
what is due, newest day first, reading in one transaction and writing in a short other (an
hour that changed in between is skipped: it is due again), and can be stopped between days.
"""

from __future__ import annotations

import bisect
import math
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from lifelog.replay.blocks import heard_from
from lifelog.replay.digest_model import INPUT_LINES, DigestModel
from lifelog.store import terms
from lifelog.store.digests import SPAN, Digest, HourMaterial, start_of
from lifelog.tokenize_media.tokenizers import DEFAULT_TOKENIZER, get_tokenizer

LINES = {"hour": 6, "day": 10, "week": 14}  # lines chosen per digest
HEARD_LINES = 2  # of an hour's, kept for speech when there was any
PLACES = {"hour": 3, "day": 5, "week": 6}  # windows named per digest
MIN_TERMS = 3
CHROME_WINDOWS = 3  # text shown under this many windows in an hour is the desktop's, not the work's
DWELL_CAP_S = 300.0
CLIP = 160  # characters of a line shown
OUTCOME = re.compile(
    r"\b(error|errors|failed|failure|fail|exception|traceback|fatal|passed|merged|deployed|released|sent|"
    r"fixed|resolved|approved|rejected|decided|decision|agreed|todo|done|completed|succeeded|success|"
    r"deadline|due)\b|错误|失败|完成|通过|合并|决定|已发送|修复|截止",
    re.IGNORECASE,
)
MODEL = "extractive"
_ALNUM = re.compile(r"[^\W_]")
_DIGIT = re.compile(r"\d")


@dataclass
class _Line:
    """A distinct line of an hour: where and when first shown, how long in all."""

    t: datetime
    text: str
    app: str = ""
    window: str = ""
    speaker: str = ""  # a heard line's voice (its label), or its source
    dwell: float = 0.0
    windows: int = 1
    kind: str = "seen"
    terms: frozenset[str] = frozenset()
    shape: frozenset[str] = frozenset()  # terms, numbers as one (:func:`_shape`)
    score: float = 0.0
    more: int = 0  # lines alike to it left out (the same error again, a counter that moved on)
    last: datetime | None = None  # the last of them

    def source(self) -> dict:
        out = {"t": self.t.isoformat() + "Z", "kind": self.kind, "text": self.text, "score": round(self.score, 3)}
        if self.more:
            out["more"], out["last"] = self.more, (self.last or self.t).isoformat() + "Z"
        if self.kind == "heard":
            out["speaker"] = self.speaker
        else:
            out["app"], out["window"] = self.app, self.window
        return out


# -- an hour -----------------------------------------------------------------------------------


def hour_digest(m: HourMaterial, tok=None, model: DigestModel | None = None) -> Digest:
    """The digest of one hour's material: extractive, or written by ``model`` from the hour's
    most salient lines (``digest_model.py``)."""
    lines = _distinct(m)
    _score(lines, titles={" ".join(w.split()).casefold() for _, w, _ in m.places})
    scored = [x for x in lines if x.score > 0]
    for x in scored:
        x.shape = _shape(x.terms)
    said = _choose([x for x in scored if x.kind == "heard"], HEARD_LINES, per=lambda x: x.speaker)
    rest = [x for x in scored if x.kind != "heard" and not any(_alike(x.shape, y.shape) for y in said)]
    chosen = sorted(
        [*said, *_choose(rest, LINES["hour"] - len(said), per=lambda x: (x.app, x.window))], key=lambda x: x.t
    )
    places = [[app, window, round(float(s), 1)] for app, window, s in m.places]
    heard = _heard_seconds(m.heard)
    text = _render("hour", m.hour, places, heard, [x.source() for x in chosen])
    digest = Digest(
        "hour",
        m.hour,
        m.hour + SPAN["hour"],
        text,
        {"lines": [x.source() for x in chosen], "places": places, "heard": heard},
        MODEL,
        _count(text, tok),
        m.basis,
    )
    if model is None:
        return digest
    given = sorted(sorted(scored, key=lambda x: -x.score)[:INPUT_LINES], key=lambda x: x.t)
    return _by_model(model, digest, [_shown("hour", x.source()) for x in given], tok)


def _by_model(model: DigestModel, digest: Digest, material: list[str], tok) -> Digest:
    """``digest`` as ``model`` rewrites it from ``material``, counted, its basis naming the model."""
    written = model.rewrite(digest, material)
    return replace(written, tokens=_count(written.text, tok), basis=f"{digest.basis}|{model.id}")


def _distinct(m: HourMaterial) -> list[_Line]:
    by: dict[str, _Line] = {}
    windows: dict[str, set] = defaultdict(set)
    during = _windows_during(m.seen)
    for (t0, t1, _, app, window, text), around in zip(m.seen, during):
        text = " ".join(text.split())
        if not text:
            continue
        key = text.casefold()
        line = by.setdefault(key, _Line(t0, text, app, window))
        line.dwell += min(DWELL_CAP_S, max(0.0, (t1 - t0).total_seconds()))
        windows[key] |= {(app, window), *around}
    for t0, t1, source, speaker, text in m.heard:
        text = " ".join(text.split())
        if not text:
            continue
        key = "\x00heard " + text.casefold()
        line = by.setdefault(key, _Line(t0, text, speaker=speaker or heard_from(source), kind="heard"))
        line.dwell += max(1.0, (t1 - t0).total_seconds())
    for key, line in by.items():
        line.windows = len(windows.get(key, ())) or 1
        line.terms = frozenset(terms.terms(line.text))
    return list(by.values())


def _windows_during(seen: list[tuple]) -> list[set]:
    """For each seen row, the windows whose lines appeared on its monitor while it stayed on
    screen (at most ``CHROME_WINDOWS``): a line that outlives switches between windows is the
    desktop's (a menu bar, a panel), however long it stays."""
    changes: dict[int, tuple[list, list]] = {}  # monitor -> (times, windows) where the window changed
    for t0, _, monitor, app, window, _ in seen:
        times, names = changes.setdefault(monitor, ([], []))
        if not names or names[-1] != (app, window):
            times.append(t0)
            names.append((app, window))
    out = []
    for t0, t1, monitor, *_ in seen:
        times, names = changes[monitor]
        found: set = set()
        for name in names[bisect.bisect_left(times, t0) : bisect.bisect_left(times, t1)]:
            found.add(name)
            if len(found) >= CHROME_WINDOWS:
                break
        out.append(found)
    return out


def _score(lines: list[_Line], titles: set[str]) -> None:
    """Each line's salience (0: left out); see the module's docstring."""
    kept = [
        x
        for x in lines
        if (len(x.terms) >= MIN_TERMS or len(x.terms) == 2 and _telling(x.text))
        and x.windows < CHROME_WINDOWS
        and x.text.casefold() not in titles
        and len(_ALNUM.findall(x.text)) >= 0.5 * len(x.text)
    ]
    df: dict[str, int] = defaultdict(int)
    for x in kept:
        for t in x.terms:
            df[t] += 1
    common = {t for t, n in df.items() if len(kept) >= 10 and n > len(kept) / 2}
    for x in kept:
        own = x.terms - common
        if len(own) < 2:
            continue
        central = sum(math.log1p(df[t]) for t in own) / math.sqrt(len(own))
        x.score = central * (1 + math.log1p(x.dwell / 20)) * (2.0 if OUTCOME.search(x.text) else 1.0)
        x.score *= 1.5 if x.kind == "heard" else 1.0


def _telling(text: str) -> bool:
    """A short line worth keeping: it holds a number (an invoice, a count) or an outcome."""
    return any(c.isdigit() for c in text) or bool(OUTCOME.search(text))


def _choose(
    lines: list,
    n: int,
    per: Callable,
    score: Callable = lambda x: x.score,
    words: Callable = lambda x: x.shape,
    when: Callable = lambda x: x.t,
    spread: bool = False,
) -> list:
    """Up to ``n`` of ``lines``, best first, none alike to one chosen (:func:`_alike`),
    at most half of ``n`` from one ``per`` group when there are others (with ``spread``, at most
    an even share plus one, at least two); in time order."""
    groups = len({per(x) for x in lines})
    cap = n if groups <= 1 else max(1, math.ceil(n / 2))
    if spread and groups > 1:
        cap = min(cap, max(2, math.ceil(n / groups) + 1))
    taken: list = []
    count: dict = defaultdict(int)
    for x in sorted(lines, key=lambda x: (-score(x), when(x))):
        twin = next((y for y in taken if _alike(words(x), words(y))), None)
        if twin is not None:
            _one_more(twin, x, when)
        elif len(taken) < n and count[per(x)] < cap:
            taken.append(x)
            count[per(x)] += 1
    return sorted(taken, key=when)


def _one_more(twin, x, when: Callable) -> None:
    """Note on a chosen line that ``x`` said the same again (``more``, and the ``last`` time)."""
    more = 1 + (x.more if isinstance(x, _Line) else x.get("more", 0))
    last = max(when(twin), when(x), _last(twin), _last(x))
    if isinstance(twin, _Line):
        twin.more, twin.last = twin.more + more, last
    else:
        twin["more"], twin["last"] = twin.get("more", 0) + more, last


def _last(x):
    return (x.last or x.t) if isinstance(x, _Line) else x.get("last", x["t"])


def _alike(a: frozenset, b: frozenset) -> bool:  # (of shapes: :func:`_shape`)
    """Two lines say the same thing: numbers aside (a counter that moved on, a log line's time),
    the same words, or two words or more shared and at most a fifth of their terms (one, for
    short ones) not (a line read again with a letter wrong)."""
    if not (a and b):
        return False
    return a == b or len((a & b) - {"#"}) >= 2 and len(a ^ b) <= max(1, 0.2 * len(a | b))


def _shape(terms: frozenset) -> frozenset:
    """A line's terms with every number one and the same: what :func:`_alike` compares."""
    return frozenset("#" if _DIGIT.search(t) else t for t in terms)


def _heard_seconds(heard: list[tuple]) -> list[list]:
    seconds: dict[str, float] = defaultdict(float)
    for t0, t1, source, speaker, _ in heard:
        seconds[speaker or heard_from(source)] += max(0.0, (t1 - t0).total_seconds())
    return [[who, round(s, 1)] for who, s in sorted(seconds.items(), key=lambda kv: (-kv[1], kv[0]))]


# -- days and weeks ------------------------------------------------------------------------------


def above_digest(
    level: str, start: datetime, basis: str, parts: list[Digest], tok=None, model: DigestModel | None = None
) -> Digest:
    """A day's digest from its hours' (or a week's from its days'): their windows summed, the
    best of their lines again, spread over the parts; with ``model``, written by it from the
    parts' digests."""
    seconds: dict[tuple[str, str], float] = defaultdict(float)
    heard: dict[str, float] = defaultdict(float)
    candidates = []
    for i, d in enumerate(parts):
        for app, window, s in d.sources.get("places", []):
            seconds[(app, window)] += s
        for who, s in d.sources.get("heard", []):
            heard[who] += s
        for line in d.sources.get("lines", []):
            candidates.append({**line, "part": i, "shape": _shape(frozenset(terms.terms(line["text"])))})
    pick: dict[str, Any] = dict(
        score=lambda x: x["score"] * (1.5 if OUTCOME.search(x["text"]) else 1.0),
        words=lambda x: x["shape"],
        when=lambda x: x["t"],
        spread=True,
    )
    said = _choose([x for x in candidates if x["kind"] == "heard"], HEARD_LINES, per=lambda x: x["part"], **pick)
    rest = [x for x in candidates if x["kind"] != "heard" and not any(_alike(x["shape"], y["shape"]) for y in said)]
    chosen = sorted(
        [*said, *_choose(rest, LINES[level] - len(said), per=lambda x: x["part"], **pick)], key=pick["when"]
    )
    lines = [{k: v for k, v in x.items() if k not in ("part", "shape")} for x in chosen]
    places = [[a, w, round(s, 1)] for (a, w), s in sorted(seconds.items(), key=lambda kv: (-kv[1], kv[0]))]
    voices = [[who, round(s, 1)] for who, s in sorted(heard.items(), key=lambda kv: (-kv[1], kv[0]))]
    text = _render(level, start, places, voices, lines)
    end = start + SPAN[level]
    digest = Digest(
        level, start, end, text, {"lines": lines, "places": places, "heard": voices}, MODEL, _count(text, tok), basis
    )
    if model is None:
        return digest
    below = {"day": "%H:%M", "week": "%a %Y-%m-%d"}[level]
    material = [f"{d.start:{below}}:\n{d.text}" for d in parts]
    written = _by_model(model, digest, material, tok)
    return replace(written, basis=basis)  # (the basis of a day or week names its model already)


# -- how it reads ---------------------------------------------------------------------------------


def _render(level: str, start: datetime, places: list, heard: list, lines: list[dict]) -> str:
    head = []
    if places:
        shown = [f"{_where(a, w)} ({_duration(s)})" for a, w, s in places[: PLACES[level]]]
        more = len(places) - PLACES[level]
        head.append("windows: " + "; ".join(shown) + (f"; {more} more" if more > 0 else ""))
    if heard:
        head.append("heard: " + ", ".join(f"{who} {_duration(s)}" for who, s in heard[:4]))
    out = [" · ".join(head)] if head else []
    for line in lines:
        out.append(_shown(level, line))
    return "\n".join(out) or "nothing to tell"


def _shown(level: str, line: dict) -> str:
    """A chosen line as a digest shows it: its time, window or speaker, text, and how many like it."""
    t = datetime.fromisoformat(line["t"].removesuffix("Z"))
    when = f"{t:%a %H:%M}" if level == "week" else f"{t:%H:%M}"
    who = line["speaker"] + ":" if line["kind"] == "heard" else f"[{_short(line['app'], line['window'])}]"
    again = ""
    if line.get("more"):
        last = datetime.fromisoformat(line["last"].removesuffix("Z"))
        again = f" (+{line['more']} like it, to {last:{'%a %H:%M' if level == 'week' else '%H:%M'}})"
    return f"- {when} {who} {_clip(line['text'])}{again}"


def _where(app: str, window: str) -> str:
    window = window if len(window) <= 48 else window[:47] + "…"
    return " — ".join(p for p in (app, window) if p) or "unknown window"


def _short(app: str, window: str) -> str:
    """A line's window, briefly: the app and the start of the title (Slack · #oncall - Acme)."""
    window = window if len(window) <= 24 else window[:23] + "…"
    return " · ".join(p for p in (app, window) if p) or "?"


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{round(seconds)} s"
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _clip(text: str) -> str:
    return text if len(text) <= CLIP else text[: CLIP - 1] + "…"


def _count(text: str, tok) -> int:
    return (tok or get_tokenizer(DEFAULT_TOKENIZER)).count(text)


# -- catching up ----------------------------------------------------------------------------------


@dataclass
class Report:
    """What a catch-up made, and what is still due."""

    hours: int = 0
    days: int = 0
    weeks: int = 0
    left: int = 0  # hours still due (stopped, or changed while being digested)
    by_model: int = 0  # of those made, written by the model (the rest: its answer held nothing grounded)
    seconds: float = 0.0
    stopped: bool = False

    def json(self) -> dict:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def catch_up(
    store,
    *,
    since: datetime | None = None,
    stop: Callable[[], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
    model: DigestModel | None = None,
    weeks: bool = True,
) -> Report:
    """Make the digests that are due (from ``since`` on), newest day first: the day's hours,
    then the day, then its week (not with ``weeks=False``: a bench that reads days). ``stop`` is
    asked between hours; ``progress(done, total)`` is told the hours done. With ``model``, it
    writes them (``digest_model.py``); digests by another writer are due again."""
    began = time.perf_counter()
    report = Report()
    tok = get_tokenizer(DEFAULT_TOKENIZER)
    writer = model.id if model else ""
    with store.read() as r:
        due = r.digests_due(since, writer)
    days: dict[datetime, list[tuple]] = defaultdict(list)
    for hour, basis in due:
        days[start_of(hour, "day")].append((hour, basis))
    with store.read() as r:  # days and weeks left without a digest (a catch-up stopped half-way)
        for day in r.digests_missing_above("day", since):
            days.setdefault(day, [])
        due_weeks = set(r.digests_missing_above("week", since))
    done = 0
    for day in sorted(days, reverse=True):
        made = []
        for hour, basis in days[day]:
            if stop is not None and stop():
                report.stopped = True
                break
            with store.read() as r:
                material = r.digest_material(hour, basis)
            made.append(hour_digest(material, tok, model))  # (a model is asked outside any transaction)
            done += 1
            if progress is not None:
                progress(done, len(due))
        if made:
            with store.write() as w:
                report.hours += w.put_digests(made)
            report.by_model += sum(d.model != MODEL for d in made)
        if report.stopped:
            break
        report.days += _above(store, "day", [day], tok, model, report)
        due_weeks.add(start_of(day, "week"))
    if weeks and not report.stopped:
        report.weeks += _above(store, "week", sorted(due_weeks), tok, model, report)
    with store.read() as r:
        report.left = len(r.digests_due(since, writer))
    report.seconds = time.perf_counter() - began
    return report


def _above(store, level: str, starts: list[datetime], tok, model: DigestModel | None, report: Report) -> int:
    with store.read() as r:
        due = r.digests_due_above(level, starts, model.id if model else "")
    if not due:
        return 0
    made = [above_digest(level, start, basis, parts, tok, model) for start, basis, parts in due]
    with store.write() as w:
        stored = w.put_digests(made)
    report.by_model += sum(d.model != MODEL for d in made)
    return stored
